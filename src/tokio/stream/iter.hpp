#pragma once
// Streams from values: stream::iter (any range), stream::once, stream::empty,
// stream::pending, and stream::by_ref (borrow a stream instead of moving it into a
// combinator).
//
//   auto s = tokio::stream::iter(std::vector<int>{1, 2, 3});     // owns the vector
//   auto r = tokio::stream::iter(std::array{"a", "b"});
//   auto l = tokio::stream::iter({1, 2, 3});                      // a braced list
//   auto firsts = tokio::stream::take(tokio::stream::by_ref(s), 2);  // s keeps the rest
//
// iter spends one unit of the task's coop budget per 32 items (Tokio's iter yields every 32
// items), so a long iteration lets the other tasks of its worker run: with the task's 128
// units and nothing else spending them, every 4,096 items. (A unit per item kept three
// memory round trips per item in every loop over it: iter | map | filter | fold took 2.3x
// Tokio's time, bench/NOTES.md.) Every next() of these streams is cancel-safe.

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/context.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::detail {
// A range's item as a value: its iterator's value_type when it has one (std::vector<bool>'s
// bool, not the proxy reference into the vector that would dangle once the stream goes).
template <class R, class It = decltype(std::begin(std::declval<R&>()))>
struct stream_iter_item {
  using type = std::remove_cvref_t<decltype(*std::declval<It&>())>;
};
template <class R, class It>
  requires requires { typename std::iter_value_t<It>; }
struct stream_iter_item<R, It> {
  using type = std::iter_value_t<It>;
};
}  // namespace tokio::detail

namespace tokio::stream {

// The items of a range (anything std::begin/std::end accept), in order, as values. The
// range is owned; its elements are moved out when it holds them (a container), copied
// otherwise.
template <class R>
class Iter : public PollStream<Iter<R>, typename tokio::detail::stream_iter_item<R>::type> {
  using It = decltype(std::begin(std::declval<R&>()));
  using Ref = decltype(*std::declval<It&>());
  // When the next unit is due: a random-access iterator is compared with the position the
  // next unit is due at (a member the loop only reads); any other counts the items taken.
  // (A count kept beside a random-access iterator was one more store and reload per item,
  // the longest dependency chain of a loop over an iter: bench/NOTES.md.)
  static constexpr bool kCountsItems =
      !(std::random_access_iterator<It> &&
        std::sized_sentinel_for<decltype(std::end(std::declval<R&>())), It>);

 public:
  using T = typename tokio::detail::stream_iter_item<R>::type;
  explicit Iter(R r) : r_(std::move(r)), it_(std::begin(r_)) {
    if constexpr (!kCountsItems) unit_end_ = it_;  // the first item takes a unit
  }
  // The position is re-established in the moved range (its iterators may not survive).
  Iter(Iter&& o) : Iter(std::move(o), o.position()) {}
  Iter& operator=(Iter&&) = delete;

  static constexpr std::ptrdiff_t kItemsPerUnit = 32;  // a power of two
  // Its unit is taken as a settled leaf poll (below), so a combinator over it need not
  // settle its poll again (detail::SettlesBudget).
  static constexpr bool kSettlesBudget = true;

  // The unit step is out of line: with it inline, clang++ saved and restored four
  // registers around every item for the call the step makes once per kItemsPerUnit items,
  // and then did not inline poll_next into its caller (22 instructions a call).
  template <tokio::detail::PollContext Cx>
  bool poll_next(Cx& cx, std::optional<T>& out) {
    if (it_ == std::end(r_)) return true;
    if (unit_due() && !next_unit_out_of_line(cx)) return false;
    out.emplace(item_at(it_));
    ++it_;
    if constexpr (kCountsItems) ++pos_;
    return true;
  }

  // The ready items in one loop (EachResult, stream.hpp), for a random-access range: the
  // position stays in a local between the units, each unit's items run without a check
  // beyond the unit's end. An item is taken (the position moves past it) before the sink
  // sees it, as poll_next's caller gets it; the position is stored back on every way out,
  // a throwing sink's included.
  template <class Sink>
    requires(!kCountsItems)
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    using tokio::detail::EachResult;
    const auto end = std::end(r_);
    It it = it_;
    try {
      for (;;) {
        if (it == end) {
          it_ = it;
          return EachResult::Ended;
        }
        if (it == unit_end_) {
          it_ = it;
          if (!next_unit(cx)) return EachResult::Pending;
        }
        const It unit_end = unit_end_;  // past `it`, at most `end`
        do {
          T v(item_at(it));
          ++it;
          if (!sink(std::move(v))) {
            it_ = it;
            return EachResult::Stopped;
          }
        } while (it != unit_end);
      }
    } catch (...) {
      it_ = it;
      throw;
    }
  }

 private:
  // (std::ranges::next: a C++20 iterator such as iota_view<uint64_t>'s has a difference
  // type std::next does not take.)
  Iter(Iter&& o, std::ptrdiff_t pos)
      : r_(std::move(o.r_)),
        it_(std::ranges::next(std::begin(r_), static_cast<std::iter_difference_t<It>>(pos))) {
    if constexpr (kCountsItems) {
      pos_ = pos;
    } else {
      unit_end_ = it_;  // the next item takes a unit
    }
  }

  // The item at `it`, moved out of a range that holds its elements, copied otherwise.
  static decltype(auto) item_at(It& it) {
    if constexpr (std::is_lvalue_reference_v<Ref> &&
                  !std::is_const_v<std::remove_reference_t<Ref>>) {
      return std::move(*it);
    } else {
      return *it;
    }
  }

  // Takes the next unit (false: none left, Pending) and marks where it ends. Inline in
  // poll_each's loop, which keeps its registers anyway (out of line there it cost 16
  // instructions a unit: callgrind pipeline 73.4M -> 78.4M); out of line from poll_next.
  template <tokio::detail::PollContext Cx>
  bool next_unit(Cx& cx) {
    if (!take_unit(cx)) return false;
    unit_taken();
    return true;
  }
  template <tokio::detail::PollContext Cx>
  TOKIO_NOINLINE bool next_unit_out_of_line(Cx& cx) {
    return next_unit(cx);
  }

  // When the next unit is due.
  struct NoCount {};
  bool unit_due() const noexcept {
    if constexpr (kCountsItems) {
      return (pos_ & (kItemsPerUnit - 1)) == 0;
    } else {
      return it_ == unit_end_;
    }
  }
  void unit_taken() {
    if constexpr (!kCountsItems) unit_end_ = std::ranges::next(it_, kItemsPerUnit, std::end(r_));
  }
  std::ptrdiff_t position() {
    if constexpr (kCountsItems) {
      return pos_;
    } else {
      return static_cast<std::ptrdiff_t>(it_ - std::begin(r_));
    }
  }

  // What detail::Upstream did around every poll of an iter, done once per kItemsPerUnit
  // items: the unit is taken as a leaf poll of its own (poll_leaf_restoring), which gives
  // back nothing here, since an iter that took a unit always has an item, but hands
  // coop_took back as it found it. Asked (TryContext), the unit is taken only when there
  // is budget, as coop_try does.
  static bool take_unit(task::Context& cx) noexcept {
    return tokio::detail::poll_leaf_restoring(
        tokio::detail::tls, [&]() noexcept { return tokio::detail::coop_poll_proceed(cx); });
  }
  static bool take_unit(tokio::detail::TryContext& cx) noexcept {
    return tokio::detail::coop_poll_proceed(cx);
  }

  R r_;
  It it_;
  [[no_unique_address]] std::conditional_t<kCountsItems, std::ptrdiff_t, NoCount> pos_{};
  [[no_unique_address]] std::conditional_t<kCountsItems, NoCount, It> unit_end_{};
};

template <class R>
Iter<std::remove_cvref_t<R>> iter(R&& r) {
  return Iter<std::remove_cvref_t<R>>(std::forward<R>(r));
}
// A braced list, as Rust's `iter(vec![1, 2, 3])`: `stream::iter({1, 2, 3})`. The items are
// copied into a vector the stream owns (an initializer_list's array would not outlive the
// full expression).
template <class T>
Iter<std::vector<T>> iter(std::initializer_list<T> items) {
  return Iter<std::vector<T>>(std::vector<T>(items));
}

// One item, then the end.
template <class T>
class Once : public PollStream<Once<T>, T> {
 public:
  explicit Once(T v) : v_(std::move(v)) {}
  template <tokio::detail::PollContext Cx>
  bool poll_next(Cx&, std::optional<T>& out) {
    if (v_) {
      out.emplace(std::move(*v_));
      v_.reset();
    }
    return true;
  }

 private:
  std::optional<T> v_;
};

template <class T>
Once<std::decay_t<T>> once(T&& v) {
  return Once<std::decay_t<T>>(std::forward<T>(v));
}

// Ends at once.
template <class T>
class Empty : public PollStream<Empty<T>, T> {
 public:
  Empty() noexcept = default;
  template <tokio::detail::PollContext Cx>
  bool poll_next(Cx&, std::optional<T>&) noexcept {
    return true;
  }
};
template <class T>
Empty<T> empty() {
  return {};
}

// Never yields and never ends.
template <class T>
class Pending : public PollStream<Pending<T>, T> {
 public:
  Pending() noexcept = default;
  template <tokio::detail::PollContext Cx>
  bool poll_next(Cx&, std::optional<T>&) noexcept {
    return false;
  }
};
template <class T>
Pending<T> pending() {
  return {};
}

// Borrows a stream: combinators applied to by_ref(s) pull items from s, which must
// outlive them, and s keeps whatever they did not take. (Rust's `&mut stream`.)
template <Stream S>
class ByRef : public PollStream<ByRef<S>, item_t<S>> {
 public:
  explicit ByRef(S& s) noexcept : s_(&s) {}
  ByRef(ByRef&& o) noexcept : s_((o.p_.reset(), o.s_)) {}
  ByRef& operator=(ByRef&&) = delete;
  ~ByRef() { p_.reset(); }

  // Every poll of s is settled by p_ (detail/upstream.hpp).
  static constexpr bool kSettlesBudget = true;
  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<item_t<S>>& out) { return p_.poll(*s_, cx, out); }
  template <class Sink>
  tokio::detail::EachResult poll_each(task::Context& cx, Sink& sink) {
    return p_.poll_each(*s_, cx, sink);
  }
  S& get() noexcept { return *s_; }
  // A next() through by_ref(s) claims s as s.next() would (a second task's s.next()
  // meanwhile is refused; moving s meanwhile is refused or aborts, as s's own rule says).
  auto& next_use() noexcept requires requires(S& s) { s.next_use(); }
  { return s_->next_use(); }
  static constexpr const char* kTypeName = tokio::detail::claim_name<S>();

 private:
  S* s_;
  [[no_unique_address]] tokio::detail::StreamPoller<S> p_;
};

template <Stream S>
ByRef<S> by_ref(S& s) noexcept {
  return ByRef<S>(s);
}

}  // namespace tokio::stream
