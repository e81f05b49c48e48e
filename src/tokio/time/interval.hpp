#pragma once
// time::interval, time::interval_at and the Interval type: a periodic ticker.
//
//   auto iv = tokio::time::interval(10ms);
//   for (;;) {
//     tokio::time::Instant scheduled = co_await iv.tick();   // first tick: immediately
//     ...
//   }
//
// tick() completes at start, start + period, start + 2*period, ... and returns the instant
// the tick was scheduled for. When ticks are missed (the task was busy for longer than a
// period, by more than 5 ms), MissedTickBehavior decides what follows:
//   Burst (default)  fire the missed ticks back to back until caught up; the schedule
//                    stays start + k*period
//   Delay            the next tick is one period after the late one actually fired:
//                    the schedule shifts
//   Skip             drop the missed ticks; the next tick is the next multiple of the
//                    period on the original schedule
// tick() is cancel-safe: dropping an unfinished tick await loses no tick. Like a Sleep,
// an Interval registers with the timer wheel only while a tick is awaited.

#include <chrono>
#include <coroutine>

#include "tokio/core/detail/await_claim.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/time/instant.hpp"
#include "tokio/time/detail/timer.hpp"

namespace tokio::time {

enum class MissedTickBehavior { Burst, Delay, Skip };

class Interval {
 public:
  // Use interval() / interval_at(). Throws std::invalid_argument for a period <= 0.
  Interval(Instant start, Duration period);

  // Awaitable: completes at the next tick and yields its scheduled instant.
  class TOKIO_MUST_AWAIT Tick : public detail::Leaf<Tick> {
   public:
    static constexpr const char* kLeafName = "time::Interval::tick";  // in task dumps
    explicit Tick(Interval& iv) noexcept : iv_(&iv) {}
    bool poll(task::Context& cx) noexcept { return iv_->poll_tick_ready(cx, out_); }
    bool try_poll() noexcept { return iv_->try_tick_ready(out_); }
    // Throws std::logic_error while another Tick of this Interval is being awaited (the
    // claim is held from the first await until this Tick is destroyed).
    void before_first_poll() {
      claim_.take(iv_->ticking_, "a time::Interval's tick()");
      iv_->timer_.resolve_or_throw("Interval::tick");
    }
    Instant await_resume() const {
      iv_->timer_.throw_if_errored("Interval::tick");
      return out_;
    }
    // In task dumps: "time::Interval::tick, 250 ms left".
    int64_t dump_ms_left() const noexcept { return iv_->timer_.dump_ms_left(); }

   private:
    Interval* iv_;
    Instant out_;
    detail::AwaitClaim claim_;
  };
  Tick tick() noexcept { return Tick(*this); }

  // Poll form of tick(): true with the tick's instant in `out`, or false with the current
  // waker registered. Throws std::runtime_error when the runtime shut down before the tick
  // and the poll comes from no running runtime (see time::Sleep).
  bool poll_tick(task::Context& cx, Instant& out) {
    if (!poll_tick_ready(cx, out)) return false;
    timer_.throw_if_errored("Interval::poll_tick");
    return true;
  }

  // The next tick is one period from now.
  void reset() noexcept { reset_at(Instant::now().saturating_add(period_)); }
  // The next tick is now.
  void reset_immediately() noexcept { reset_at(Instant::now()); }
  // The next tick is `d` from now.
  template <class Rep, class Period>
  void reset_after(std::chrono::duration<Rep, Period> d) noexcept {
    reset_at(Instant::now().saturating_add(detail::non_negative_ns(d)));
  }
  // The next tick is at `deadline`.
  void reset_at(Instant deadline) noexcept { timer_.reset(deadline); }

  Duration period() const noexcept { return period_; }
  MissedTickBehavior missed_tick_behavior() const noexcept { return behavior_; }
  void set_missed_tick_behavior(MissedTickBehavior b) noexcept { behavior_ = b; }

 private:
  // poll_tick without the orphan check (the Tick leaf's poll; its await_resume checks).
  bool poll_tick_ready(task::Context& cx, Instant& out) noexcept;
  // The same without registering the timer (the Tick leaf's try_poll).
  bool try_tick_ready(Instant& out) noexcept;
  // The timer has fired: hands out its deadline and re-arms for the next tick.
  bool take_tick(Instant& out) noexcept;
  Instant next_after_missed(Instant scheduled, Instant now) const noexcept;

  detail::Timer timer_;
  Duration period_;
  MissedTickBehavior behavior_ = MissedTickBehavior::Burst;
  detail::AwaitFlag ticking_;  // a Tick exists (core/detail/await_claim.hpp)
};

// Ticks every `period`, the first tick immediately. Throws std::invalid_argument when the
// period is not positive.
template <class Rep, class Period>
Interval interval(std::chrono::duration<Rep, Period> period) {
  return Interval(Instant::now(), detail::saturating_ns(period));
}
// Ticks at `start`, then every `period`.
template <class Rep, class Period>
Interval interval_at(Instant start, std::chrono::duration<Rep, Period> period) {
  return Interval(start, detail::saturating_ns(period));
}

}  // namespace tokio::time
