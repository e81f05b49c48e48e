#pragma once
// task::Builder: spawns a task with a name (Tokio's tokio::task::Builder). The name shows in
// the runtime's task hooks (TaskInfo::name), in unhandled-exception reports and in task
// dumps. Unnamed tasks cost nothing; a named one costs a copy of its name in a small block
// beside the task, made at spawn and freed with the task (runtime/detail/task_names.hpp).
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

#include "tokio/core/detail/task_name.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/runtime.hpp"
#include "tokio/task/local_set.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::task {

class Builder {
 public:
  Builder() = default;
  // A Builder that is kept (copied or moved out of the expression that named it) owns a
  // copy of its name.
  Builder(const Builder& o);
  Builder(Builder&& o);
  Builder& operator=(const Builder& o);
  Builder& operator=(Builder&& o);
  ~Builder() {
    // The statement that named it ends: its offer, if nothing took it (no spawn ran, on
    // this thread), goes.
    if (offered_ && detail::tls.pending_name == name_.data()) detail::clear_pending_name();
  }
  // Tokio spells it Builder::new().
  static Builder new_() { return Builder(); }

  Builder& name(std::string_view n) &;
  // On a temporary (`Builder().name(n).spawn(...)`, one statement) the name is only viewed:
  // `n` lives until the statement ends, and the spawn copies it beside the task. Keeping
  // the result (`auto b = Builder().name(n);`) copies it into `b` (the constructors above).
  // It is also offered to the first task frame created in the statement (the argument of
  // `.spawn(coro(...))`), which then holds it in its own block (core/detail/task_name.hpp).
  Builder&& name(std::string_view n) && {
    // A second name() replaces the name this builder already offered (the last one wins).
    if (offered_ && detail::tls.pending_name == name_.data()) {
      detail::clear_pending_name();
      offered_ = false;
    }
    name_ = n;
    if (!n.empty() && !detail::tls.pending_name) {
      detail::offer_pending_name(n.data(), n.size());
      offered_ = true;
    }
    return std::move(*this);
  }
  std::string_view get_name() const noexcept { return name_; }

  // tokio::spawn(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn(First&& first, Rest&&... rest) const {
    return detail::spawn_named_on(detail::current_handle_or_throw("task::Builder::spawn"), named(),
                                  std::forward<First>(first), std::forward<Rest>(rest)...);
  }
  // Handle::spawn(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn_on(const runtime::Handle& h, First&& first, Rest&&... rest) const {
    return detail::spawn_named_on(h.inner(), named(), std::forward<First>(first),
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
    return detail::spawn_local_named_on(s, named(), std::forward<First>(first),
                                        std::forward<Rest>(rest)...);
  }
  // LocalSet::spawn_local(first, rest...) with the name.
  template <class First, class... Rest>
  auto spawn_local_on(LocalSet& set, First&& first, Rest&&... rest) const {
    return set.spawn_local_named(named(), std::forward<First>(first), std::forward<Rest>(rest)...);
  }
  // task::spawn_blocking(f, args...) with the name.
  template <class F, class... Args>
  auto spawn_blocking(F&& f, Args&&... args) const {
    return detail::spawn_blocking_named_on(
        detail::current_handle_or_throw("task::Builder::spawn_blocking"), named(),
        std::forward<F>(f), std::forward<Args>(args)...);
  }
  // Handle::spawn_blocking(f, args...) with the name.
  template <class F, class... Args>
  auto spawn_blocking_on(const runtime::Handle& h, F&& f, Args&&... args) const {
    return detail::spawn_blocking_named_on(h.inner(), named(), std::forward<F>(f),
                                           std::forward<Args>(args)...);
  }

 private:
  detail::NamedSpawn named() const noexcept { return {name_, offered_}; }
  // The name as a string of its own: moved out when this Builder owns it, else copied.
  std::string take_name();
  std::string owned_;      // the name, when this Builder holds its own copy
  std::string_view name_;  // the name: owned_, or the caller's string on a temporary Builder
  bool offered_ = false;   // name_ is in tls.pending_name (name() on a temporary)
};

}  // namespace tokio::task
