#include "tokio/process/detail/reaper.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "tokio/signal/detail/registry.hpp"

namespace tokio::detail::process_reaper_impl {

constexpr uint64_t kKick = UINT64_MAX;          // epoll data: the thread's own eventfd
constexpr uint64_t kSelfPipe = UINT64_MAX - 1;  // epoll data: the signal self-pipe dup
constexpr int kEveryOrphan = -2;                // reap_locked: pidfd and SIGCHLD mode alike
constexpr std::size_t kMaxPidfds = 64;          // orphans watched by pidfd at once (see adopt)

struct Orphan {
  int pid;
  int pidfd;  // -1: SIGCHLD mode
};

void kick(int fd) noexcept {
  uint64_t one = 1;
  ssize_t r = ::write(fd, &one, sizeof one);
  (void)r;
}

// The waker the SIGCHLD slot wakes: a static object, so clone/drop are no-ops.
void waker_wake(Wakeable* w) noexcept;
void waker_noop(Wakeable*) noexcept {}
constexpr WakeableVTable kWakerVTable{&waker_wake, &waker_wake, &waker_noop, &waker_noop};

struct Reaper {
  std::mutex mu;  // guards everything below except `chld` (thread-owned)
  std::vector<Orphan> orphans;
  // The thread runs. Until it does (its descriptors or the thread itself could not be
  // made: EMFILE, EAGAIN), every adopt tries again to start it and, failing, reaps
  // whatever has exited by then.
  bool started = false;
  int epfd = -1;
  int kickfd = -1;
  int selfpipe = -1;  // dup of the signal self-pipe, added on the first SIGCHLD orphan
  Wakeable waker{&kWakerVTable};
  SignalWaiter chld;  // the thread's wait on SIGCHLD
};

Reaper& reaper() {
  static Reaper* r = new Reaper();  // never destroyed: its thread runs for the process's life
  return *r;
}

void waker_wake(Wakeable*) noexcept { kick(reaper().kickfd); }

// waitpid(pid, WNOHANG): true when the child is gone (reaped now, or by someone else).
bool try_reap(int pid) noexcept {
  int st;
  for (;;) {
    pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // ECHILD: not ours any more
  }
}

// Reaps what can be reaped: the orphan with `pidfd` (>= 0), every SIGCHLD-mode orphan
// (-1), or every orphan (kEveryOrphan). Returns whether SIGCHLD-mode orphans remain.
// (Reaper::mu held.)
bool reap_locked(Reaper& r, int pidfd) noexcept {
  bool fallback_left = false;
  for (std::size_t i = 0; i < r.orphans.size();) {
    Orphan o = r.orphans[i];
    bool candidate = pidfd == kEveryOrphan || (pidfd >= 0 ? o.pidfd == pidfd : o.pidfd < 0);
    if (candidate && try_reap(o.pid)) {
      if (o.pidfd >= 0) {
        if (r.epfd >= 0) ::epoll_ctl(r.epfd, EPOLL_CTL_DEL, o.pidfd, nullptr);
        ::close(o.pidfd);
      }
      r.orphans[i] = r.orphans.back();
      r.orphans.pop_back();
      continue;
    }
    if (o.pidfd < 0) fallback_left = true;
    ++i;
  }
  return fallback_left;
}

[[noreturn]] void run(Reaper& r) {
  epoll_event evs[64];
  for (;;) {
    int timeout = -1;
    {
      std::lock_guard<std::mutex> g(r.mu);
      bool fallback = false;
      for (const Orphan& o : r.orphans) fallback = fallback || o.pidfd < 0;
      if (fallback) {
        // Wait for the next SIGCHLD before looking, so an exit after the look wakes us.
        signal_dispatch();
        uint64_t v = signal_version(SIGCHLD);
        bool waiting = signal_link_waiter(SIGCHLD, v, r.chld, &r.waker);
        bool left = reap_locked(r, -1);
        timeout = !waiting ? 0 : left ? 1000 : -1;
        if (!left) signal_unlink_waiter(SIGCHLD, r.chld);
      }
    }
    int n = ::epoll_wait(r.epfd, evs, 64, timeout);
    std::lock_guard<std::mutex> g(r.mu);
    for (int i = 0; i < n; ++i) {
      uint64_t d = evs[i].data.u64;
      if (d == kKick) {
        uint64_t v;
        ssize_t k = ::read(r.kickfd, &v, sizeof v);
        (void)k;
      } else if (d == kSelfPipe) {
        // Dispatched at the top of the loop.
      } else {
        reap_locked(r, static_cast<int>(d));
      }
    }
  }
}

// Closes what a failed start made, so the next adopt starts from nothing (Reaper::mu held).
void undo_start_locked(Reaper& r) noexcept {
  if (r.epfd >= 0) ::close(std::exchange(r.epfd, -1));
  if (r.kickfd >= 0) ::close(std::exchange(r.kickfd, -1));
}

// Starts the thread (Reaper::mu held). False when it cannot be started now.
bool start_locked(Reaper& r) noexcept {
  if (r.started) return true;
  r.epfd = ::epoll_create1(EPOLL_CLOEXEC);
  r.kickfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kKick;
  if (r.epfd < 0 || r.kickfd < 0 || ::epoll_ctl(r.epfd, EPOLL_CTL_ADD, r.kickfd, &ev) < 0) {
    undo_start_locked(r);
    return false;
  }
  try {
    // The thread must not take the program's signals (it never blocks them otherwise).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    std::thread t;
    try {
      t = std::thread([&r] { run(r); });
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    pthread_setname_np(t.native_handle(), "tokio-reaper");
    t.detach();
  } catch (...) {
    undo_start_locked(r);
    return false;
  }
  r.started = true;
  return true;
}

// Set when the thread could not start while orphans remained; cleared once it runs (or no
// orphan remains). Written under Reaper::mu; read without it only as a hint (reaper_retry
// then takes the lock and looks at `started` itself), so relaxed.
std::atomic<bool> g_start_pending{false};

// Has the running thread watch orphan `o` (Reaper::mu held): its pidfd in the epoll set, or,
// for a SIGCHLD-mode orphan (or a pidfd epoll refuses, which then becomes one), SIGCHLD.
void watch_locked(Reaper& r, Orphan& o) noexcept {
  if (o.pidfd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(o.pidfd);
    if (::epoll_ctl(r.epfd, EPOLL_CTL_ADD, o.pidfd, &ev) == 0) return;
    ::close(std::exchange(o.pidfd, -1));  // waitpid still works without it
  }
  (void)signal_install(SIGCHLD);
  if (r.selfpipe < 0) {  // tried again at every SIGCHLD-mode adopt until it succeeds
    r.selfpipe = signal_dup_event_fd();
    if (r.selfpipe >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLET;
      ev.data.u64 = kSelfPipe;
      ::epoll_ctl(r.epfd, EPOLL_CTL_ADD, r.selfpipe, &ev);
    }
  }
}

// Starts the thread and has it watch every orphan; failing, reaps what already exited, and
// the next adopt or reaper_retry() tries again (Reaper::mu held, thread not running).
void start_and_watch_locked(Reaper& r) noexcept {
  if (!start_locked(r)) {
    reap_locked(r, kEveryOrphan);
    g_start_pending.store(!r.orphans.empty(), std::memory_order_relaxed);
    return;
  }
  g_start_pending.store(false, std::memory_order_relaxed);
  for (Orphan& o : r.orphans) watch_locked(r, o);
  kick(r.kickfd);
}

}  // namespace tokio::detail::process_reaper_impl

namespace tokio::detail {

void reaper_adopt(int pid, int pidfd) noexcept {
  namespace impl = process_reaper_impl;
  impl::Reaper& r = impl::reaper();
  std::lock_guard<std::mutex> g(r.mu);
  if (pidfd >= 0) {
    // A descriptor per orphan is the program's to miss: past kMaxPidfds orphans with one
    // (a burst of dropped Children) the rest are watched through SIGCHLD, which costs no
    // descriptor (Tokio 1.24 watches every child so).
    std::size_t held = 0;
    for (const impl::Orphan& o : r.orphans) held += o.pidfd >= 0;
    if (held >= impl::kMaxPidfds) ::close(std::exchange(pidfd, -1));
  }
  try {
    r.orphans.push_back({pid, pidfd});
  } catch (...) {
    // Out of memory: the child stays a zombie until the process exits.
    if (pidfd >= 0) ::close(pidfd);
    return;
  }
  if (r.started) {
    impl::watch_locked(r, r.orphans.back());
    impl::kick(r.kickfd);
    return;
  }
  impl::start_and_watch_locked(r);
}

void reaper_retry() noexcept {
  namespace impl = process_reaper_impl;
  if (!impl::g_start_pending.load(std::memory_order_relaxed)) return;
  impl::Reaper& r = impl::reaper();
  std::lock_guard<std::mutex> g(r.mu);
  if (!r.started) impl::start_and_watch_locked(r);
}

std::size_t reaper_orphans() noexcept {
  namespace impl = process_reaper_impl;
  impl::Reaper& r = impl::reaper();
  std::lock_guard<std::mutex> g(r.mu);
  return r.orphans.size();
}

}  // namespace tokio::detail
