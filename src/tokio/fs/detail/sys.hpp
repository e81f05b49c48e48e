#pragma once
// Plain system-call helpers for the blocking paths (the blocking engine, and whatever the
// io_uring engine runs on the blocking pool): EINTR retried, errno returned as a value.

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tokio/fs/metadata.hpp"

namespace tokio::detail {

// The statx mask every metadata call asks for.
inline constexpr unsigned kFsStatxMask = STATX_BASIC_STATS | STATX_BTIME;

void fs_stat_from_statx(const struct statx& s, StatData& out) noexcept;
// statx(dirfd, path, flags); 0 or an errno.
int fs_sys_statx(int dirfd, const char* path, int flags, StatData& out) noexcept;
// open(2) with O_CLOEXEC added; the fd, or -errno.
int fs_sys_open(int dirfd, const char* path, int flags, unsigned mode) noexcept;
// One read/write; the count or -errno.
int64_t fs_sys_read(int fd, void* buf, std::size_t len) noexcept;
int64_t fs_sys_write(int fd, const void* buf, std::size_t len) noexcept;
// Reads from the current position until end of file, appending to `out` (a
// std::string or std::vector<std::byte>), starting with room for `hint` bytes. 0 or errno.
template <class C>
int fs_sys_read_to_end(int fd, C& out, std::size_t hint) noexcept;
void fs_sys_close(int fd) noexcept;

// The errno of the current thread as a positive value (EIO if it is somehow zero).
int fs_errno() noexcept;

}  // namespace tokio::detail
