#pragma once
// SpinLock: a test-and-test-and-set lock for critical sections of a few instructions
// (waiter lists, owned-task list links, a readiness registration's waiters), and
// cpu_relax, the pause between polls of a word another core is about to change.

#include <atomic>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"

namespace tokio::detail {

// sched_yield(2), out of line (core/detail/core.cpp): a spinning thread gives its core to
// whoever it waits for.
void yield_thread() noexcept;

inline void cpu_relax() noexcept {
  // A spinning thread waits for another: under the schedule explorer it hands over the
  // CPU here (a no-op otherwise; core/detail/atomic.hpp).
  explore_spin_point();
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
  // The uncontended acquire is one exchange, inlined into every caller; the wait is out of
  // line, so how much of it the inliner would copy does not depend on how much else the
  // unit holds (an implementation compiled in parts inlined lock() less than a whole one).
  void lock() noexcept {
    if (TOKIO_LIKELY(!locked_.exchange(true, std::memory_order_acquire))) return;
    lock_contended();
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  TOKIO_NOINLINE void lock_contended() noexcept {
    for (;;) {
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          yield_thread();
          spins = 0;
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  Atomic<bool> locked_{false};
};

}  // namespace tokio::detail
