#pragma once
// Task cells for coroutine tasks: the vtable of a spawned tokio::Task<T> and the step that
// turns an unstarted Task into a cell in its own frame block (see task_header.hpp).

#include <coroutine>
#include <new>
#include <utility>

#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

void task_wake(Wakeable* w) noexcept;
void task_wake_by_ref(Wakeable* w) noexcept;
void task_clone(Wakeable* w) noexcept;
void task_drop(Wakeable* w) noexcept;

template <class T>
struct TaskCellOps {
  using Handle = std::coroutine_handle<Promise<T>>;
  static Handle root(TaskHeader* t) noexcept {
    return Handle::from_address(reinterpret_cast<char*>(t) + kTaskPrefix);
  }
  // Destroys the frame but keeps its block, then builds the output where the frame was.
  static Outcome<T>* destroy_frame(Handle h) noexcept {
    void* frame = h.address();
    ThreadContext& c = tls;
    void* saved = c.keep_frame;  // a destructor may finish another task cell meanwhile
    c.keep_frame = frame;
    h.destroy();
    c.keep_frame = saved;
    return new (frame) Outcome<T>();
  }
  static void finish(TaskHeader* t) noexcept {
    Handle h = root(t);
    Outcome<T> result;
    h.promise().move_to(result);
    destroy_frame(h)->move_from(result);
  }
  static void cancel(TaskHeader* t) noexcept { destroy_frame(root(t))->set_cancelled(); }
  static void drop_output(TaskHeader* t) noexcept { output_of<T>(t)->clear(); }
  static void dealloc(TaskHeader* t) noexcept {
    output_of<T>(t)->~Outcome<T>();
    t->~TaskHeader();
    frame_free(t);
  }
  static constexpr TaskVTable vtable{
      {&task_wake, &task_wake_by_ref, &task_clone, &task_drop},
      &task_run_coroutine, &finish, &cancel, &drop_output, &dealloc};
};

// Converts an unstarted Task into a task cell in its own frame block. The header starts
// with the refs in TaskState::INITIAL; the caller binds it to a scheduler and schedules it.
template <class T>
TaskHeader* make_task_cell(Task<T>&& task) {
  auto h = task.release();
  if (!h) throw_misuse("spawn of an empty tokio::Task (moved-from or default)");
  if (h.done()) throw_misuse("spawn of a tokio::Task that already ran");
  // The frame address is what the promise's operator new returned (GCC and Clang), so the
  // prefix is right in front of it.
  auto* t = new (static_cast<char*>(h.address()) - kTaskPrefix) TaskHeader();
  t->wakeable.vtable = &TaskCellOps<T>::vtable.waker;
  t->id = next_task_id();
  set_starter(t->slot, h);
  return t;
}


}  // namespace tokio::detail
