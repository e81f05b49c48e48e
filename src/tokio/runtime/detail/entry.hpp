#pragma once
// The runtime's entry points for code in users' translation units. A runtime's shared state
// (HandleInner: scheduler, drivers, blocking pool, owned-task list) is opaque outside the
// implementation section; the templates of the public API (spawn, block_on, JoinHandle...)
// reach it only through these out-of-line calls, so a user TU never parses the runtime's
// internals.

#include <cstdint>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/runtime/flavor.hpp"

namespace tokio::detail {

struct HandleInner;  // runtime/detail/handle_inner.hpp
struct TaskHeader;   // runtime/detail/task_header.hpp
struct PollSlot;     // core/detail/poll.hpp
class Scheduler;     // runtime/detail/task_header.hpp

// Reference counting of a runtime's shared state (Handle, Runtime, Registration...).
void handle_ref_inc(HandleInner* h) noexcept;
void handle_ref_dec(HandleInner* h) noexcept;

// An owning reference to a runtime's shared state (what runtime::Handle and RuntimeMetrics
// hold): a copy takes another reference, a move carries it, destruction drops it. Empty
// (null) when moved from.
class HandleRef {
 public:
  HandleRef() noexcept = default;
  explicit HandleRef(HandleInner* h) noexcept : h_(h) {
    if (h_) handle_ref_inc(h_);
  }
  HandleRef(const HandleRef& o) noexcept : HandleRef(o.h_) {}
  HandleRef(HandleRef&& o) noexcept : h_(detail::exchange(o.h_, nullptr)) {}
  HandleRef& operator=(HandleRef o) noexcept {
    detail::swap_values(h_, o.h_);
    return *this;
  }
  ~HandleRef() {
    if (h_) handle_ref_dec(h_);
  }
  HandleInner* get() const noexcept { return h_; }

 private:
  HandleInner* h_ = nullptr;
};

// The runtime of the calling thread, or a clear std::logic_error naming `what`.
HandleInner* current_handle_or_throw(const char* what);

// Binds a new task cell (TaskState::INITIAL refs) to `h` and schedules it; a runtime that
// has shut down cancels it instead (its JoinHandle then reports a cancellation).
void spawn_on(HandleInner* h, TaskHeader* t) noexcept;
// Queues a spawn_blocking cell on h's blocking pool; a mandatory one still runs if the
// runtime shuts down before a thread took it.
void spawn_blocking_cell_on(HandleInner* h, TaskHeader* t, bool mandatory);
// h as the Scheduler whose UnhandledException policy hears of a spawn_blocking closure's
// exception (TaskVTable::reporter; the cell holds a reference on h meanwhile).
Scheduler* handle_scheduler(HandleInner* h) noexcept;
// Drives a block_on root (its slot armed by set_starter) until it finishes.
void block_on_slot(HandleInner* h, PollSlot& slot);

runtime::RuntimeFlavor handle_flavor(const HandleInner* h) noexcept;
uint64_t handle_id(const HandleInner* h) noexcept;

}  // namespace tokio::detail
