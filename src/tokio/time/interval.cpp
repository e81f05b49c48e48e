#include "tokio/time/interval.hpp"

#include <stdexcept>

namespace tokio::time {

namespace time_interval_impl {
// A tick later than this counts as missed (Tokio's threshold).
constexpr std::chrono::milliseconds kMissedTickTolerance{5};
}  // namespace time_interval_impl

Interval::Interval(Instant start, Duration period)
    : timer_(start, "time::interval"), period_(period) {
  if (period.count() <= 0) {
    throw std::invalid_argument("tokio: time::interval needs a positive period");
  }
}

bool Interval::poll_tick_ready(task::Context& cx, Instant& out) noexcept {
  if (!detail::coop_poll_proceed(cx)) return false;
  if (!timer_.poll(cx)) return false;
  return take_tick(out);
}

bool Interval::try_tick_ready(Instant& out) noexcept {
  return detail::coop_try([&] { return timer_.try_poll(); }) && take_tick(out);
}

bool Interval::take_tick(Instant& out) noexcept {
  Instant scheduled = timer_.deadline();
  if (timer_.errored()) {  // left as it is: the awaiter throws, a later tick re-registers
    out = scheduled;
    return true;
  }
  Instant now = Instant::now();
  Instant next;
  if (now > scheduled.saturating_add(time_interval_impl::kMissedTickTolerance)) {
    next = next_after_missed(scheduled, now);
  } else {
    auto n = scheduled.checked_add(period_);
    next = n ? *n : Instant::far_future();
  }
  // Re-arms lazily: the next tick registers when it is awaited.
  timer_.reset(next);
  out = scheduled;
  return true;
}

Instant Interval::next_after_missed(Instant scheduled, Instant now) const noexcept {
  switch (behavior_) {
    case MissedTickBehavior::Burst: return scheduled.saturating_add(period_);
    case MissedTickBehavior::Delay: return now.saturating_add(period_);
    case MissedTickBehavior::Skip: {
      // The next point of the original schedule strictly after now.
      Duration behind = now - scheduled;
      return now.saturating_add(period_ - Duration(behind.count() % period_.count()));
    }
  }
  return scheduled.saturating_add(period_);
}

}  // namespace tokio::time
