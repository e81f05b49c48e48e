#pragma once
// The one-syscall operations on a child's pipe ends (see io/detail/registration.hpp for
// the IoOp protocol): read(2), write(2), writev(2), each retrying EINTR.
//
// A short read or write proves the pipe was drained / filled, so the op reports it as
// `drained` and the readiness is cleared without one more EAGAIN syscall.
//
// SIGPIPE: a write to a pipe whose reader is gone raises SIGPIPE, whose default action
// kills the process (sockets avoid it with MSG_NOSIGNAL; pipes have no such flag, and
// unlike Rust programs, C++ programs do not ignore SIGPIPE). pipe_write blocks SIGPIPE in
// the calling thread around the write and, when the write failed with EPIPE, takes the
// SIGPIPE it raised (if SIGPIPE was not already blocked there) before restoring the mask,
// so the caller gets std::errc::broken_pipe and the process is left alone.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "tokio/io/detail/registration.hpp"

namespace tokio::detail {

int64_t pipe_read(int fd, void* p, std::size_t n) noexcept;
int64_t pipe_write(int fd, const void* p, std::size_t n) noexcept;
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

}  // namespace tokio::detail
