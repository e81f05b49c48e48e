#pragma once
// TimeDriver: the runtime's timer driver, in the driver stack (runtime/detail/driver.hpp)
// when the Builder enables time.
//
// One wheel per runtime behind one mutex (Tokio's design). Timers register on their first
// poll, cancel in O(1) under the lock, and are fired by whichever thread parks in the
// driver (the current-thread scheduler's thread, or the multi-thread worker holding the
// driver; busy workers poll it with zero-timeout parks every event_interval ticks). A
// timer may register on one worker and fire on another: firing only wakes its waker.
//
//   before_park(timeout)  clamps the park to the next timer deadline and publishes that
//                         deadline in `next_wake_`, so a thread registering an earlier
//                         timer knows it must unpark the sleeping driver; on a paused,
//                         idle clock it turns the park into a poll and plans a jump of the
//                         clock to the next timer (auto-advance)
//   after_park()          performs the jump unless something unparked the driver
//                         meanwhile, then fires every due timer: wakers are collected
//                         under the lock and woken in batches of 32 with the lock released
//
// `next_wake_` (64 bits): 0 = the driver is not blocked (it will look at the wheel before
// it blocks, so registrations need not unpark it); kNone = blocked with no timer deadline;
// otherwise the tick it sleeps until. Written by the parking thread, read under the lock
// by registering threads; a stale read only costs one spurious unpark.
// `next_due_` (64 bits): a lower bound of the next tick at which the wheel has work
// (kNone when empty); lets after_park skip the lock when nothing is due.
// `observed_tick_` (64 bits): the latest current tick after_park computed; registration
// compares deadlines with it instead of reading the clock (only deadlines within a tick
// of it need a clock read to tell whether they already passed).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>

#include "tokio/core/waker.hpp"
#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/driver.hpp"
#include "tokio/time/detail/clock.hpp"
#include "tokio/time/detail/entry.hpp"
#include "tokio/time/detail/timer.hpp"
#include "tokio/time/detail/wheel.hpp"
#include "tokio/time/instant.hpp"

namespace tokio::detail {

class TimeDriver {
 public:
  static constexpr uint64_t kNone = ~uint64_t{0};
  static constexpr std::size_t kWakeBatch = 32;
  // While the clock is paused but spawn_blocking work holds auto-advance back, the driver
  // re-checks this often (real time) instead of sleeping through virtual deadlines.
  static constexpr std::chrono::milliseconds kInhibitedPoll{1};

  TimeDriver(const Config& cfg, Driver& owner);
  ~TimeDriver();  // NOLINT(performance-trivially-destructible): defined with the driver
  TimeDriver(const TimeDriver&) = delete;
  TimeDriver& operator=(const TimeDriver&) = delete;

  std::optional<std::chrono::nanoseconds> before_park(
      std::optional<std::chrono::nanoseconds> timeout);
  void after_park();
  void shutdown() noexcept;

  Clock& clock() noexcept { return clock_; }
  // True once the runtime shut the driver down (relaxed: set once, read for a clear error).
  bool is_shut_down() const noexcept { return shut_down_.load(std::memory_order_relaxed); }

  // --- timer operations (detail::Timer) -------------------------------------------------
  // Registers `e` (kUnregistered) to fire at `deadline`, waking `w` (borrowed; the driver
  // keeps its own reference). Returns true instead when the deadline has already passed
  // (`e` is kFired) or the runtime shut down (`e` is kOrphaned); `e` is not registered then.
  bool register_timer(TimerEntry& e, time::Instant deadline, Wakeable* w) noexcept;
  // Fires `e` (kUnregistered) when `deadline` has passed, registering nothing; `when` is
  // its tick, `seen` the driver's last observed tick. False leaves `e` unchanged.
  bool fire_if_passed(TimerEntry& e, uint64_t when, uint64_t seen, time::Instant deadline) noexcept;
  uint64_t last_observed_tick() const noexcept {
    return observed_tick_.load(std::memory_order_relaxed);  // a hint, as in register_timer
  }
  // Unregisters `e` if it is still registered (any state).
  void cancel_timer(TimerEntry& e) noexcept;
  // Replaces the waker of a registered `e`; returns true if `e` has fired (or was
  // orphaned) meanwhile.
  bool set_waker(TimerEntry& e, Wakeable* w) noexcept;
  // Moves a registered `e` to `deadline` (earlier or later), keeping its waker; fires it
  // at once when the deadline has passed (kOrphaned after shutdown). An `e` that fired or
  // was orphaned meanwhile becomes kUnregistered (its next poll registers it again).
  void reregister(TimerEntry& e, time::Instant deadline) noexcept;

  // Deadlines round up to the next millisecond tick (nothing fires early); the current
  // time rounds down.
  // An Instant far enough before the start (time_point::min(), a huge saturating_sub)
  // overflows the difference: it is in the past, tick 0. A deadline past the tick of the
  // latest Instant (rounded down) is put on that tick, the last one the clock can reach: a
  // paused clock, which jumps to the next deadline, spun toward one rounded up beyond it.
  uint64_t deadline_to_tick(time::Instant t) const noexcept {
    int64_t d;
    if (__builtin_sub_overflow(t.nanos(), start_ns_, &d) || d <= 0) return 0;
    uint64_t tick = (static_cast<uint64_t>(d) + 999999) / 1000000;
    if (tick > last_tick_) tick = last_tick_;
    return tick < TimerEntry::kMaxTick ? tick : TimerEntry::kMaxTick;
  }
  uint64_t instant_to_tick(time::Instant t) const noexcept {
    int64_t d;
    if (__builtin_sub_overflow(t.nanos(), start_ns_, &d) || d <= 0) return 0;
    return static_cast<uint64_t>(d) / 1000000;
  }
  time::Instant tick_to_instant(uint64_t tick) const noexcept {
    return time::Instant::from_ns(start_ns_).saturating_add(std::chrono::milliseconds(
        static_cast<int64_t>(tick < TimerEntry::kMaxTick ? tick : TimerEntry::kMaxTick)));
  }

  // Timers registered right now (tests).
  std::size_t num_registered() const;

 private:
  void fire_due(uint64_t now_tick) noexcept;
  // Under mu_: completes every entry `pop()` hands out (the state `outcome(entry)` gives,
  // kFired or kOrphaned; waker taken), waking them in batches of kWakeBatch with the lock
  // released; then runs `finish()` still under the lock and wakes the rest after unlocking.
  template <class Pop, class Outcome, class Finish>
  void fire_entries(Pop pop, Outcome outcome, Finish finish) noexcept;
  static void wake_all(Wakeable** batch, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) batch[i]->vtable->wake(batch[i]);
  }
  void lower_next_due(uint64_t tick) noexcept {
    if (tick < next_due_.load(std::memory_order_relaxed)) {
      next_due_.store(tick, std::memory_order_relaxed);
    }
  }

  Driver& owner_;
  Clock clock_;
  int64_t start_ns_;
  // The tick of the latest Instant, rounded down (deadline_to_tick): fixed with start_ns_.
  uint64_t last_tick_;
  mutable std::mutex mu_;
  Wheel wheel_;                         // guarded by mu_
  bool shutdown_ = false;               // guarded by mu_
  std::atomic<bool> shut_down_{false};  // shutdown_, readable without the lock
  std::atomic<uint64_t> next_due_{kNone};
  std::atomic<uint64_t> next_wake_{0};
  std::atomic<uint64_t> observed_tick_{0};   // the latest tick after_park saw (any thread reads)
  std::optional<time::Instant> advance_to_;  // parking thread only
};

[[noreturn]] void throw_timers_disabled(const char* what);
[[noreturn]] void throw_no_time_runtime(const char* what);

}  // namespace tokio::detail
