#pragma once
// Looking ahead and fallible items (tokio-stream's StreamExt::peekable and try_next).
//
//   auto p = stream::peekable(std::move(tokens));
//   while (T* t = co_await p.peek()) {        // the next item, left in the stream
//     if (is_separator(*t)) break;
//     use(*co_await p.next());
//   }
//
//   // A stream of Result<T, E> (a FramedRead, a BroadcastStream...):
//   auto r = co_await stream::try_next(frames); // Result<std::optional<T>, E>
//   if (!r) co_return tokio::unexpected(r.error());  // Rust's `frames.try_next().await?`
//   if (!*r) break;                             // the end
//
// peek() waits for the next item and lends it (null at the end) without taking it: the
// following next() or peek() sees the same one. Both are cancel-safe when the inner
// stream's next() is (the peeked item, or the inner next() in flight, stays in the
// Peekable). try_next(s) borrows `s` for one item and is cancel-safe when s.next() is.

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/combinators.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <Stream S>
class Peekable : public PollStream<Peekable<S>, item_t<S>>, public tokio::detail::OneUpstream<S> {
  using T = item_t<S>;

 public:
  using tokio::detail::OneUpstream<S>::OneUpstream;
  static constexpr bool kSettlesBudget = true;  // polls only its Upstream

  template <class Cx>
    requires tokio::detail::UpstreamPolls<S, Cx>
  bool poll_next(Cx& cx, std::optional<T>& out) {
    if (peeked_) {
      out = std::move(*peeked_);  // an item, or the end the peek found
      peeked_.reset();
      return true;
    }
    return this->in_.poll(cx, out);
  }
  // Poll form of peek(): true once the next item (out = its address) or the end (out =
  // null) is known.
  bool poll_peek(task::Context& cx, T*& out) {
    if (!peeked_) {
      std::optional<T> v;
      if (!this->in_.poll(cx, v)) return false;
      peeked_.emplace(std::move(v));
    }
    out = *peeked_ ? &**peeked_ : nullptr;
    return true;
  }

  // Claims the stream as next() does (detail::PendingClaim, when the stream has a claim
  // word): a peek() and another task's next() or peek() at once would share its one
  // waker, and one of them would wait for ever; the second throws std::logic_error.
  class TOKIO_MUST_AWAIT Peek : public tokio::detail::CompositeLeaf<Peek> {
    static constexpr bool kClaims = requires(Peekable & p) { p.next_use(); };
    struct NoClaim {};

   public:
    explicit Peek(Peekable& p) noexcept : p_(&p) {}
    Peek(const Peek& o) noexcept
        : tokio::detail::CompositeLeaf<Peek>(o), p_(o.p_) {}  // before the first poll
    ~Peek() {
      if constexpr (kClaims) claim_.release(p_->next_use(), this);
    }
    // What poll_peek throws comes out (CompositeLeaf completes the peek with it).
    bool step(task::Context& cx) {
      auto attempt = [&] { return p_->poll_peek(cx, out_); };
      if constexpr (kClaims) return claim_.poll(p_->next_use(), this, true, attempt);
      else return attempt();
    }
    T* await_resume() {
      this->check();
      if constexpr (kClaims) {
        if (claim_.refused) tokio::detail::throw_concurrent_next(Peekable::kTypeName);
      }
      return out_;
    }

   private:
    Peekable* p_;
    T* out_ = nullptr;
    [[no_unique_address]] std::conditional_t<kClaims, tokio::detail::PendingClaim, NoClaim> claim_;
  };
  // The next item, left in the stream (valid until the next call on the Peekable); null
  // once the stream has ended.
  Peek peek() noexcept { return Peek(*this); }

 private:
  std::optional<std::optional<T>> peeked_;  // engaged: the next poll_next's answer
};

template <class S>
  requires Stream<std::remove_cvref_t<S>>
auto peekable(S&& s) {
  tokio::detail::check_stream_arg<S>();
  return Peekable<std::remove_cvref_t<S>>(std::forward<S>(s));
}
inline auto peekable() {
  return tokio::detail::StreamPipe{
      [](auto&& s) { return tokio::stream::peekable(std::forward<decltype(s)>(s)); }};
}

// The awaitable of try_next(s): s.next() with the Result taken apart.
template <Stream S>
class TOKIO_MUST_AWAIT TryNext : public tokio::detail::CompositeLeaf<TryNext<S>> {
  using Item = item_t<S>;
  using T = typename Item::value_type;
  using E = typename Item::error_type;

 public:
  explicit TryNext(S& s) noexcept : s_(&s) {}
  bool step(task::Context& cx) {
    if (!op_.live()) op_.start([&] { return s_->next(); });
    return op_.poll(cx);
  }
  Result<std::optional<T>, E> await_resume() {
    this->check();
    std::optional<Item> v = op_.take();
    if (!v) return std::optional<T>();
    if (!*v) return unexpected(std::move(v->error()));
    return std::optional<T>(std::move(**v));
  }

 private:
  S* s_;
  tokio::detail::ChildOp<tokio::detail::stream_next_t<S>> op_;
};

// The next item of a stream of Result<T, E>, as Result<std::optional<T>, E>: an error item
// is the error, the end is an empty optional. `s` is borrowed for the await.
template <Stream S>
  requires tokio::detail::is_result<item_t<S>>::value TryNext<S> try_next(S& s)
noexcept { return TryNext<S>(s); }

}  // namespace tokio::stream
