#pragma once
// fs::Metadata: what fs::metadata, fs::symlink_metadata, File::metadata and
// DirEntry::metadata return (Rust's std::fs::Metadata with its Unix MetadataExt), in
// std::filesystem's vocabulary where it fits:
//
//   auto m = co_await fs::metadata("/etc/hosts");          // io::Result<Metadata>
//   if (m && m->is_file()) std::printf("%llu bytes\n", (unsigned long long)m->len());
//   m->file_type()      -> fs::FileType: is_dir(), is_file(), is_symlink(), and it converts
//                          to std::filesystem::file_type (compare with it, switch on it)
//   m->permissions()    -> std::filesystem::perms       (the 07777 mode bits)
//   m->modified()       -> io::Result<std::chrono::system_clock::time_point>; a time
//                          system_clock cannot hold (before 1677 or after 2262: it counts
//                          nanoseconds in 64 bits) is std::errc::value_too_large
//   m->created()        -> birth time; std::errc::not_supported where the file system
//                          does not record it
//
// Filled from one statx(2) (IORING_OP_STATX under the io_uring engine).

#include <chrono>
#include <cstdint>

#include "tokio/fs/detail/std_filesystem.hpp"
#include "tokio/core/result.hpp"

namespace tokio::detail {
// The fields of a statx result the library keeps (no <sys/stat.h> in user TUs).
struct StatData {
  uint32_t mask = 0;  // statx's stx_mask: which fields the kernel filled
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t blksize = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;
  uint64_t dev = 0;
  uint64_t rdev = 0;
  int64_t atime_sec = 0, mtime_sec = 0, ctime_sec = 0, btime_sec = 0;
  uint32_t atime_nsec = 0, mtime_nsec = 0, ctime_nsec = 0, btime_nsec = 0;
};
}  // namespace tokio::detail

namespace tokio::fs {

// Rust's std::fs::FileType (with its Unix FileTypeExt), over std::filesystem::file_type: it
// converts to that enum, so `t == std::filesystem::file_type::regular` and `switch (t)` work
// as they do on the std type.
class FileType {
 public:
  constexpr FileType() noexcept = default;
  constexpr explicit FileType(std::filesystem::file_type t) noexcept : t_(t) {}
  constexpr operator std::filesystem::file_type() const noexcept { return t_; }  // NOLINT

  constexpr bool is_dir() const noexcept { return t_ == std::filesystem::file_type::directory; }
  constexpr bool is_file() const noexcept { return t_ == std::filesystem::file_type::regular; }
  constexpr bool is_symlink() const noexcept { return t_ == std::filesystem::file_type::symlink; }
  constexpr bool is_block_device() const noexcept {
    return t_ == std::filesystem::file_type::block;
  }
  constexpr bool is_char_device() const noexcept {
    return t_ == std::filesystem::file_type::character;
  }
  constexpr bool is_fifo() const noexcept { return t_ == std::filesystem::file_type::fifo; }
  constexpr bool is_socket() const noexcept { return t_ == std::filesystem::file_type::socket; }

  friend constexpr bool operator==(FileType, FileType) noexcept = default;
  // Exact match for the enum on either side (else both conversions would be candidates).
  friend constexpr bool operator==(FileType a, std::filesystem::file_type b) noexcept {
    return a.t_ == b;
  }

 private:
  std::filesystem::file_type t_ = std::filesystem::file_type::unknown;
};

class Metadata {
 public:
  Metadata() noexcept = default;
  explicit Metadata(const detail::StatData& d) noexcept : d_(d) {}

  FileType file_type() const noexcept;
  bool is_dir() const noexcept { return file_type().is_dir(); }
  bool is_file() const noexcept { return file_type().is_file(); }
  bool is_symlink() const noexcept { return file_type().is_symlink(); }
  // Size in bytes.
  uint64_t len() const noexcept { return d_.size; }
  // The permission bits (including set-user-ID, set-group-ID and sticky).
  std::filesystem::perms permissions() const noexcept {
    return static_cast<std::filesystem::perms>(d_.mode & 07777);
  }
  // True when nobody may write (Rust's Permissions::readonly).
  bool readonly() const noexcept { return (d_.mode & 0222) == 0; }

  io::Result<std::chrono::system_clock::time_point> modified() const;
  io::Result<std::chrono::system_clock::time_point> accessed() const;
  io::Result<std::chrono::system_clock::time_point> created() const;

  // --- Unix (Rust's std::os::unix::fs::MetadataExt)
  uint64_t dev() const noexcept { return d_.dev; }
  uint64_t ino() const noexcept { return d_.ino; }
  uint32_t mode() const noexcept { return d_.mode; }
  uint64_t nlink() const noexcept { return d_.nlink; }
  uint32_t uid() const noexcept { return d_.uid; }
  uint32_t gid() const noexcept { return d_.gid; }
  uint64_t rdev() const noexcept { return d_.rdev; }
  uint64_t size() const noexcept { return d_.size; }
  int64_t atime() const noexcept { return d_.atime_sec; }
  int64_t atime_nsec() const noexcept { return d_.atime_nsec; }
  int64_t mtime() const noexcept { return d_.mtime_sec; }
  int64_t mtime_nsec() const noexcept { return d_.mtime_nsec; }
  int64_t ctime() const noexcept { return d_.ctime_sec; }
  int64_t ctime_nsec() const noexcept { return d_.ctime_nsec; }
  uint64_t blksize() const noexcept { return d_.blksize; }
  uint64_t blocks() const noexcept { return d_.blocks; }

 private:
  detail::StatData d_;
};

// The std::filesystem::file_type of a Unix mode word (S_IFMT bits).
std::filesystem::file_type file_type_from_mode(uint32_t mode) noexcept;

}  // namespace tokio::fs
