#pragma once
// UringEngine: fs operations on io_uring.
//
// Rings: one per worker of a multi-thread runtime (one for a current-thread runtime). A
// thread submits to "its" ring (workers get distinct rings first come, first served; other
// threads share them round-robin), so the workers' inline kernel work (a cached open, a
// page-cache read) runs in parallel instead of queueing on one ring's kernel lock. Each
// ring has two locks: `sq_mu` for writing entries (plus the backlog, the direct-descriptor
// slots and the in-flight budget) and `cq_mu` for taking completions; neither is held
// across a system call except when the submission queue is full.
//
// Submission is batched: an operation's entries go into the ring and, on a runtime
// worker, the io_uring_enter is deferred to the end of the worker's current run of tasks
// (a waker on the scheduler's defer list, the same hook yield_now uses), so a worker that
// polls 200 tasks issuing reads enters the kernel once. Off a worker (block_on's thread, a
// blocking-pool thread) the enter happens at once. Linked entries (IOSQE_IO_LINK) let one
// submission open, read and probe for end-of-file a whole small file (fs::read) or open,
// write and close it (fs::write), using a direct descriptor (a registered-file slot) so
// the read can name the file the open creates.
//
// Completions: every submitter reaps its ring right after entering (the inline ones are
// there already). Completions that arrive later (work the kernel punted to its io-wq
// threads, polled pipes, buffered reads retried by task work once their page is in)
// signal an eventfd registered with the ring (IORING_REGISTER_EVENTFD) and with the
// runtime's reactor: the reactor wakes a waiter node the engine owns, whose wake function
// reaps every ring on the reactor thread. A reap leaves entries another thread wrote to the
// flush that thread scheduled, so a ring is entered by its own worker whenever it can be:
// two threads entering one ring queue on its kernel lock.
//
// Budget: at most `cap` entries of operations in flight per ring (below the completion
// queue's size, so completions never overflow); further operations wait in a FIFO backlog
// that completions drain. Control entries (cancellations, slot closes) use a reserve.
//
// user_data encoding (ops are 16-byte aligned): bits 0-1 kind (0 an op's entry, with bits
// 2-3 the entry's index within its step; 1 a cancellation holding one op reference; 2 a
// slot close, with the slot in bits 4+).

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/waker.hpp"
#include "tokio/fs/detail/engine.hpp"
#include "tokio/fs/detail/ring.hpp"
#include "tokio/io/detail/scheduled_io.hpp"

namespace tokio::detail {

class IoDriver;
class UringEngine;

// One ring and its bookkeeping. Cache-line aligned: each worker hammers its own ring,
// and two rings sharing a line would bounce it between the cores.
struct alignas(128) UringRing {
  // The deferred-flush waker (first member: its address is the ring's).
  Wakeable flush_waker;
  UringEngine* owner = nullptr;
  std::unique_ptr<Ring> ring;
  uint32_t cap = 0;  // op entries allowed in flight
  std::atomic<bool> flush_scheduled{false};

  // --- submission side
  alignas(64) Mutex sq_mu;
  FsOp* backlog_head = nullptr;  // sq_mu
  FsOp* backlog_tail = nullptr;  // sq_mu
  std::vector<int> free_slots;   // sq_mu: free direct-descriptor slots
  // sq_mu: shutting down. closed: no new operation is accepted, while the backlog and the
  // next steps of operations already accepted (a long write's next chunk) still run, so
  // File writes reach the file. final_: after the last cancellation, nothing more runs.
  bool closed = false;
  bool final_ = false;
  // Entries queued or in the kernel, awaiting their completion (increments under sq_mu,
  // decrements by the reaper).
  std::atomic<uint32_t> inflight{0};

  // --- completion side
  alignas(64) Mutex cq_mu;
};

class UringEngine final : public FsEngine {
 public:
  // Null when io_uring is unavailable or unusable (the caller falls back).
  static UringEngine* create(HandleInner* h, unsigned entries);
  ~UringEngine() override;

  Kind kind() const noexcept override { return Kind::IoUring; }
  void submit(FsOp* op) noexcept override;
  void cancel(FsOp* op) noexcept override;
  void shutdown() noexcept override;
  void nudge() noexcept override;

 private:
  explicit UringEngine(HandleInner* h) noexcept;
  bool init(unsigned entries) noexcept;

  UringRing& ring_for_thread() noexcept;
  // Queues the op's next step (or backlogs it, or runs it on the blocking pool). Returns
  // true when the caller must enter the kernel to push it out.
  bool queue_step(UringRing& r, FsOp* op, bool first) noexcept;
  // Under r.sq_mu: writes the op's entries (n of them).
  void write_step(UringRing& r, FsOp* op, unsigned n) noexcept;
  // Under r.sq_mu: makes room for `n` more entries, entering the kernel if the SQ is full.
  void reserve_sq(UringRing& r, unsigned n) noexcept;
  void write_cancel(UringRing& r, FsOp* op, unsigned idx) noexcept;
  void hand_to_blocking(FsOp* op) noexcept;
  void queue_slot_close(UringRing& r, int slot) noexcept;
  // Under r.sq_mu: one slot close entry (published by the caller).
  void write_slot_close(UringRing& r, int slot) noexcept;
  // Queues the slot closes this thread's reap loop collected (one lock per ring).
  void flush_pending_closes() noexcept;
  // Enters the kernel now, or at the end of this worker's run of tasks.
  void kick(UringRing& r) noexcept;
  void flush(UringRing& r) noexcept;
  // Takes and dispatches completions until the ring is idle, pushing out what they queue.
  void reap(UringRing& r) noexcept;
  void dispatch(UringRing& r, uint64_t user_data, int32_t res) noexcept;
  void step_done(UringRing& r, FsOp* op) noexcept;
  void finish_op(UringRing& r, FsOp* op) noexcept;
  // Gives the op's direct-descriptor slot back (closing the file in it first if open).
  void release_slot(UringRing& r, FsOp* op) noexcept;
  // Under r.sq_mu: moves backlogged ops into the ring while the budget allows.
  bool drain_backlog(UringRing& r) noexcept;
  UringCaps caps_for(FsOp* op) const noexcept;

  // The reactor side: the eventfd's readiness wakes this node.
  static void on_event(Wakeable* w) noexcept;
  static void noop_ref(Wakeable*) noexcept {}
  static void on_flush(Wakeable* w) noexcept;
  void handle_event() noexcept;
  void unregister_reactor() noexcept;

  static const WakeableVTable kEventVTable;
  static const WakeableVTable kFlushVTable;

  HandleInner* h_;  // no reference: used only while the runtime runs (reactor, workers)
  uint64_t gen_;    // identifies this engine in the per-thread ring cache
  std::unique_ptr<UringRing[]> rings_;
  uint32_t nrings_ = 0;
  std::atomic<uint32_t> next_worker_{0};
  std::atomic<uint32_t> next_other_{0};
  bool deferred_ = true;  // batch submissions on runtime workers
  int efd_ = -1;
  IoDriver* driver_ = nullptr;
  ScheduledIo* io_ = nullptr;
  // The reactor's waiter wakes this (a Wakeable with a back pointer: the engine itself is
  // not standard-layout).
  struct EventWaker {
    Wakeable wakeable;
    UringEngine* self;
  };
  EventWaker event_waker_{{&kEventVTable}, this};
  IoWaiter waiter_;
  std::atomic<bool> shutting_down_{false};
  // Mandatory ops (File writes) this engine holds, from submit until they finish or go to
  // the blocking pool: shutdown waits its grace period only while one is left. Relaxed: the
  // increment comes before the op's first SQ-lock section, which shutdown's closing of
  // the rings (under the same lock) follows.
  std::atomic<uint32_t> mandatory_live_{0};
  bool ops_[uring::kOpLast] = {};
};

}  // namespace tokio::detail
