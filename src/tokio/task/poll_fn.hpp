#pragma once
// task::poll_fn: build an awaitable from a poll function, Tokio's `poll_fn` in C++ form.
//
//   co_await tokio::task::poll_fn([&](tokio::task::Context& cx) -> std::optional<int> {
//     if (ready()) return value();
//     register_somewhere(cx.waker());   // arrange to be woken, then report "pending"
//     return std::nullopt;
//   });
//
// The function is called on the first await and again every time the task is woken, until
// it returns a value. It must leave the current waker registered whenever it returns
// nullopt (a task's waker can change between polls), and it may be called spuriously. This
// is the adapter for integrating foreign event sources (and the only way to co_await
// something that is not a tokio awaitable inside a tokio::Task).

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/detail/poll.hpp"

namespace tokio::task {

template <class F>
class TOKIO_MUST_AWAIT PollFn : public detail::Leaf<PollFn<F>> {
  using Opt = std::invoke_result_t<F&, Context&>;
  using T = typename Opt::value_type;

 public:
  explicit PollFn(F f) : f_(std::move(f)) {}
  bool poll(Context& cx) noexcept {
    try {
      result_ = f_(cx);
    } catch (...) {
      error_ = std::current_exception();
      return true;
    }
    return result_.has_value();
  }
  T await_resume() {
    if (error_) std::rethrow_exception(error_);
    return std::move(*result_);
  }

 private:
  F f_;
  Opt result_;
  std::exception_ptr error_;
};

template <class F>
auto poll_fn(F f) {
  using Opt = std::invoke_result_t<F&, Context&>;
  static_assert(
      requires(Opt o) {
        o.has_value();
        *o;
      },
      "poll_fn's function must return std::optional<T> (nullopt = pending)");
  return PollFn<F>(std::move(f));
}
// poll_fn(f, args...): f(cx, args&...) with decayed copies of args kept in the awaitable, so
// f can be a capture-less lambda (README, "Compilers").
template <class F, class A, class... Rest>
auto poll_fn(F f, A&& arg, Rest&&... rest) {
  return poll_fn([f = std::move(f), a = std::decay_t<A>(std::forward<A>(arg)),
                  ... r = std::decay_t<Rest>(std::forward<Rest>(rest))](Context& cx) mutable {
    return f(cx, a, r...);
  });
}

}  // namespace tokio::task
