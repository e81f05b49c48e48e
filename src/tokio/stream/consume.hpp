#pragma once
// Consuming a stream: fold, collect, any and all (tokio-stream's StreamExt's).
//
//   int sum = co_await stream::fold(s, 0, [](int acc, int v) { return acc + v; });
//   auto all = co_await stream::collect<std::vector<std::string>>(std::move(lines));
//   auto evens = co_await (std::move(s) | stream::filter(even) | stream::collect<std::vector<int>>());
//
//   bool seen = co_await stream::any(s, [](const int& v) { return v > 10; });
//
// any / all stop at the first item that decides the answer (the rest stay in a borrowed
// stream): any is true at the first item satisfying the predicate, all false at the
// first one failing it; an empty stream gives false / true.
//
// (The pipe forms, `s | stream::fold(init, f)` and `s | stream::collect<C>()`, are Rust's
// `s.fold(init, f).await` / `s.collect::<C>().await` written as the other combinators are.)
//
// Both run until the stream ends. An lvalue stream is borrowed (it must outlive the await),
// an rvalue one is moved into the awaitable. Neither is cancel-safe: the accumulated value
// is lost when the await is destroyed (the items it had taken are gone from the stream).
// With g++ 12, bind a capturing lambda to a variable before passing it (see README).

#include <functional>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/io/detail/child_op.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/iter.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::detail {

// An lvalue stream is borrowed through ByRef, an rvalue one owned.
template <class S>
using held_stream_t =
    std::conditional_t<std::is_lvalue_reference_v<S>, stream::ByRef<std::remove_reference_t<S>>,
                       std::remove_cvref_t<S>>;

// The stream an awaitable of this file holds: a ByRef to an lvalue, else the stream itself.
template <class S>
held_stream_t<S> hold_stream(S&& s) {
  if constexpr (std::is_lvalue_reference_v<S>) {
    return held_stream_t<S>(s);
  } else {
    return std::forward<S>(s);
  }
}

template <class S, class B, class F>
class TOKIO_MUST_AWAIT FoldOp : public CompositeLeaf<FoldOp<S, B, F>> {
 public:
  template <class U>
  FoldOp(U&& s, B init, F f) : in_(std::forward<U>(s)), acc_(std::move(init)), f_(std::move(f)) {}
  FoldOp(FoldOp&& o)
      : CompositeLeaf<FoldOp>(o),
        in_(std::move(o.in_)),
        acc_(std::move(o.acc_)),
        f_(std::move(o.f_)) {}

  // The accumulator is a local while the ready items run: as a member, every item was a
  // read-modify-write of memory, a dependency chain through the store buffer (iter | map |
  // filter | fold: bench/NOTES.md). When f throws, the fold's result is the exception and
  // the accumulator is not needed again.
  bool step(task::Context& cx) {
    B acc(std::move(acc_));
    auto each = [&](stream::item_t<S>&& v) {
      acc = std::invoke(f_, std::move(acc), std::move(v));
      return true;
    };
    EachResult r = in_.poll_each(cx, each);
    acc_ = std::move(acc);
    return r != EachResult::Pending;
  }
  B await_resume() {
    this->check();
    return std::move(acc_);
  }

 private:
  Upstream<S> in_;
  B acc_;
  F f_;
};

// any (Want = true) and all (Want = false): polls until pred(item) == Want.
template <class S, class F, bool Want>
class TOKIO_MUST_AWAIT DecideOp : public CompositeLeaf<DecideOp<S, F, Want>> {
 public:
  template <class U>
  DecideOp(U&& s, F f) : in_(std::forward<U>(s)), f_(std::move(f)) {}
  DecideOp(DecideOp&& o) : CompositeLeaf<DecideOp>(o), in_(std::move(o.in_)), f_(std::move(o.f_)) {}

  // Decided in a local, stored once: a member written on every item is a store per item.
  bool step(task::Context& cx) {
    bool hit = false;
    auto each = [&](stream::item_t<S>&& v) {
      hit = static_cast<bool>(std::invoke(f_, std::as_const(v))) == Want;
      return !hit;
    };
    const EachResult r = in_.poll_each(cx, each);
    decided_ = hit;
    return r != EachResult::Pending;
  }
  bool await_resume() {
    this->check();
    return decided_ == Want;
  }

 private:
  Upstream<S> in_;
  F f_;
  bool decided_ = false;
};

template <bool Want, class S, class F>
auto decide(S&& s, F pred) {
  return DecideOp<held_stream_t<S>, F, Want>(hold_stream(std::forward<S>(s)), std::move(pred));
}

template <class C, class T>
void collect_push(C& c, T&& v) {
  if constexpr (requires { c.push_back(std::forward<T>(v)); }) {
    c.push_back(std::forward<T>(v));
  } else {
    c.insert(c.end(), std::forward<T>(v));
  }
}

template <class S, class C>
class TOKIO_MUST_AWAIT CollectOp : public CompositeLeaf<CollectOp<S, C>> {
 public:
  template <class U, std::enable_if_t<!std::is_same_v<std::remove_cvref_t<U>, CollectOp>, int> = 0>
  explicit CollectOp(U&& s) : in_(std::forward<U>(s)) {}
  CollectOp(CollectOp&& o)
      : CompositeLeaf<CollectOp>(o), in_(std::move(o.in_)), c_(std::move(o.c_)) {}

  bool step(task::Context& cx) {
    auto each = [&](stream::item_t<S>&& v) {
      collect_push(c_, std::move(v));
      return true;
    };
    return in_.poll_each(cx, each) != EachResult::Pending;
  }
  C await_resume() {
    this->check();
    return std::move(c_);
  }

 private:
  Upstream<S> in_;
  C c_;
};

}  // namespace tokio::detail

namespace tokio::stream {

// Folds every item into an accumulator: acc = f(std::move(acc), item); returns the last
// acc (init for an empty stream).
template <class S, class B, class F>
  requires Stream<std::remove_cvref_t<S>>
auto fold(S&& s, B init, F f) {
  using H = tokio::detail::held_stream_t<S>;
  return tokio::detail::FoldOp<H, B, F>(tokio::detail::hold_stream(std::forward<S>(s)),
                                        std::move(init), std::move(f));
}

// Collects every item into a default-constructed C (push_back, or insert at the end:
// vectors, deques, lists, sets, maps of pairs, strings of chars...).
template <class C, class S>
  requires Stream<std::remove_cvref_t<S>>
auto collect(S&& s) {
  using H = tokio::detail::held_stream_t<S>;
  return tokio::detail::CollectOp<H, C>(tokio::detail::hold_stream(std::forward<S>(s)));
}

// True at the first item satisfying pred(const T&); false when the stream ends first.
template <class S, class F>
  requires Stream<std::remove_cvref_t<S>>
auto any(S&& s, F pred) { return tokio::detail::decide<true>(std::forward<S>(s), std::move(pred)); }
// False at the first item failing pred(const T&); true when the stream ends first.
template <class S, class F>
  requires Stream<std::remove_cvref_t<S>>
auto all(S&& s, F pred) {
  return tokio::detail::decide<false>(std::forward<S>(s), std::move(pred));
}

// The pipe forms: `std::move(s) | stream::fold(init, f)`, `std::move(s) | collect<C>()`,
// `std::move(s) | stream::any(pred)`, `std::move(s) | stream::all(pred)`.
template <class B, class F>
auto fold(B init, F f) {
  return tokio::detail::StreamPipe{[init = std::move(init), f = std::move(f)](auto&& s) mutable {
    return stream::fold(std::forward<decltype(s)>(s), std::move(init), std::move(f));
  }};
}
TOKIO_DETAIL_STREAM_PIPE_FN(any)
TOKIO_DETAIL_STREAM_PIPE_FN(all)
template <class C>
auto collect() {
  return tokio::detail::StreamPipe{
      [](auto&& s) { return stream::collect<C>(std::forward<decltype(s)>(s)); }};
}

}  // namespace tokio::stream
