// Instant and durations as text (instant.hpp).
#include "tokio/time/instant.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace tokio::detail::instant_text_impl {
// `whole` units and `frac` of `digits` decimal places, trailing zeros dropped.
inline std::string decimal(uint64_t whole, uint64_t frac, int digits, const char* unit) {
  std::string s = std::to_string(whole);
  if (frac != 0) {
    std::string f = std::to_string(frac);
    f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += '.';
    s += f;
  }
  return s + unit;
}
}  // namespace tokio::detail::instant_text_impl

namespace tokio::time {

std::optional<Duration> Instant::checked_duration_since(Instant earlier) const noexcept {
  int64_t r;
  if (__builtin_sub_overflow(ns_, earlier.ns_, &r) || r < 0) return std::nullopt;
  return Duration(r);
}

Instant Instant::far_future() noexcept {
  return now().saturating_add(std::chrono::hours(24 * 365 * 30));
}

std::string format_duration(Duration d) {
  namespace impl = detail::instant_text_impl;
  int64_t ns = d.count();
  std::string sign;
  uint64_t n = static_cast<uint64_t>(ns);
  if (ns < 0) {
    sign = "-";
    n = 0 - n;  // also right for INT64_MIN
  }
  if (n >= 1'000'000'000) return sign + impl::decimal(n / 1'000'000'000, n % 1'000'000'000, 9, "s");
  if (n >= 1'000'000) return sign + impl::decimal(n / 1'000'000, n % 1'000'000, 6, "ms");
  if (n >= 1'000) return sign + impl::decimal(n / 1'000, n % 1'000, 3, "\u00b5s");
  return sign + std::to_string(n) + "ns";
}

std::string to_string(Instant t) {
  return "Instant(" + format_duration(t.into_std().time_since_epoch()) + ")";
}

}  // namespace tokio::time
