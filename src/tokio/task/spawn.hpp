#pragma once
// tokio::spawn, task::spawn_blocking, task::block_in_place, task::yield_now,
// task::consume_budget and task::id.

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/detail/spawn_impl.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/core/detail/poll.hpp"

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

// Runs a blocking closure on the runtime's blocking pool. The JoinHandle yields its result
// (or rethrows what it threw). Once started it cannot be aborted; a closure still queued
// when the runtime shuts down is cancelled.
template <class F>
auto spawn_blocking(F&& f) {
  return detail::spawn_blocking_on(detail::current_handle_or_throw("task::spawn_blocking"),
                                   std::forward<F>(f));
}

// Runs blocking code on the current worker thread after handing the worker's other tasks
// to a new thread, so they keep running meanwhile. Multi-thread runtime only (throws
// std::logic_error on a current-thread runtime); outside any runtime it just calls f.
template <class F>
decltype(auto) block_in_place(F&& f) {
  detail::HandleInner* h = detail::tls.handle;
  if (h && h->on_worker_thread()) {
    if (h->flavor() == runtime::RuntimeFlavor::CurrentThread) {
      detail::throw_misuse(
          "block_in_place can only be used on the multi-thread runtime; use spawn_blocking "
          "on a current-thread runtime");
    }
    struct Region {
      detail::HandleInner* h;
      int32_t budget;
      explicit Region(detail::HandleInner* hh) : h(hh), budget(detail::tls.budget) {
        h->block_in_place_begin();
        ++detail::tls.blocking_region;
        detail::tls.budget = -1;
      }
      ~Region() {
        --detail::tls.blocking_region;
        detail::tls.budget = budget;
        h->block_in_place_end();
      }
    } region(h);
    return std::forward<F>(f)();
  }
  return std::forward<F>(f)();
}

// Yields to the scheduler: the task resumes after the other ready tasks (and the I/O and
// time drivers) had a turn. As in Tokio the wake-up is deferred until the worker would
// otherwise go idle.
class YieldNow : public detail::Leaf<YieldNow> {
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
class ConsumeBudget : public detail::Leaf<ConsumeBudget> {
 public:
  bool poll(Context& cx) noexcept { return detail::coop_poll_proceed(cx); }
  void await_resume() const noexcept {}
};
inline ConsumeBudget consume_budget() noexcept { return ConsumeBudget(); }

// True while the current task still has coop budget left.
inline bool has_budget_remaining() noexcept { return detail::tls.budget != 0; }

// The id of the task being polled; throws outside a spawned task.
inline Id id() {
  if (detail::TaskHeader* t = detail::tls.task) return Id{t->id};
  detail::throw_misuse("task::id() called outside a spawned task");
}
inline std::optional<Id> try_id() noexcept {
  if (detail::TaskHeader* t = detail::tls.task) return Id{t->id};
  return std::nullopt;
}

}  // namespace task
}  // namespace tokio
