// io::stdin / stdout / stderr: see stdio.hpp.
#include "tokio/io/stdio.hpp"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/detail/spawn_impl.hpp"

namespace tokio::detail {

namespace io_stdio_impl {

StdioJobOut blocking_read(int fd, std::vector<std::byte> buf) {
  StdioJobOut out;
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r >= 0) {
      out.n = static_cast<std::size_t>(r);
      buf.resize(out.n);
      break;
    }
    if (errno == EINTR) continue;
    out.err = errno;
    buf.clear();
    break;
  }
  out.buf = std::move(buf);
  return out;
}

// Writes all of buf. SIGPIPE is blocked meanwhile, and one this write raised is consumed,
// so a closed pipe is reported as EPIPE instead of killing the process.
StdioJobOut blocking_write_all(int fd, std::vector<std::byte> buf) {
  StdioJobOut out;
  sigset_t pipe_set, old_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigemptyset(&pending);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  std::size_t off = 0;
  while (off < buf.size()) {
    ssize_t r = ::write(fd, buf.data() + off, buf.size() - off);
    if (r > 0) {
      off += static_cast<std::size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    out.err = r == 0 ? -1 : errno;  // -1: the fd accepted nothing (write_zero)
    break;
  }
  if (out.err == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  out.n = off;
  buf.clear();
  out.buf = std::move(buf);
  return out;
}

std::error_code job_error(int err) {
  if (err == -1) return io::Errc::write_zero;
  return {err, std::system_category()};
}

}  // namespace (impl)

bool BlockingFd::poll_job(task::Context& cx, StdioJobOut& done, std::error_code& err) {
  task::JoinHandle<StdioJobOut>::Awaiter<false> aw(job_);
  if (!aw.poll(cx)) return false;
  auto r = aw.await_resume();
  job_ = task::JoinHandle<StdioJobOut>();
  if (!r) {
    if (r.error().is_panic()) r.error().rethrow();
    err = std::make_error_code(std::errc::operation_canceled);  // runtime shutting down
    return true;
  }
  done = std::move(*r);
  return true;
}

bool BlockingFd::poll_read(task::Context& cx, std::span<std::byte> dst,
                           io::Result<std::size_t>& out) {
  if (!job_.valid()) {
    if (pos_ < buf_.size() || dst.empty()) {
      std::size_t n = std::min(dst.size(), buf_.size() - pos_);
      if (n) std::memcpy(dst.data(), buf_.data() + pos_, n);
      pos_ += n;
      out = n;
      return true;
    }
    std::vector<std::byte> buf = std::move(buf_);
    buf.resize(std::min(dst.size(), kStdioMaxBuf));
    buf_.clear();
    pos_ = 0;
    job_ = spawn_blocking_on(current_handle_or_throw("io::stdin() read"),
                             [fd = fd_, b = std::move(buf)]() mutable {
                               return io_stdio_impl::blocking_read(fd, std::move(b));
                             });
  }
  StdioJobOut done;
  std::error_code err;
  if (!poll_job(cx, done, err)) return false;
  if (err) {
    out = unexpected(err);
    return true;
  }
  buf_ = std::move(done.buf);
  pos_ = 0;
  if (done.err) {
    buf_.clear();
    out = unexpected(io_stdio_impl::job_error(done.err));
    return true;
  }
  std::size_t n = std::min(dst.size(), buf_.size());
  if (n) std::memcpy(dst.data(), buf_.data(), n);
  pos_ = n;
  out = n;
  return true;
}

bool BlockingFd::poll_write(task::Context& cx, std::span<const std::byte> src,
                            io::Result<std::size_t>& out) {
  if (job_.valid()) {
    // One operation at a time: wait for the previous write, and report its error.
    StdioJobOut done;
    std::error_code err;
    if (!poll_job(cx, done, err)) return false;
    buf_ = std::move(done.buf);
    if (!err && done.err) err = io_stdio_impl::job_error(done.err);
    if (err) {
      out = unexpected(err);
      return true;
    }
  }
  if (src.empty()) {
    out = std::size_t{0};
    return true;
  }
  std::size_t n = std::min(src.size(), kStdioMaxBuf);
  std::vector<std::byte> buf = std::move(buf_);
  buf.assign(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(n));
  buf_.clear();
  job_ = spawn_blocking_on(current_handle_or_throw("io::stdout()/stderr() write"),
                           [fd = fd_, b = std::move(buf)]() mutable {
                             return io_stdio_impl::blocking_write_all(fd, std::move(b));
                           });
  out = n;
  return true;
}

bool BlockingFd::poll_flush(task::Context& cx, io::Result<void>& out) {
  if (job_.valid()) {
    StdioJobOut done;
    std::error_code err;
    if (!poll_job(cx, done, err)) return false;
    buf_ = std::move(done.buf);
    if (!err && done.err) err = io_stdio_impl::job_error(done.err);
    if (err) {
      out = unexpected(err);
      return true;
    }
  }
  out = {};
  return true;
}

// --- leaves ----------------------------------------------------------------------------------
bool StdioReadOp::poll(task::Context& cx) noexcept {
  try {
    return b_->poll_read(cx, dst_, out_);
  } catch (...) {
    exc_ = std::current_exception();
    return true;
  }
}
io::Result<std::size_t> StdioReadOp::await_resume() {
  if (exc_) std::rethrow_exception(exc_);
  return std::move(out_);
}

bool StdioWriteOp::poll(task::Context& cx) noexcept {
  try {
    return b_->poll_write(cx, src_, out_);
  } catch (...) {
    exc_ = std::current_exception();
    return true;
  }
}
io::Result<std::size_t> StdioWriteOp::await_resume() {
  if (exc_) std::rethrow_exception(exc_);
  return std::move(out_);
}

bool StdioFlushOp::poll(task::Context& cx) noexcept {
  try {
    return b_->poll_flush(cx, out_);
  } catch (...) {
    exc_ = std::current_exception();
    return true;
  }
}
io::Result<void> StdioFlushOp::await_resume() {
  if (exc_) std::rethrow_exception(exc_);
  return std::move(out_);
}

io::Stdin stdin_from_fd(int fd) { return io::Stdin(fd); }
io::Stdout stdout_from_fd(int fd) { return io::Stdout(fd); }

}  // namespace tokio::detail

namespace tokio::io {

detail::BlockingFd* Stdin::b() const {
  if (!b_) throw std::logic_error("operation on a moved-from io::Stdin");
  return b_.get();
}
detail::BlockingFd* StdWriter::b() const {
  if (!b_) throw std::logic_error("operation on a moved-from io::Stdout/Stderr");
  return b_.get();
}

Stdin stdin() { return Stdin(STDIN_FILENO); }
Stdout stdout() { return Stdout(STDOUT_FILENO); }
Stderr stderr() { return Stderr(STDERR_FILENO); }

}  // namespace tokio::io
