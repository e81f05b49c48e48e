#pragma once
// Combinators driven by the runtime's timer: timeout, timeout_repeating, throttle,
// chunks_timeout.
//
//   timeout(s, d)             items as Result<T, time::Elapsed>: when no item arrives within
//                             d of the previous one (or of the timeout's creation), one Elapsed
//                             error is yielded and the stream goes on waiting (the next
//                             Elapsed comes d after the next item); the inner stream is
//                             never cancelled.
//   timeout_repeating(s, iv)  items as Result<T, time::Elapsed>, with an Interval: each tick
//                             of `iv` that comes while no item does yields one Elapsed
//                             (so every period of silence counts, not only the first);
//                             an item resets the interval (its next tick is a period
//                             later). A fresh Interval ticks at once: pass
//                             interval_at(Instant::now() + d, d) to wait d first.
//   throttle(s, d)            at most one item per d: after an item, the next one is not
//                             taken from the inner stream before d has passed (the first
//                             one is not delayed).
//   chunks_timeout(s, n, d)   std::vector<T> of up to n items: a chunk is yielded when it
//                             is full, or d after its first item arrived, or at the end of
//                             the inner stream (never an empty one).
//
// The runtime needs enable_time(). next() is cancel-safe when the inner stream's is (the
// items of a chunk being gathered stay in the ChunksTimeout). One next() at a time: each
// keeps a timer's waker, so a second task's next() while one waits throws std::logic_error
// naming the combinator; moving it meanwhile aborts (detail::NextClaim).

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"
#include "tokio/time/instant.hpp"
#include "tokio/time/interval.hpp"
#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/time/sleep.hpp"
#include "tokio/time/timeout.hpp"

namespace tokio::detail {
// std::optional<time::Sleep> for the streams below, spelled to wait for a use
// (core/config.hpp, dependent_t): as a plain member of these class templates, every TU
// that includes tokio.hpp would instantiate it.
template <class S>
using OptionalSleep = dependent_t<S, std::optional<time::Sleep>>;
}  // namespace tokio::detail

namespace tokio::stream {

template <Stream S>
class Timeout : public PollStream<Timeout<S>, Result<item_t<S>, time::Elapsed>>,
                public tokio::detail::NextClaim<Timeout<S>>,
                public tokio::detail::OneUpstream<S> {
 public:
  static constexpr const char* kTypeName = "stream::Timeout";
  using tokio::detail::NextClaim<Timeout<S>>::next_use;
  // The first deadline counts from here, as tokio-stream's (a stream built and first
  // polled later is already that much closer to it); its timer is made at the first poll,
  // because construction may happen off the runtime.
  template <class U>
  Timeout(U&& s, time::Duration d)
      : tokio::detail::OneUpstream<S>(std::forward<U>(s)),
        d_(d),
        first_(time::Instant::now().saturating_add(d)) {}

  bool poll_next(task::Context& cx, std::optional<Result<item_t<S>, time::Elapsed>>& out) {
    if (!deadline_) deadline_.emplace(first_);
    std::optional<item_t<S>> v;
    if (this->in_.poll(cx, v)) {
      if (v) {
        deadline_->reset(time::Instant::now().saturating_add(d_));
        armed_ = true;
        out.emplace(std::move(*v));
      }
      return true;
    }
    if (armed_ && deadline_->poll(cx)) {
      armed_ = false;
      out.emplace(unexpected(time::Elapsed{}));
      return true;
    }
    return false;
  }

 private:
  time::Duration d_;
  time::Instant first_;
  tokio::detail::OptionalSleep<S> deadline_;
  bool armed_ = true;
};

template <Stream S>
class TimeoutRepeating : public PollStream<TimeoutRepeating<S>, Result<item_t<S>, time::Elapsed>>,
                         public tokio::detail::NextClaim<TimeoutRepeating<S>>,
                         public tokio::detail::OneUpstream<S> {
 public:
  static constexpr const char* kTypeName = "stream::TimeoutRepeating";
  using tokio::detail::NextClaim<TimeoutRepeating<S>>::next_use;
  template <class U>
  TimeoutRepeating(U&& s, time::Interval iv)
      : tokio::detail::OneUpstream<S>(std::forward<U>(s)), iv_(std::move(iv)) {}

  bool poll_next(task::Context& cx, std::optional<Result<item_t<S>, time::Elapsed>>& out) {
    std::optional<item_t<S>> v;
    if (this->in_.poll(cx, v)) {
      if (v) {
        iv_.reset();
        out.emplace(std::move(*v));
      }
      return true;
    }
    time::Instant tick;
    if (!iv_.poll_tick(cx, tick)) return false;
    out.emplace(unexpected(time::Elapsed{}));
    return true;
  }

 private:
  time::Interval iv_;
};

template <Stream S>
class Throttle : public PollStream<Throttle<S>, item_t<S>>,
                 public tokio::detail::NextClaim<Throttle<S>>,
                 public tokio::detail::OneUpstream<S> {
 public:
  static constexpr const char* kTypeName = "stream::Throttle";
  using tokio::detail::NextClaim<Throttle<S>>::next_use;
  template <class U>
  Throttle(U&& s, time::Duration d) : tokio::detail::OneUpstream<S>(std::forward<U>(s)), d_(d) {}

  bool poll_next(task::Context& cx, std::optional<item_t<S>>& out) {
    if (d_.count() > 0 && !delay_) {
      // Made before the first item is taken: on a runtime without timers the Sleep throws
      // here, with nothing taken, rather than after an item came out of the stream.
      delay_.emplace(time::Instant::now());
      delayed_ = true;  // the first item is not delayed
    }
    if (!delayed_) {
      if (!delay_->poll(cx)) return false;
      delayed_ = true;
    }
    if (!this->in_.poll(cx, out)) return false;
    if (out && delay_) {
      delay_->reset(time::Instant::now().saturating_add(d_));
      delayed_ = false;
    }
    return true;
  }

 private:
  time::Duration d_;
  tokio::detail::OptionalSleep<S> delay_;
  bool delayed_ = true;
};

template <Stream S>
class ChunksTimeout : public PollStream<ChunksTimeout<S>, std::vector<item_t<S>>>,
                      public tokio::detail::NextClaim<ChunksTimeout<S>>,
                      public tokio::detail::OneUpstream<S> {
 public:
  static constexpr const char* kTypeName = "stream::ChunksTimeout";
  using tokio::detail::NextClaim<ChunksTimeout<S>>::next_use;
  template <class U>
  ChunksTimeout(U&& s, std::size_t max, time::Duration d)
      : tokio::detail::OneUpstream<S>(std::forward<U>(s)), max_(max), d_(d) {
    if (max == 0)
      throw std::invalid_argument("tokio: stream::chunks_timeout needs a chunk size > 0");
  }

  bool poll_next(task::Context& cx, std::optional<std::vector<item_t<S>>>& out) {
    while (!ended_) {
      std::optional<item_t<S>> v;
      if (!this->in_.poll(cx, v)) {
        if (!items_.empty() && deadline_->poll(cx)) return flush(out);
        return false;
      }
      if (!v) {
        ended_ = true;
        break;
      }
      if (items_.empty()) {
        time::Instant at = time::Instant::now().saturating_add(d_);
        if (deadline_) {
          deadline_->reset(at);
        } else {
          deadline_.emplace(at);
        }
        items_.reserve(max_);
      }
      items_.push_back(std::move(*v));
      if (items_.size() >= max_) return flush(out);
    }
    if (!items_.empty()) return flush(out);
    return true;
  }

 private:
  bool flush(std::optional<std::vector<item_t<S>>>& out) {
    out.emplace(std::move(items_));
    items_ = {};
    return true;
  }

  std::size_t max_;
  time::Duration d_;
  std::vector<item_t<S>> items_;
  tokio::detail::OptionalSleep<S> deadline_;
  bool ended_ = false;
};

template <class S, class Rep, class Period>
  requires Stream<std::remove_cvref_t<S>>
auto timeout(S&& s, std::chrono::duration<Rep, Period> d) {
  tokio::detail::check_stream_arg<S>();
  return Timeout<std::remove_cvref_t<S>>(std::forward<S>(s), tokio::detail::non_negative_ns(d));
}
template <class Rep, class Period>
auto timeout(std::chrono::duration<Rep, Period> d) {
  return tokio::detail::StreamPipe{
      [d](auto&& s) { return tokio::stream::timeout(std::forward<decltype(s)>(s), d); }};
}

template <class S>
  requires Stream<std::remove_cvref_t<S>>
auto timeout_repeating(S&& s, time::Interval iv) {
  tokio::detail::check_stream_arg<S>();
  return TimeoutRepeating<std::remove_cvref_t<S>>(std::forward<S>(s), std::move(iv));
}
inline auto timeout_repeating(time::Interval iv) {
  return tokio::detail::StreamPipe{[iv = std::move(iv)](auto&& s) mutable {
    return tokio::stream::timeout_repeating(std::forward<decltype(s)>(s), std::move(iv));
  }};
}

template <class S, class Rep, class Period>
  requires Stream<std::remove_cvref_t<S>>
auto throttle(S&& s, std::chrono::duration<Rep, Period> d) {
  tokio::detail::check_stream_arg<S>();
  return Throttle<std::remove_cvref_t<S>>(std::forward<S>(s), tokio::detail::non_negative_ns(d));
}
template <class Rep, class Period>
auto throttle(std::chrono::duration<Rep, Period> d) {
  return tokio::detail::StreamPipe{
      [d](auto&& s) { return tokio::stream::throttle(std::forward<decltype(s)>(s), d); }};
}

template <class S, class Rep, class Period>
  requires Stream<std::remove_cvref_t<S>>
auto chunks_timeout(S&& s, std::size_t max, std::chrono::duration<Rep, Period> d) {
  tokio::detail::check_stream_arg<S>();
  return ChunksTimeout<std::remove_cvref_t<S>>(std::forward<S>(s), max,
                                               tokio::detail::non_negative_ns(d));
}
template <class Rep, class Period>
auto chunks_timeout(std::size_t max, std::chrono::duration<Rep, Period> d) {
  return tokio::detail::StreamPipe{[max, d](auto&& s) {
    return tokio::stream::chunks_timeout(std::forward<decltype(s)>(s), max, d);
  }};
}

}  // namespace tokio::stream
