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

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/task_cell.hpp"
#include "tokio/task/join_handle.hpp"

namespace tokio::detail {

// The set's shared state (a scheduler of its own, task/local_set.cpp).
class LocalSetShared;

LocalSetShared* local_set_create();
void local_set_ref_inc(LocalSetShared* s) noexcept;
void local_set_ref_dec(LocalSetShared* s) noexcept;
// The LocalSet object is going away: cancels the unfinished tasks.
void local_set_shutdown(LocalSetShared* s) noexcept;
// Binds a new task cell to the set and schedules it (or cancels it: set shut down).
void local_set_spawn(LocalSetShared* s, TaskHeader* t) noexcept;
std::size_t local_set_len(const LocalSetShared* s) noexcept;
bool local_set_is_idle(const LocalSetShared* s) noexcept;
// Start of a poll of a set's driver (run_until or co_await local): checks the thread (a
// clear abort naming `what` on another one) and registers `waker` for remote wake-ups.
void local_set_poll_begin(LocalSetShared* s, Wakeable* waker, const char* what);
// Runs up to one tick of local tasks; returns true when more are ready.
bool local_set_tick(LocalSetShared* s);

// Marks a LocalSet::run_until poll in progress on this thread (tls.run_until_depth).
struct RunUntilPoll {
  RunUntilPoll() noexcept { ++tls.run_until_depth; }
  ~RunUntilPoll() { --tls.run_until_depth; }
  RunUntilPoll(const RunUntilPoll&) = delete;
  RunUntilPoll& operator=(const RunUntilPoll&) = delete;
};
// Enters the LocalSet context for a scope.
struct LocalSetEnter {
  LocalSetShared* prev;
  explicit LocalSetEnter(LocalSetShared* s) noexcept : prev(tls.local_set) { tls.local_set = s; }
  ~LocalSetEnter() { tls.local_set = prev; }
  LocalSetEnter(const LocalSetEnter&) = delete;
  LocalSetEnter& operator=(const LocalSetEnter&) = delete;
};

template <class T>
class TOKIO_MUST_AWAIT RunUntil : public Leaf<RunUntil<T>> {
 public:
  RunUntil(LocalSetShared* s, Task<T> t) : s_(s), branch_(std::move(t)) { local_set_ref_inc(s_); }
  RunUntil(RunUntil&& o) noexcept
      : Leaf<RunUntil<T>>(o), s_(detail::exchange(o.s_, nullptr)), branch_(std::move(o.branch_)) {}
  ~RunUntil() {
    if (s_) {
      LocalSetEnter enter(s_);
      branch_.cancel();
      local_set_ref_dec(s_);
    }
  }

  bool poll(task::Context& cx) noexcept {
    local_set_poll_begin(s_, cx.raw_waker(), "LocalSet::run_until");
    LocalSetEnter enter(s_);
    RunUntilPoll polling;  // block_in_place refused meanwhile (task/spawn.cpp)
    if (branch_.step(cx)) return true;
    if (local_set_tick(s_)) cx.wake_by_ref();
    return false;
  }
  T await_resume() { return branch_.take(); }

 private:
  LocalSetShared* s_;
  Branch<T> branch_;
};

// Spawns any tokio awaitable, or callable(args...), onto the set (see make_spawn_cell).
template <class First, class... Rest>
auto spawn_local_named_on(LocalSetShared* s, const NamedSpawn& named, First&& first,
                          Rest&&... rest) {
  auto cell = make_named_spawn_cell(named, std::forward<First>(first), std::forward<Rest>(rest)...);
  local_set_spawn(s, cell.header);
  return task::JoinHandle<typename decltype(cell)::value_type>(cell.header);
}
template <class First, class... Rest>
auto spawn_local_on(LocalSetShared* s, First&& first, Rest&&... rest) {
  auto cell = make_spawn_cell(std::forward<First>(first), std::forward<Rest>(rest)...);
  local_set_spawn(s, cell.header);
  return task::JoinHandle<typename decltype(cell)::value_type>(cell.header);
}

// Drives the set until every local task has finished.
class TOKIO_MUST_AWAIT RunAll : public Leaf<RunAll> {
 public:
  explicit RunAll(LocalSetShared* s) : s_(s) { local_set_ref_inc(s_); }
  RunAll(RunAll&& o) noexcept : Leaf<RunAll>(o), s_(detail::exchange(o.s_, nullptr)) {}
  ~RunAll() {
    if (s_) local_set_ref_dec(s_);
  }
  bool poll(task::Context& cx) noexcept {
    local_set_poll_begin(s_, cx.raw_waker(), "LocalSet");
    LocalSetEnter enter(s_);
    if (local_set_tick(s_)) cx.wake_by_ref();
    return local_set_is_idle(s_);
  }
  void await_resume() const noexcept {}

 private:
  LocalSetShared* s_;
};

}  // namespace tokio::detail

namespace tokio::task {

// What LocalSet::enter() returns (Tokio's LocalEnterGuard): while it lives, task::spawn_local
// on this thread spawns onto that set. Guards nest; end them in reverse order.
class [[nodiscard]] LocalEnterGuard {
 public:
  LocalEnterGuard(const LocalEnterGuard&) = delete;
  LocalEnterGuard& operator=(const LocalEnterGuard&) = delete;

 private:
  friend class LocalSet;
  explicit LocalEnterGuard(detail::LocalSetShared* s) noexcept : ref_(s), enter_(s) {}
  // The set's state outlives the guard (held first, released last).
  struct Ref {
    detail::LocalSetShared* s;
    explicit Ref(detail::LocalSetShared* set) noexcept : s(set) { detail::local_set_ref_inc(s); }
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() { detail::local_set_ref_dec(s); }
  } ref_;
  detail::LocalSetEnter enter_;  // what run_until uses around each poll
};

class LocalSet {
 public:
  LocalSet() : s_(detail::local_set_create()) {}
  LocalSet(const LocalSet&) = delete;
  LocalSet& operator=(const LocalSet&) = delete;
  ~LocalSet() {
    detail::local_set_shutdown(s_);
    detail::local_set_ref_dec(s_);
  }

  // Tokio's LocalSet::enter(): task::spawn_local outside run_until spawns onto this set
  // until the guard ends; the tasks run when the set is next driven (run_until, block_on,
  // co_await).
  LocalEnterGuard enter() const noexcept { return LocalEnterGuard(s_); }

  // Spawns a task that will only ever run on this set's thread.
  template <class First, class... Rest>
  auto spawn_local(First&& first, Rest&&... rest) {
    return detail::spawn_local_on(s_, std::forward<First>(first), std::forward<Rest>(rest)...);
  }

  // spawn_local with a task name (task::Builder::spawn_local_on).
  template <class First, class... Rest>
  auto spawn_local_named(const detail::NamedSpawn& name, First&& first, Rest&&... rest) {
    return detail::spawn_local_named_on(s_, name, std::forward<First>(first),
                                        std::forward<Rest>(rest)...);
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
  // A LocalSet is not movable (its tasks point at it): it is awaited or block_on'd in
  // place. Rust's `local.await` / `rt.block_on(local)` consume it; here the set stays.
  template <class Never = void>
  detail::RunAll operator co_await() && {
    static_assert(!std::is_same_v<Never, Never>,
                  "await a LocalSet as an lvalue: co_await local, or rt.block_on(local) "
                  "(a LocalSet cannot be moved; it stays usable afterwards)");
    return detail::RunAll(s_);
  }
  using tokio_awaitable = void;

  std::size_t len() const noexcept { return detail::local_set_len(s_); }
  bool is_empty() const noexcept { return detail::local_set_is_idle(s_); }

 private:
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
  return detail::spawn_local_on(s, std::forward<First>(first), std::forward<Rest>(rest)...);
}

}  // namespace tokio::task
