// io::stdin / stdout / stderr: see stdio.hpp.
#include "tokio/io/stdio.hpp"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/task/detail/spawn_impl.hpp"

namespace tokio::detail {

inline constexpr std::size_t kStdioMaxBuf = 16 * 1024;

// What a blocking job hands back: the byte count or errno, and the buffer it used.
struct StdioJobOut {
  std::size_t n = 0;
  int err = 0;
  std::vector<std::byte> buf;
};

class BlockingFd {
 public:
  explicit BlockingFd(int fd) noexcept : fd_(fd) {}
  BlockingFd(const BlockingFd&) = delete;
  BlockingFd& operator=(const BlockingFd&) = delete;

  Poll<io::Result<std::size_t>> poll_read(task::Context& cx, std::span<std::byte> dst);
  Poll<io::Result<std::size_t>> poll_write(task::Context& cx, std::span<const std::byte> src);
  // Waits for the write in flight, if any (one operation at a time), and reports its
  // error: flush and shutdown, and the start of every write.
  Poll<io::Result<void>> poll_idle(task::Context& cx);

 private:
  // Polls the busy job; true when it finished (then job_ is empty and the result is in
  // `done`, or a cancellation error in `err`).
  bool poll_job(task::Context& cx, StdioJobOut& done, std::error_code& err);

  int fd_;
  std::vector<std::byte> buf_;  // idle: read-ahead bytes buf_[pos_, size)
  std::size_t pos_ = 0;
  task::JoinHandle<StdioJobOut> job_;  // valid while busy
};

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

// Writes all of buf without raising SIGPIPE (runtime/detail/sigpipe.hpp), so a closed pipe
// is reported as EPIPE instead of killing the process.
StdioJobOut blocking_write_all(int fd, std::vector<std::byte> buf) {
  StdioJobOut out;
  std::size_t off = 0;
  int e = write_all_nosig(fd, buf.data(), buf.size(), off);
  out.err = e == kWriteZero ? -1 : -e;  // -1: the fd accepted nothing (write_zero); else an errno
  out.n = off;
  buf.clear();
  out.buf = std::move(buf);
  return out;
}

std::error_code job_error(int err) {
  if (err == -1) return io::Errc::write_zero;
  return {err, std::system_category()};
}

}  // namespace io_stdio_impl

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

Poll<io::Result<std::size_t>> BlockingFd::poll_read(task::Context& cx, std::span<std::byte> dst) {
  if (!job_.valid()) {
    if (pos_ < buf_.size() || dst.empty()) {
      std::size_t n = std::min(dst.size(), buf_.size() - pos_);
      if (n) std::memcpy(dst.data(), buf_.data() + pos_, n);
      pos_ += n;
      return n;
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
  if (!poll_job(cx, done, err)) return pending;
  if (err) return unexpected(err);
  buf_ = std::move(done.buf);
  pos_ = 0;
  if (done.err) {
    buf_.clear();
    return unexpected(io_stdio_impl::job_error(done.err));
  }
  std::size_t n = std::min(dst.size(), buf_.size());
  if (n) std::memcpy(dst.data(), buf_.data(), n);
  pos_ = n;
  return n;
}

Poll<io::Result<void>> BlockingFd::poll_idle(task::Context& cx) {
  if (!job_.valid()) return io::Result<void>();
  StdioJobOut done;
  std::error_code err;
  if (!poll_job(cx, done, err)) return pending;
  buf_ = std::move(done.buf);
  if (!err && done.err) err = io_stdio_impl::job_error(done.err);
  if (err) return unexpected(err);
  return io::Result<void>();
}

Poll<io::Result<std::size_t>> BlockingFd::poll_write(task::Context& cx,
                                                     std::span<const std::byte> src) {
  auto idle = poll_idle(cx);
  if (!idle) return pending;
  if (!*idle) return unexpected(idle->error());
  if (src.empty()) return std::size_t{0};
  std::size_t n = std::min(src.size(), kStdioMaxBuf);
  std::vector<std::byte> buf = std::move(buf_);
  buf.assign(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(n));
  buf_.clear();
  // Mandatory: the write was reported done (n bytes taken), so a runtime shutdown must not
  // cancel it before a thread runs it (Tokio's stdout prints an unflushed last line too).
  job_ = spawn_blocking_mandatory_on(current_handle_or_throw("io::stdout()/stderr() write"),
                                     [fd = fd_, b = std::move(buf)]() mutable {
                                       return io_stdio_impl::blocking_write_all(fd, std::move(b));
                                     });
  return n;
}

// --- operations ------------------------------------------------------------------------------
Poll<io::Result<std::size_t>> StdioRead::poll(task::Context& cx) { return b->poll_read(cx, dst); }
Poll<io::Result<std::size_t>> StdioWrite::poll(task::Context& cx) { return b->poll_write(cx, src); }
Poll<io::Result<void>> StdioFlush::poll(task::Context& cx) { return b->poll_idle(cx); }

io::Stdin stdin_from_fd(int fd) { return io::Stdin(fd); }
io::Stdout stdout_from_fd(int fd) { return io::Stdout(fd); }

}  // namespace tokio::detail

namespace tokio::io {

Stdin::Stdin(int fd) : b_(new detail::BlockingFd(fd)) {}
Stdin::Stdin(Stdin&&) noexcept = default;
Stdin& Stdin::operator=(Stdin&&) noexcept = default;
Stdin::~Stdin() = default;

StdWriter::StdWriter(int fd) : b_(new detail::BlockingFd(fd)) {}
StdWriter::StdWriter(StdWriter&&) noexcept = default;
StdWriter& StdWriter::operator=(StdWriter&&) noexcept = default;
StdWriter::~StdWriter() = default;

detail::StdioReadOp Stdin::read(io::MutableBuffer buf) {
  if (!b_) throw std::logic_error("operation on a moved-from io::Stdin");
  return {{b_.get(), buf}};
}
detail::StdioWriteOp StdWriter::write(io::ConstBuffer buf) {
  if (!b_) throw std::logic_error("operation on a moved-from io::Stdout/Stderr");
  return {{b_.get(), buf}};
}
detail::StdioFlushOp StdWriter::flush() {
  if (!b_) throw std::logic_error("operation on a moved-from io::Stdout/Stderr");
  return {{b_.get()}};
}
detail::StdioFlushOp StdWriter::shutdown() { return flush(); }

Stdin stdin() { return Stdin(STDIN_FILENO); }
Stdout stdout() { return Stdout(STDOUT_FILENO); }
Stderr stderr() { return Stderr(STDERR_FILENO); }

}  // namespace tokio::io
