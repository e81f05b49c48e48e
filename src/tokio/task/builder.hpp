#pragma once
// task::Builder: spawns a task with a name (Tokio's tokio::task::Builder). The name shows in
// the runtime's task hooks (TaskInfo::name), in unhandled-exception reports and in task
// dumps. Unnamed tasks cost nothing; a named one costs one registry entry, made at spawn
// and removed when the task is freed (runtime/detail/task_names.hpp).
//
//   auto h = tokio::task::Builder().name("conn " + peer.to_string()).spawn(serve, std::move(s));
//
// Each spawn form is the one of the same name without the builder (tokio::spawn,
// task::spawn_local, task::spawn_blocking, Handle::spawn...), and returns the same
// JoinHandle. Tokio's Builder returns io::Result<JoinHandle>; this one throws what the plain
// form throws (std::logic_error outside a runtime).

#include <string>
#include <string_view>
#include <utility>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/runtime.hpp"
#include "tokio/task/local_set.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::task {

class Builder {
 public:
  Builder() = default;
  // Tokio spells it Builder::new().
  static Builder new_() { return Builder(); }

  Builder& name(std::string_view n) & {
    name_.assign(n);
    return *this;
  }
  Builder&& name(std::string_view n) && {
    name_.assign(n);
    return std::move(*this);
  }
  const std::string& get_name() const noexcept { return name_; }

  // tokio::spawn(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn(First&& first, Rest&&... rest) const {
    return detail::spawn_named_on(detail::current_handle_or_throw("task::Builder::spawn"), name_,
                                  std::forward<First>(first), std::forward<Rest>(rest)...);
  }
  // Handle::spawn(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn_on(const runtime::Handle& h, First&& first, Rest&&... rest) const {
    return detail::spawn_named_on(h.inner(), name_, std::forward<First>(first),
                                  std::forward<Rest>(rest)...);
  }
  // task::spawn_local(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn_local(First&& first, Rest&&... rest) const {
    detail::LocalSetShared* s = detail::tls.local_set;
    if (!s) {
      detail::throw_misuse(
          "task::Builder::spawn_local called outside a LocalSet: run the caller inside "
          "LocalSet::run_until (or use Builder::spawn_local_on)");
    }
    return detail::spawn_local_named_on(s, name_, std::forward<First>(first),
                                        std::forward<Rest>(rest)...);
  }
  // LocalSet::spawn_local(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn_local_on(LocalSet& set, First&& first, Rest&&... rest) const {
    return set.spawn_local_named(name_, std::forward<First>(first), std::forward<Rest>(rest)...);
  }
  // task::spawn_blocking(f, args...) with the name.
  template <class F, class... Args>
  auto spawn_blocking(F&& f, Args&&... args) const {
    return detail::spawn_blocking_named_on(
        detail::current_handle_or_throw("task::Builder::spawn_blocking"), name_, std::forward<F>(f),
        std::forward<Args>(args)...);
  }
  // Handle::spawn_blocking(f, args...) with the name.
  template <class F, class... Args>
  auto spawn_blocking_on(const runtime::Handle& h, F&& f, Args&&... args) const {
    return detail::spawn_blocking_named_on(h.inner(), name_, std::forward<F>(f),
                                           std::forward<Args>(args)...);
  }

 private:
  std::string name_;
};

}  // namespace tokio::task
