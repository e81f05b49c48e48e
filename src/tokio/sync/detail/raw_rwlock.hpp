#pragma once
// RawRwLock (internal): a small thread-level reader-writer lock, write-preferring, used
// for the value of a watch channel and the slots of a broadcast channel (held only while
// a value is read, cloned or replaced; never across an await).
//
// State word (`state_`, 32 bits, a futex):
//   bits 0..28  READERS         number of readers holding the lock
//   bit 29      PARKED          some thread sleeps in futex_wait on this word
//   bit 30      WRITER_WAITING  a writer waits: new readers hold back (write preference)
//   bit 31      WRITE_LOCKED    a writer holds the lock
// Uncontended lock/unlock is one CAS / one RMW. Waiters spin briefly, then set PARKED and
// sleep; whoever releases the lock with PARKED set clears it and wakes every sleeper
// (they re-compete; contention here is rare and short).

#include <atomic>
#include <cstdint>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/mutex.hpp"

namespace tokio::detail {

class RawRwLock {
 public:
  static constexpr uint32_t READER_MASK = (1u << 29) - 1;
  static constexpr uint32_t PARKED = 1u << 29;
  static constexpr uint32_t WRITER_WAITING = 1u << 30;
  static constexpr uint32_t WRITE_LOCKED = 1u << 31;

  void lock_shared() noexcept {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (TOKIO_LIKELY(!(s & (WRITE_LOCKED | WRITER_WAITING))) &&
        state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return;
    }
    lock_shared_slow();
  }
  void unlock_shared() noexcept {
    uint32_t prev = state_.fetch_sub(1, std::memory_order_release);
    if (TOKIO_UNLIKELY((prev & PARKED) && (prev & READER_MASK) == 1)) wake_parked();
  }
  void lock() noexcept {
    uint32_t expected = 0;
    if (TOKIO_LIKELY(state_.compare_exchange_strong(
            expected, WRITE_LOCKED, std::memory_order_acquire, std::memory_order_relaxed))) {
      return;
    }
    lock_slow();
  }
  void unlock() noexcept {
    uint32_t prev = state_.fetch_and(~(WRITE_LOCKED | PARKED), std::memory_order_release);
    if (TOKIO_UNLIKELY(prev & PARKED)) wake_all();
  }

 private:
  void lock_shared_slow() noexcept;
  void lock_slow() noexcept;
  // The contended path of both: attempt(s) tries to take the lock from state s; while it
  // reports Busy, spin briefly, then park (raw_rwlock.cpp).
  enum class Attempt { Taken, Retry, Busy };
  template <class F>
  void acquire_slow(F&& attempt) noexcept;
  void wake_parked() noexcept;
  void wake_all() noexcept;  // futex wake of every sleeper
  // Sleeps while the word still equals `s | PARKED` (sets PARKED first). Returns after a
  // wake-up or when the word changed.
  void park(uint32_t s) noexcept;

  std::atomic<uint32_t> state_{0};
};

// Holds the lock exclusively for a scope.
using ExclusiveGuard = LockGuard<RawRwLock>;

}  // namespace tokio::detail
