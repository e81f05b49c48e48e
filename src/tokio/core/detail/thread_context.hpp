#pragma once
// The per-thread context: what the thread is polling right now and which runtime, worker
// and LocalSet it belongs to. One thread_local struct, trivially constructible and
// destructible, so every access is a plain TLS load (no init guard).
//
// The pointers name types of the runtime and task layers, declared here and defined there
// (runtime/detail/handle_inner.hpp, task/local_set.cpp...): this header sits in the lowest
// layer because every awaitable's poll reads it, but it only ever holds pointers.

#include <cstddef>
#include <cstdint>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/rand.hpp"

namespace tokio::detail {

struct Wakeable;
struct PollSlot;
struct TaskHeader;
struct HandleInner;
struct WorkerContext;
struct TaskLocalBinding;
class LocalSetShared;
struct DeferList;

struct ThreadContext {
  // --- the poll in progress on this thread
  Wakeable* waker = nullptr;   // waker target of the task being polled
  PollSlot* slot = nullptr;    // slot the next leaf registers in
  TaskHeader* task = nullptr;  // the spawned task being polled (null for block_on roots)
  // The spawn_blocking task whose closure runs on this thread (task::id() there; kept
  // apart from `task`, which says a poll is in progress).
  TaskHeader* blocking_task = nullptr;
  int32_t budget = -1;                 // coop budget left in this poll; -1 = unconstrained
  TaskLocalBinding* locals = nullptr;  // task-local values visible to this poll
  bool yield_requested = false;        // the task being polled yielded (see defer_wake)
  // The last coop_poll_proceed of the leaf poll in progress took a unit of `budget`
  // (poll_leaf_restoring, core/detail/poll.hpp, gives it back if the leaf is not ready).
  bool coop_took = false;
  // --- the runtime this thread belongs to
  HandleInner* handle = nullptr;    // Handle::current()
  WorkerContext* worker = nullptr;  // the scheduler worker (or current-thread core) running here
  LocalSetShared* local_set = nullptr;  // LocalSet whose tasks this thread is running
  DeferList* defer = nullptr;           // the scheduler's defer list while it runs tasks here
  uint32_t runtime_depth = 0;           // > 0 while this thread is driving a runtime (no block_on)
  uint32_t blocking_region = 0;         // > 0 inside block_in_place / spawn_blocking closures
  // > 0 while a LocalSet::run_until poll runs on this thread (its future and the local tasks
  // it ticks): task::block_in_place there throws off a worker, as Tokio's run_until forbids
  // it (local tasks cannot move to another thread while this one blocks).
  uint32_t run_until_depth = 0;
  // The coarse clock of a scheduler thread (runtime/detail/coarse_clock.hpp): milliseconds,
  // refreshed when its scheduler starts a batch of polls; read only while `worker` is set.
  uint32_t coarse_ms = 0;
  // --- id allocation: task ids are handed out in per-thread blocks
  uint64_t next_task_id = 0;
  uint64_t task_id_end = 0;
  uint64_t rng_state = 0;
  // A task cell's frame being destroyed by finish/cancel: its operator delete must keep the
  // block (the cell owns it). Any other frame address is freed normally.
  void* keep_frame = nullptr;
  // spawn(callable, args...) in one allocation (runtime/detail/task_cell.hpp): while the
  // callable runs, the address of the callable object, and either the memory reserved for
  // the frame of the coroutine it starts (`arena_frame`, exactly `arena_size` bytes) or, in
  // probe mode (`arena_frame` null), a request to report that frame's size in `arena_size`.
  // Read by the Task promise's operator new (core/task.hpp).
  const void* arena_closure = nullptr;
  void* arena_frame = nullptr;
  std::size_t arena_size = 0;
  // task::Builder's name for the task about to be created on this thread, and where the
  // frame block that took it is (core/detail/task_name.hpp). `pending_name` is only ever
  // set for the span of one statement (a temporary Builder's life, or a Builder's spawn call).
  const char* pending_name = nullptr;
  std::size_t pending_name_len = 0;
  void* named_frame = nullptr;
  void* named_block = nullptr;
  // Depth-independent resumption and destruction of Task chains (core/task.hpp):
  // `transfers` counts symmetric transfers since control last returned to drive_slot's
  // loop, `bounce` is the coroutine a transfer left for that loop to resume instead, and
  // `destroyed_child` the frame a bottom-up chain destruction destroyed just before.
  uint32_t transfers = 0;
  void* bounce = nullptr;
  void* destroyed_child = nullptr;
  // A suspended frame being destroyed (destroy_coroutine, core/task.hpp) and where an
  // exception thrown by one of its destructors goes: C++ routes it to the promise's
  // unhandled_exception, which parks it there instead of in the promise.
  void* destroying_frame = nullptr;
  void* destroy_exception = nullptr;  // std::exception_ptr*
};

inline thread_local constinit ThreadContext tls{};

uint64_t allocate_task_id_block() noexcept;

inline uint64_t next_task_id() noexcept {
  ThreadContext& t = tls;
  if (TOKIO_UNLIKELY(t.next_task_id == t.task_id_end)) {
    t.next_task_id = allocate_task_id_block();
    t.task_id_end = t.next_task_id + 1024;
  }
  return t.next_task_id++;
}

// Per-thread fast random numbers in [0, n) (select's branch order, once per poll: inline).
inline uint32_t thread_rand_n(uint32_t n) noexcept {
  uint64_t& s = tls.rng_state;
  if (TOKIO_UNLIKELY(s == 0)) s = random_seed();
  return xorshift_next_n(s, n);
}

}  // namespace tokio::detail
