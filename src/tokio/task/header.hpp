#pragma once
// The task cell: one allocation holding the task header, the output slot and (for
// coroutine tasks) the coroutine frame itself.
//
//   block: [ TaskHeader | Outcome<T> | pad ][ coroutine frame ............ ]
//          ^ CellHead<T>, kFramePrefix<T> bytes  ^ what the promise's operator new returns
//
// Every tokio::Task frame is allocated with this prefix in front (see task.hpp). The
// prefix stays raw memory for frames that are only co_awaited; spawn() constructs the
// header and output in it, so spawning costs no allocation beyond the frame itself.
// FrameBlockInfo sits at the same offset in the raw prefix and in TaskHeader, which lets
// the promise's operator delete tell whether a task cell now owns the block.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "tokio/core/frame_alloc.hpp"
#include "tokio/task/outcome.hpp"
#include "tokio/task/poll.hpp"
#include "tokio/task/state.hpp"
#include "tokio/task/waker.hpp"

namespace tokio::detail {

struct FrameBlockInfo {
  uint32_t size;    // bytes of the whole block (prefix + frame)
  uint8_t in_cell;  // 1 once a task cell owns the block: the frame's delete must not free it
  uint8_t pad[3];
};

struct TaskVTable {
  WakeableVTable waker;  // first member: TaskHeader::wakeable.vtable points here
  void (*run)(TaskHeader*) noexcept;     // poll once; caller hands over its notified ref
  void (*finish)(TaskHeader*) noexcept;  // body done: move its result to the output, free frame
  void (*cancel)(TaskHeader*) noexcept;  // destroy the body unfinished; output = cancelled
  void (*drop_output)(TaskHeader*) noexcept;  // nobody will read the output
  void (*dealloc)(TaskHeader*) noexcept; // last reference gone
};

// Scheduler interface seen by tasks. A task holds a raw pointer to its scheduler; the
// scheduler's shared state stays alive until every task bound to it is deallocated.
class Scheduler {
 public:
  // `t` was woken (the caller hands over a notified ref). yield: put it behind other work.
  virtual void schedule(TaskHeader* t, bool yield) noexcept = 0;
  // The task finished: unlink it from the owned list (drops nothing; the caller does).
  virtual void on_complete(TaskHeader* t) noexcept = 0;
  // A task bound to this scheduler was freed (its memory is already gone).
  virtual void on_dealloc(uint64_t task_id) noexcept = 0;

 protected:
  ~Scheduler() = default;
};

struct TaskHeader {
  Wakeable wakeable;          // offset 0: vtable is a TaskVTable
  FrameBlockInfo block;       // offset 8: shared with the raw frame prefix
  TaskState state;
  TaskHeader* queue_next = nullptr;  // run-queue / inject-queue link
  Scheduler* sched = nullptr;
  uint64_t id = 0;
  TaskHeader* owned_prev = nullptr;  // owned-task list links (under the shard lock)
  TaskHeader* owned_next = nullptr;
  Wakeable* join_waker = nullptr;    // see JOIN_WAKER in state.hpp
  PollSlot slot;                     // the suspended leaf of the task's coroutine chain
  Pollable starter;                  // first poll: resume the root coroutine

  const TaskVTable* vt() const noexcept {
    return reinterpret_cast<const TaskVTable*>(wakeable.vtable);
  }
  static TaskHeader* from_wakeable(Wakeable* w) noexcept {
    return reinterpret_cast<TaskHeader*>(w);
  }
};
static_assert(offsetof(TaskHeader, wakeable) == 0);
static_assert(offsetof(TaskHeader, block) == 8);

template <class T>
struct CellHead {
  TaskHeader header;
  Outcome<T> output;
};

template <class T>
inline constexpr std::size_t kFramePrefix = (sizeof(CellHead<T>) + 15) & ~std::size_t{15};

// --- the generic harness (task.cpp) ------------------------------------------------------
extern const WakeableVTable kTaskWakerVTable;

void task_run_coroutine(TaskHeader* t) noexcept;       // TaskVTable::run of coroutine tasks
void task_complete(TaskHeader* t) noexcept;            // after finish/cancel stored the output
void task_cancel_and_complete(TaskHeader* t) noexcept; // RUNNING held: cancel, complete
void task_drop_ref(TaskHeader* t) noexcept;
void task_schedule_new(TaskHeader* t) noexcept;        // first schedule after spawn
void task_abort(TaskHeader* t) noexcept;
// Runtime shutdown: cancel the task now if idle, else flag it for its runner.
void task_shutdown(TaskHeader* t) noexcept;
// JoinHandle side: true when the output is ready to read; otherwise registers cx's waker.
bool task_join_poll(TaskHeader* t, task::Context& cx) noexcept;
bool task_join_poll_waker(TaskHeader* t, Wakeable* w) noexcept;
void task_join_drop(TaskHeader* t) noexcept;
// A spawn was refused (runtime shut down): cancel the unstarted task and complete it.
void task_reject(TaskHeader* t) noexcept;

inline void task_ref_inc(TaskHeader* t) noexcept { t->state.ref_inc(); }

}  // namespace tokio::detail
