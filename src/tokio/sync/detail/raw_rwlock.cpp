// RawRwLock's contended paths (the futex waits and wakes).
#include "tokio/sync/detail/raw_rwlock.hpp"

#include <climits>

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

namespace sync_raw_rwlock_impl {
constexpr int kSpins = 100;
}  // namespace sync_raw_rwlock_impl

void RawRwLock::wake_all() noexcept { futex_wake(&state_, INT32_MAX); }

void RawRwLock::park(uint32_t s) noexcept {
  if (!(s & PARKED)) {
    if (!state_.compare_exchange_strong(s, s | PARKED, std::memory_order_relaxed)) return;
    s |= PARKED;
  }
  futex_wait(&state_, s, nullptr);
}

template <class F>
void RawRwLock::acquire_slow(F&& attempt) noexcept {
  for (int spins = 0;;) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    Attempt a = attempt(s);
    if (a == Attempt::Taken) return;
    if (a == Attempt::Retry) continue;
    if (spins++ < sync_raw_rwlock_impl::kSpins) {
      cpu_relax();
      continue;
    }
    park(s);
  }
}

void RawRwLock::lock_shared_slow() noexcept {
  acquire_slow([this](uint32_t s) {
    if (s & (WRITE_LOCKED | WRITER_WAITING)) return Attempt::Busy;
    return state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                        std::memory_order_relaxed)
               ? Attempt::Taken
               : Attempt::Retry;
  });
}

void RawRwLock::lock_slow() noexcept {
  acquire_slow([this](uint32_t s) {
    if (!(s & (READER_MASK | WRITE_LOCKED))) {
      // Free: take it (clearing WRITER_WAITING; other waiting writers set it again).
      return state_.compare_exchange_weak(s, (s & PARKED) | WRITE_LOCKED, std::memory_order_acquire,
                                          std::memory_order_relaxed)
                 ? Attempt::Taken
                 : Attempt::Retry;
    }
    if (!(s & WRITER_WAITING)) {
      state_.compare_exchange_weak(s, s | WRITER_WAITING, std::memory_order_relaxed);
      return Attempt::Retry;
    }
    return Attempt::Busy;
  });
}

void RawRwLock::wake_parked() noexcept {
  uint32_t s = state_.load(std::memory_order_relaxed);
  while (s & PARKED) {
    if (state_.compare_exchange_weak(s, s & ~PARKED, std::memory_order_relaxed)) {
      futex_wake(&state_, INT32_MAX);
      return;
    }
  }
}

}  // namespace tokio::detail
