#pragma once
// Item-by-item combinators (tokio-stream's StreamExt): map, map_while, filter, filter_map,
// take, take_while, skip, skip_while, fuse.
//
//   auto evens = stream::filter(std::move(s), [](const int& v) { return v % 2 == 0; });
//   auto strs  = std::move(evens) | stream::map([](int v) { return std::to_string(v); })
//                                  | stream::take(10);
//
// Each takes the stream by value (std::move it in, or pass stream::by_ref(s) to borrow it)
// and returns a new stream; the second form of each (without the stream) composes with
// `|`. The functions run inside the consumer's next(), synchronously; use stream::then
// for an asynchronous one. next() of each is cancel-safe when the inner stream's is.
// Each one (and the time-based ones, and peekable) gives its stream back: get_mut(), and
// std::move(a).into_inner() (dropping what the adapter holds: detail/upstream.hpp).
//
//   map(s, f)          f(T) -> U, every item
//   map_while(s, f)    f(T) -> std::optional<U>: the engaged results, until the first
//                      empty one, which ends the stream
//   filter(s, p)       keeps the items for which p(const T&) is true
//   filter_map(s, f)   f(T) -> std::optional<U>: keeps the engaged results
//   take(s, n)         the first n items, then the end (the inner stream is not polled
//                      further)
//   take_while(s, p)   items while p(const T&) holds; the first one failing it is dropped
//                      and ends the stream
//   skip(s, n)         all but the first n items
//   skip_while(s, p)   drops items while p(const T&) holds, then yields the rest
//   fuse(s)            after the first end, the end for good (the inner stream is not
//                      polled again)

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <class S, class F>
using map_item_t = std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>;

template <Stream S, class F>
class Map : public PollStream<Map<S, F>, map_item_t<S, F>>, public tokio::detail::FnUpstream<S, F> {
 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<map_item_t<S, F>>& out) {
    std::optional<item_t<S>> v;
    if (!this->in_.poll(cx, v)) return false;
    if (v) out.emplace(std::invoke(this->f_, std::move(*v)));
    return true;
  }
  template <class Sink>
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    auto each = [&](item_t<S>&& v) { return sink(std::invoke(this->f_, std::move(v))); };
    return this->in_.poll_each(cx, each);
  }
};

template <Stream S, class F>
class Filter : public PollStream<Filter<S, F>, item_t<S>>, public tokio::detail::FnUpstream<S, F> {
 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    // The item goes to `out` member by member, and only once kept: polling into `out`
    // itself kept the inner position in memory across the rejected items (`out` may alias
    // it), and a whole-optional copy cannot be forwarded from the stores that built it
    // (detail::take_fresh).
    for (;;) {
      std::optional<item_t<S>> v;
      if (!this->in_.poll(cx, v)) return false;
      if (!v) return true;
      if (std::invoke(this->f_, std::as_const(*v))) {
        out.emplace(std::move(*v));
        return true;
      }
    }
  }
  template <class Sink>
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    auto each = [&](item_t<S>&& v) {
      return !std::invoke(this->f_, std::as_const(v)) || sink(std::move(v));
    };
    return this->in_.poll_each(cx, each);
  }
};

template <class S, class F>
using filter_map_item_t =
    typename std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>::value_type;

template <Stream S, class F>
class FilterMap : public PollStream<FilterMap<S, F>, filter_map_item_t<S, F>>,
                  public tokio::detail::FnUpstream<S, F> {
  static_assert(tokio::detail::is_std_optional<
                    std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>>::value,
                "filter_map's function must return std::optional<U>");

 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<filter_map_item_t<S, F>>& out) {
    for (;;) {
      std::optional<item_t<S>> v;
      if (!this->in_.poll(cx, v)) return false;
      if (!v) return true;
      auto r = std::invoke(this->f_, std::move(*v));
      if (r) {
        out.emplace(std::move(*r));
        return true;
      }
    }
  }
  template <class Sink>
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    auto each = [&](item_t<S>&& v) {
      auto r = std::invoke(this->f_, std::move(v));
      return !r || sink(std::move(*r));
    };
    return this->in_.poll_each(cx, each);
  }
};

template <Stream S, class F>
class MapWhile : public PollStream<MapWhile<S, F>, filter_map_item_t<S, F>>,
                 public tokio::detail::FnUpstream<S, F> {
  static_assert(tokio::detail::is_std_optional<
                    std::remove_cvref_t<std::invoke_result_t<F&, item_t<S>&&>>>::value,
                "map_while's function must return std::optional<U>");

 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<filter_map_item_t<S, F>>& out) {
    if (done_) return true;
    std::optional<item_t<S>> v;
    if (!this->in_.poll(cx, v)) return false;
    if (v) {
      auto r = std::invoke(this->f_, std::move(*v));
      if (r) {
        out.emplace(std::move(*r));
        return true;
      }
    }
    done_ = true;
    return true;
  }

 private:
  bool done_ = false;
};

template <Stream S>
class Fuse : public PollStream<Fuse<S>, item_t<S>>, public tokio::detail::OneUpstream<S> {
 public:
  static constexpr bool kSettlesBudget = true;  // polls only its Upstream
  using tokio::detail::OneUpstream<S>::OneUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    if (done_) return true;
    if (!this->in_.poll(cx, out)) return false;
    done_ = !out;
    return true;
  }

 private:
  bool done_ = false;
};

template <Stream S>
class Take : public PollStream<Take<S>, item_t<S>>, public tokio::detail::OneUpstream<S> {
 public:
  static constexpr bool kSettlesBudget = true;  // polls only its Upstream
  template <class U>
  Take(U&& s, std::size_t n) : tokio::detail::OneUpstream<S>(std::forward<U>(s)), left_(n) {}
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    if (left_ == 0) return true;
    if (!this->in_.poll(cx, out)) return false;
    left_ = out ? left_ - 1 : 0;
    return true;
  }
  // The count is a local while the items run (stored back on every way out, a throwing
  // sink's included); the inner loop stops at the n-th item, which is then this stream's
  // end (also when the consumer stopped on that item: its decision is its own).
  template <class Sink>
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    using tokio::detail::EachResult;
    if (left_ == 0) return EachResult::Ended;
    std::size_t left = left_;
    auto each = [&](item_t<S>&& v) {
      --left;
      return sink(std::move(v)) && left != 0;
    };
    EachResult r;
    try {
      r = this->in_.poll_each(cx, each);
    } catch (...) {
      left_ = left;
      throw;
    }
    left_ = r == EachResult::Ended ? 0 : left;
    return left == 0 ? EachResult::Ended : r;
  }

 private:
  std::size_t left_;
};

template <Stream S, class F>
class TakeWhile : public PollStream<TakeWhile<S, F>, item_t<S>>,
                  public tokio::detail::FnUpstream<S, F> {
 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    if (done_) return true;
    std::optional<item_t<S>> v;
    if (!this->in_.poll(cx, v)) return false;
    if (v && std::invoke(this->f_, std::as_const(*v))) {
      out.emplace(std::move(*v));
    } else {
      done_ = true;
    }
    return true;
  }

 private:
  bool done_ = false;
};

template <Stream S>
class Skip : public PollStream<Skip<S>, item_t<S>>, public tokio::detail::OneUpstream<S> {
 public:
  static constexpr bool kSettlesBudget = true;  // polls only its Upstream
  template <class U>
  Skip(U&& s, std::size_t n) : tokio::detail::OneUpstream<S>(std::forward<U>(s)), left_(n) {}
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    for (;;) {
      std::optional<item_t<S>> v;
      if (!this->in_.poll(cx, v)) return false;
      if (v && left_ > 0) {
        --left_;
        continue;
      }
      if (v) out.emplace(std::move(*v));
      return true;
    }
  }

 private:
  std::size_t left_;
};

template <Stream S, class F>
class SkipWhile : public PollStream<SkipWhile<S, F>, item_t<S>>,
                  public tokio::detail::FnUpstream<S, F> {
 public:
  using tokio::detail::FnUpstream<S, F>::FnUpstream;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) {
    for (;;) {
      std::optional<item_t<S>> v;
      if (!this->in_.poll(cx, v)) return false;
      if (v && skipping_ && std::invoke(this->f_, std::as_const(*v))) continue;
      skipping_ = false;
      if (v) out.emplace(std::move(*v));
      return true;
    }
  }

 private:
  bool skipping_ = true;
};

// --- the functions ------------------------------------------------------------------------
// (Each also has a pipe form taking everything but the stream: `std::move(s) | filter(f)`.)
// map(s, f), map_while, filter, filter_map, take_while, skip_while take a callable; take(s, n)
// and skip(s, n) a count; fuse(s) nothing. Those built the same way are defined by the
// macros of detail/upstream.hpp.

template <class S, class F>
  requires Stream<std::remove_cvref_t<S>>
auto map(S&& s, F f) {
  tokio::detail::check_stream_arg<S>();
  static_assert(std::is_invocable_v<F&, item_t<std::remove_cvref_t<S>>&&>,
                "stream::map's function must take the stream's item");
  // Checked here, before Map is instantiated: a void item would fail deep in
  // std::optional<void> without naming map.
  if constexpr (std::is_void_v<map_item_t<std::remove_cvref_t<S>, F>>) {
    static_assert(!std::is_void_v<map_item_t<std::remove_cvref_t<S>, F>>,
                  "stream::map's function returns void, and a stream's items cannot be void: "
                  "return a value, or run the function for each item in a loop "
                  "(while (auto v = co_await s.next()) f(*v);) or with stream::fold");
  } else {
    return Map<std::remove_cvref_t<S>, F>(std::forward<S>(s), std::move(f));
  }
}
TOKIO_DETAIL_STREAM_PIPE_FN(map)

TOKIO_DETAIL_STREAM_ADAPTER_FN(map_while, MapWhile)

template <class S>
  requires Stream<std::remove_cvref_t<S>>
auto fuse(S&& s) {
  tokio::detail::check_stream_arg<S>();
  return Fuse<std::remove_cvref_t<S>>(std::forward<S>(s));
}
inline auto fuse() {
  return tokio::detail::StreamPipe{
      [](auto&& s) { return tokio::stream::fuse(std::forward<decltype(s)>(s)); }};
}

TOKIO_DETAIL_STREAM_ADAPTER_FN(filter, Filter)

TOKIO_DETAIL_STREAM_ADAPTER_FN(filter_map, FilterMap)

TOKIO_DETAIL_STREAM_ADAPTER_COUNT(take, Take)

TOKIO_DETAIL_STREAM_ADAPTER_FN(take_while, TakeWhile)

TOKIO_DETAIL_STREAM_ADAPTER_COUNT(skip, Skip)

TOKIO_DETAIL_STREAM_ADAPTER_FN(skip_while, SkipWhile)

}  // namespace tokio::stream
