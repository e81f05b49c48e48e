#pragma once
// tokio::Pinned<T> and tokio::pin(task): a Task that keeps its progress across several
// awaits, the C++ spelling of Tokio's `tokio::pin!(fut)` + `&mut fut`.
//
//     auto sleep = tokio::pin(tokio::time::sleep(1s));   // tokio::pin!(sleep)
//     for (;;) {
//       auto r = co_await tokio::select(tokio::when(!sleep.is_terminated(), sleep), rx.recv());
//       if (r.index() == 0) break;                        // the timer fired
//       ...                                               // a message; the timer runs on
//     }
//
// A select branch that names a Pinned lvalue borrows it: losing the select does not cancel
// it, and the next await continues where the last one stopped. Awaiting it after it has
// completed (and handed out its value) throws std::logic_error, as Rust panics on a future
// polled after completion; test is_terminated() first (select's `when` does it per branch).
// set(new_task) is Rust's `fut.set(...)` (the tutorial's resumable operation): the task
// held is cancelled where it stopped and the new one takes its place, not started yet.

#include <new>
#include <stdexcept>
#include <utility>

#include "tokio/core/detail/branch.hpp"
#include "tokio/core/task.hpp"

namespace tokio {

template <class T>
class Pinned {
 public:
  using tokio_awaitable = void;

  explicit Pinned(Task<T> t) noexcept : branch_(std::move(t)) {}
  // The inner chain's slot lives here and is registered by address, so a Pinned never
  // moves (tokio::pin returns it by guaranteed copy elision).
  Pinned(const Pinned&) = delete;
  Pinned& operator=(const Pinned&) = delete;
  Pinned(Pinned&&) = delete;
  Pinned& operator=(Pinned&&) = delete;
  ~Pinned() = default;  // the Branch cancels an unfinished chain

  // True once the task has completed and its value was taken (Rust's FusedFuture).
  bool is_terminated() const noexcept { return taken_; }

  // Rust's Pin::set: drops the task held (cancelling it where it stopped, innermost frame
  // first) and holds `a` instead (a Task<T> or any tokio awaitable of T), not started yet.
  // Call it between awaits, as Rust's borrow rules require: not while a select that
  // borrowed this Pinned is still suspended.
  template <class A>
  void set(A&& a) {
    Task<T> t = detail::to_task(std::forward<A>(a));  // may throw: before the old one goes
    branch_.~Branch();
    ::new (static_cast<void*>(&branch_)) detail::Branch<T>(std::move(t));
    taken_ = false;
  }

  // Awaiting steps the inner chain; destroying the awaiter (a lost select, a timeout)
  // leaves the chain where it stopped.
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter> {
   public:
    explicit Awaiter(Pinned& p) noexcept : p_(&p) {}
    bool poll(task::Context& cx) noexcept {
      if (p_->taken_) return true;  // await_resume reports the misuse
      return p_->branch_.step(cx);
    }
    T await_resume() {
      if (p_->taken_) {
        throw std::logic_error(
            "tokio::Pinned awaited after it completed; check is_terminated() (or use "
            "tokio::when(!fut.is_terminated(), fut) in a select)");
      }
      p_->taken_ = true;
      return p_->branch_.take();
    }

   private:
    Pinned* p_;
  };
  Awaiter operator co_await() & noexcept { return Awaiter(*this); }

 private:
  detail::Branch<T> branch_;
  bool taken_ = false;
};

// tokio::pin!(fut): `auto fut = tokio::pin(make_task());` (any tokio awaitable works too).
template <class A>
auto pin(A&& a) {
  using T = typename decltype(detail::to_task(std::forward<A>(a)))::value_type;
  return Pinned<T>(detail::to_task(std::forward<A>(a)));
}

}  // namespace tokio
