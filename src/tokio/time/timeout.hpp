#pragma once
// time::timeout and time::timeout_at: put a deadline on any awaitable.
//
//   auto r = co_await tokio::time::timeout(2s, fetch());   // Result<T, time::Elapsed>
//   if (!r) { /* took too long: fetch() was cancelled */ }
//
// The operand (a tokio::Task or any tokio awaitable) runs inside the awaiting task. If it
// finishes first its value (or exception) is returned; if the deadline passes first the
// operand is destroyed, exactly as if its task had been aborted, and the result holds
// time::Elapsed (`r.value()` then throws it: it is a std::exception). The operand is polled
// before the deadline, so a ready operand wins even against an elapsed deadline, and the
// timer is only registered when the operand actually has to wait: a timeout around work
// that completes at once costs no lock. As in Tokio, when the operand used up the task's
// coop budget the deadline is still checked, so a busy operand cannot outlive it.
//
// A Timeout held in a variable and awaited as an lvalue (`co_await t`) keeps its operand
// when the deadline passes, as Tokio's Timeout keeps its future until it is dropped:
// awaiting it again polls the operand first, so it yields the value once the operand
// finishes (and Elapsed again until then); the operand goes with the Timeout. Awaited as
// a temporary, the operand is destroyed before the Elapsed is handed out.

#include <chrono>
#include <coroutine>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/display.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/core/combinators.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/time/instant.hpp"
#include "tokio/time/detail/timer.hpp"

namespace tokio::time {

// The error of a timeout whose deadline passed.
struct Elapsed : std::exception {
  const char* what() const noexcept override { return "deadline has elapsed"; }
  // Display, as Tokio's: `std::cout << e` and to_string(e) give "deadline has elapsed".
  std::string to_string() const { return what(); }
  friend bool operator==(const Elapsed&, const Elapsed&) noexcept { return true; }
};
inline std::string to_string(const Elapsed& e) { return e.to_string(); }
using detail::operator<<;
namespace error {
using tokio::time::Elapsed;  // Tokio spells it time::error::Elapsed too
}  // namespace error

// B: how the operand runs (detail::make_branch): polled directly when it is a plain leaf
// (a receive, a read...), else as a Task.
template <class T, class B = detail::Branch<T>>
class TOKIO_MUST_AWAIT Timeout {
 public:
  using tokio_awaitable = void;
  using Output = Result<T, Elapsed>;

  // maker: a detail::InPlace giving the branch (built where it is stored, no move).
  template <class M>
  Timeout(M&& maker, Instant deadline)
      : inner_(std::forward<M>(maker)), timer_(deadline, "time::timeout") {}
  // Only before it is first polled.
  Timeout(Timeout&& o) noexcept : inner_(std::move(o.inner_)), timer_(o.timer_) {}

  Instant deadline() const noexcept { return timer_.deadline(); }

  // Poll form: true once the operand finished or the deadline passed (then take the
  // result with take()).
  bool poll(task::Context& cx) noexcept {
    if (finished_) return true;  // take() reports it
    const bool had_budget = detail::tls.budget != 0;
    if (inner_.step(cx)) {
      elapsed_ = false;  // an operand kept past its deadline finished: its value wins
      return true;
    }
    if (had_budget && detail::tls.budget == 0) {
      // The operand spent the budget: check the deadline anyway (unconstrained).
      elapsed_ = timer_.poll(cx);
      return elapsed_;
    }
    if (!detail::coop_poll_proceed(cx)) return false;
    elapsed_ = timer_.poll(cx);
    return elapsed_;
  }
  // The operand is a leaf that can be asked without registering (Leaf's try_poll).
  static constexpr bool kTries = requires { requires B::kTries; };
  // poll without registering: the operand's answer first (a ready operand wins, as in
  // poll), then whether the deadline has passed (budget as in poll); neither the operand
  // nor the timer is registered when both say no.
  bool try_poll() noexcept requires kTries {
    if (finished_) return true;
    const bool had_budget = detail::tls.budget != 0;
    if (inner_.try_step()) {
      elapsed_ = false;
      return true;
    }
    if (had_budget && detail::tls.budget == 0) {
      // The operand spent the budget (a stream that skipped items): the deadline is
      // checked anyway, as poll does.
      elapsed_ = timer_.try_poll();
      return elapsed_;
    }
    elapsed_ = detail::coop_try([&] { return timer_.try_poll(); });
    return elapsed_;
  }
  // After poll() returned true: the operand's value (or its exception), or Elapsed (the
  // operand is then destroyed).
  Output take() { return finish(false); }

  // The awaiter refers to the Timeout, so an lvalue Timeout is awaited in place (and keeps
  // its operand past the deadline: see the top of this file).
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter> {
   public:
    static constexpr const char* kLeafName = "time::timeout";  // in task dumps
    Awaiter(Timeout& t, bool keep) noexcept : t_(&t), keep_(keep) {}
    bool poll(task::Context& cx) noexcept { return t_->poll(cx); }
    bool try_poll() noexcept requires kTries { return t_->try_poll(); }
    void before_first_poll() { t_->timer_.resolve_or_throw("time::timeout"); }
    Output await_resume() { return t_->finish(keep_); }

   private:
    Timeout* t_;
    bool keep_;
  };
  Awaiter operator co_await() & noexcept { return Awaiter(*this, true); }
  Awaiter operator co_await() && noexcept { return Awaiter(*this, false); }

 private:
  // keep_inner: an Elapsed leaves the operand in place for a later await (lvalue await).
  Output finish(bool keep_inner) {
    if (finished_) {
      // The operand is gone: destroyed at its deadline (Elapsed again, nothing to poll) or
      // its value already handed out (Tokio would poll a finished future again).
      if (elapsed_) return unexpected(Elapsed{});
      detail::throw_misuse("time::timeout: awaited again after its operand's value was taken");
    }
    if (elapsed_) {
      if (!keep_inner) {
        inner_.cancel();  // the operand is destroyed before the caller resumes
        finished_ = true;
      }
      timer_.throw_if_errored("time::timeout");  // the runtime went, the deadline did not
      return unexpected(Elapsed{});
    }
    finished_ = true;
    timer_.cancel();
    if constexpr (std::is_void_v<T>) {
      inner_.take();
      return Output();
    } else {
      return Output(inner_.take());
    }
  }

  B inner_;
  detail::Timer timer_;
  bool elapsed_ = false;
  bool finished_ = false;  // the operand's value was taken, or it was destroyed (Elapsed)
};

// Runs `operand` until it finishes or `deadline` passes.
template <class A>
auto timeout_at(Instant deadline, A&& operand) {
  using B = detail::branch_t<A>;
  return Timeout<typename B::value_type, B>(
      detail::InPlace{[&] { return detail::make_branch(std::forward<A>(operand)); }}, deadline);
}

// Runs `operand` until it finishes or `d` has passed.
template <class Rep, class Period, class A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& operand) {
  return timeout_at(detail::deadline_after(d), std::forward<A>(operand));
}

}  // namespace tokio::time

namespace tokio::detail {
template <>
struct enable_display<time::Elapsed> : std::true_type {};
}  // namespace tokio::detail
