// Blocking system-call helpers: see sys.hpp.
#include "tokio/fs/detail/sys.hpp"

#include "tokio/core/detail/pages.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <vector>

namespace tokio::detail {

int fs_errno() noexcept { return errno ? errno : EIO; }

void fs_stat_from_statx(const struct statx& s, StatData& d) noexcept {
  d.mask = s.stx_mask;
  d.mode = s.stx_mode;
  d.nlink = s.stx_nlink;
  d.uid = s.stx_uid;
  d.gid = s.stx_gid;
  d.blksize = s.stx_blksize;
  d.ino = s.stx_ino;
  d.size = s.stx_size;
  d.blocks = s.stx_blocks;
  d.dev = makedev(s.stx_dev_major, s.stx_dev_minor);
  d.rdev = makedev(s.stx_rdev_major, s.stx_rdev_minor);
  d.atime_sec = s.stx_atime.tv_sec;
  d.atime_nsec = s.stx_atime.tv_nsec;
  d.mtime_sec = s.stx_mtime.tv_sec;
  d.mtime_nsec = s.stx_mtime.tv_nsec;
  d.ctime_sec = s.stx_ctime.tv_sec;
  d.ctime_nsec = s.stx_ctime.tv_nsec;
  d.btime_sec = s.stx_btime.tv_sec;
  d.btime_nsec = s.stx_btime.tv_nsec;
}

int fs_sys_statx(int dirfd, const char* path, int flags, StatData& out) noexcept {
  struct statx s;
  for (;;) {
    if (::statx(dirfd, path, flags, kFsStatxMask, &s) == 0) break;
    if (errno != EINTR) return fs_errno();
  }
  fs_stat_from_statx(s, out);
  return 0;
}

int fs_sys_open(int dirfd, const char* path, int flags, unsigned mode) noexcept {
  for (;;) {
    int fd = ::openat(dirfd, path, flags | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -fs_errno();
  }
}

int64_t fs_sys_read(int fd, void* buf, std::size_t len) noexcept {
  for (;;) {
    ssize_t n = ::read(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return -fs_errno();
  }
}

int64_t fs_sys_write(int fd, const void* buf, std::size_t len) noexcept {
  for (;;) {
    ssize_t n = ::write(fd, buf, len);
    if (n >= 0) return n;
    if (errno != EINTR) return -fs_errno();
  }
}

template <class C>
int fs_sys_read_to_end(int fd, C& out, std::size_t hint) noexcept {
  try {
    std::size_t len = out.size();
    // Room for the hint and one more byte, so a file of exactly `hint` bytes ends with a
    // read of 0 into the spare room instead of a second allocation.
    if (out.capacity() < len + hint + 1) out.reserve(len + hint + 1);
    // resize() zero-fills the room before the read: its fresh pages are faulted in by one
    // system call instead of one fault each, and past 32 MiB as huge pages (fs::read of
    // a 1 GiB file, 3 in a row, wall: `bench/ab.py 4` before / faulted ahead / Tokio
    // 16.8 / 10.8 / 11.9 s, then `bench/ab.py 3` faulted ahead / also huge / Tokio
    // 12.3 / 3.7 / 10.9 s).
    if (hint >= kPrefaultMin) prefault_for_write(out.data() + len, out.capacity() - len);
    for (;;) {
      if (len == out.capacity()) out.reserve(out.capacity() * 2);
      out.resize(out.capacity());
      int64_t n = fs_sys_read(fd, out.data() + len, out.size() - len);
      if (n < 0) {
        out.resize(len);
        return static_cast<int>(-n);
      }
      if (n == 0) break;
      len += static_cast<std::size_t>(n);
    }
    out.resize(len);
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (const std::length_error&) {
    return ENOMEM;
  }
}
template int fs_sys_read_to_end(int, std::vector<std::byte>&, std::size_t) noexcept;
template int fs_sys_read_to_end(int, std::string&, std::size_t) noexcept;

void fs_sys_close(int fd) noexcept {
  if (fd >= 0) ::close(fd);  // EINTR: the fd is gone on Linux either way
}

}  // namespace tokio::detail
