#pragma once
// Pipe ends registered with the reactor: the one-syscall operations on them (see
// io/detail/registration.hpp for the IoOp protocol: read(2), write(2), writev(2), each
// retrying EINTR), and PipeWriter / PipeReader, the members shared by a child's pipes
// (process::ChildStdin / ChildStdout / ChildStderr) and net::unix::pipe's Sender / Receiver.
//
// A short read or write proves the pipe was drained / filled, so the op reports it as
// `drained` and the readiness is cleared without one more EAGAIN syscall.
//
// SIGPIPE: a write to a pipe whose reader is gone raises SIGPIPE, whose default action
// kills the process (sockets avoid it with MSG_NOSIGNAL; pipes have no such flag, and
// unlike Rust programs, C++ programs do not ignore SIGPIPE). pipe_write and pipe_writev
// write under a SigpipeGuard (runtime/detail/sigpipe.hpp: free on the runtime's own
// threads, two mask changes elsewhere), so the caller gets std::errc::broken_pipe and the
// process is left alone.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/net/detail/socket.hpp"

namespace tokio::detail {

int64_t pipe_read(int fd, void* p, std::size_t n) noexcept;
int64_t pipe_write(int fd, const void* p, std::size_t n) noexcept;
// cnt is at most IOV_MAX (cap_iovecs).
int64_t pipe_writev(int fd, const iovec* iov, std::size_t cnt) noexcept;

struct PipeReadOp : OpBase {
  static constexpr const char* kLeafName = "pipe read";  // in task dumps
  int fd;
  void* p;
  std::size_t n;
  int64_t operator()() noexcept { return pipe_read(fd, p, n); }
  bool drained(int64_t r) const noexcept { return std::size_t(r) < n; }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

struct PipeWriteOp : OpBase {
  static constexpr const char* kLeafName = "pipe write";  // in task dumps
  int fd;
  const void* p;
  std::size_t n;
  int64_t operator()() noexcept { return pipe_write(fd, p, n); }
  bool drained(int64_t r) const noexcept { return std::size_t(r) < n; }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

struct PipeWritevOp : OpBase {
  static constexpr const char* kLeafName = "pipe write (writev)";  // in task dumps
  int fd;
  const iovec* iov;
  std::size_t cnt;
  std::size_t total;
  int64_t operator()() noexcept { return pipe_writev(fd, iov, cnt); }
  bool drained(int64_t r) const noexcept { return std::size_t(r) < total; }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

// shutdown() of a write end: deregisters and closes the pipe when awaited (the reader then
// reads end of file).
class TOKIO_MUST_AWAIT PipeCloseOp : public Leaf<PipeCloseOp> {
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

// A registered pipe end. An empty one (default-constructed, moved-from, closed) fails every
// operation with EBADF.
class PipeEnd {
 public:
  int as_raw_fd() const noexcept { return pipe_.fd(); }

 protected:
  PipeEnd() noexcept = default;
  explicit PipeEnd(PollSocket p) noexcept : pipe_(std::move(p)) {}
  PipeEnd(PipeEnd&&) noexcept = default;
  PipeEnd& operator=(PipeEnd&&) noexcept = default;
  ~PipeEnd() = default;

  // Hands the descriptor over in blocking mode; -1 with errno on failure.
  int release_blocking() noexcept;
  // Hands the descriptor over as it is (non-blocking); -1 (EBADF) when empty.
  int release_nonblocking() noexcept;

  PollSocket pipe_;
};

// The write end: io::AsyncWrite and AsyncWriteVectored. A write to a pipe whose reader is
// gone fails with std::errc::broken_pipe; SIGPIPE is never raised.
class PipeWriter : public PipeEnd {
 public:
  // Writes some prefix of buf (io::Result<std::size_t>).
  auto write(io::ConstBuffer buf) noexcept {
    return IoOp<PipeWriteOp>(pipe_.io(), io::Interest::WRITABLE,
                             PipeWriteOp{{}, pipe_.fd(), buf.data(), buf.size()});
  }
  // At most IOV_MAX slices per call (cap_iovecs); the count says how much was written.
  auto write_vectored(std::span<const io::IoSlice> bufs) noexcept {
    const iovec* iov = io::as_iovecs(bufs);
    std::size_t n = cap_iovecs(bufs.size());
    return IoOp<PipeWritevOp>(pipe_.io(), io::Interest::WRITABLE,
                              PipeWritevOp{{}, pipe_.fd(), iov, n, iov_total(iov, n)});
  }
  // Pipes have no user-space buffer: completes at once.
  auto flush() noexcept { return ReadyValue<io::Result<void>>(io::Result<void>()); }
  // Closes the pipe: the reader reads end of file. Writes after it fail with EBADF.
  auto shutdown() noexcept { return PipeCloseOp(&pipe_); }
  // EAGAIN when the pipe is full.
  io::Result<std::size_t> try_write(io::ConstBuffer buf) noexcept {
    PipeWriteOp op{{}, pipe_.fd(), buf.data(), buf.size()};
    return finish_size(try_io_once(pipe_.io(), io::Interest::WRITABLE.mask(), op));
  }
  // Waits until the pipe may take a write (io::Result<void>).
  auto writable() noexcept {
    return ReadinessAwait<FinishVoid>(pipe_.io(), io::Interest::WRITABLE);
  }

 protected:
  using PipeEnd::PipeEnd;
};

// The read end: io::AsyncRead.
class PipeReader : public PipeEnd {
 public:
  // Reads up to buf.size() bytes; 0 = every write end is closed.
  auto read(io::MutableBuffer buf) noexcept {
    return IoOp<PipeReadOp>(pipe_.io(), io::Interest::READABLE,
                            PipeReadOp{{}, pipe_.fd(), buf.data(), buf.size()});
  }
  // EAGAIN when nothing is buffered.
  io::Result<std::size_t> try_read(io::MutableBuffer buf) noexcept {
    PipeReadOp op{{}, pipe_.fd(), buf.data(), buf.size()};
    return finish_size(try_io_once(pipe_.io(), io::Interest::READABLE.mask(), op));
  }
  // Waits until the pipe may have data or be closed (io::Result<void>).
  auto readable() noexcept {
    return ReadinessAwait<FinishVoid>(pipe_.io(), io::Interest::READABLE);
  }

 protected:
  using PipeEnd::PipeEnd;
};

}  // namespace tokio::detail
