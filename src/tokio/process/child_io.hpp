#pragma once
// ChildStdin (io::AsyncWrite), ChildStdout and ChildStderr (io::AsyncRead): the parent's
// ends of a child's pipes (Stdio::piped()), non-blocking and registered with the reactor
// of the runtime that spawned the child. They work with every I/O utility:
//
//   co_await io::write_all(*child.stdin, "3\n1\n2\n");
//   child.stdin.reset();                               // close: the child reads EOF
//                                                      // (or `in = {}` on one moved out)
//   std::string out;
//   co_await io::read_to_end(*child.stdout, out);
//   io::BufReader lines(std::move(*child.stderr));     // lines(), copy(), split()...
//
// Cancel safety: read, write and write_vectored are cancel-safe (a destroyed read
// consumed nothing, a destroyed write wrote nothing). A write to a pipe the child closed
// fails with std::errc::broken_pipe; SIGPIPE is never raised (see process/detail/pipe.hpp).
//
// ChildStdin::shutdown() closes the pipe so the child reads end of file (Tokio's is a
// no-op there and the pipe closes when ChildStdin is dropped; resetting the optional in
// Child::stdin, or destroying the object, closes it too). Writes after it fail with EBADF.

#include <cstddef>
#include <span>
#include <string_view>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/process/detail/pipe.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::detail {

struct ChildFactory;  // process/command.cpp: builds Child objects around spawned processes

// shutdown() of a ChildStdin: deregisters and closes the pipe when awaited.
class PipeCloseOp : public Leaf<PipeCloseOp> {
 public:
  explicit PipeCloseOp(PollSocket* p) noexcept : p_(p) {}
  PipeCloseOp(const PipeCloseOp& o) noexcept : Leaf<PipeCloseOp>(o), p_(o.p_) {}
  bool poll(task::Context&) noexcept {
    p_->close();
    return true;
  }
  io::Result<void> await_resume() const noexcept { return {}; }

 private:
  PollSocket* p_;
};

// A registered pipe end (the common part of the three types).
class ChildPipe {
 public:
  int as_raw_fd() const noexcept { return pipe_.fd(); }

 protected:
  ChildPipe() noexcept = default;
  explicit ChildPipe(PollSocket p) noexcept : pipe_(std::move(p)) {}
  ChildPipe(ChildPipe&&) noexcept = default;
  ChildPipe& operator=(ChildPipe&&) noexcept = default;
  ~ChildPipe() = default;

  auto read_op(io::MutableBuffer buf) noexcept {
    return IoOp<PipeReadOp>(pipe_.io(), io::Interest::READABLE,
                            PipeReadOp{{}, pipe_.fd(), buf.data(), buf.size()});
  }
  io::Result<std::size_t> try_read_op(io::MutableBuffer buf) noexcept {
    PipeReadOp op{{}, pipe_.fd(), buf.data(), buf.size()};
    return finish_size(try_io_once(pipe_.io(), io::Interest::READABLE.mask(), op));
  }

  // Hands the descriptor over in blocking mode (Stdio::from); -1 with errno on failure.
  int release_blocking() noexcept;

  PollSocket pipe_;
};

// Registers the parent's end of a pipe with the current runtime's reactor (the fd is
// already non-blocking); closes it on failure.
io::Result<PollSocket> register_pipe(OwnedFd fd, io::Interest interest);

}  // namespace tokio::detail

namespace tokio::process {

class Stdio;

class ChildStdin : public detail::ChildPipe, public io::Ext<ChildStdin> {
 public:
  // Not connected to a child: every operation fails with EBADF. `in = {}` closes a pipe.
  ChildStdin() noexcept = default;
  ChildStdin(ChildStdin&&) noexcept = default;
  ChildStdin& operator=(ChildStdin&&) noexcept = default;

  // Writes some prefix of buf (io::Result<std::size_t>).
  auto write(io::ConstBuffer buf) noexcept {
    return detail::IoOp<detail::PipeWriteOp>(
        pipe_.io(), io::Interest::WRITABLE,
        detail::PipeWriteOp{{}, pipe_.fd(), buf.data(), buf.size()});
  }
  auto write_vectored(std::span<const io::IoSlice> bufs) noexcept {
    std::size_t total = 0;
    for (const auto& b : bufs) total += b.size();
    return detail::IoOp<detail::PipeWritevOp>(
        pipe_.io(), io::Interest::WRITABLE,
        detail::PipeWritevOp{{}, pipe_.fd(), io::as_iovecs(bufs), bufs.size(), total});
  }
  // Pipes have no user-space buffer: completes at once.
  auto flush() noexcept { return detail::ReadyValue<io::Result<void>>(io::Result<void>()); }
  // Closes the pipe: the child reads end of file.
  auto shutdown() noexcept { return detail::PipeCloseOp(&pipe_); }
  // EAGAIN when the pipe is full.
  io::Result<std::size_t> try_write(io::ConstBuffer buf) noexcept {
    detail::PipeWriteOp op{{}, pipe_.fd(), buf.data(), buf.size()};
    return detail::finish_size(detail::try_io_once(pipe_.io(), io::Interest::WRITABLE.mask(), op));
  }

 private:
  friend struct detail::ChildFactory;
  friend class Stdio;
  explicit ChildStdin(detail::PollSocket p) noexcept : ChildPipe(std::move(p)) {}
};

// The read end of a pipe from the child: ChildStdout (Stream 1) and ChildStderr (Stream 2),
// distinct types as in Tokio, written once.
template <int Stream>
class ChildOutput : public detail::ChildPipe, public io::Ext<ChildOutput<Stream>> {
 public:
  // Not connected to a child: every operation fails with EBADF. `out = {}` closes a pipe.
  ChildOutput() noexcept = default;
  ChildOutput(ChildOutput&&) noexcept = default;
  ChildOutput& operator=(ChildOutput&&) noexcept = default;

  // Reads up to buf.size() bytes; 0 = the child closed its end (usually: it exited).
  auto read(io::MutableBuffer buf) noexcept { return read_op(buf); }
  io::Result<std::size_t> try_read(io::MutableBuffer buf) noexcept { return try_read_op(buf); }

 private:
  friend struct detail::ChildFactory;
  friend class Stdio;
  explicit ChildOutput(detail::PollSocket p) noexcept : ChildPipe(std::move(p)) {}
};
using ChildStdout = ChildOutput<1>;
using ChildStderr = ChildOutput<2>;

}  // namespace tokio::process
