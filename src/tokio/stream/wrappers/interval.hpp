#pragma once
// wrappers::IntervalStream: the ticks of a time::Interval as a stream of time::Instant
// (each tick's scheduled instant). It never ends. next() is cancel-safe (Interval::tick
// loses no tick when cancelled).
//
//   tokio::stream::wrappers::IntervalStream ticks(tokio::time::interval(100ms));

#include <optional>
#include <utility>

#include "tokio/stream/detail/source_stream.hpp"
#include "tokio/time/interval.hpp"

namespace tokio::detail {

struct IntervalPolicy {
  using Item = time::Instant;
  static constexpr const char* kTypeName = "stream::wrappers::IntervalStream";
  auto op(time::Interval& iv) { return iv.tick(); }
  // A template only so that std::optional<Instant> waits for a use (core/config.hpp).
  template <class Out>
  bool map(time::Instant t, Out& out) {
    out.emplace(t);
    return true;
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

class IntervalStream
    : public tokio::detail::SourceStream<time::Interval, tokio::detail::IntervalPolicy> {
 public:
  explicit IntervalStream(time::Interval iv) : SourceStream(std::move(iv)) {}
  static IntervalStream new_(time::Interval iv) { return IntervalStream(std::move(iv)); }
};

}  // namespace tokio::stream::wrappers
