// fs::Metadata: see metadata.hpp.
#include "tokio/fs/metadata.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <limits>

namespace tokio::fs {

namespace fs_metadata_impl {

io::Result<std::chrono::system_clock::time_point> to_time(bool present, int64_t sec,
                                                          uint32_t nsec) {
  if (!present) return tokio::unexpected(std::make_error_code(std::errc::not_supported));
  // system_clock counts nanoseconds in 64 bits: years 1677 to 2262. A file time outside
  // them (a file system may store any 64-bit second count) is an error, not a wrapped
  // time: sec * 10^9 would overflow.
  using Ticks = std::chrono::system_clock::duration;
  constexpr int64_t kTicksPerSecond = Ticks::period::den / Ticks::period::num;
  constexpr int64_t kMaxSec = std::numeric_limits<Ticks::rep>::max() / kTicksPerSecond - 1;
  if (sec > kMaxSec || sec < -kMaxSec) {
    return tokio::unexpected(std::make_error_code(std::errc::value_too_large));
  }
  auto d = std::chrono::seconds(sec) + std::chrono::nanoseconds(nsec);
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<Ticks>(d));
}

}  // namespace fs_metadata_impl

std::filesystem::file_type file_type_from_mode(uint32_t mode) noexcept {
  using std::filesystem::file_type;
  switch (mode & S_IFMT) {
    case S_IFREG: return file_type::regular;
    case S_IFDIR: return file_type::directory;
    case S_IFLNK: return file_type::symlink;
    case S_IFBLK: return file_type::block;
    case S_IFCHR: return file_type::character;
    case S_IFIFO: return file_type::fifo;
    case S_IFSOCK: return file_type::socket;
    default: return file_type::unknown;
  }
}

FileType Metadata::file_type() const noexcept { return FileType(file_type_from_mode(d_.mode)); }

io::Result<std::chrono::system_clock::time_point> Metadata::modified() const {
  return fs_metadata_impl::to_time(d_.mask & STATX_MTIME, d_.mtime_sec, d_.mtime_nsec);
}
io::Result<std::chrono::system_clock::time_point> Metadata::accessed() const {
  return fs_metadata_impl::to_time(d_.mask & STATX_ATIME, d_.atime_sec, d_.atime_nsec);
}
io::Result<std::chrono::system_clock::time_point> Metadata::created() const {
  return fs_metadata_impl::to_time(d_.mask & STATX_BTIME, d_.btime_sec, d_.btime_nsec);
}

}  // namespace tokio::fs
