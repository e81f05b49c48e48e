#pragma once
// WorkerParker: how an idle multi-thread worker sleeps.
//
// `state_` encoding (32 bits, also the futex word):
//   0 EMPTY           running, no pending unpark
//   1 PARKED_CONDVAR  asleep in futex_wait on this word
//   2 PARKED_DRIVER   asleep inside the shared driver (epoll / timers)
//   3 NOTIFIED        an unpark is pending; the next park returns at once
// The first idle worker to take `driver_lock` parks in the driver, so I/O and timers keep
// being served; the others park on their own word. unpark() swaps in NOTIFIED and wakes
// the sleeper the way it sleeps.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/runtime/detail/driver.hpp"
#include "tokio/runtime/detail/park.hpp"

namespace tokio::detail {

class WorkerParker {
 public:
  static constexpr uint32_t EMPTY = 0;
  static constexpr uint32_t PARKED_CONDVAR = 1;
  static constexpr uint32_t PARKED_DRIVER = 2;
  static constexpr uint32_t NOTIFIED = 3;

  void park(SpinLock& driver_lock, Driver& driver,
            std::optional<std::chrono::nanoseconds> timeout) {
    uint32_t expected = NOTIFIED;
    if (state_.compare_exchange_strong(expected, EMPTY, std::memory_order_acquire)) return;

    if (driver_lock.try_lock()) {
      expected = EMPTY;
      if (state_.compare_exchange_strong(expected, PARKED_DRIVER, std::memory_order_acquire)) {
        driver.park(timeout);
      }
      state_.exchange(EMPTY, std::memory_order_acquire);
      driver_lock.unlock();
      return;
    }
    if (timeout && timeout->count() == 0) return;
    for (int i = 0; i < kParkSpins; ++i) {  // see kParkSpins
      cpu_relax();
      if (state_.load(std::memory_order_relaxed) == NOTIFIED) {
        expected = NOTIFIED;
        if (state_.compare_exchange_strong(expected, EMPTY, std::memory_order_acquire)) return;
      }
    }
    expected = EMPTY;
    if (!state_.compare_exchange_strong(expected, PARKED_CONDVAR, std::memory_order_acquire)) {
      state_.exchange(EMPTY, std::memory_order_acquire);  // consume the NOTIFIED that raced in
      return;
    }
    using clock = std::chrono::steady_clock;
    auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
    for (;;) {
      if (timeout) {
        auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - clock::now());
        if (left.count() <= 0) {
          state_.exchange(EMPTY, std::memory_order_acquire);
          return;
        }
        struct timespec ts;
        ts.tv_sec = static_cast<time_t>(left.count() / 1000000000);
        ts.tv_nsec = static_cast<long>(left.count() % 1000000000);
        futex_wait(&state_, PARKED_CONDVAR, &ts);
      } else {
        futex_wait(&state_, PARKED_CONDVAR, nullptr);
      }
      expected = NOTIFIED;
      if (state_.compare_exchange_strong(expected, EMPTY, std::memory_order_acquire)) return;
    }
  }

  void unpark(Driver& driver) noexcept {
    switch (state_.exchange(NOTIFIED, std::memory_order_release)) {
      case PARKED_CONDVAR: futex_wake(&state_, 1); break;
      case PARKED_DRIVER: driver.unpark(); break;
      default: break;
    }
  }

 private:
  std::atomic<uint32_t> state_{EMPTY};
};

}  // namespace tokio::detail
