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
// flush or shutdown. A write that was not flushed still reaches the fd when the runtime
// shuts down (its job runs even then, as Tokio's does), but only flush() reports its
// error: flush before exiting when the outcome matters. Writing to a closed pipe gives
// std::errc::broken_pipe (SIGPIPE is blocked on the writing thread for the duration of the
// call, never raised).
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
#include <memory>
#include <span>

#include "tokio/core/detail/owned.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {
class Stdin;
class Stdout;
}  // namespace tokio::io

namespace tokio::detail {

// For tests and for wrapping another blocking descriptor (a pipe, a tty): the same
// objects over `fd`, which they do not own.
io::Stdin stdin_from_fd(int fd);
io::Stdout stdout_from_fd(int fd);

// The state shared by the operations of one stdio object (Tokio's Blocking<T>): idle with
// possibly some read-ahead data, or busy with one blocking job. Defined in stdio.cpp.
class BlockingFd;

// The operations (adaptor ops over the object's BlockingFd; polled out of line).
struct StdioRead {
  BlockingFd* b;
  std::span<std::byte> dst;
  Poll<io::Result<std::size_t>> poll(task::Context& cx);
};
struct StdioWrite {
  BlockingFd* b;
  std::span<const std::byte> src;
  Poll<io::Result<std::size_t>> poll(task::Context& cx);
};
struct StdioFlush {
  BlockingFd* b;
  Poll<io::Result<void>> poll(task::Context& cx);
};
using StdioReadOp = AdaptorOp<StdioRead>;
using StdioWriteOp = AdaptorOp<StdioWrite>;
using StdioFlushOp = AdaptorOp<StdioFlush>;

}  // namespace tokio::detail

namespace tokio::io {

// Standard input. read is cancel-safe. The operations throw std::logic_error on a
// moved-from object.
class Stdin : public Ext<Stdin> {
 public:
  Stdin(Stdin&& o) noexcept;
  Stdin& operator=(Stdin&& o) noexcept;
  ~Stdin();

  detail::StdioReadOp read(io::MutableBuffer buf);

 private:
  friend Stdin stdin();
  friend Stdin detail::stdin_from_fd(int);
  explicit Stdin(int fd);
  detail::Owned<detail::BlockingFd> b_;  // null once moved from
};

// Standard output / error. write is cancel-safe (a cancelled write buffered nothing);
// flush and shutdown wait for the write in flight.
class StdWriter : public Ext<StdWriter> {
 public:
  StdWriter(StdWriter&& o) noexcept;
  StdWriter& operator=(StdWriter&& o) noexcept;
  ~StdWriter();

  detail::StdioWriteOp write(io::ConstBuffer buf);
  detail::StdioFlushOp flush();
  detail::StdioFlushOp shutdown();

 protected:
  explicit StdWriter(int fd);

 private:
  detail::Owned<detail::BlockingFd> b_;  // null once moved from
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
