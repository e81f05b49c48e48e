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
    if (park_spin(state_, kWord, kParkSpins)) return;  // see kParkSpins
    (void)park_sleep(state_, kWord, timeout);
  }

  void unpark(Driver& driver) noexcept {
    switch (state_.exchange(NOTIFIED, std::memory_order_release)) {
      case PARKED_CONDVAR: futex_wake(&state_, 1); break;
      case PARKED_DRIVER: driver.unpark(); break;
      default: break;
    }
  }

 private:
  // The condvar-style sleep (park.cpp); PARKED_DRIVER is handled above.
  static constexpr ParkWord kWord{EMPTY, PARKED_CONDVAR, NOTIFIED};
  std::atomic<uint32_t> state_{EMPTY};
};

}  // namespace tokio::detail
