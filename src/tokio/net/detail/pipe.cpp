#include "tokio/net/detail/pipe.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "tokio/net/detail/socket.hpp"

namespace tokio::detail::net_pipe_impl {

// Runs write_fn with SIGPIPE blocked in this thread (see pipe.hpp).
template <class F>
int64_t without_sigpipe(F write_fn) noexcept {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int64_t r;
  for (;;) {
    r = sys_result(write_fn());
    if (r != -EINTR) break;
  }
  if (r == -EPIPE && !sigismember(&old, SIGPIPE)) {
    // The write raised SIGPIPE at this thread: take it while it is blocked. (A SIGPIPE
    // sent to the process by someone else at the same moment would be taken too; the
    // OS coalesces a pending signal anyway.)
    timespec zero{0, 0};
    int s;
    do {
      s = ::sigtimedwait(&pipe_set, nullptr, &zero);
    } while (s < 0 && errno == EINTR);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return r;
}

}  // namespace tokio::detail::net_pipe_impl

namespace tokio::detail {

int64_t pipe_read(int fd, void* p, std::size_t n) noexcept {
  for (;;) {
    ssize_t r = ::read(fd, p, n);
    if (r >= 0 || errno != EINTR) return sys_result(r);
  }
}

int64_t pipe_write(int fd, const void* p, std::size_t n) noexcept {
  return net_pipe_impl::without_sigpipe([&] { return ::write(fd, p, n); });
}

int64_t pipe_writev(int fd, const iovec* iov, std::size_t cnt) noexcept {
  if (cnt > IOV_MAX) cnt = IOV_MAX;
  return net_pipe_impl::without_sigpipe([&] { return ::writev(fd, iov, static_cast<int>(cnt)); });
}

int PipeEnd::release_blocking() noexcept {
  int fd = pipe_.release();
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int PipeEnd::release_nonblocking() noexcept {
  int fd = pipe_.release();
  if (fd < 0) errno = EBADF;
  return fd;
}

}  // namespace tokio::detail
