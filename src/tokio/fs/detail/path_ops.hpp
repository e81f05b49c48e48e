#pragma once
// The operations behind the fs free functions (internal; included by .cpp files only).
//
//   PathOp      one path system call with an io_uring opcode: mkdirat, unlinkat (file or
//               directory), renameat, linkat, symlinkat, statx (metadata,
//               symlink_metadata, try_exists)
//   OpenOp      openat -> fd (File::open, OpenOptions::open, read_dir's directory)
//   ReadFileOp  fs::read / fs::read_to_string: the whole file
//   WriteFileOp fs::write: create or truncate, write everything, close
//   MiscOp      what io_uring has no opcode for, on the blocking pool under both engines:
//               copy, create_dir_all, remove_dir_all, canonicalize, read_link,
//               set_permissions
// Every op keeps its inputs (paths as native strings, data) and its buffers until
// it is destroyed, which is after the kernel's last completion for it (see op.hpp).

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/fs/detail/op.hpp"
#include "tokio/fs/metadata.hpp"

namespace tokio::detail {

class PathOp final : public FsOp {
 public:
  enum class Kind : uint8_t { Mkdir, Unlink, Rmdir, Rename, Link, Symlink, Stat, Lstat };
  PathOp(Kind k, std::string a, std::string b = {}) noexcept
      : kind(k), p1(std::move(a)), p2(std::move(b)) {
    reject_nul_path(p1, p2);
  }

  unsigned uring_plan(const UringCaps& caps) noexcept override;
  void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept override;
  StepOutcome uring_step_done() noexcept override;
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { err = e; }

  // The name the system call uses: p1, or `at_name` relative to `dirfd` when set
  // (DirEntry::metadata: fstatat on the directory being listed, kept open by `keep`).
  const char* target() const noexcept { return dirfd == AT_FDCWD ? p1.c_str() : at_name.c_str(); }

  Kind kind;
  std::string p1, p2;    // p1 (and p2) also name the error
  unsigned mode = 0777;  // Mkdir: the new directory's mode bits (before the umask)
  int dirfd = AT_FDCWD;
  std::string at_name;
  std::shared_ptr<const void> keep;
  int err = 0;      // outcome: 0 or an errno
  StatData stat;    // Stat / Lstat outcome
  struct statx sx;  // io_uring's statx buffer (the kernel writes it)
};

class OpenOp final : public FsOp {
 public:
  OpenOp(std::string p, int flags, unsigned mode) noexcept
      : path(std::move(p)), flags(flags), mode(mode) {
    reject_nul_path(path);
  }
  ~OpenOp() override { close_fd(); }

  unsigned uring_plan(const UringCaps& caps) noexcept override;
  void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept override;
  StepOutcome uring_step_done() noexcept override;
  void run_blocking() noexcept override;
  void fail(int e) noexcept override {
    close_fd();
    err = e;
  }
  // The fd, now owned by the caller.
  int take_fd() noexcept { return detail::exchange(fd, -1); }
  void close_fd() noexcept;
  // On the blocking pool, after io_uring opened a FIFO for reading (uring_step_done).
  void wait_for_writer() noexcept;

  std::string path;
  int flags;
  unsigned mode;
  int fd = -1;  // outcome
  int err = 0;
};

template <class C>
class ReadFileOp final : public FsOp {
 public:
  explicit ReadFileOp(std::string p) noexcept : path(std::move(p)) { reject_nul_path(path); }
  ~ReadFileOp() override;

  bool wants_slot() const noexcept override { return true; }
  unsigned uring_plan(const UringCaps& caps) noexcept override;
  void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept override;
  StepOutcome uring_step_done() noexcept override;
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { err = e; }

  std::string path;
  C out;  // outcome: the contents
  int err = 0;

 private:
  enum class Phase : uint8_t { Open, First, More };
  StepOutcome more_or_done(std::size_t got) noexcept;
  StepOutcome error(int e) noexcept {
    err = e;
    return StepOutcome::Finished;
  }

  static constexpr std::size_t kFirst = 32 * 1024;  // first read
  static constexpr std::size_t kProbe = 4 * 1024;   // second read (normally 0: EOF)
  // A file found to be bigger than this is read again, whole, on the blocking pool: there
  // one allocation of the file's size (fstat) takes it, where here the buffer doubles and
  // each doubling copies and zero-fills on the thread reaping completions (a worker; a
  // 32 MiB file held one for about 200 ms). What was read so far (1 MiB) is wasted. Not
  // for anything but a regular file (see more_or_done): reading_on says so once checked.
  static constexpr std::size_t kBlockingAbove = 1024 * 1024;
  bool reading_on = false;
  Phase phase = Phase::Open;
  int fd = -1;                   // without a direct slot: the plain fd
  std::byte* scratch = nullptr;  // kFirst + kProbe bytes for the first two reads
  std::size_t len = 0;           // bytes of `out` filled (phase More)
};

class WriteFileOp final : public FsOp {
 public:
  WriteFileOp(std::string p, std::vector<std::byte> d) noexcept
      : path(std::move(p)), data(std::move(d)) {
    reject_nul_path(path);
  }
  ~WriteFileOp() override;

  bool wants_slot() const noexcept override { return true; }
  unsigned uring_plan(const UringCaps& caps) noexcept override;
  void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept override;
  StepOutcome uring_step_done() noexcept override;
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { err = e; }

  std::string path;
  std::vector<std::byte> data;
  int err = 0;

 private:
  enum class Phase : uint8_t { Open, Write };
  Phase phase = Phase::Open;
  // The file is opened without O_TRUNC, written from offset 0 and then cut to the new
  // length (ftruncate), where Tokio opens it with O_TRUNC. Same contents in the end; but on
  // ext4 a truncation to zero marks the file so that its close allocates the new data's
  // blocks and submits their write-back there and then (auto_da_alloc): a loop of 10,000
  // rewrites of 4 KiB files took 0.4-12 s that way here, against about 0.2 s written in
  // place and cut (bench/NOTES.md). Not for empty contents (nothing to write back). On the
  // io_uring engine only with IORING_OP_FTRUNCATE (Linux 6.9); before that the open
  // truncates, as before.
  bool cut_after = false;
  bool cutting = false;  // this step's last write is followed by the linked ftruncate
  bool closing = false;  // this step's write is followed by the slot's linked close
  int fd = -1;
  std::size_t written = 0;
};

class MiscOp final : public FsOp {
 public:
  enum class Kind : uint8_t {
    Copy,
    CreateDirAll,
    RemoveDirAll,
    Canonicalize,
    ReadLink,
    SetPermissions
  };
  MiscOp(Kind k, std::string a, std::string b = {}) noexcept
      : kind(k), p1(std::move(a)), p2(std::move(b)) {
    reject_nul_path(p1, p2);
  }
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { err = e; }

  Kind kind;
  // p2: Copy's target; for CreateDirAll / RemoveDirAll, set on failure to the path below
  // or above p1 where it failed, when that is not p1 itself (named in the error).
  std::string p1, p2;
  unsigned perms = 0;         // SetPermissions input
  unsigned mode = 0777;       // CreateDirAll: each new directory's mode bits
  int err = 0;                // outcome
  uint64_t count = 0;         // Copy: bytes copied
  std::filesystem::path out;  // Canonicalize / ReadLink
};

// Recursive removal below an open directory (no symlink is followed). 0 or errno; on a
// failure, *failed_at (when given) is the relative path of the entry that failed ("a/b").
int fs_remove_dir_contents(int dirfd, std::string* failed_at = nullptr) noexcept;

}  // namespace tokio::detail
