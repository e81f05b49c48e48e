#pragma once
// Low-level thread primitives used by the runtime: a spin lock for short critical
// sections, a futex-backed one-shot parker word, and a small xorshift RNG.

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

namespace tokio::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Test-and-test-and-set lock for critical sections of a few instructions (owned-task list
// links, waiter lists). Falls back to sched_yield after spinning so a preempted holder on
// a 2-core machine does not burn the other core for a whole time slice.
class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          yield_thread();
          spins = 0;
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  static void yield_thread() noexcept;
  std::atomic<bool> locked_{false};
};

// futex(2) wrappers on a 32-bit atomic word.
inline void futex_wait(std::atomic<uint32_t>* word, uint32_t expected,
                       const struct timespec* rel_timeout) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
          rel_timeout, nullptr, 0);
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
    long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, s, ts,
                      nullptr, 0);
    bool timed_out = rc == -1 && errno == ETIMEDOUT;
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    m.lock();
    return !timed_out;
  }
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> waiters_{0};
};

// xorshift64*: per-worker randomness for steal start positions and select() order.
class FastRand {
 public:
  explicit FastRand(uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept : s_(seed ? seed : 1) {}
  uint32_t next() noexcept {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return static_cast<uint32_t>((s_ * 0x2545F4914F6CDD1Dull) >> 32);
  }
  // Uniform-ish in [0, n) without division (Lemire's multiply-shift).
  uint32_t next_n(uint32_t n) noexcept {
    return static_cast<uint32_t>((static_cast<uint64_t>(next()) * n) >> 32);
  }

 private:
  uint64_t s_;
};

uint64_t random_seed() noexcept;

}  // namespace tokio::detail
