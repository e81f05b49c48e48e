#pragma once
// detail::Mutex: the runtime's lock for short critical sections that may meet contention
// (inject queue, blocking pool, cancellation trees, duplex pipes). Uncontended lock and
// unlock are one atomic RMW each; the spin and the futex sleep are out of line. And
// LockGuard, so headers need not include <mutex> for std::lock_guard.

#include <atomic>
#include <cstdint>

#include "tokio/core/config.hpp"

namespace tokio::detail {

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
    // Pairs with the acquire of the next lock(); 2 means a waiter may sleep in the kernel.
    if (state_.exchange(0, std::memory_order_release) == 2) wake_one();
  }

 private:
  void lock_contended() noexcept;  // spin, then sleep (core/detail/core.cpp)
  void wake_one() noexcept;
  std::atomic<uint32_t> state_{0};
};

// A scoped lock for any type with lock()/unlock() (Mutex, SpinLock, RawRwLock...).
template <class L>
class LockGuard {
 public:
  explicit LockGuard(L& l) noexcept : l_(l) { l_.lock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  ~LockGuard() { l_.unlock(); }

 private:
  L& l_;
};

}  // namespace tokio::detail
