#pragma once
// Combining two streams: chain, merge, zip.
//
//   chain(a, b)   every item of a, then every item of b
//   merge(a, b)   items of both as they come; when both are ready at once, the two
//                 streams take turns going first (fair); ends when both have ended
//   zip(a, b)     std::pair of the i-th items of a and b; ends as soon as either ends
//                 (an item already taken from the other one is then dropped)
//
// chain and merge need the same item type on both sides. The pipe forms take the second
// stream: `std::move(a) | stream::merge(std::move(b))`. next() is cancel-safe when both
// inner streams' are (zip keeps an item that arrived first until its partner arrives).
// One next() at a time: a second task's next() while one waits throws std::logic_error;
// moving the stream meanwhile aborts (detail::NextClaim).

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <Stream A, Stream B>
class Chain : public PollStream<Chain<A, B>, item_t<A>>,
              public tokio::detail::NextClaim<Chain<A, B>> {
  static_assert(std::is_same_v<item_t<A>, item_t<B>>,
                "chain needs two streams of the same item type");

 public:
  static constexpr const char* kTypeName = "stream::Chain";
  template <class U, class V>
  Chain(U&& a, V&& b) : a_(std::forward<U>(a)), b_(std::forward<V>(b)) {}
  template <class Cx>
    requires tokio::detail::UpstreamPolls<A, Cx> && tokio::detail::UpstreamPolls<B, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<A>>& out) {
    if (!first_done_) {
      if (!a_.poll(cx, out)) return false;
      if (out) return true;
      first_done_ = true;
    }
    if (second_done_) return true;
    if (!b_.poll(cx, out)) return false;
    if (!out) second_done_ = true;
    return true;
  }

 private:
  tokio::detail::Upstream<A> a_;
  tokio::detail::Upstream<B> b_;
  bool first_done_ = false;
  bool second_done_ = false;
};

template <Stream A, Stream B>
class Merge : public PollStream<Merge<A, B>, item_t<A>>,
              public tokio::detail::NextClaim<Merge<A, B>> {
  static_assert(std::is_same_v<item_t<A>, item_t<B>>,
                "merge needs two streams of the same item type");

 public:
  static constexpr const char* kTypeName = "stream::Merge";
  template <class U, class V>
  Merge(U&& a, V&& b) : a_(std::forward<U>(a)), b_(std::forward<V>(b)) {}
  template <class Cx>
    requires tokio::detail::UpstreamPolls<A, Cx> && tokio::detail::UpstreamPolls<B, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<A>>& out) {
    // Alternates the side polled first at each poll; a question that finds nothing (a
    // select's first pass, followed by its registering poll) leaves the turn as it was.
    const bool ready = a_first_ ? poll_pair(cx, out, a_, a_done_, b_, b_done_)
                                : poll_pair(cx, out, b_, b_done_, a_, a_done_);
    if (std::is_same_v<Cx, task::Context> || ready) a_first_ = !a_first_;
    return ready;
  }

 private:
  template <class Cx, class X, class Y>
  static bool poll_pair(Cx& cx, std::optional<item_t<A>>& out, X& x, bool& x_done, Y& y,
                        bool& y_done) {
    if (!x_done) {
      if (x.poll(cx, out)) {
        if (out) return true;
        x_done = true;
      }
    }
    if (!y_done) {
      if (y.poll(cx, out)) {
        if (out) return true;
        y_done = true;
      }
    }
    return x_done && y_done;
  }

  tokio::detail::Upstream<A> a_;
  tokio::detail::Upstream<B> b_;
  bool a_done_ = false;
  bool b_done_ = false;
  bool a_first_ = true;
};

template <Stream A, Stream B>
class Zip : public PollStream<Zip<A, B>, std::pair<item_t<A>, item_t<B>>>,
            public tokio::detail::NextClaim<Zip<A, B>> {
 public:
  static constexpr const char* kTypeName = "stream::Zip";
  template <class U, class V>
  Zip(U&& a, V&& b) : a_(std::forward<U>(a)), b_(std::forward<V>(b)) {}
  template <class Cx>
    requires tokio::detail::UpstreamPolls<A, Cx> && tokio::detail::UpstreamPolls<B, Cx>
  bool poll_next(Cx& cx, std::optional<std::pair<item_t<A>, item_t<B>>>& out) {
    if (done_) return true;
    if (!va_) {
      if (a_.poll(cx, va_) && !va_) return end();
    }
    if (!vb_) {
      if (b_.poll(cx, vb_) && !vb_) return end();
    }
    if (!va_ || !vb_) return false;
    out.emplace(std::move(*va_), std::move(*vb_));
    va_.reset();
    vb_.reset();
    return true;
  }

 private:
  bool end() {
    done_ = true;
    va_.reset();
    vb_.reset();
    return true;
  }

  tokio::detail::Upstream<A> a_;
  tokio::detail::Upstream<B> b_;
  std::optional<item_t<A>> va_;
  std::optional<item_t<B>> vb_;
  bool done_ = false;
};

template <class A, class B>
  requires Stream<std::remove_cvref_t<A>> && Stream<std::remove_cvref_t<B>>
auto chain(A&& a, B&& b) {
  tokio::detail::check_stream_arg<A>();
  tokio::detail::check_stream_arg<B>();
  return Chain<std::remove_cvref_t<A>, std::remove_cvref_t<B>>(std::forward<A>(a),
                                                               std::forward<B>(b));
}
template <class B>
  requires Stream<std::remove_cvref_t<B>>
auto chain(B&& b) {
  tokio::detail::check_stream_arg<B>();
  return tokio::detail::StreamPipe{
      [b = std::remove_cvref_t<B>(std::forward<B>(b))](auto&& a) mutable {
        return tokio::stream::chain(std::forward<decltype(a)>(a), std::move(b));
      }};
}

template <class A, class B>
  requires Stream<std::remove_cvref_t<A>> && Stream<std::remove_cvref_t<B>>
auto merge(A&& a, B&& b) {
  tokio::detail::check_stream_arg<A>();
  tokio::detail::check_stream_arg<B>();
  return Merge<std::remove_cvref_t<A>, std::remove_cvref_t<B>>(std::forward<A>(a),
                                                               std::forward<B>(b));
}
template <class B>
  requires Stream<std::remove_cvref_t<B>>
auto merge(B&& b) {
  tokio::detail::check_stream_arg<B>();
  return tokio::detail::StreamPipe{
      [b = std::remove_cvref_t<B>(std::forward<B>(b))](auto&& a) mutable {
        return tokio::stream::merge(std::forward<decltype(a)>(a), std::move(b));
      }};
}

template <class A, class B>
  requires Stream<std::remove_cvref_t<A>> && Stream<std::remove_cvref_t<B>>
auto zip(A&& a, B&& b) {
  tokio::detail::check_stream_arg<A>();
  tokio::detail::check_stream_arg<B>();
  return Zip<std::remove_cvref_t<A>, std::remove_cvref_t<B>>(std::forward<A>(a),
                                                             std::forward<B>(b));
}
template <class B>
  requires Stream<std::remove_cvref_t<B>>
auto zip(B&& b) {
  tokio::detail::check_stream_arg<B>();
  return tokio::detail::StreamPipe{
      [b = std::remove_cvref_t<B>(std::forward<B>(b))](auto&& a) mutable {
        return tokio::stream::zip(std::forward<decltype(a)>(a), std::move(b));
      }};
}

}  // namespace tokio::stream
