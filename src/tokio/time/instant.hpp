#pragma once
// time::Instant: a point on the runtime's monotonic clock, and time::Duration.
//
// An Instant is std::chrono::steady_clock time (nanoseconds since the clock's epoch) and
// converts both ways with steady_clock::time_point. Instant::now() reads the real clock,
// except on a runtime whose clock was paused (time::pause, Builder::start_paused): there
// it returns the runtime's frozen or advanced time, as in Tokio. The check is one relaxed
// load of a process-wide flag that stays false until some clock is paused.
//
// Arithmetic follows Tokio (Rust's Instant): `instant + d` and `instant - d` throw
// std::overflow_error when the result leaves the representable range (Rust panics),
// checked_add/checked_sub return std::nullopt instead, saturating_add/saturating_sub
// clamp. `a - b` and duration_since saturate at zero when b is later than a.
// Durations of any std::chrono type are accepted and converted to nanoseconds, saturating.

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <ratio>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "tokio/core/config.hpp"
#include "tokio/core/display.hpp"

namespace tokio::time {

// Durations in the time API are nanoseconds (any std::chrono duration converts).
using Duration = std::chrono::nanoseconds;

}  // namespace tokio::time

namespace tokio::detail {

// Converts any chrono duration to nanoseconds, saturating at the int64 range instead of
// overflowing (std::chrono::hours::max() becomes nanoseconds::max()). NaN becomes zero.
template <class Rep, class Period>
constexpr std::chrono::nanoseconds saturating_ns(std::chrono::duration<Rep, Period> d) noexcept {
  using std::chrono::nanoseconds;
  constexpr long double kLimit = 9.2233720368547758e18L;  // 2^63
  if constexpr (std::is_floating_point_v<Rep>) {
    long double ns = static_cast<long double>(d.count()) *
                     std::ratio_divide<Period, std::nano>::num /
                     std::ratio_divide<Period, std::nano>::den;
    if (ns != ns) return nanoseconds(0);
    if (ns >= kLimit) return nanoseconds::max();
    if (ns <= -kLimit) return nanoseconds::min();
    return nanoseconds(static_cast<int64_t>(ns));
  } else {
    using R = std::ratio_divide<Period, std::nano>;
    // The intermediate of duration_cast is count * num: check it before converting.
    long double wide = static_cast<long double>(d.count()) * R::num;
    if (wide >= kLimit) return nanoseconds::max();
    if constexpr (std::is_signed_v<Rep>) {
      if (wide <= -kLimit) return nanoseconds::min();
    }
    return std::chrono::duration_cast<nanoseconds>(d);
  }
}

// As saturating_ns, with negative durations clamped to zero (Rust durations are unsigned:
// sleeping for a negative time is sleeping for no time).
template <class Rep, class Period>
constexpr std::chrono::nanoseconds non_negative_ns(std::chrono::duration<Rep, Period> d) noexcept {
  auto ns = saturating_ns(d);
  return ns.count() < 0 ? std::chrono::nanoseconds(0) : ns;
}

// Set (never cleared) the first time any runtime's clock is paused; until then
// Instant::now() is a plain steady_clock read.
inline std::atomic<bool> g_clock_ever_paused{false};

}  // namespace tokio::detail

namespace tokio::time {

class Instant {
 public:
  using clock = std::chrono::steady_clock;
  static_assert(std::is_same_v<clock::duration, std::chrono::nanoseconds>,
                "tokio::time::Instant expects a nanosecond steady_clock");

  constexpr Instant() noexcept = default;  // the steady_clock epoch
  // Implicit: a steady_clock time point can be passed wherever an Instant is expected.
  constexpr Instant(clock::time_point tp) noexcept
      : ns_(tp.time_since_epoch().count()) {}  // NOLINT

  // The current time of the calling thread's runtime clock (real time unless paused).
  static Instant now() noexcept;
  static constexpr Instant from_std(clock::time_point tp) noexcept { return Instant(tp); }
  constexpr clock::time_point into_std() const noexcept {
    return clock::time_point(clock::duration(ns_));
  }
  // Roughly 30 years from now: the deadline of a sleep whose duration overflows (Tokio's
  // far_future).
  static Instant far_future() noexcept;

  // Time from `earlier` to this instant; zero when `earlier` is later.
  constexpr Duration duration_since(Instant earlier) const noexcept {
    return saturating_duration_since(earlier);
  }
  // Out of line, as are the optional-returning members' bodies below (templates): a body
  // here would instantiate std::optional<Duration> in every TU that includes tokio.hpp.
  std::optional<Duration> checked_duration_since(Instant earlier) const noexcept;
  constexpr Duration saturating_duration_since(Instant earlier) const noexcept {
    int64_t r;
    if (__builtin_sub_overflow(ns_, earlier.ns_, &r)) {
      return earlier.ns_ < 0 ? Duration::max() : Duration(0);
    }
    return Duration(r < 0 ? 0 : r);
  }
  // Time since this instant (zero if it is in the future).
  Duration elapsed() const noexcept { return now().saturating_duration_since(*this); }

  // (The return types are spelled through dependent_t, which is std::optional<Instant>:
  // see core/config.hpp.)
  template <class Rep, class Period>
  constexpr detail::dependent_t<Rep, std::optional<Instant>> checked_add(
      std::chrono::duration<Rep, Period> d) const noexcept {
    int64_t r;
    if (!add(detail::saturating_ns(d).count(), is_saturated(d), r)) return std::nullopt;
    return from_ns(r);
  }
  template <class Rep, class Period>
  constexpr detail::dependent_t<Rep, std::optional<Instant>> checked_sub(
      std::chrono::duration<Rep, Period> d) const noexcept {
    auto ns = detail::saturating_ns(d);
    int64_t r;
    if (ns == Duration::min() || !add(-ns.count(), is_saturated(d), r)) return std::nullopt;
    return from_ns(r);
  }
  template <class Rep, class Period>
  constexpr Instant saturating_add(std::chrono::duration<Rep, Period> d) const noexcept {
    auto ns = detail::saturating_ns(d);
    int64_t r;
    if (add(ns.count(), false, r)) return from_ns(r);
    return from_ns(ns.count() < 0 ? std::numeric_limits<int64_t>::min()
                                  : std::numeric_limits<int64_t>::max());
  }
  template <class Rep, class Period>
  constexpr Instant saturating_sub(std::chrono::duration<Rep, Period> d) const noexcept {
    auto ns = detail::saturating_ns(d);
    int64_t r;
    if (ns != Duration::min() && add(-ns.count(), false, r)) return from_ns(r);
    return from_ns(ns.count() < 0 ? std::numeric_limits<int64_t>::max()
                                  : std::numeric_limits<int64_t>::min());
  }

  template <class Rep, class Period>
  Instant& operator+=(std::chrono::duration<Rep, Period> d) {
    auto r = checked_add(d);
    if (!r) throw std::overflow_error("tokio: overflow when adding a duration to an Instant");
    return *this = *r;
  }
  template <class Rep, class Period>
  Instant& operator-=(std::chrono::duration<Rep, Period> d) {
    auto r = checked_sub(d);
    if (!r)
      throw std::overflow_error("tokio: overflow when subtracting a duration from an Instant");
    return *this = *r;
  }
  template <class Rep, class Period>
  friend Instant operator+(Instant a, std::chrono::duration<Rep, Period> d) {
    return a += d;
  }
  template <class Rep, class Period>
  friend Instant operator+(std::chrono::duration<Rep, Period> d, Instant a) {
    return a += d;
  }
  template <class Rep, class Period>
  friend Instant operator-(Instant a, std::chrono::duration<Rep, Period> d) {
    return a -= d;
  }
  // Saturating at zero, like Rust's Instant - Instant.
  friend constexpr Duration operator-(Instant a, Instant b) noexcept { return a.duration_since(b); }

  friend constexpr bool operator==(Instant, Instant) noexcept = default;
  friend constexpr auto operator<=>(Instant, Instant) noexcept =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive

  // Nanoseconds since the steady_clock epoch.
  constexpr int64_t nanos() const noexcept { return ns_; }
  static constexpr Instant from_ns(int64_t ns) noexcept {
    Instant i;
    i.ns_ = ns;
    return i;
  }

 private:
  template <class Rep, class Period>
  static constexpr bool is_saturated(std::chrono::duration<Rep, Period> d) noexcept {
    auto ns = detail::saturating_ns(d);
    if (ns != Duration::max() && ns != Duration::min()) return false;
    // A duration of exactly +-2^63-1 ns is representable; anything converted to the limit
    // from a coarser unit is not.
    return !(std::is_same_v<std::chrono::duration<Rep, Period>, Duration>);
  }
  // This instant plus `ns` into `out`; false when that overflows or `ns` was saturated.
  constexpr bool add(int64_t ns, bool saturated, int64_t& out) const noexcept {
    return !saturated && !__builtin_add_overflow(ns_, ns, &out);
  }

  int64_t ns_ = 0;
};

}  // namespace tokio::time

namespace tokio::detail {
// Instant::now() when some clock was paused: the current runtime's clock.
time::Instant clock_now_slow() noexcept;
}  // namespace tokio::detail

namespace tokio::time {
inline Instant Instant::now() noexcept {
  if (TOKIO_LIKELY(!detail::g_clock_ever_paused.load(std::memory_order_relaxed))) {
    return Instant(clock::now());
  }
  return detail::clock_now_slow();
}
// A duration as Tokio's Debug prints it: the largest unit that keeps an integer part,
// decimals without trailing zeros ("1.5s", "250ms", "3.2µs", "17ns", "0ns"; negative
// durations get a leading '-'). For `std::cout << format_duration(d)`.
std::string format_duration(Duration d);
// "Instant(12.000000345s)": the time since the clock's epoch (not meaningful across runs).
std::string to_string(Instant t);
using detail::operator<<;

}  // namespace tokio::time

namespace tokio::detail {
// now() + d (a negative d counts as zero), or Instant::far_future() when that overflows:
// the deadline of sleep(d), timeout(d) and send_timeout(d), found without a std::optional.
template <class Rep, class Period>
time::Instant deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
  int64_t r;
  if (__builtin_add_overflow(time::Instant::now().nanos(), non_negative_ns(d).count(), &r)) {
    return time::Instant::far_future();
  }
  return time::Instant::from_ns(r);
}

template <>
struct enable_display<time::Instant> : std::true_type {};
}  // namespace tokio::detail
