#pragma once
// tokio::spawn, task::spawn_blocking, task::block_in_place, task::yield_now,
// task::consume_budget and task::id.

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/entry.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/runtime/runtime.hpp"
#include "tokio/task/detail/spawn_impl.hpp"
#include "tokio/task/join_handle.hpp"

namespace tokio::detail {

// block_in_place's region (task/spawn.cpp): on a multi-thread worker, hands the worker's
// core to a new thread and lifts the coop budget until exit; elsewhere does nothing.
struct BlockInPlace {
  HandleInner* handle;  // null when no core was handed off
  int32_t budget;
  bool region;  // tls.blocking_region was raised (blocking and a nested block_on allowed)
};
BlockInPlace block_in_place_enter();
void block_in_place_exit(BlockInPlace s) noexcept;

// The task task::id() names: the one being polled here, else the spawn_blocking task whose
// closure runs on this thread; null outside both.
inline TaskHeader* id_task() noexcept {
  if (TaskHeader* t = tls.task) return t;
  return tls.blocking_task;
}
}  // namespace tokio::detail

namespace tokio {

// Spawns a task onto the current runtime and returns its JoinHandle. Forms:
//   spawn(task)              a tokio::Task (or any tokio awaitable)
//   spawn(callable, args...) the callable and decayed copies of args are kept alive until
//                            the coroutine it returns finishes: a capturing lambda coroutine
//                            cannot dangle in this form.
// Throws std::logic_error outside a runtime.
template <class First, class... Rest>
auto spawn(First&& first, Rest&&... rest) {
  return detail::spawn_any_on(detail::current_handle_or_throw("tokio::spawn"),
                              std::forward<First>(first), std::forward<Rest>(rest)...);
}

namespace task {

using tokio::spawn;

// Runs a blocking closure on the runtime's blocking pool: spawn_blocking(f) or
// spawn_blocking(f, args...) (f is called with decayed copies of args, moved in). The
// JoinHandle yields its result (or rethrows what it threw). Once started it cannot be
// aborted; a closure still queued when the runtime shuts down is cancelled.
template <class F, class... Args>
auto spawn_blocking(F&& f, Args&&... args) {
  return detail::spawn_blocking_on(detail::current_handle_or_throw("task::spawn_blocking"),
                                   std::forward<F>(f), std::forward<Args>(args)...);
}

// Runs blocking code on the current worker thread after handing the worker's other tasks
// to a new thread, so they keep running meanwhile. Multi-thread runtime only (throws
// std::logic_error on a current-thread runtime, and inside LocalSet::run_until, whose local
// tasks could not move meanwhile, as in Tokio); outside any runtime it just calls f.
template <class F>
decltype(auto) block_in_place(F&& f) {
  struct Region {
    detail::BlockInPlace state;
    Region() : state(detail::block_in_place_enter()) {}
    ~Region() { detail::block_in_place_exit(state); }
  } region;
  return std::forward<F>(f)();
}

// Yields to the scheduler: the task resumes after the other ready tasks (and the I/O and
// time drivers) had a turn. As in Tokio the wake-up is deferred until the worker would
// otherwise go idle.
class TOKIO_MUST_AWAIT YieldNow : public detail::Leaf<YieldNow> {
 public:
  bool poll(Context& cx) noexcept {
    if (yielded_) return true;
    yielded_ = true;
    detail::defer_wake(cx);
    return false;
  }
  void await_resume() const noexcept {}

 private:
  bool yielded_ = false;
};
inline YieldNow yield_now() noexcept { return YieldNow(); }

// Consumes one unit of the coop budget, yielding when it is exhausted. Put it in long
// compute loops that never await a resource.
class TOKIO_MUST_AWAIT ConsumeBudget : public detail::Leaf<ConsumeBudget> {
 public:
  bool poll(Context& cx) noexcept { return detail::coop_poll_proceed(cx); }
  void await_resume() const noexcept {}
};
inline ConsumeBudget consume_budget() noexcept { return ConsumeBudget(); }

// True while the current task still has coop budget left.
inline bool has_budget_remaining() noexcept { return detail::tls.budget != 0; }

// The id of the task being polled, or of the spawn_blocking task whose closure runs on
// this thread (detail::id_task); none (try_id) or a throw (id) outside a spawned task.
// try_id is out of line (spawn.cpp) so that its std::optional<Id> is instantiated there,
// not in every user TU.
std::optional<Id> try_id() noexcept;
inline Id id() {
  if (detail::TaskHeader* t = detail::id_task()) return Id{t->id()};
  detail::throw_misuse(
      "task::id() called outside a spawned task (a block_on root or a plain thread has no "
      "id: use task::try_id() there)");
}

}  // namespace task
}  // namespace tokio

// --- the spawn members of Runtime and Handle (declared in runtime/runtime.hpp) -----------
namespace tokio::runtime {

template <class First, class... Rest>
auto Handle::spawn(First&& first, Rest&&... rest) const {
  return detail::spawn_any_on(inner(), std::forward<First>(first), std::forward<Rest>(rest)...);
}
template <class F, class... Args>
auto Handle::spawn_blocking(F&& f, Args&&... args) const {
  return detail::spawn_blocking_on(inner(), std::forward<F>(f), std::forward<Args>(args)...);
}
template <class First, class... Rest>
auto Runtime::spawn(First&& first, Rest&&... rest) {
  return detail::spawn_any_on(checked(), std::forward<First>(first), std::forward<Rest>(rest)...);
}
template <class F, class... Args>
auto Runtime::spawn_blocking(F&& f, Args&&... args) {
  return detail::spawn_blocking_on(checked(), std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace tokio::runtime
