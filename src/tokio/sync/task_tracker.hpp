#pragma once
// sync::TaskTracker (tokio-util's task::TaskTracker, also reachable as task::TaskTracker):
// counts tasks so a server can wait for the ones it started before it exits. With a
// CancellationToken it is Tokio's graceful-shutdown pattern:
//
//   tokio::sync::TaskTracker tracker;
//   tokio::sync::CancellationToken shutdown;
//   for (;;) {                                   // accept loop
//     auto ev = co_await tokio::select(listener.accept(), shutdown.cancelled());
//     if (ev.index() == 1) break;
//     tracker.spawn(serve, std::move(std::get<0>(ev)->first), shutdown);
//   }
//   tracker.close();                             // no more tasks will be added...
//   co_await tracker.wait();                     // ...and every one started has finished
//
// - spawn / spawn_on / spawn_local / spawn_blocking take the same forms as tokio::spawn
//   and friends; the task counts until its body (the callable and its arguments with it)
//   is destroyed, by finishing or by being aborted or cancelled at shutdown.
// - track_future(awaitable) counts a future that is not spawned: a Task that counts while
//   it exists. token() is a plain counted handle (counts until destroyed).
// - wait() completes once the tracker is closed and empty; it waits while the tracker is
//   open even when no task runs, so a loop that adds tasks does not race with it. close()
//   and reopen() may be called any number of times; a closed tracker still tracks.
// - Copies are clones: the same tracker. wait() is cancel-safe.
//
// State word (`Shared::state`, size_t): bit 0 CLOSED, bits 1.. the number of live
// tokens. "Closed and empty" is state == CLOSED. The thread that makes the word equal to
// CLOSED (the last token going away while closed, or close() with no token) calls
// notify_waiters(); a wait() creates its Notified before it reads the word, and
// notify_waiters() completes every Notified created before it, so no wake-up is lost.

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "tokio/core/combinators.hpp"
#include "tokio/core/task.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/task/local_set.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::detail {

struct TaskTrackerShared {
  static constexpr std::size_t CLOSED = 1;
  static constexpr std::size_t ONE = 2;  // one token
  std::atomic<std::size_t> state{0};
  sync::Notify idle;

  void add() noexcept { state.fetch_add(ONE, std::memory_order_relaxed); }
  // acq_rel: the acquire half pairs with the other tokens' releases, so a wait() that sees
  // the word reach CLOSED (acquire load) sees everything every tracked task did.
  void remove() noexcept {
    if (state.fetch_sub(ONE, std::memory_order_acq_rel) == (ONE | CLOSED)) idle.notify_waiters();
  }
};

}  // namespace tokio::detail

namespace tokio::sync {

// Counts as one task of its tracker while it exists. Copies count again.
class TaskTrackerToken {
 public:
  explicit TaskTrackerToken(std::shared_ptr<detail::TaskTrackerShared> s) noexcept
      : s_(std::move(s)) {
    s_->add();
  }
  TaskTrackerToken(const TaskTrackerToken& o) noexcept : TaskTrackerToken(o.s_) {}
  TaskTrackerToken(TaskTrackerToken&& o) noexcept = default;
  TaskTrackerToken& operator=(TaskTrackerToken o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~TaskTrackerToken() {
    if (s_) s_->remove();
  }

 private:
  std::shared_ptr<detail::TaskTrackerShared> s_;
};

class TaskTracker {
  // A callable that holds a token for as long as spawn keeps it. The callable is the first
  // member, so the body's frame still shares the task's block (runtime/detail/task_cell.hpp
  // recognises the coroutine by its object's address; checked with g++ -O2: no frame of
  // its own after the first spawn of a type, as for tokio::spawn).
  template <class F>
  struct Counted {
    F f;
    TaskTrackerToken token;
    template <class... A>
    decltype(auto) operator()(A&&... a) {
      return std::invoke(f, std::forward<A>(a)...);
    }
  };
  template <class T, class A>
  static Task<T> counted_await(TaskTrackerToken, A a) {
    co_return co_await std::move(a);
  }

 public:
  TaskTracker();
  static TaskTracker new_() { return TaskTracker(); }  // Rust's TaskTracker::new()
  // Rust's clone(): the same tracker (as a copy).
  TaskTracker clone() const noexcept { return *this; }
  // A handle to shared state, like Rust's: a move copies it, so a moved-from tracker still
  // works (the same tracker) instead of being empty.
  TaskTracker(const TaskTracker&) = default;
  TaskTracker& operator=(const TaskTracker&) = default;

  // spawn(task) or spawn(callable, args...): tokio::spawn, counted.
  template <class First, class... Rest>
  auto spawn(First&& first, Rest&&... rest) const {
    return tokio::spawn(counted(std::forward<First>(first)), std::forward<Rest>(rest)...);
  }
  // Handle::spawn, counted.
  template <class First, class... Rest>
  auto spawn_on(const runtime::Handle& h, First&& first, Rest&&... rest) const {
    return h.spawn(counted(std::forward<First>(first)), std::forward<Rest>(rest)...);
  }
  // task::spawn_local (inside a LocalSet), counted.
  template <class First, class... Rest>
  auto spawn_local(First&& first, Rest&&... rest) const {
    return task::spawn_local(counted(std::forward<First>(first)), std::forward<Rest>(rest)...);
  }
  // LocalSet::spawn_local, counted.
  template <class First, class... Rest>
  auto spawn_local_on(task::LocalSet& set, First&& first, Rest&&... rest) const {
    return set.spawn_local(counted(std::forward<First>(first)), std::forward<Rest>(rest)...);
  }
  // task::spawn_blocking(f, args...), counted until f returns (or is dropped unrun).
  template <class F, class... Args>
  auto spawn_blocking(F&& f, Args&&... args) const {
    return task::spawn_blocking(Counted<std::decay_t<F>>{std::forward<F>(f), token()},
                                std::forward<Args>(args)...);
  }
  // A Task awaiting `a` that counts while it exists (Rust's track_future).
  template <class A>
    requires detail::TokioAwaitable<A>
  auto track_future(A&& a) const {
    using T = detail::task_value_t<A>;
    return counted_await<T>(token(), detail::to_task(std::forward<A>(a)));
  }
  TaskTrackerToken token() const { return TaskTrackerToken(s_); }

  // Closes the tracker (wait() can then complete); true if it was open.
  bool close() noexcept {
    std::size_t prev =
        s_->state.fetch_or(detail::TaskTrackerShared::CLOSED, std::memory_order_acq_rel);
    if (prev == 0) s_->idle.notify_waiters();  // closed and already empty
    return (prev & detail::TaskTrackerShared::CLOSED) == 0;
  }
  // Opens it again; true if it was closed.
  bool reopen() noexcept {
    return (s_->state.fetch_and(~detail::TaskTrackerShared::CLOSED, std::memory_order_acq_rel) &
            detail::TaskTrackerShared::CLOSED) != 0;
  }
  bool is_closed() const noexcept {
    return (s_->state.load(std::memory_order_acquire) & detail::TaskTrackerShared::CLOSED) != 0;
  }
  // Tasks (and tokens) counted now.
  std::size_t len() const noexcept { return s_->state.load(std::memory_order_acquire) >> 1; }
  bool is_empty() const noexcept { return len() == 0; }
  bool ptr_eq(const TaskTracker& o) const noexcept { return s_ == o.s_; }

  // Completes once the tracker is closed and empty. Holds its own reference, so the
  // tracker may be dropped while it waits.
  Task<> wait() const;

 private:
  template <class First>
  auto counted(First&& first) const {
    if constexpr (detail::TokioAwaitable<std::remove_cvref_t<First>>) {
      return track_future(std::forward<First>(first));
    } else {
      return Counted<std::decay_t<First>>{std::forward<First>(first), token()};
    }
  }
  static Task<> wait_on(std::shared_ptr<detail::TaskTrackerShared> s);

  std::shared_ptr<detail::TaskTrackerShared> s_;
};

}  // namespace tokio::sync

namespace tokio::task {
using sync::TaskTracker;  // tokio-util spells it tokio_util::task::TaskTracker
using sync::TaskTrackerToken;
}  // namespace tokio::task
