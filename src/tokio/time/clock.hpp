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
// and in deadline order. spawn_blocking work that is queued or running, and tokio::fs
// operations in flight (on either engine: Tokio runs them on the blocking pool), hold the
// jump back (they may be about to wake something). Pausing needs the current-thread runtime with
// the time driver; anything else is a std::logic_error saying what to do.

#include <chrono>

#include "tokio/core/task.hpp"
#include "tokio/time/instant.hpp"

namespace tokio::detail {

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
