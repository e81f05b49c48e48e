#pragma once
// stream::then: maps every item through an asynchronous function, one at a time.
//
//   auto bodies = stream::then(std::move(urls), [](std::string u) { return fetch(std::move(u)); });
//
// f(T) returns a tokio awaitable (a Task<U>, a channel receive...); the stream yields what
// it completes with, in order. The pending call lives in the Then object: a next()
// destroyed while f's awaitable is running leaves it running, and the following next()
// picks its result up (next() is cancel-safe when the inner stream's is). Moving a Then
// while f's awaitable is in progress cancels that awaitable and drops its item. One next()
// at a time: a second task's next() while one waits throws std::logic_error; moving the
// Then meanwhile aborts (detail::NextClaim).
//
// As with tokio::spawn, a capturing lambda coroutine must not be used as f if the frames
// it creates could outlive the Then object (they refer to the lambda inside it).

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/io/detail/child_op.hpp"
#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <class S, class F>
using then_future_t = std::invoke_result_t<F&, item_t<S>&&>;
template <class S, class F>
using then_item_t = tokio::detail::await_result_t<then_future_t<S, F>>;

template <Stream S, class F>
class Then : public PollStream<Then<S, F>, then_item_t<S, F>>,
             public tokio::detail::NextClaim<Then<S, F>> {
  static_assert(tokio::detail::TokioAwaitable<then_future_t<S, F>>,
                "then's function must return a tokio awaitable (for instance a tokio::Task<U>)");
  static_assert(!std::is_void_v<then_item_t<S, F>>, "then's awaitable must produce a value");

 public:
  static constexpr bool kSettlesBudget = true;  // its Upstream and a ChildOp
  static constexpr const char* kTypeName = "stream::Then";
  template <class U>
  Then(U&& s, F f) : in_(std::forward<U>(s)), f_(std::move(f)) {}
  // The claim's check comes first (a base): a move that aborts has not cancelled o's call.
  Then(Then&& o)
      : tokio::detail::NextClaim<Then>(std::move(o)),
        in_((o.fut_.reset(), std::move(o.in_))),
        f_(std::move(o.f_)) {}
  Then& operator=(Then&&) = delete;
  ~Then() { fut_.reset(); }

  bool poll_next(task::Context& cx, std::optional<then_item_t<S, F>>& out) {
    if (!fut_.live()) {
      std::optional<item_t<S>> v;
      if (!in_.poll(cx, v)) return false;
      if (!v) return true;
      fut_.start([&] { return std::invoke(f_, std::move(*v)); });
    }
    if (!fut_.poll(cx)) return false;
    out.emplace(fut_.take());
    return true;
  }

 private:
  tokio::detail::Upstream<S> in_;
  F f_;
  tokio::detail::ChildOp<then_future_t<S, F>> fut_;
};

TOKIO_DETAIL_STREAM_ADAPTER_FN(then, Then)

}  // namespace tokio::stream
