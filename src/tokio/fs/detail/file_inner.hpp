#pragma once
// FileInner and FileOp: the state behind fs::File (internal; see file.hpp for behaviour).
//
// A File owns one FileOp for its whole life and reuses it for every operation; the op
// owns the File's buffer, so a File dropped while an operation is in flight just lets go
// of its reference and the buffer lives until the kernel's (or the blocking thread's)
// completion. Such an orphaned op also takes over the file descriptor (own_fd) and
// closes it once it finishes.
//
// At most one operation is in flight (`busy`). When idle, the buffer may hold read-ahead:
// bytes [rpos, rlen) read from the file but not yet given to the caller; the file
// position is then rlen - rpos bytes past the caller's logical position (a write or seek
// first moves it back, as Tokio does).

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>

#include "tokio/fs/detail/op.hpp"
#include "tokio/fs/file.hpp"
#include "tokio/fs/metadata.hpp"

namespace tokio::detail {

class FileOp final : public FsOp {
 public:
  enum class Kind : uint8_t { None, Read, Write, Fsync, Fdatasync, Truncate, Chmod, Stat };

  ~FileOp() override;
  unsigned uring_plan(const UringCaps& caps) noexcept override;
  void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept override;
  StepOutcome uring_step_done() noexcept override;
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { result = -e; }
  // Makes room for n bytes in the buffer (only while idle). False when out of memory.
  bool reserve(std::size_t n) noexcept;

  int fd = -1;
  bool own_fd = false;       // close fd when the op is destroyed (its File is gone)
  bool async_write = false;  // a pipe or socket: writes run in io_uring's worker (SIGPIPE)
  // A regular file (or block device) not opened for append (set with async_write, at the
  // File's first write): an io_uring write that comes back short goes on at an explicit
  // offset (see FileOp::uring_step_done).
  bool track_pos = false;
  // A regular file opened for append (set with track_pos): io_uring leaves the position
  // behind after a write that came back short, so it is put at the end again (the end is
  // where write(2) leaves an appending description; FileOp::uring_step_done).
  bool append_pos = false;
  // The File's open file description may be shared (own_offset false: adopted with
  // from_std, dup'd by try_clone, or its fd handed out) and it has a position (a regular
  // file or block device: track_pos or append_pos): its reads and writes at the file position run read(2)/write(2) on the
  // blocking pool. io_uring moves the position of a shared description without the lock
  // read(2) and write(2) take, so two Files writing at once through one description
  // would each write at the same position and overwrite each other (bytes lost while every
  // call succeeds). Set by FileInner::start.
  bool shared_pos = false;
  int64_t wpos = -1;  // io_uring Write with track_pos: the position it started at
  // A Write needs its start position only to go on after a short step, but must take it
  // before the first step (one lseek). The File knows it without asking when the offset
  // is its own (own_offset: opened here, never dup'd, handed out or adopted) and its last
  // operation was a write: `pos` is then where that write left the file position, else -1.
  bool own_offset = false;
  int64_t pos = -1;
  Kind kind = Kind::None;
  std::byte* buf = nullptr;  // the File's buffer
  std::size_t cap = 0;
  std::size_t len = 0;   // Read: bytes asked; Write: bytes to write
  std::size_t done = 0;  // Write: bytes written so far
  uint64_t arg = 0;      // Truncate: the length; Chmod: the mode bits
  int64_t result = 0;    // outcome: count or 0, or -errno (-1 - write_zero: see below)
  StatData stat;         // Stat outcome
  struct statx sx;       // io_uring's statx buffer
};

// A write whose file accepted zero bytes (FileOp::result).
inline constexpr int64_t kFileWriteZero = INT64_MIN;

struct FileInner {
  ~FileInner();
  // A File owning `f` (File's constructor is private; FileInner is its friend).
  static fs::File wrap(FileInner* f) noexcept;

  int fd = -1;
  FsEngine* engine = nullptr;      // one reference: the engine of the runtime last used
  std::string path;                // for error messages (empty after from_std)
  FileOp* op = nullptr;            // one reference; created with the File
  bool busy = false;               // op in flight
  FileUse use;                     // the awaitable polling it now (file.hpp, FileUse)
  std::size_t rpos = 0, rlen = 0;  // idle read-ahead: op->buf[rpos, rlen)
  std::error_code last_write_err;  // a write-behind failed: reported by the next write
  std::size_t max_buf = 2 * 1024 * 1024;
  int8_t pipe_like = -1;  // fd is a FIFO or socket (-1: not checked yet; op->track_pos too)
  // The fd was handed out (as_raw_fd) or dup'd (try_clone): the next start clears
  // op->own_offset (the op may be in flight on another thread meanwhile).
  bool offset_shared = false;

  std::error_code error(int64_t negated_errno) const;
  // Switches to the current runtime's engine when idle (see file.cpp). Throws
  // std::logic_error outside a runtime.
  void ensure_engine();
  // Starts `kind` on the current runtime's engine (ensure_engine: throws outside one).
  void start(FileOp::Kind kind);
  // Waits for the op in flight and applies its outcome to the idle state; true once idle.
  // A failed write-behind is stored in last_write_err; a finished read becomes read-ahead
  // (when `keep_read` is false it is dropped and the position moved back).
  bool settle(task::Context& cx, bool keep_read);
  // Moves the file position back over unread read-ahead and drops it. 0 or an errno.
  int discard_read_ahead() noexcept;
  // Sets pipe_like, op->track_pos and op->append_pos from the fd (fstat and fcntl, once
  // per File: at its first write, or its first read when its description may be shared).
  void classify() noexcept;
};

}  // namespace tokio::detail
