#pragma once
// The runtime clock, and the paused clock for deterministic tests:
// time::pause(), time::resume(), time::advance(d), Builder::start_paused(true).
//
//   auto rt = tokio::runtime::Builder::new_current_thread().enable_time()
//                 .start_paused(true).build();
//   rt.block_on([]() -> tokio::Task<> {
//     auto t0 = tokio::time::Instant::now();
//     co_await tokio::time::sleep(std::chrono::hours(1));   // returns at once...
//     assert(t0.elapsed() == std::chrono::hours(1));         // ...an hour later
//   }());
//
// While paused, Instant::now() on the runtime's threads stands still except when
// advance() moves it, or when the runtime has nothing to run: then the clock jumps
// straight to the next timer's deadline (auto-advance), so code that sleeps runs instantly
// and in deadline order. spawn_blocking work that is queued or running holds the jump
// back (it may be about to wake something). Pausing needs the current-thread runtime with
// the time driver; anything else is a std::logic_error saying what to do.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "tokio/core/task.hpp"
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

  void pause();                       // throws std::logic_error when already paused
  void resume();                      // throws std::logic_error when not paused
  void advance(time::Duration d);     // throws std::logic_error when not paused
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

Task<> advance_clock(time::Duration d);

}  // namespace tokio::detail

namespace tokio::time {

// Freezes the current runtime's clock. Current-thread runtime with enable_time only;
// throws std::logic_error otherwise, or when the clock is already paused.
void pause();
// Lets the clock run again from where it stands. Throws when it is not paused.
void resume();
// Moves the paused clock forward by `d`, then yields so that the timers now due fire
// before the caller continues. Throws std::logic_error when the clock is not paused and
// std::invalid_argument for a negative duration.
template <class Rep, class Period>
Task<> advance(std::chrono::duration<Rep, Period> d) {
  return detail::advance_clock(detail::saturating_ns(d));
}

}  // namespace tokio::time
