#pragma once
// runtime::Runtime, runtime::Handle and runtime::EnterGuard.
//
// spawn and spawn_blocking of Runtime and Handle are declared here and defined with the
// rest of the task API (task/spawn.hpp): the public task layer sits above the runtime.

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/entry.hpp"
#include "tokio/runtime/dump.hpp"
#include "tokio/runtime/flavor.hpp"
#include "tokio/runtime/metrics.hpp"

namespace tokio::detail {

// Drives any tokio awaitable to completion on `h` from the calling thread.
template <class A>
auto block_on_impl(HandleInner* h, A&& awaitable) {
  auto task = to_task(std::forward<A>(awaitable));
  PollSlot slot;
  set_starter(slot, task.handle());
  try {
    block_on_slot(h, slot);
  } catch (...) {
    // The runtime gave up on the future (UnhandledException::ShutdownRuntime): destroy
    // its suspended chain innermost first, as a cancelled task's.
    if (slot.poll_fn && slot.continuation) destroy_chain(slot.continuation, task.release());
    throw;
  }
  return task.handle().promise().take();
}

}  // namespace tokio::detail

namespace tokio::runtime {

// While alive, makes its runtime the calling thread's current one (so tokio::spawn and
// Handle::current work from plain code). It holds a reference on the runtime's shared
// state (as a Handle does), so the runtime may be shut down while the guard lives: a spawn
// through it is then refused with a cancelled JoinHandle. Guards must be destroyed in
// reverse order on the thread that made them; one dropped out of order, or on another
// thread, aborts the process with a message (Tokio panics), since the thread's current
// runtime would be left wrong. A guard can be moved (into a std::optional, a member; Tokio's
// EnterGuard moves too) on its thread; the moved-from one does nothing when destroyed.
class [[nodiscard]] EnterGuard {
 public:
  explicit EnterGuard(detail::HandleInner* h) noexcept;
  EnterGuard(EnterGuard&& o) noexcept
      : ref_(std::move(o.ref_)),
        prev_(o.prev_),
        depth_(detail::exchange(o.depth_, 0)),
        owner_(detail::exchange(o.owner_, nullptr)) {}
  EnterGuard(const EnterGuard&) = delete;
  EnterGuard& operator=(const EnterGuard&) = delete;
  EnterGuard& operator=(EnterGuard&&) = delete;  // would end this guard out of order
  ~EnterGuard();

 private:
  detail::HandleRef ref_;      // keeps the entered runtime's state alive while entered
  detail::HandleInner* prev_;  // the thread's current runtime before; alive (see ~EnterGuard)
  uint32_t depth_;             // this guard's place in the thread's stack of guards (1-based;
                               // 0: moved from)
  const void* owner_;          // the entering thread's context (detail::tls), to tell threads
};

struct Id {
  uint64_t value = 0;
  friend bool operator==(Id, Id) = default;
};

// A cheap, copyable reference to a runtime: spawn onto it from any thread.
class Handle {
 public:
  explicit Handle(detail::HandleInner* h) noexcept : ref_(h) {}
  // Rust's clone(): the same as a copy (another handle on the same runtime).
  Handle clone() const noexcept { return *this; }

  // The runtime the calling thread is in. Throws std::logic_error outside a runtime.
  static Handle current();
  static std::optional<Handle> try_current() noexcept;

  // spawn(task), spawn(awaitable) or spawn(callable, args...); see tokio::spawn.
  template <class First, class... Rest>
  auto spawn(First&& first, Rest&&... rest) const;
  // spawn_blocking(f, args...); see task::spawn_blocking.
  template <class F, class... Args>
  auto spawn_blocking(F&& f, Args&&... args) const;
  // Runs the awaitable to completion on the calling thread. Must not be called from a
  // thread that is already driving a runtime.
  template <class A>
  auto block_on(A&& awaitable) const {
    return detail::block_on_impl(ref_.get(), std::forward<A>(awaitable));
  }
  EnterGuard enter() const noexcept { return EnterGuard(ref_.get()); }
  RuntimeFlavor runtime_flavor() const noexcept { return detail::handle_flavor(ref_.get()); }
  Id id() const noexcept { return Id{detail::handle_id(ref_.get())}; }
  RuntimeMetrics metrics() const noexcept { return RuntimeMetrics(ref_.get()); }
  // Every live task, its state and what it waits on (runtime/dump.hpp).
  Dump dump() const;

  detail::HandleInner* inner() const noexcept { return ref_.get(); }
  friend bool operator==(const Handle& a, const Handle& b) noexcept {
    return a.inner() == b.inner();
  }

 private:
  detail::HandleRef ref_;
};

// A runtime: a scheduler (current-thread or multi-thread), its blocking pool and its
// drivers. Build one with runtime::Builder. Destroying it cancels every task still
// alive (their coroutine frames are destroyed, so destructors run) and waits for running
// spawn_blocking closures.
class Runtime {
 public:
  // `tokio::runtime::Runtime rt;`: a multi-thread runtime with default settings and every
  // driver enabled (Tokio's Runtime::new()), the same as create().
  Runtime();
  explicit Runtime(detail::HandleInner* adopt) noexcept : h_(adopt) {}
  Runtime(Runtime&& o) noexcept : h_(detail::exchange(o.h_, nullptr)) {}
  Runtime& operator=(Runtime&& o) noexcept {
    if (this != &o) {
      drop_now();
      h_ = detail::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime() { drop_now(); }

  // A multi-thread runtime with default settings and all drivers enabled (new_: Rust's
  // Runtime::new(), which returns an error where this throws).
  static Runtime create();
  static Runtime new_() { return create(); }

  template <class A>
  auto block_on(A&& awaitable) {
    return detail::block_on_impl(checked(), std::forward<A>(awaitable));
  }
  template <class First, class... Rest>
  auto spawn(First&& first, Rest&&... rest);
  template <class F, class... Args>
  auto spawn_blocking(F&& f, Args&&... args);
  Handle handle() const { return Handle(checked()); }
  EnterGuard enter() const { return EnterGuard(checked()); }
  RuntimeMetrics metrics() const { return RuntimeMetrics(checked()); }

  // Shuts down, waiting at most `timeout` for running spawn_blocking closures. Every task
  // is cancelled (its frame destroyed) by the time this returns, except, on the
  // multi-thread runtime, a task whose poll is still running after max(timeout, 250 ms)
  // (a blocking call in async code): as in Tokio, this call then returns and that task is
  // cancelled on its worker thread when its poll returns, so it must not refer to objects
  // the caller destroys next.
  void shutdown_timeout(std::chrono::nanoseconds timeout) { close(timeout); }
  // Shuts down without waiting for spawn_blocking closures; shutdown_timeout(0) otherwise.
  void shutdown_background() { close(std::chrono::nanoseconds(0)); }

 private:
  detail::HandleInner* checked() const;
  // shutdown_timeout / shutdown_background: may throw (refused inside asynchronous code).
  void close(std::chrono::nanoseconds timeout);
  // The destructor's shutdown (no timeout): never throws; inside asynchronous code it
  // reports the misuse and aborts.
  void drop_now() noexcept;
  detail::HandleInner* h_;
};

}  // namespace tokio::runtime
