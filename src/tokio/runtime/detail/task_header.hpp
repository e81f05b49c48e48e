#pragma once
// The task cell: one allocation holding the task header and, for coroutine tasks, the
// coroutine frame itself; the output is written over the frame once it is destroyed.
//
//   block: [ TaskHeader (80 bytes) ][ coroutine frame .................... ]
//                                    ^ what the promise's operator new returns
//   after completion:               [ Outcome<T> | (dead frame bytes) ...... ]
//
// Every tokio::Task frame is allocated with kTaskPrefix bytes in front (task.hpp). The
// prefix stays raw memory for frames that are only co_awaited; spawn() constructs the
// header in it, so spawning costs no allocation beyond the frame itself. The frame always
// holds its promise, which holds the result, so the frame's bytes can hold an Outcome<T>
// once the frame is gone (the finish/cancel steps move the result out first). A
// spawn_blocking cell has the same shape: [TaskHeader][Outcome<R>][closure].
//
// Size, for comparison with Tokio: a parked task costs 80 bytes of header plus its frame;
// the allocator adds no per-block header (core/frame_alloc.hpp). There is no run-queue link
// in the header: the queues are arrays of task pointers.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>

#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/task_name.hpp"
#include "tokio/core/task.hpp"
#include "tokio/core/waker.hpp"
#include "tokio/runtime/detail/task_state.hpp"

namespace tokio::detail {

class Scheduler;

struct TaskVTable {
  WakeableVTable waker;                  // first member: TaskHeader::wakeable.vtable points here
  void (*run)(TaskHeader*) noexcept;     // poll once; caller hands over its notified ref
  void (*finish)(TaskHeader*) noexcept;  // body done: output = its result, frame destroyed
  void (*cancel)(TaskHeader*) noexcept;  // destroy the body unfinished; output = cancelled
  void (*drop_output)(TaskHeader*) noexcept;  // nobody will read the output
  void (*dealloc)(TaskHeader*) noexcept;      // last reference gone
  // The exception the output holds (the body threw), or null.
  const std::exception_ptr* (*exception)(TaskHeader*) noexcept;
  // For a task no scheduler runs (a spawn_blocking cell, whose `sched` stays null): the
  // scheduler whose UnhandledException policy hears of an exception nobody will read, or
  // null. Null for scheduled tasks, which report to `sched`.
  Scheduler* (*reporter)(TaskHeader*) noexcept = nullptr;
};

struct TaskHooks;  // runtime/detail/config.hpp

// When a task's exception is seen by the runtime (Scheduler::task_failed).
enum class TaskFailure : uint8_t {
  // The task finished with it (said for every such task, before its JoinHandle can take
  // the output, which delivers it if one is held).
  Completed,
  // Then, for a task that finished with it, when nobody holds its JoinHandle.
  CompletedUnobserved,
  DroppedUnread,    // the JoinHandle was dropped without reading it
  DestructorThrew,  // a destructor threw while the task was being cancelled
};

// The words a report uses for each TaskFailure (after "task <id> ").
const char* task_failure_text(TaskFailure kind) noexcept;

class RefCounted;

// Scheduler interface seen by tasks. A task holds a raw pointer to its scheduler; the
// scheduler's shared state stays alive until every task bound to it is deallocated.
class Scheduler {
 public:
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // The reference count of this scheduler's shared state (the runtime, or the LocalSet's
  // state): a wake from a thread outside the runtime holds a reference through schedule()
  // (harness.cpp, task_wake). Fixed at construction: the implementations derive from
  // RefCounted before Scheduler and pass `this`.
  RefCounted* const shared;
  // The runtime's task hooks, or null when none is set (one test on the poll path).
  const TaskHooks* hooks = nullptr;
  // Task hooks, a stall detector or a poll-time histogram is on: polls take the observed
  // path (harness.cpp). Set before any task is bound; one test per poll when off.
  bool observed = false;
  // Set when UnhandledException::ShutdownRuntime fired: no task is polled again (relaxed:
  // a task polled once more before it is seen is harmless).
  std::atomic<bool> halted{false};

  // A task's body threw (see TaskFailure): apply the runtime's UnhandledException policy.
  virtual void task_failed(TaskHeader* t, const std::exception_ptr& e,
                           TaskFailure kind) noexcept = 0;
  // `t` was woken (the caller hands over a notified ref). yield: put it behind other work.
  virtual void schedule(TaskHeader* t, bool yield) noexcept = 0;
  // The task finished (OwnedTasks::on_complete; joinable: its JoinHandle still exists, so
  // it stays listed until on_joined). Drops nothing; the caller does.
  virtual void on_complete(TaskHeader* t, bool joinable) noexcept = 0;
  // The JoinHandle of a task that completed joinable let go of it: unlink it.
  virtual void on_joined(TaskHeader* t) noexcept = 0;
  // A task bound to this scheduler was freed (its memory is already gone; shard_key is
  // its TaskHeader::shard_key()).
  virtual void on_dealloc(uint64_t shard_key) noexcept = 0;

 protected:
  explicit Scheduler(RefCounted* shared_state) noexcept : shared(shared_state) {}
  ~Scheduler() = default;
};

struct TaskHeader {
  Wakeable wakeable;  // offset 0: vtable is a TaskVTable
  TaskState state;
  // The task's id, or where its name is. Bit 0 set: `id << 1 | 1` (an unnamed task; ids
  // stay below 2^63). Bit 0 clear: a TaskName* (8-aligned; core/detail/task_name.hpp)
  // holding the id and the name, so a name costs the header no extra word, with bit 1
  // (kOwnNameBlock) set when that block is one of its own, freed with the task, rather than
  // part of the task's frame block (so freeing the task never reads the name block).
  // Written before the task is bound (the owned list publishes it under its lock, a spawn
  // queue by its release) and never after, so plain reads from any thread are race-free.
  uint64_t ident = 1;
  static constexpr uint64_t kOwnNameBlock = 2;
  Wakeable* join_waker = nullptr;    // see JOIN_WAKER in state.hpp
  PollSlot slot;                     // the suspended leaf (armed to start the root at spawn)
  TaskHeader* owned_prev = nullptr;  // owned-task list links (under the shard lock)
  TaskHeader* owned_next = nullptr;
  // Set once when the task is bound, before it can run, and only read after that: so it can
  // be the header's last word, which a root frame's final suspend reads as its parent link
  // while other threads may be relinking the owned-task list around this task.
  Scheduler* sched = nullptr;

  uint64_t id() const noexcept { return (ident & 1) ? ident >> 1 : name_block()->id; }
  // Picks the task's owned-list shard: the id, or for a named task its name block's address
  // (stable for the task's life; name blocks are at least 32 bytes apart), so binding,
  // unlinking and freeing a named task never read its name block on another thread.
  uint64_t shard_key() const noexcept { return (ident & 1) ? ident >> 1 : ident >> 5; }
  void set_id(uint64_t id) noexcept { ident = id << 1 | 1; }
  // The name block of a named task, or null.
  const TaskName* name_block() const noexcept {
    return (ident & 1)
               ? nullptr
               : reinterpret_cast<const TaskName*>(static_cast<uintptr_t>(ident & ~uint64_t{7}));
  }

  const TaskVTable* vt() const noexcept {
    return reinterpret_cast<const TaskVTable*>(wakeable.vtable);
  }
  static TaskHeader* from_wakeable(Wakeable* w) noexcept {
    return reinterpret_cast<TaskHeader*>(w);
  }
};
static_assert(offsetof(TaskHeader, wakeable) == 0);

// The header's last word is what a root frame's FinalAwaiter reads as its parent link
// (core/detail/poll.hpp): a pointer, so its tag bit is clear and a root returns to nobody.
static_assert(offsetof(TaskHeader, sched) == kTaskPrefix - sizeof(void*));
static_assert(sizeof(TaskHeader) == kTaskPrefix,
              "the task header fills the prefix every Task frame reserves (core/task.hpp)");

// Where a completed task's output lives (over the dead frame, or after a blocking cell's
// header).
template <class T>
Outcome<T>* output_of(TaskHeader* t) noexcept {
  static_assert(alignof(Outcome<T>) <= 16, "over-aligned task results are not supported");
  return std::launder(reinterpret_cast<Outcome<T>*>(reinterpret_cast<char*>(t) + kTaskPrefix));
}

// --- the generic harness (task.cpp) ------------------------------------------------------
extern const WakeableVTable kTaskWakerVTable;

void task_run_coroutine(TaskHeader* t) noexcept;  // TaskVTable::run of coroutine tasks
// Start of every run: takes RUNNING. Returns true when the caller should poll the task;
// false when it was handled here (already running/complete: ref dropped; cancelled:
// cancelled and completed).
bool task_begin_run(TaskHeader* t) noexcept;
// The root coroutine of a task cell (its frame follows the header).
inline std::coroutine_handle<> task_root(TaskHeader* t) noexcept {
  return std::coroutine_handle<>::from_address(reinterpret_cast<char*>(t) + kTaskPrefix);
}
void task_complete(TaskHeader* t) noexcept;             // after finish/cancel stored the output
void task_cancel_and_complete(TaskHeader* t) noexcept;  // RUNNING held: cancel, complete
void task_drop_ref(TaskHeader* t) noexcept;
void task_schedule_new(TaskHeader* t) noexcept;  // first schedule after spawn
void task_abort(TaskHeader* t) noexcept;
// Runtime shutdown: cancel the task now if idle, else flag it for its runner.
void task_shutdown(TaskHeader* t) noexcept;
// JoinHandle side: true when the output is ready to read; otherwise registers cx's waker.
bool task_join_poll(TaskHeader* t, task::Context& cx) noexcept;
bool task_join_poll_waker(TaskHeader* t, Wakeable* w) noexcept;
// Drops JOIN_INTEREST and the join waker. Returns true when the handle must drop the
// output itself (the task already completed). The caller then calls task_drop_ref.
bool task_join_release(TaskHeader* t) noexcept;
// A spawn was refused (runtime shut down): cancel the unstarted task and complete it.
void task_reject(TaskHeader* t) noexcept;
// A JoinHandle (or JoinSet entry) let go of a completed task's output without reading it:
// an exception there is reported (TaskFailure::DroppedUnread).
void task_output_dropped(TaskHeader* t, const std::exception_ptr& e) noexcept;
// Names a task (task::Builder), before it is bound; the name is freed with the task.
void set_task_name_slow(TaskHeader* t, const char* name, std::size_t len) noexcept;
inline void set_task_name(TaskHeader* t, const char* name, std::size_t len) noexcept {
  ThreadContext& c = tls;
  if (TOKIO_LIKELY(c.named_frame == task_root(t).address())) {
    // Its root frame's block holds the name already (core/detail/task_name.hpp).
    auto* n = static_cast<TaskName*>(c.named_block);
    n->id = t->id();
    t->ident = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(n));
    c.named_frame = nullptr;
    return;
  }
  set_task_name_slow(t, name, len);
}

inline void task_ref_inc(TaskHeader* t) noexcept { t->state.ref_inc(); }

}  // namespace tokio::detail
