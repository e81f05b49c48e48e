#include "tokio/runtime/detail/sigpipe.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

namespace tokio::detail {

namespace runtime_sigpipe_impl {
// True on a thread that blocked SIGPIPE for its life (block_sigpipe_for_thread). Only the
// thread itself reads or writes it.
thread_local bool t_blocked_for_life = false;
// Set once our handler catches SIGPIPE (sigpipe_now_caught); never cleared.
std::atomic<bool> g_caught{false};

// One write system call, EINTR retried: the bytes written or -errno.
template <class F>
int64_t retry_eintr(F write_once) noexcept {
  for (;;) {
    long r = write_once();
    if (r >= 0) return r;
    if (errno != EINTR) return -int64_t(errno ? errno : EIO);
  }
}

// Runs `write` (one or all of a buffer) under a SigpipeGuard; an -EPIPE result has the
// guard take the SIGPIPE it raised.
template <class F>
auto guarded(F write) noexcept {
  SigpipeGuard guard;
  auto r = write();
  if (r == -EPIPE) guard.epipe();
  return r;
}

sigset_t pipe_only() noexcept {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  return s;
}
}  // namespace runtime_sigpipe_impl

static_assert(sizeof(sigset_t) <= sizeof(unsigned long) * 16);

void block_sigpipe_for_thread() noexcept {
  if (runtime_sigpipe_impl::g_caught.load(std::memory_order_acquire)) return;
  sigset_t s = runtime_sigpipe_impl::pipe_only();
  if (pthread_sigmask(SIG_BLOCK, &s, nullptr) == 0) runtime_sigpipe_impl::t_blocked_for_life = true;
}

void sigpipe_now_caught() noexcept {
  runtime_sigpipe_impl::g_caught.store(true, std::memory_order_release);
}

void sigpipe_refresh_thread() noexcept {
  if (!runtime_sigpipe_impl::t_blocked_for_life ||
      !runtime_sigpipe_impl::g_caught.load(std::memory_order_acquire)) {
    return;
  }
  sigset_t s = runtime_sigpipe_impl::pipe_only();
  if (pthread_sigmask(SIG_UNBLOCK, &s, nullptr) == 0)
    runtime_sigpipe_impl::t_blocked_for_life = false;
}

SigpipeGuard::SigpipeGuard() noexcept {
  if (runtime_sigpipe_impl::g_caught.load(std::memory_order_acquire)) {
    // Caught by our handler: the write's SIGPIPE goes to the listeners, the write gets
    // EPIPE. A runtime thread still blocking it unblocks now (see sigpipe.hpp).
    sigpipe_refresh_thread();
    return;
  }
  if (runtime_sigpipe_impl::t_blocked_for_life) {
    take_ = true;  // we blocked it: a SIGPIPE pending here came from a write on this thread
    return;
  }
  sigset_t s = runtime_sigpipe_impl::pipe_only();
  auto* old = reinterpret_cast<sigset_t*>(old_);
  if (pthread_sigmask(SIG_BLOCK, &s, old) != 0) return;
  restore_ = true;
  // Unblocked before: nothing of SIGPIPE could be pending (it would have been delivered),
  // so one pending after an EPIPE is ours.
  take_ = sigismember(old, SIGPIPE) != 1;
}

SigpipeGuard::~SigpipeGuard() {
  int saved = errno;
  if (epipe_ && take_) {
    sigset_t s = runtime_sigpipe_impl::pipe_only();
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  if (restore_) pthread_sigmask(SIG_SETMASK, reinterpret_cast<sigset_t*>(old_), nullptr);
  errno = saved;
}

int write_all(int fd, const std::byte* buf, std::size_t len, std::size_t& written) noexcept {
  written = 0;
  while (written < len) {
    int64_t n = runtime_sigpipe_impl::retry_eintr(
        [&] { return ::write(fd, buf + written, len - written); });
    if (n < 0) return static_cast<int>(n);
    if (n == 0) return kWriteZero;
    written += static_cast<std::size_t>(n);
  }
  return 0;
}

int64_t write_nosig(int fd, const void* p, std::size_t n) noexcept {
  using runtime_sigpipe_impl::retry_eintr;
  return runtime_sigpipe_impl::guarded(
      [&] { return retry_eintr([&] { return ::write(fd, p, n); }); });
}

int64_t writev_nosig(int fd, const ::iovec* iov, int cnt) noexcept {
  using runtime_sigpipe_impl::retry_eintr;
  return runtime_sigpipe_impl::guarded(
      [&] { return retry_eintr([&] { return ::writev(fd, iov, cnt); }); });
}

int write_all_nosig(int fd, const std::byte* buf, std::size_t len, std::size_t& written) noexcept {
  return runtime_sigpipe_impl::guarded([&] { return write_all(fd, buf, len, written); });
}

}  // namespace tokio::detail
