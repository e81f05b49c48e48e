#pragma once
// futex(2)-based primitives of the runtime: the raw wait/wake wrappers, a mutex that spins
// briefly before sleeping, and its condition variable.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

#ifdef TOKIO_TSAN
// (Hook for tokio::signal / tokio::process, ThreadSanitizer builds only.) TSan runs a
// signal handler only when the thread that took the signal passes through a call TSan
// intercepts, and a raw futex wait is not one: a thread parked in one (block_on on a
// multi-thread runtime, an idle blocking-pool thread: the threads the kernel tends to pick
// for a process-directed signal or a SIGCHLD) would hold a SIGTERM or a SIGCHLD
// undelivered until something else woke it. So under TSan a futex wait lasts at most
// 10 ms, and usleep(0), which TSan intercepts, then runs any deferred handler; callers
// already treat an early return as spurious.
inline const struct timespec* tsan_wait_slice(const struct timespec* rel,
                                              struct timespec& slice) noexcept {
  slice = {0, 10 * 1000 * 1000};
  if (!rel || rel->tv_sec > 0 || rel->tv_nsec > slice.tv_nsec) return &slice;
  return rel;
}
inline void tsan_after_wait() noexcept { ::usleep(0); }
#endif

// futex(2) wrappers on a 32-bit atomic word. futex_wait may return spuriously: callers
// re-check their word.
inline void futex_wait(std::atomic<uint32_t>* word, uint32_t expected,
                       const struct timespec* rel_timeout) noexcept {
#ifdef TOKIO_TSAN
  struct timespec slice;
  rel_timeout = tsan_wait_slice(rel_timeout, slice);
#endif
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
          rel_timeout, nullptr, 0);
#ifdef TOKIO_TSAN
  tsan_after_wait();
#endif
}
inline void futex_wake(std::atomic<uint32_t>* word, int count) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr,
          nullptr, 0);
}

// A futex mutex that spins briefly before sleeping. glibc's default pthread mutex goes to
// the kernel on the first contended lock; the runtime's locks (inject queue, blocking pool,
// sleepers) are held for a few dozen instructions, so a short spin avoids most context
// switches (Rust's std Mutex, which Tokio uses, spins the same way).
// `state_` encoding: 0 unlocked, 1 locked, 2 locked and a waiter may be asleep.
class Mutex {
 public:
  void lock() noexcept {
    uint32_t c = 0;
    if (TOKIO_LIKELY(state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                                    std::memory_order_relaxed))) {
      return;
    }
    lock_contended();
  }
  bool try_lock() noexcept {
    uint32_t c = 0;
    return state_.compare_exchange_strong(c, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(&state_, 1);
  }

 private:
  void lock_contended() noexcept {
    for (int i = 0; i < 100; ++i) {
      uint32_t c = state_.load(std::memory_order_relaxed);
      if (c == 0 && state_.compare_exchange_weak(c, 1, std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
        return;
      }
      if (c == 2) break;  // others already sleep: join them
      cpu_relax();
    }
    while (state_.exchange(2, std::memory_order_acquire) != 0) futex_wait(&state_, 2, nullptr);
  }
  std::atomic<uint32_t> state_{0};
};

// A condition variable for detail::Mutex: a futex sequence word. Waiters are counted so a
// notify with nobody waiting costs no syscall.
class Condvar {
 public:
  void notify_one() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    if (waiters_.load(std::memory_order_seq_cst) > 0) futex_wake(&seq_, 1);
  }
  void notify_all() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    if (waiters_.load(std::memory_order_seq_cst) > 0) futex_wake(&seq_, INT32_MAX);
  }
  // Waits for a notify (or spuriously). `m` is locked on entry and on return.
  void wait(Mutex& m) noexcept { wait_rel(m, nullptr); }
  // Returns false when the timeout passed (spurious returns may report true).
  bool wait_for(Mutex& m, std::chrono::nanoseconds d) noexcept {
    if (d.count() <= 0) return false;
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(d.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(d.count() % 1000000000);
    return wait_rel(m, &ts);
  }

 private:
  bool wait_rel(Mutex& m, const struct timespec* ts) noexcept {
    uint32_t s = seq_.load(std::memory_order_acquire);
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    m.unlock();
#ifdef TOKIO_TSAN
    struct timespec slice;
    const struct timespec* given = ts;
    ts = tsan_wait_slice(ts, slice);
#endif
    long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, s, ts,
                      nullptr, 0);
    bool timed_out = rc == -1 && errno == ETIMEDOUT;
#ifdef TOKIO_TSAN
    tsan_after_wait();
    if (ts != given) timed_out = false;  // a slice ran out, not the caller's timeout
#endif
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    m.lock();
    return !timed_out;
  }
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> waiters_{0};
};

}  // namespace tokio::detail
