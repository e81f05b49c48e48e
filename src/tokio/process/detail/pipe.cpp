#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "tokio/net/detail/socket.hpp"
#include "tokio/process/detail/pipe.hpp"

namespace tokio::detail::process_pipe_impl {

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

}  // namespace tokio::detail::process_pipe_impl

namespace tokio::detail {

int64_t pipe_read(int fd, void* p, std::size_t n) noexcept {
  for (;;) {
    ssize_t r = ::read(fd, p, n);
    if (r >= 0 || errno != EINTR) return sys_result(r);
  }
}

int64_t pipe_write(int fd, const void* p, std::size_t n) noexcept {
  return process_pipe_impl::without_sigpipe([&] { return ::write(fd, p, n); });
}

int64_t pipe_writev(int fd, const iovec* iov, std::size_t cnt) noexcept {
  if (cnt > IOV_MAX) cnt = IOV_MAX;
  return process_pipe_impl::without_sigpipe(
      [&] { return ::writev(fd, iov, static_cast<int>(cnt)); });
}

}  // namespace tokio::detail
