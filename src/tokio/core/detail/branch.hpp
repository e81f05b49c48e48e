#pragma once
// Branch<T>: a child coroutine chain driven from inside another task's poll. select, join,
// try_join, task-local scopes, unconstrained and LocalSet::run_until are leaves whose poll
// steps one or more branches; a branch shares the task's waker but has its own PollSlot,
// so any number of branches can be suspended at once.
//
// A branch that finishes gives its result to the Branch and its coroutine frame is
// destroyed at once, with the parameters and locals it still held (Tokio's join! drops a
// completed future; an async fn drops its arguments when its body ends): a finished
// join branch that owned a ChildStdin or an mpsc Sender closes it while the other branches
// still run, so a branch waiting for that EOF or close can finish. (For a T whose move
// can throw, the result stays in the frame, which then lives as long as the Branch.)

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class T>
using void_to_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class Branch {
 public:
  explicit Branch(Task<T> t) noexcept : task_(std::move(t)) {}
  Branch(Branch&& o) noexcept : task_(std::move(o.task_)) {}  // only before the first step
  Branch(const Branch&) = delete;

  // Polls the branch once (the first call starts it). Returns true once it finished.
  bool step(task::Context& cx) {
    if (done_) return true;
    if (!started_) {
      started_ = true;
      set_starter(slot_, task_.handle());
    }
    done_ = drive_slot(slot_, cx);
    if (done_ && kReleaseEarly) {
      // At its final suspend: the result moves out, then the frame goes (a destructor
      // that throws there is reported by destroy_finished, as any frame's).
      task_.handle().promise().move_to(out_);
      task_.reset();
    }
    return done_;
  }
  bool done() const noexcept { return done_; }
  bool failed() const noexcept {
    if constexpr (kReleaseEarly) {
      return done_ && out_.exception() != nullptr;
    } else {
      return done_ && task_.handle().promise().has_exception();
    }
  }
  // The finished branch's value; rethrows what it threw.
  T take() {
    if constexpr (kReleaseEarly) {
      return out_.take();
    } else {
      return task_.handle().promise().take();
    }
  }
  void_to_monostate_t<T> take_value() {
    if constexpr (std::is_void_v<T>) {
      take();
      return std::monostate{};
    } else {
      return take();
    }
  }
  // Destroys the branch's coroutines now (cancellation), innermost frame first.
  void cancel() noexcept {
    if (started_ && !done_ && slot_.poll_fn) {
      auto root = task_.release();
      slot_.poll_fn = nullptr;  // idempotent: the destructor cancels again
      destroy_chain(slot_.continuation, root);
      return;
    }
    task_.reset();
  }
  ~Branch() { cancel(); }
  Task<T>& task() noexcept { return task_; }

 private:
  static constexpr bool kReleaseEarly =
      std::is_void_v<T> || std::is_nothrow_move_constructible_v<T>;
  struct NoOutcome {};

  Task<T> task_;
  PollSlot slot_;
  // The finished branch's result (kReleaseEarly), once its frame is gone.
  [[no_unique_address]] std::conditional_t<kReleaseEarly, Outcome<T>, NoOutcome> out_;
  bool started_ = false;
  bool done_ = false;
};

// Calls f(std::integral_constant<size_t, I>) for the runtime index i (a jump table, so the
// result is constructed once, never default-constructed and assigned).
template <std::size_t N, class F>
decltype(auto) with_index(std::size_t i, F&& f) {
  using Fn = std::remove_reference_t<F>;
  using R = decltype(f(std::integral_constant<std::size_t, 0>{}));
  return [&]<std::size_t... I>(std::index_sequence<I...>)->R {
    using Entry = R (*)(Fn&);
    static constexpr Entry table[] = {
        [](Fn& g) -> R { return g(std::integral_constant<std::size_t, I>{}); }...};
    return table[i](f);
  }
  (std::make_index_sequence<N>{});
}

// A one-branch composite that runs `before()`/`after()` around every step of its inner
// chain (task-local scopes, unconstrained).
template <class T, class Hooks>
class ScopedBranch : public Leaf<ScopedBranch<T, Hooks>> {
 public:
  ScopedBranch(Task<T> t, Hooks hooks) : branch_(std::move(t)), hooks_(std::move(hooks)) {}
  ScopedBranch(ScopedBranch&& o) noexcept
      : Leaf<ScopedBranch<T, Hooks>>(o),
        branch_(std::move(o.branch_)),
        hooks_(std::move(o.hooks_)) {}
  ~ScopedBranch() {
    // Destroy the inner chain inside the scope too (its destructors may read the scope).
    if (branch_.task().valid() && !branch_.done()) {
      auto token = hooks_.before();
      branch_.cancel();
      hooks_.after(token);
    }
  }

  bool poll(task::Context& cx) noexcept {
    auto token = hooks_.before();
    bool done = branch_.step(cx);
    hooks_.after(token);
    return done;
  }
  T await_resume() { return branch_.take(); }

  Hooks& hooks() noexcept { return hooks_; }

 private:
  Branch<T> branch_;
  Hooks hooks_;
};

}  // namespace tokio::detail
