#include "tokio/process/detail/child_state.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tokio/process/detail/reaper.hpp"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture
#endif

namespace tokio::detail::process_child_state_impl {

// -1: not decided yet (TOKIO_PROCESS_NO_PIDFD is read at the first spawn), 0: pidfd,
// 1: SIGCHLD. Relaxed: a configuration flag; any value is a valid choice.
std::atomic<int> g_mode{-1};

bool use_pidfd() noexcept {
  int m = g_mode.load(std::memory_order_relaxed);
  if (m < 0) {
    const char* e = std::getenv("TOKIO_PROCESS_NO_PIDFD");
    m = (e && *e && std::strcmp(e, "0") != 0) ? 1 : 0;
    int expected = -1;
    if (!g_mode.compare_exchange_strong(expected, m, std::memory_order_relaxed)) m = expected;
  }
  return m == 0;
}

// Whether `fd`, the lowest free descriptor when it was opened (so every one below it is in
// use), shows the table at least three quarters full under the soft RLIMIT_NOFILE. Below
// 64 the limit is not looked at (one getrlimit per spawn past that point). Within the last
// 8 descriptors it is not "scarce" but exhausted: setting up SIGCHLD there could take the
// last ones (its first use opens two) and fail anyway, so the pidfd stays (CI's TSan run:
// the exec error report after it, which needs a pipe there, found no descriptor left).
bool descriptors_scarce(int fd) noexcept {
  if (fd < 64) return false;
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return false;
  const auto at = static_cast<rlim_t>(fd);
  return at >= rl.rlim_cur - rl.rlim_cur / 4 && at + 8 < rl.rlim_cur;
}

}  // namespace tokio::detail::process_child_state_impl

namespace tokio::detail {

void process_force_sigchld(bool on) noexcept {
  process_child_state_impl::g_mode.store(on ? 1 : 0, std::memory_order_relaxed);
}
bool process_uses_pidfd() noexcept { return process_child_state_impl::use_pidfd(); }

int child_try_reap(ChildState& s) noexcept {
  if (s.reaped) return 1;
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(s.pid, &st, WNOHANG);
    if (r == s.pid) {
      s.reaped = true;
      s.status = st;
      return 1;
    }
    if (r == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

void child_release_pidfd_if_reaped(ChildState& s) noexcept {
  if (s.reaped && s.pidfd_waits == 0 && s.pidfd.is_open()) s.pidfd = PollSocket();
}

io::Result<void> child_watch(ChildState& s) {
  if (process_child_state_impl::use_pidfd()) {
    long fd = ::syscall(SYS_pidfd_open, s.pid, 0);  // close-on-exec
    if (fd >= 0 && process_child_state_impl::descriptors_scarce(static_cast<int>(fd))) {
      // A pidfd per running child is what Tokio does not pay (it waits on SIGCHLD): with
      // descriptors running short, 1,000 children at once would take the last ones from
      // the program's sockets and files (and fail their own spawns). This child is
      // watched by SIGCHLD instead; if that cannot be set up either (its first use needs
      // two descriptors), the pidfd stays.
      if (signal_listener_init(s.chld, SIGCHLD, "process::Command::spawn")) {
        ::close(static_cast<int>(fd));
        return {};
      }
    }
    if (fd >= 0) {
      auto p = PollSocket::adopt(OwnedFd(static_cast<int>(fd)), io::Interest::READABLE,
                                 "process::Command::spawn");
      if (!p) return tokio::unexpected(p.error());
      s.pidfd = std::move(*p);
      return {};
    }
    // No pidfd here (kernel < 5.3, or a seccomp filter): SIGCHLD from now on.
    if (errno == ENOSYS || errno == EPERM) process_force_sigchld(true);
  }
  return signal_listener_init(s.chld, SIGCHLD, "process::Command::spawn");
}

void orphan_child(int pid) noexcept {
  int st;
  pid_t r;
  do {
    r = ::waitpid(pid, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != 0) return;  // reaped now (or not ours any more)
  long fd = process_child_state_impl::use_pidfd() ? ::syscall(SYS_pidfd_open, pid, 0) : -1;
  reaper_adopt(pid, fd < 0 ? -1 : static_cast<int>(fd));
}

void child_state_drop(ChildState* s) noexcept {
  if (!s) return;
  {
    LockGuard<Mutex> g(s->mu);
    // Not reaped, so the pid still names our child (a zombie at worst). A wait still
    // pending on another thread then completes with the kill's status.
    if (s->kill_on_drop && !s->reaped) ::kill(s->pid, SIGKILL);
  }
  child_state_release(s);
}

void child_state_retain(ChildState* s) noexcept {
  // Relaxed: the caller holds a reference already, so the count cannot reach zero meanwhile.
  s->refs.fetch_add(1, std::memory_order_relaxed);
}

void child_state_release(ChildState* s) noexcept {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // The last owner: nobody else can reach `s`, so no lock.
  if (!s->reaped && child_try_reap(*s) == 0) {
    int pidfd = s->pidfd.is_open() ? s->pidfd.release() : -1;
    reaper_adopt(s->pid, pidfd);
  } else {
    reaper_retry();  // earlier orphans whose reaper could not start get another try
  }
  signal_listener_release(s->chld);
  delete s;
}

}  // namespace tokio::detail
