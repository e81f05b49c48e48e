#pragma once
// task::TaskLocal<T>: a value scoped to a task, Tokio's task_local! in C++ form.
//
//   inline tokio::task::TaskLocal<int> REQUEST_ID;
//   co_await REQUEST_ID.scope(42, handle_request());   // REQUEST_ID.get() == 42 inside
//
// The value lives in the scope awaitable and is made visible (through a per-thread list of
// bindings) only while the scoped chain is being polled, so it follows the task from
// thread to thread, is invisible to other tasks, and nested scopes shadow outer ones.
// Spawned tasks do not inherit task-local values.

#include <stdexcept>
#include <type_traits>
#include <utility>

#include "tokio/core/detail/branch.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

struct TaskLocalBinding {
  const void* key;
  void* value;
  TaskLocalBinding* prev;
};

inline void* find_task_local(const void* key) noexcept {
  for (TaskLocalBinding* b = tls.locals; b; b = b->prev) {
    if (b->key == key) return b->value;
  }
  return nullptr;
}

template <class T>
struct TaskLocalHooks {
  const void* key;
  T value;
  TaskLocalBinding binding{};
  TaskLocalBinding* before() noexcept {
    binding = TaskLocalBinding{key, &value, tls.locals};
    TaskLocalBinding* saved = tls.locals;
    tls.locals = &binding;
    return saved;
  }
  void after(TaskLocalBinding* saved) noexcept { tls.locals = saved; }
};

}  // namespace tokio::detail

namespace tokio::task {

template <class T>
class TaskLocal {
 public:
  TaskLocal() = default;
  TaskLocal(const TaskLocal&) = delete;
  TaskLocal& operator=(const TaskLocal&) = delete;

  // Awaitable: runs `operand` with this key bound to `value`.
  template <class A>
  auto scope(T value, A&& operand) const {
    using R = typename decltype(detail::to_task(std::forward<A>(operand)))::value_type;
    return detail::ScopedBranch<R, detail::TaskLocalHooks<T>>(
        detail::to_task(std::forward<A>(operand)),
        detail::TaskLocalHooks<T>{this, std::move(value)});
  }

  // Runs f() synchronously with the key bound to `value`.
  template <class F>
  decltype(auto) sync_scope(T value, F&& f) const {
    detail::TaskLocalHooks<T> hooks{this, std::move(value)};
    struct Restore {
      detail::TaskLocalHooks<T>& h;
      detail::TaskLocalBinding* saved;
      ~Restore() { h.after(saved); }
    } restore{hooks, hooks.before()};
    return std::forward<F>(f)();
  }

  // The bound value; throws std::logic_error when no scope binds it.
  T& get() const {
    if (T* p = try_get()) return *p;
    throw std::logic_error(
        "tokio: task-local value accessed outside its scope: wrap the code in "
        "TaskLocal::scope(value, ...) or sync_scope");
  }
  T* try_get() const noexcept { return static_cast<T*>(detail::find_task_local(this)); }
  template <class F>
  decltype(auto) with(F&& f) const {
    return std::forward<F>(f)(get());
  }
};

}  // namespace tokio::task
