#pragma once
// detail::Upstream<S>: how a combinator holds and polls the stream it wraps.
//
// A poll-level stream (PollNextStream) is polled through its poll_next, nothing else is
// stored. Any other Stream (say, a class whose next() is a Task) has its next() awaitable
// kept in flight here, in a ChildOp, between polls: a combinator's next() that is
// destroyed mid-way leaves the inner next() running, and the following call resumes it.
//
// Moving: the in-flight next() may refer to the stream (a leaf registered by address, a
// coroutine holding `this`), so a move first cancels it on the source, then moves the
// stream; the destructor cancels it before the stream goes. Combinators built on Upstream
// therefore get correct implicit moves.

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/context.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::detail {

// Each inner stream is polled as a leaf of its own: a budget unit it takes and then reports
// not-ready is given back (poll_leaf_restoring, core/detail/poll.hpp), so a StreamMap or a
// merge over many idle streams spends nothing on them (mini_redis with 128 subscriptions
// used to run its connection task out of budget in one poll, every poll).
// Asked (TryContext), an inner stream's leaves take budget only when ready (coop_try):
// nothing to give back.
//
// A combinator that takes budget only through polls settled this way (its Upstreams, a
// ChildOp) says so with `static constexpr bool kSettlesBudget = true;` (SettlesBudget,
// core/detail/poll.hpp) and is polled directly: each settled poll inside it hands
// coop_took back as it found it, so wrapping the combinator's poll again would give back
// nothing, and would cost every item of a pipeline four accesses to the thread's context
// per layer. Adapters that poll a timer themselves (timeout, throttle, chunks_timeout) do
// not say it.

// poll_each driven by poll_next, one item at a time (P: a StreamPoller).
template <class P, class S, class Sink>
EachResult poll_each_by_item(P& p, S& s, task::Context& cx, Sink& sink) {
  for (;;) {
    std::optional<stream::item_t<S>> v;
    if (!p.poll(s, cx, v)) return EachResult::Pending;
    if (!v) return EachResult::Ended;
    if (!sink(std::move(*v))) return EachResult::Stopped;
  }
}

template <class S, bool = PollNextStream<S>>
class StreamPoller {
 public:
  // A stream with its own poll_each loops itself when nothing needs to settle each of its
  // polls (a stream that does not settle its own budget is polled item by item, each poll
  // settled as above).
  template <class Sink>
  EachResult poll_each(S& s, task::Context& cx, Sink& sink) {
    if constexpr (PollsEach<S> && SettlesBudget<S>) {
      return s.poll_each(cx, sink);
    } else {
      return poll_each_by_item(*this, s, cx, sink);
    }
  }
  bool poll(S& s, task::Context& cx, std::optional<stream::item_t<S>>& out) {
    if constexpr (SettlesBudget<S>) {
      return s.poll_next(cx, out);
    } else {
      return poll_leaf_restoring(tls, [&] { return s.poll_next(cx, out); });
    }
  }
  bool poll(S& s, TryContext& cx,
            std::optional<stream::item_t<S>>& out) requires PollsNextWith<S, TryContext> {
    return s.poll_next(cx, out);
  }
  void reset() noexcept {}
};

template <class S>
class StreamPoller<S, false> {
 public:
  bool poll(S& s, task::Context& cx, std::optional<stream::item_t<S>>& out) {
    if (!op_.live()) op_.start([&] { return s.next(); });
    if (!op_.poll(cx)) return false;
    out = op_.take();
    return true;
  }
  template <class Sink>
  EachResult poll_each(S& s, task::Context& cx, Sink& sink) {
    return poll_each_by_item(*this, s, cx, sink);
  }
  void reset() noexcept { op_.reset(); }

 private:
  ChildOp<stream_next_t<S>> op_;
};

template <class S>
class Upstream {
  static_assert(stream::Stream<S>, "expected a tokio::stream::Stream");

 public:
  using Item = stream::item_t<S>;

  template <class U, std::enable_if_t<!std::is_same_v<std::remove_cvref_t<U>, Upstream>, int> = 0>
  explicit Upstream(U&& s) : s_(std::forward<U>(s)) {}
  Upstream(Upstream&& o) noexcept(std::is_nothrow_move_constructible_v<S>)
      : s_((o.p_.reset(), std::move(o.s_))) {}
  Upstream& operator=(Upstream&& o) noexcept(std::is_nothrow_move_assignable_v<S>) {
    if (this != &o) {
      p_.reset();
      o.p_.reset();
      s_ = std::move(o.s_);
    }
    return *this;
  }
  ~Upstream() { p_.reset(); }

  // S::poll_next semantics: false = pending; true = `out` holds an item or stays empty.
  // Cx: task::Context, or TryContext when S can be asked (UpstreamPolls).
  template <PollContext Cx>
  bool poll(Cx& cx, std::optional<Item>& out) {
    return p_.poll(s_, cx, out);
  }
  // Feeds the ready items to sink (EachResult, stream.hpp).
  template <class Sink>
  EachResult poll_each(task::Context& cx, Sink& sink) {
    return p_.poll_each(s_, cx, sink);
  }
  // Cancels an in-flight next() (nothing to do for poll-level streams).
  void cancel() noexcept { p_.reset(); }

  S& get() noexcept { return s_; }
  const S& get() const noexcept { return s_; }
  S take() && {
    p_.reset();
    return std::move(s_);
  }

 private:
  S s_;
  [[no_unique_address]] StreamPoller<S> p_;
};

// What every combinator over one stream starts from: the stream, held in an Upstream,
// reached with get_mut() and given back with into_inner() (an in-flight next() of a stream
// that is not poll-level is cancelled first). As with the futures crate's combinators,
// into_inner() drops what the combinator itself holds: a Peekable's peeked item, a
// ChunksTimeout's partial chunk. The constructors are public so that a combinator can
// inherit them (`using OneUpstream<S>::OneUpstream;`).
// The name a refused second next() reports (PollStream::Next): the stream's own.
template <class S>
constexpr const char* claim_name() {
  if constexpr (requires { S::kTypeName; }) return S::kTypeName;
  else return "stream";
}

template <class S>
class OneUpstream {
 public:
  template <class U,
            std::enable_if_t<!std::is_base_of_v<OneUpstream, std::remove_cvref_t<U>>, int> = 0>
  explicit OneUpstream(U&& s) : in_(std::forward<U>(s)) {}
  S& get_mut() noexcept { return in_.get(); }
  S into_inner() && { return std::move(in_).take(); }
  // A second next() at once is refused where the stream wrapped refuses it (a FramedRead,
  // a ReceiverStream...: PollStream::Next): the combinator's next() claims that stream's
  // next_use(), since it polls the stream's poll_next, not its next().
  auto& next_use() noexcept requires requires(S& s) { s.next_use(); }
  { return in_.get().next_use(); }
  static constexpr const char* kTypeName = claim_name<S>();

 protected:
  Upstream<S> in_;
};

// ... and the function it applies to the items (map, filter, take_while, ...).
template <class S, class F>
class FnUpstream : public OneUpstream<S> {
 public:
  static constexpr bool kSettlesBudget = true;  // they poll only their Upstream
  template <class U>
  FnUpstream(U&& s, F f) : OneUpstream<S>(std::forward<U>(s)), f_(std::move(f)) {}

 protected:
  F f_;
};

// What a combinator over S may be polled with: task::Context, and TryContext when S can be
// asked (a poll-level stream whose poll_next takes one).
template <class S, class Cx>
concept UpstreamPolls = std::same_as<Cx, task::Context> || PollsNextWith<S, Cx>;

// Combinators take their stream by value: an lvalue that cannot be copied gets this hint.
template <class S>
using owned_stream_t = std::remove_cvref_t<S>;

template <class S>
constexpr void check_stream_arg() {
  static_assert(
      stream::Stream<std::remove_cvref_t<S>>,
      "expected a tokio::stream::Stream (something with next() yielding std::optional<T>)");
  static_assert(std::is_constructible_v<std::remove_cvref_t<S>, S&&>,
                "this stream cannot be copied: pass std::move(s), or stream::by_ref(s) to "
                "borrow it");
}

// The pipe form of a combinator: `std::move(s) | stream::map(f)`. F is called with the
// stream (perfectly forwarded).
template <class F>
struct StreamPipe {
  F f;
};
template <class F>
StreamPipe(F) -> StreamPipe<F>;

template <class S, class F>
  requires stream::Stream<std::remove_cvref_t<S>>
auto operator|(S&& s, StreamPipe<F> p) { return std::move(p.f)(std::forward<S>(s)); }

}  // namespace tokio::detail

// The two spellings of a combinator built from the stream and one more argument, defined
// once for all (inside namespace tokio::stream): `name(stream, arg)`, which checks the
// stream argument and builds the adapter, and the pipe form `name(arg)` for
// `std::move(s) | name(arg)`.
//   TOKIO_DETAIL_STREAM_PIPE_FN(name)          the pipe form of name(stream, f), f a callable
//   TOKIO_DETAIL_STREAM_ADAPTER_FN(name, A)    both forms; the adapter is A<Stream, F>
//   TOKIO_DETAIL_STREAM_ADAPTER_COUNT(name, A) both forms; the argument is a count, A<Stream>
#define TOKIO_DETAIL_STREAM_PIPE_FN(name)                                       \
  template <class F>                                                            \
    requires(!::tokio::detail::is_stream_arg_v<F>)                              \
  auto name(F f) {                                                              \
    return ::tokio::detail::StreamPipe{[f = std::move(f)](auto&& s) mutable {   \
      return ::tokio::stream::name(std::forward<decltype(s)>(s), std::move(f)); \
    }};                                                                         \
  }
#define TOKIO_DETAIL_STREAM_ADAPTER_FN(name, A)                                \
  template <class S, class F>                                                  \
    requires Stream<std::remove_cvref_t<S>>                                    \
  auto name(S&& s, F f) {                                                      \
    ::tokio::detail::check_stream_arg<S>();                                    \
    /* NOLINTNEXTLINE(bugprone-macro-parentheses): A names a class template */ \
    return A<std::remove_cvref_t<S>, F>(std::forward<S>(s), std::move(f));     \
  }                                                                            \
  TOKIO_DETAIL_STREAM_PIPE_FN(name)
#define TOKIO_DETAIL_STREAM_ADAPTER_COUNT(name, A)                                         \
  template <class S>                                                                       \
    requires Stream<std::remove_cvref_t<S>>                                                \
  auto name(S&& s, std::size_t n) {                                                        \
    ::tokio::detail::check_stream_arg<S>();                                                \
    /* NOLINTNEXTLINE(bugprone-macro-parentheses): A names a class template */             \
    return A<std::remove_cvref_t<S>>(std::forward<S>(s), n);                               \
  }                                                                                        \
  inline auto name(std::size_t n) {                                                        \
    return ::tokio::detail::StreamPipe{                                                    \
        [n](auto&& s) { return ::tokio::stream::name(std::forward<decltype(s)>(s), n); }}; \
  }
