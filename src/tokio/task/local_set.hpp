#pragma once
// task::LocalSet and task::spawn_local: tasks that never leave the thread that owns the set.
//
//   tokio::task::LocalSet local;
//   rt.block_on(local.run_until(async_main()));   // spawn_local works inside
//
// A LocalSet is driven by whoever awaits run_until() (or the set itself): each poll runs
// the awaited future, then up to 61 local tasks. Local tasks woken on the owning thread go
// to a plain local queue; woken from another thread they go to a locked remote queue and
// wake the driving task. Destroying the set cancels its unfinished tasks.

#include <cstdint>
#include <mutex>
#include <pthread.h>
#include <utility>

#include "tokio/core/detail/ring.hpp"
#include "tokio/runtime/detail/inject.hpp"
#include "tokio/runtime/detail/owned_tasks.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/task/spawn.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

class LocalSetShared final : public RefCounted, public Scheduler {
 public:
  LocalSetShared();

  void schedule(TaskHeader* t, bool yield) noexcept override;
  void on_complete(TaskHeader* t) noexcept override { owned_.remove(t); }
  void on_dealloc(uint64_t id) noexcept override { owned_.on_dealloc(id); }

  void spawn(TaskHeader* t) noexcept;
  // Runs up to one tick of local tasks; returns true when more are ready.
  bool tick();
  // Records cx's waker as the one to wake for remote wake-ups.
  void register_waker(Wakeable* w);
  void check_owner(const char* what) const;
  bool is_idle() const noexcept { return owned_.is_empty(); }
  std::size_t len() const noexcept { return owned_.alive(); }
  void shutdown() noexcept;

 private:
  ~LocalSetShared() override;
  TaskHeader* next_task() noexcept;
  bool on_owner_thread() const noexcept { return pthread_equal(owner_, pthread_self()); }

  pthread_t owner_;
  PtrRing<TaskHeader> local_{64};  // owner thread only
  bool closed_ = false;            // owner thread only: set by shutdown()
  Inject remote_;
  OwnedTasks owned_;
  std::mutex waker_mu_;
  Wakeable* waker_ = nullptr;
  uint32_t tick_ = 0;
};

// Enters the LocalSet context for the duration of a poll.
struct LocalSetEnter {
  LocalSetShared* prev;
  explicit LocalSetEnter(LocalSetShared* s) noexcept : prev(tls.local_set) { tls.local_set = s; }
  ~LocalSetEnter() { tls.local_set = prev; }
};

template <class T>
class RunUntil : public Leaf<RunUntil<T>> {
 public:
  RunUntil(LocalSetShared* s, Task<T> t) : s_(s), branch_(std::move(t)) { s_->ref_inc(); }
  RunUntil(RunUntil&& o) noexcept
      : Leaf<RunUntil<T>>(o), s_(std::exchange(o.s_, nullptr)), branch_(std::move(o.branch_)) {}
  ~RunUntil() {
    if (s_) {
      LocalSetEnter enter(s_);
      branch_.cancel();
      s_->ref_dec();
    }
  }

  bool poll(task::Context& cx) noexcept {
    s_->check_owner("LocalSet::run_until");
    LocalSetEnter enter(s_);
    s_->register_waker(cx.raw_waker());
    if (branch_.step(cx)) return true;
    if (s_->tick()) cx.wake_by_ref();
    return false;
  }
  T await_resume() { return branch_.take(); }

 private:
  LocalSetShared* s_;
  Branch<T> branch_;
};

// Drives the set until every local task has finished.
class RunAll : public Leaf<RunAll> {
 public:
  explicit RunAll(LocalSetShared* s) : s_(s) { s_->ref_inc(); }
  RunAll(RunAll&& o) noexcept : Leaf<RunAll>(o), s_(std::exchange(o.s_, nullptr)) {}
  ~RunAll() {
    if (s_) s_->ref_dec();
  }
  bool poll(task::Context& cx) noexcept {
    s_->check_owner("LocalSet");
    LocalSetEnter enter(s_);
    s_->register_waker(cx.raw_waker());
    if (s_->tick()) cx.wake_by_ref();
    return s_->is_idle();
  }
  void await_resume() const noexcept {}

 private:
  LocalSetShared* s_;
};

}  // namespace tokio::detail

namespace tokio::task {

class LocalSet {
 public:
  LocalSet() : s_(new detail::LocalSetShared()) {}
  LocalSet(const LocalSet&) = delete;
  LocalSet& operator=(const LocalSet&) = delete;
  ~LocalSet() {
    s_->shutdown();
    s_->ref_dec();
  }

  // Spawns a task that will only ever run on this set's thread.
  template <class First, class... Rest>
  auto spawn_local(First&& first, Rest&&... rest) {
    auto task = to_task_any(std::forward<First>(first), std::forward<Rest>(rest)...);
    using T = typename decltype(task)::value_type;
    detail::TaskHeader* t = detail::make_task_cell(std::move(task));
    s_->spawn(t);
    return JoinHandle<T>(t);
  }

  // Awaitable: runs `operand` and, meanwhile, this set's tasks.
  template <class A>
  auto run_until(A&& operand) {
    auto task = detail::to_task(std::forward<A>(operand));
    using T = typename decltype(task)::value_type;
    return detail::RunUntil<T>(s_, std::move(task));
  }
  // Runs `operand` to completion on `rt`, driving this set's tasks on the calling thread.
  template <class Rt, class A>
  auto block_on(Rt& rt, A&& operand) {
    return rt.block_on(run_until(std::forward<A>(operand)));
  }
  // co_await local: drives the set until all its tasks have finished.
  detail::RunAll operator co_await() & { return detail::RunAll(s_); }
  using tokio_awaitable = void;

  std::size_t len() const noexcept { return s_->len(); }
  bool is_empty() const noexcept { return s_->is_idle(); }

 private:
  template <class First, class... Rest>
  static auto to_task_any(First&& first, Rest&&... rest) {
    if constexpr (sizeof...(Rest) == 0 && detail::TokioAwaitable<First>) {
      return detail::to_task(std::forward<First>(first));
    } else {
      return detail::invoke_owned(std::decay_t<First>(std::forward<First>(first)),
                                  std::decay_t<Rest>(std::forward<Rest>(rest))...);
    }
  }
  detail::LocalSetShared* s_;
};

// Spawns onto the LocalSet being run on this thread (inside run_until or a local task).
// Throws std::logic_error anywhere else.
template <class First, class... Rest>
auto spawn_local(First&& first, Rest&&... rest) {
  detail::LocalSetShared* s = detail::tls.local_set;
  if (!s) {
    detail::throw_misuse(
        "spawn_local called outside a LocalSet: run the caller inside "
        "LocalSet::run_until (or use LocalSet::spawn_local)");
  }
  auto task = [&] {
    if constexpr (sizeof...(Rest) == 0 && detail::TokioAwaitable<First>) {
      return detail::to_task(std::forward<First>(first));
    } else {
      return detail::invoke_owned(std::decay_t<First>(std::forward<First>(first)),
                                  std::decay_t<Rest>(std::forward<Rest>(rest))...);
    }
  }();
  using T = typename decltype(task)::value_type;
  detail::TaskHeader* t = detail::make_task_cell(std::move(task));
  s->spawn(t);
  return JoinHandle<T>(t);
}

}  // namespace tokio::task
