#pragma once
// Clock: one runtime's clock, paused or running (the public face is time/clock.hpp).

#include <atomic>
#include <cstdint>
#include <mutex>

#include "tokio/core/config.hpp"
#include "tokio/time/instant.hpp"

namespace tokio::detail {

// One runtime's clock. Reads are lock-free until the clock is paused for the first time;
// from then on they take a mutex (test code only), as in Tokio.
//
// now() = base_ while paused, base_ + (steady_clock::now() - unfrozen_) otherwise; so
// time after a resume() continues from where the pause (and any advance) left it.
class Clock {
 public:
  explicit Clock(bool start_paused);

  time::Instant now() const noexcept {
    if (TOKIO_LIKELY(!ever_paused_.load(std::memory_order_acquire))) {
      return time::Instant(time::Instant::clock::now());
    }
    return now_locked();
  }
  bool is_paused() const noexcept { return paused_.load(std::memory_order_acquire); }

  void pause();                    // throws std::logic_error when already paused
  void resume();                   // throws std::logic_error when not paused
  void advance(time::Duration d);  // throws std::logic_error when not paused
  // Auto-advance: moves a paused clock forward to `t` (never backwards).
  void advance_to(time::Instant t) noexcept;

 private:
  time::Instant now_locked() const noexcept;

  std::atomic<bool> ever_paused_{false};
  std::atomic<bool> paused_{false};  // written under mu_
  mutable std::mutex mu_;
  int64_t base_ns_;      // clock value while paused, or at `unfrozen_ns_`
  int64_t unfrozen_ns_;  // real steady_clock time of the last resume
};

}  // namespace tokio::detail
