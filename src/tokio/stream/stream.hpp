#pragma once
// stream::Stream: an asynchronous sequence of values, tokio-stream's Stream in C++ form.
//
//   for (;;) {
//     std::optional<int> v = co_await s.next();   // nullopt: the stream has ended
//     if (!v) break;
//     use(*v);
//   }
//
// Anything whose `next()` returns a tokio awaitable yielding std::optional<T> is a
// Stream<T>: a type with a `Task<std::optional<T>> next()` member qualifies. The library's
// own streams (the combinators, the wrappers, Generator, FramedRead...) are written at the
// poll level, like Rust's Stream::poll_next: they derive from PollStream<Derived, T> and
// implement
//
//   bool poll_next(task::Context& cx, std::optional<T>& out);
//
// which returns false (Pending, with the task's waker registered wherever the stream waits)
// or true (Ready: `out` holds the next item, or stays empty at the end of the stream). A
// combinator calls its inner stream's poll_next directly, so a chain of combinators costs
// no allocation and no extra coroutine frame per item.
//
// Cancel safety: whatever a stream is waiting on (an inner stream's next(), a channel
// receive, a read, the future of `then`) lives in the stream object, not in the awaitable
// next() returns, so destroying a next() before it completes (a lost select, a timeout)
// loses nothing: the next call carries on where it stopped. next() is therefore
// cancel-safe for every stream of this library whose sources are (each wrapper says so).
// A stream that is moved drops whatever it was waiting on, exactly as if that wait had
// been cancelled: harmless for cancel-safe sources, but move a stream before its first
// next() or between items if in doubt (Rust needs Pin for the same reason).
//
// Asked without registering: a stream whose poll_next also takes a detail::TryContext
// (core/detail/poll.hpp) in place of the task::Context gives its next() a try_poll, so
// `select(stream.next(), rx.recv())` asks it first and registers it only when no branch is
// ready, as it does for a channel's recv(). Such a poll_next is a template over the context
// (task::Context or TryContext), constrained on its inner parts being askable, and passes
// its context down to them (detail::Upstream::poll, detail::poll_child). The wrappers, the
// item-by-item combinators, chain/merge/zip, peekable, StreamMap, iter/once/empty/pending,
// FramedRead/Framed and ReaderStream can be asked whenever what they wrap can (a channel,
// a socket, a pipe...); a stream of another kind is polled as before.
//
// A stream is used by one task at a time; next() must not be called again while a
// previous next() of the same stream is still being awaited.

#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/context.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/io/detail/exclusive.hpp"

namespace tokio::detail {

template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

template <class S>
using stream_next_t = decltype(std::declval<S&>().next());

// A type no poll_next is written for: a poll_next that accepts it is an unconstrained
// template (`bool poll_next(auto& cx, ...)`), written for task::Context alone.
struct NotAPollContext {};

// S's poll_next can be called with a TryContext and was written for one: the library's
// askable streams take their context as a template constrained to task::Context and
// TryContext (see the top of this file). A user's unconstrained template would accept a
// TryContext too and then fail inside its body, so it is not asked.
template <class S, class T>
concept AskablePollNext = requires(S& s, TryContext& c, std::optional<T>& o) {
  { s.poll_next(c, o) } -> std::same_as<bool>;
}
&&!requires(S & s, NotAPollContext& c, std::optional<T>& o) { s.poll_next(c, o); };

}  // namespace tokio::detail

namespace tokio::stream {

template <class S>
concept Stream = std::is_object_v<S> && requires(S& s) {
  { s.next() } -> tokio::detail::TokioAwaitable;
  requires tokio::detail::is_std_optional<
      tokio::detail::await_result_t<tokio::detail::stream_next_t<S>>>::value;
};

// The item type of a stream (T of Stream<T>).
template <Stream S>
using item_t = typename tokio::detail::await_result_t<tokio::detail::stream_next_t<S>>::value_type;

// A stream of T: Rust's `impl Stream<Item = T>` (`void f(st::StreamOf<int> auto& s)`, or
// `template <st::StreamOf<int> S>`).
template <class S, class T>
concept StreamOf = Stream<S> && std::same_as<item_t<S>, T>;

// Base of the streams written at the poll level (see the top of this file). Derived
// implements `bool poll_next(task::Context&, std::optional<T>& out)`; this base supplies
// next(). poll_next may throw: the exception comes out of the `co_await s.next()`.
template <class Derived, class T>
class PollStream {
 public:
  using Item = T;

  // The leaf a `co_await s.next()` runs (made by Next's operator co_await, below; see
  // detail::MakesLeaf); all waiting state lives in the stream. A stream whose pending next() keeps a read or a
  // receive in flight inside it, with one waker (FramedRead, Framed, the wrappers,
  // StreamMap, Generator, and the one-stream combinators over them) names that with
  // `next_use()` (a detail::ExclusiveUse) and kTypeName: a second next() polled while one
  // is pending, from another task, throws std::logic_error from its co_await (it took the
  // first one's waker: that task waited for ever). See detail::PendingClaim.
  class NextLeaf : public tokio::detail::Leaf<NextLeaf> {
    static constexpr bool kClaims = requires(Derived & d) { d.next_use(); };
    struct NoClaim {};

   public:
    // Polled directly by Leaf::await_ready when the stream settles each budget unit it
    // takes itself (iter and the combinators over it).
    static constexpr bool kSettlesBudget = tokio::detail::SettlesBudget<Derived>;

    explicit NextLeaf(Derived* s) noexcept : s_(s) {}
    NextLeaf(const NextLeaf&) = delete;  // made in place, polled where it is
    NextLeaf& operator=(const NextLeaf&) = delete;
    ~NextLeaf() {
      if (!out_) err_.e.~exception_ptr();  // see err_
      if constexpr (kClaims) claim_.release(s_->next_use(), this);
    }
    // Always inlined down to the stream's poll_next when nothing is claimed: the poll in
    // await_ready is where an item usually comes from, and clang++ 19 left it out of line
    // (a call and four saved registers per item: `stream next_loop` took 717 ms against
    // 494 inlined, Tokio 462). A claiming stream's step is left to the compiler (forced,
    // clang++'s `stream then` took 8% longer).
    TOKIO_ALWAYS_INLINE bool poll(task::Context& cx) noexcept {
      if constexpr (kClaims) {
        return step(cx, true);
      } else {
        return attempt(cx);
      }
    }
    // Leaf's try_poll, for the streams that can be asked (see the top of this file).
    bool try_poll() noexcept requires tokio::detail::AskablePollNext<Derived, T> {
      tokio::detail::TryContext ask;
      return step(ask, false);
    }
    // An item comes out after one test (of out_'s flag, which also tells the destructor
    // that there is no error to free); the error is looked for only when there is no item.
    std::optional<T> await_resume() {
      if constexpr (kClaims) {
        if (claim_.refused) tokio::detail::throw_concurrent_next(Derived::kTypeName);
      }
      if (out_) return std::optional<T>(std::in_place, std::move(*out_));
      if (err_.e) std::rethrow_exception(detail::exchange(err_.e, nullptr));
      return std::nullopt;
    }

   private:
    // One poll of the stream; what poll_next throws completes the next() with it. Always
    // inlined into step: as a lambda there, g++ called it as a closure (loads through the
    // captures, a second frame; callgrind: 7 instructions an item of stream then).
    template <class Cx>
    TOKIO_ALWAYS_INLINE bool attempt(Cx& cx) noexcept {
      try {
        return s_->poll_next(cx, out_);
      } catch (...) {
        out_.reset();  // the error wins over an item stored before the throw
        err_.e = std::current_exception();
        return true;
      }
    }
    template <class Cx>
    bool step(Cx& cx, bool registering) noexcept {
      if constexpr (kClaims) {
        return claim_.poll(s_->next_use(), this, registering,
                           [&]() noexcept { return attempt(cx); });
      } else {
        return attempt(cx);
      }
    }

    // What poll_next threw. Null whenever out_ holds an item (attempt empties out_ before
    // it stores an error, and nothing polls a completed leaf), so its destructor, which
    // does nothing on null, is skipped while out_ holds one: the compiler, which has just
    // tested out_ in await_resume, then makes no second test per item.
    union ErrorSlot {
      std::exception_ptr e;
      ErrorSlot() noexcept : e() {}
      ~ErrorSlot() {}
    };

    Derived* s_;
    std::optional<T> out_;
    ErrorSlot err_;
    [[no_unique_address]] std::conditional_t<kClaims, tokio::detail::PendingClaim, NoClaim> claim_;
  };

  // What next() returns: it names the stream; its co_await makes the NextLeaf.
  using Next = tokio::detail::MakesLeaf<NextLeaf, Derived>;

  // The next item, or std::nullopt once the stream has ended. Cancel-safe when the
  // stream's sources are (see the top of this file).
  Next next() noexcept { return Next(static_cast<Derived*>(this)); }

 protected:
  PollStream() = default;
  ~PollStream() = default;
  PollStream(const PollStream&) = default;
  PollStream& operator=(const PollStream&) = default;
  PollStream(PollStream&&) noexcept = default;
  PollStream& operator=(PollStream&&) noexcept = default;
};

}  // namespace tokio::stream

namespace tokio::detail {

// The one-argument pipe forms (`stream::map(f)`, `stream::all(pred)`...) take a callable,
// never a stream: without this, a user's own `all(s)` or `map(s)` called on a tokio stream
// would find them by argument-dependent lookup and be ambiguous.
template <class F>
inline constexpr bool is_stream_arg_v = stream::Stream<std::remove_cvref_t<F>>;

// A stream written at the poll level (it has poll_next for its item type).
template <class S>
concept PollNextStream = stream::Stream<S> &&
    requires(S& s, task::Context& cx, std::optional<stream::item_t<S>>& out) {
  { s.poll_next(cx, out) } -> std::same_as<bool>;
};

// A poll-level stream that can be polled with Cx (task::Context always; TryContext when it
// can be asked).
template <class S, class Cx>
concept PollsNextWith = PollNextStream<S> &&
    (std::same_as<Cx, task::Context> ||
     (std::same_as<Cx, TryContext> && AskablePollNext<S, stream::item_t<S>>));

// Internal iteration over the items a stream has ready, Rust's Iterator::try_fold for the
// ready part of a stream. The consumers (fold, collect, any, all) hand the stream a sink,
// `bool sink(T&& item)` (false: stop after this item), through detail::Upstream's
// poll_each. A stream that can loop over its ready items itself (iter over a random-access
// range, and map or filter over such a stream) implements
//
//   template <class Sink> EachResult poll_each(task::Context& cx, Sink& sink);
//
// keeping its position in a local for the whole run, so iter | map | filter | fold compiles
// to one loop with nothing stored per item (bench/NOTES.md: with an item per poll_next, g++
// kept the position and the accumulator in memory, a store and a reload on every item).
// Any other stream is driven by poll_next, one item at a time, with the same result. Budget
// and wakes are those of poll_next: Pending means the task's waker is registered (or a
// forced yield arranged), exactly as a poll_next returning false.
enum class EachResult : uint8_t { Pending, Ended, Stopped };

// A sink of T, declared only: what the PollsEach concept calls poll_each with.
template <class T>
struct EachProbe {
  bool operator()(T&& item) const noexcept;
};

template <class S>
concept PollsEach = PollNextStream<S> &&
    requires(S& s, task::Context& cx, EachProbe<stream::item_t<S>>& sink) {
  { s.poll_each(cx, sink) } -> std::same_as<EachResult>;
};

}  // namespace tokio::detail
