#pragma once
// io::stdin(), io::stdout(), io::stderr(): the process's standard streams as AsyncRead /
// AsyncWrite. As in Tokio, the blocking read(2)/write(2) calls run on the runtime's
// blocking pool (spawn_blocking), one operation in flight per object at a time:
//
//   auto out = io::stdout();
//   co_await io::write_all(out, "hello\n");
//   co_await out.flush();               // waits until the bytes reached the fd
//
// Writes are write-behind: write() copies up to 16 KiB into the object's buffer, starts
// the blocking write and returns; an error of that write is reported by the next write,
// flush or shutdown. Always flush (or shut down) before exiting, or the last write may
// still be in flight. Writing to a closed pipe gives std::errc::broken_pipe (SIGPIPE is
// blocked on the writing thread for the duration of the call, never raised).
// A read waits for the blocking job; its data is kept in the object if the read is
// cancelled, so read is cancel-safe (the next read returns it). A job lost to runtime
// shutdown reports std::errc::operation_canceled.
//
// Like Tokio, a read from an interactive terminal cannot be interrupted: a runtime
// shutting down waits for the blocked read (or shutdown_timeout). Several objects for the
// same stream may interleave their writes.
//
// Each object must be used on a runtime (the operations throw std::logic_error otherwise).
// Call them qualified (io::stdout()): after `using namespace tokio::io`, a bare `stdout`
// would be ambiguous with C's FILE* stdout.

#include <cstddef>
#include <exception>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::io {
class Stdin;
class Stdout;
}  // namespace tokio::io

namespace tokio::detail {

// For tests and for wrapping another blocking descriptor (a pipe, a tty): the same
// objects over `fd`, which they do not own.
io::Stdin stdin_from_fd(int fd);
io::Stdout stdout_from_fd(int fd);

inline constexpr std::size_t kStdioMaxBuf = 16 * 1024;

// What a blocking job hands back: the byte count or errno, and the buffer it used.
struct StdioJobOut {
  std::size_t n = 0;
  int err = 0;
  std::vector<std::byte> buf;
};

// The state shared by the leaves of one stdio object (Tokio's Blocking<T>): idle with
// possibly some read-ahead data in buf_, or busy with one blocking job.
class BlockingFd {
 public:
  explicit BlockingFd(int fd) noexcept : fd_(fd) {}
  BlockingFd(const BlockingFd&) = delete;
  BlockingFd& operator=(const BlockingFd&) = delete;

  bool poll_read(task::Context& cx, std::span<std::byte> dst, io::Result<std::size_t>& out);
  bool poll_write(task::Context& cx, std::span<const std::byte> src, io::Result<std::size_t>& out);
  bool poll_flush(task::Context& cx, io::Result<void>& out);

 private:
  // Polls the busy job; true when it finished (then job_ is empty and the result is in
  // `done`, or a cancellation error in `err`).
  bool poll_job(task::Context& cx, StdioJobOut& done, std::error_code& err);

  int fd_;
  std::vector<std::byte> buf_;  // idle: read-ahead bytes buf_[pos_, size)
  std::size_t pos_ = 0;
  task::JoinHandle<StdioJobOut> job_;  // valid while busy
};

// The leaves: each polls the object's BlockingFd.
class StdioReadOp : public Leaf<StdioReadOp> {
 public:
  StdioReadOp(BlockingFd* b, std::span<std::byte> dst) noexcept : b_(b), dst_(dst) {}
  StdioReadOp(const StdioReadOp& o) noexcept : Leaf<StdioReadOp>(o), b_(o.b_), dst_(o.dst_) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume();

 private:
  BlockingFd* b_;
  std::span<std::byte> dst_;
  io::Result<std::size_t> out_ = std::size_t{0};
  std::exception_ptr exc_;
};

class StdioWriteOp : public Leaf<StdioWriteOp> {
 public:
  StdioWriteOp(BlockingFd* b, std::span<const std::byte> src) noexcept : b_(b), src_(src) {}
  StdioWriteOp(const StdioWriteOp& o) noexcept : Leaf<StdioWriteOp>(o), b_(o.b_), src_(o.src_) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume();

 private:
  BlockingFd* b_;
  std::span<const std::byte> src_;
  io::Result<std::size_t> out_ = std::size_t{0};
  std::exception_ptr exc_;
};

class StdioFlushOp : public Leaf<StdioFlushOp> {
 public:
  explicit StdioFlushOp(BlockingFd* b) noexcept : b_(b) {}
  StdioFlushOp(const StdioFlushOp& o) noexcept : Leaf<StdioFlushOp>(o), b_(o.b_) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<void> await_resume();

 private:
  BlockingFd* b_;
  io::Result<void> out_;
  std::exception_ptr exc_;
};

}  // namespace tokio::detail

namespace tokio::io {

// Standard input. read is cancel-safe.
class Stdin {
 public:
  detail::StdioReadOp read(std::span<std::byte> buf) { return {b(), buf}; }

 private:
  friend Stdin stdin();
  friend Stdin detail::stdin_from_fd(int);
  explicit Stdin(int fd) : b_(std::make_unique<detail::BlockingFd>(fd)) {}
  detail::BlockingFd* b() const;
  std::unique_ptr<detail::BlockingFd> b_;
};

// Standard output / error. write is cancel-safe (a cancelled write buffered nothing);
// flush and shutdown wait for the write in flight.
class StdWriter {
 public:
  detail::StdioWriteOp write(std::span<const std::byte> buf) { return {b(), buf}; }
  detail::StdioFlushOp flush() { return detail::StdioFlushOp(b()); }
  detail::StdioFlushOp shutdown() { return detail::StdioFlushOp(b()); }

 protected:
  explicit StdWriter(int fd) : b_(std::make_unique<detail::BlockingFd>(fd)) {}

 private:
  detail::BlockingFd* b() const;
  std::unique_ptr<detail::BlockingFd> b_;
};

class Stdout : public StdWriter {
 private:
  friend Stdout stdout();
  friend Stdout detail::stdout_from_fd(int);
  explicit Stdout(int fd) : StdWriter(fd) {}
};

class Stderr : public StdWriter {
 private:
  friend Stderr stderr();
  explicit Stderr(int fd) : StdWriter(fd) {}
};

Stdin stdin();
Stdout stdout();
Stderr stderr();

}  // namespace tokio::io
