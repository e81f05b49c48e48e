// RawRwLock's contended paths (the futex waits and wakes).
#include <climits>

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/sync/detail/raw_rwlock.hpp"

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

void RawRwLock::lock_shared_slow() noexcept {
  int spins = 0;
  for (;;) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (!(s & (WRITE_LOCKED | WRITER_WAITING))) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if (spins++ < sync_raw_rwlock_impl::kSpins) {
      cpu_relax();
      continue;
    }
    park(s);
  }
}

void RawRwLock::lock_slow() noexcept {
  int spins = 0;
  for (;;) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (!(s & (READER_MASK | WRITE_LOCKED))) {
      // Free: take it (clearing WRITER_WAITING; other waiting writers set it again).
      if (state_.compare_exchange_weak(s, (s & PARKED) | WRITE_LOCKED, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if (!(s & WRITER_WAITING)) {
      state_.compare_exchange_weak(s, s | WRITER_WAITING, std::memory_order_relaxed);
      continue;
    }
    if (spins++ < sync_raw_rwlock_impl::kSpins) {
      cpu_relax();
      continue;
    }
    park(s);
  }
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
