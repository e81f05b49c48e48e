#pragma once
// Low-level thread primitives used by the runtime: a spin lock for short critical
// sections, a futex-backed one-shot parker word, and a small xorshift RNG.

#include <atomic>
#include <cerrno>
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
