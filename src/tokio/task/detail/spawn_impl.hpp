#pragma once
// Spawning onto a runtime: coroutine tasks and spawn_blocking closures.

#include <exception>
#include <functional>
#include <type_traits>
#include <utility>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class T>
task::JoinHandle<T> spawn_task_on(HandleInner* h, Task<T>&& task) {
  TaskHeader* t = make_task_cell(std::move(task));
  h->spawn(t);
  return task::JoinHandle<T>(t);
}

// Spawns any tokio awaitable, or callable(args...) returning one (see invoke_owned).
template <class First, class... Rest>
auto spawn_any_on(HandleInner* h, First&& first, Rest&&... rest) {
  if constexpr (sizeof...(Rest) == 0 && TokioAwaitable<First>) {
    return spawn_task_on(h, to_task(std::forward<First>(first)));
  } else {
    static_assert(std::is_invocable_v<std::decay_t<First>&, std::decay_t<Rest>&&...>,
                  "spawn(f, args...) needs a callable f(args...) returning a tokio::Task or "
                  "another tokio awaitable");
    return spawn_task_on(h, invoke_owned(std::decay_t<First>(std::forward<First>(first)),
                                         std::decay_t<Rest>(std::forward<Rest>(rest))...));
  }
}

// A spawn_blocking task: header, output, then the closure. No coroutine frame.
template <class F, class R>
struct BlockingCell {
  TaskHeader header;
  Outcome<R> output;
  union {
    F fn;
  };
  explicit BlockingCell(F&& f) : fn(std::move(f)) {}
  ~BlockingCell() {}

  static BlockingCell* of(TaskHeader* t) noexcept { return reinterpret_cast<BlockingCell*>(t); }

  static void run(TaskHeader* t) noexcept {
    if (!task_begin_run(t)) return;
    BlockingCell* c = of(t);
    try {
      if constexpr (std::is_void_v<R>) {
        std::invoke(c->fn);
        c->output.set_value();
      } else {
        c->output.set_value(std::invoke(c->fn));
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
  static void dealloc(TaskHeader* t) noexcept {
    of(t)->~BlockingCell();
    frame_free(t);
  }
  static constexpr TaskVTable vtable{
      {&task_wake, &task_wake_by_ref, &task_clone, &task_drop}, &run, &finish, &cancel,
      &drop_output, &dealloc};
};

template <class F>
auto spawn_blocking_on(HandleInner* h, F&& f) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  using Cell = BlockingCell<Fn, R>;
  void* mem = frame_alloc(sizeof(Cell));
  Cell* c;
  try {
    c = new (mem) Cell(Fn(std::forward<F>(f)));
  } catch (...) {
    frame_free(mem);
    throw;
  }
  // output_of<R> finds the output right after the 64-byte header.
  static_assert(kTaskPrefix % alignof(Outcome<R>) == 0);
  TaskHeader* t = &c->header;
  t->wakeable.vtable = &Cell::vtable.waker;
  t->id = next_task_id();
  h->blocking.spawn_task(t);
  return task::JoinHandle<R>(t);
}

}  // namespace tokio::detail
