#pragma once
// Spawning onto a runtime: coroutine tasks and spawn_blocking closures. The runtime itself
// is reached through runtime/detail/entry.hpp only.

#include <exception>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/invoke.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/entry.hpp"
#include "tokio/runtime/detail/task_cell.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/task/join_handle.hpp"

namespace tokio::detail {

// Spawns any tokio awaitable, or callable(args...) returning one (see make_spawn_cell),
// named `name` unless it is empty (task::Builder). The name is set before the task is
// bound, so the spawn hook and a dump already see it.
template <class First, class... Rest>
auto spawn_named_on(HandleInner* h, const NamedSpawn& named, First&& first, Rest&&... rest) {
  auto cell = make_named_spawn_cell(named, std::forward<First>(first), std::forward<Rest>(rest)...);
  spawn_on(h, cell.header);
  return task::JoinHandle<typename decltype(cell)::value_type>(cell.header);
}
template <class First, class... Rest>
auto spawn_any_on(HandleInner* h, First&& first, Rest&&... rest) {
  auto cell = make_spawn_cell(std::forward<First>(first), std::forward<Rest>(rest)...);
  spawn_on(h, cell.header);
  return task::JoinHandle<typename decltype(cell)::value_type>(cell.header);
}

// A spawn_blocking task: header, output, then the closure. No coroutine frame.
template <class F, class R>
struct BlockingCell {
  TaskHeader header;
  Outcome<R> output;
  // The runtime whose UnhandledException policy reports an exception nobody reads (Tokio
  // prints a spawn_blocking closure's panic too). A reference on it is held from the
  // spawn to dealloc, so a JoinHandle dropped after the runtime can still report.
  HandleInner* owner = nullptr;
  union {
    F fn;
  };
  explicit BlockingCell(F&& f) : fn(std::move(f)) {}
  ~BlockingCell() {}

  static BlockingCell* of(TaskHeader* t) noexcept { return reinterpret_cast<BlockingCell*>(t); }

  static void run(TaskHeader* t) noexcept {
    if (!task_begin_run(t)) return;
    BlockingCell* c = of(t);
    // task::id() in the closure is this task's, as in Tokio.
    struct IdScope {
      TaskHeader* saved;
      explicit IdScope(TaskHeader* t) noexcept : saved(detail::exchange(tls.blocking_task, t)) {}
      ~IdScope() { tls.blocking_task = saved; }
    } id_scope(t);
    try {
      if constexpr (std::is_void_v<R>) {
        detail::invoke(c->fn);
        c->output.set_value();
      } else {
        c->output.set_value(detail::invoke(c->fn));
      }
    } catch (...) {
      c->output.set_exception(std::current_exception());
    }
    c->fn.~F();
    task_complete(t);
  }
  static void finish(TaskHeader*) noexcept {}
  static void cancel(TaskHeader* t) noexcept {
    BlockingCell* c = of(t);
    c->fn.~F();
    c->output.set_cancelled();
  }
  static void drop_output(TaskHeader* t) noexcept { of(t)->output.clear(); }
  static const std::exception_ptr* exception(TaskHeader* t) noexcept {
    return of(t)->output.exception();
  }
  static void dealloc(TaskHeader* t) noexcept {
    HandleInner* h = of(t)->owner;
    of(t)->~BlockingCell();
    frame_free(t);
    if (h) handle_ref_dec(h);
  }
  static Scheduler* reporter(TaskHeader* t) noexcept {
    HandleInner* h = of(t)->owner;
    return h ? handle_scheduler(h) : nullptr;
  }
  static constexpr TaskVTable vtable{{&task_wake, &task_wake_by_ref, &task_clone, &task_drop},
                                     &run,
                                     &finish,
                                     &cancel,
                                     &drop_output,
                                     &dealloc,
                                     &exception,
                                     &reporter};
};

// The closure a blocking cell runs: `f` alone, or f bound to decayed copies of `args`
// (moved into the call, so by-value parameters take them over).
template <class F, class... Args>
auto make_blocking_fn(F&& f, Args&&... args) {
  if constexpr (!spawn_operands_storable<F, Args...>()) {
    // Not reached: its static_assert stops the build. A stand-in of the right result type
    // keeps the callers (JoinSet<T>::spawn_blocking) from adding errors of their own.
    return []() -> std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...> {
      std::terminate();
    };
  } else if constexpr (sizeof...(Args) == 0) {
    return std::decay_t<F>(std::forward<F>(f));
  } else {
    static_assert(std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&&...>,
                  "spawn_blocking(f, args...) needs a callable f(args...)");
    return [fn = std::decay_t<F>(std::forward<F>(f)),
            ... a = std::decay_t<Args>(std::forward<Args>(args))]() mutable -> decltype(auto) {
      return detail::invoke(fn, std::move(a)...);
    };
  }
}

// Mandatory: the job runs even when the runtime shuts down before a thread took it (the
// stdio writes, as fs::File's: output accepted by a write is never dropped at exit).
template <bool Mandatory, class F, class... Args>
auto spawn_blocking_cell_named(HandleInner* h, std::string_view name, F&& f, Args&&... args) {
  using Fn = decltype(make_blocking_fn(std::forward<F>(f), std::forward<Args>(args)...));
  using R = std::invoke_result_t<Fn&>;
  using Cell = BlockingCell<Fn, R>;
  void* mem = frame_alloc(sizeof(Cell));
  Cell* c;
  try {
    c = new (mem) Cell(make_blocking_fn(std::forward<F>(f), std::forward<Args>(args)...));
  } catch (...) {
    frame_free(mem);
    throw;
  }
  // output_of<R> finds the output right after the header.
  static_assert(kTaskPrefix % alignof(Outcome<R>) == 0);
  TaskHeader* t = &c->header;
  t->wakeable.vtable = &Cell::vtable.waker;
  t->set_id(next_task_id());
  if (!name.empty()) set_task_name(t, name.data(), name.size());
  handle_ref_inc(h);
  c->owner = h;
  spawn_blocking_cell_on(h, t, Mandatory);
  return task::JoinHandle<R>(t);
}
template <bool Mandatory = false, class F, class... Args>
auto spawn_blocking_named_on(HandleInner* h, const NamedSpawn& named, F&& f, Args&&... args) {
  if (named.name.empty()) {
    return spawn_blocking_cell_named<Mandatory>(h, {}, std::forward<F>(f),
                                                std::forward<Args>(args)...);
  }
  NamingScope naming(named, 0);  // no frame to name; ends the Builder's offer
  return spawn_blocking_cell_named<Mandatory>(h, named.name, std::forward<F>(f),
                                              std::forward<Args>(args)...);
}
template <class F, class... Args>
auto spawn_blocking_on(HandleInner* h, F&& f, Args&&... args) {
  return spawn_blocking_named_on(h, {}, std::forward<F>(f), std::forward<Args>(args)...);
}
template <class F>
auto spawn_blocking_mandatory_on(HandleInner* h, F&& f) {
  return spawn_blocking_named_on<true>(h, {}, std::forward<F>(f));
}

}  // namespace tokio::detail
