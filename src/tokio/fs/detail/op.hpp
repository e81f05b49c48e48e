#pragma once
// FsOp: one file-system operation, shared by the awaiting leaf and an engine.
//
// An operation is a small state machine both engines can run:
//   - the blocking engine calls run_blocking() on a blocking-pool thread: plain system
//     calls, the whole operation in one go;
//   - the io_uring engine asks uring_plan() how many submission entries the next step
//     needs, lets uring_prep() fill them, collects one completion per entry into res[],
//     then calls uring_step_done(), which either finishes the operation or plans another
//     step (a fs::read that needs more reads, a write that was short). Steps run inside
//     the engine, so a multi-step operation costs its task a single wake-up.
// Either way the engine ends with complete(), which publishes the outcome and wakes the
// waiter.
//
// Ownership: reference counted. The leaf holds one reference from creation; the engine
// holds one from submission until after complete(); a cancellation request in the kernel
// (IORING_OP_ASYNC_CANCEL) holds one until its own completion, so an op address is never
// reused while a cancellation could still name it. Whoever drops the last reference
// deletes the op, and with it every buffer the kernel was given: that can only happen
// after the kernel's last completion for it.
//
// Completion state (`state`, 32 bits):
//   bit 0 DONE       complete() ran: the outcome fields are published (release/acquire)
//   bit 1 SUBMITTED  the leaf handed the op to an engine (set by the leaf's first poll)
//   bit 2 CANCEL     the waiter is gone: stop at the next opportunity
// The waiter's waker sits in `waker` under `lock` (a leaf registers, complete() takes).

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <string>

#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/core/waker.hpp"
#include "tokio/core/context.hpp"
#include "tokio/fs/detail/uring_abi.hpp"

namespace tokio::detail {

class FsEngine;
struct HandleInner;
class UringEngine;
struct UringRing;

inline constexpr unsigned kFsMaxSqes = 4;

// What the io_uring engine offers an op when it plans a step.
struct UringCaps {
  bool direct_slots = false;  // a direct-descriptor slot is reserved for this op (op->slot)
  const bool* ops = nullptr;  // opcode -> supported (probe)
  bool supports(uint8_t op) const noexcept { return ops && op < uring::kOpLast && ops[op]; }
};

// Finished: complete the op. Continue: plan and submit its next step. Blocking: hand the
// op (no slot held) to the blocking pool, which runs it from the start with run_blocking().
enum class StepOutcome : uint8_t { Finished, Continue, Blocking };

struct alignas(16) FsOp {
  static constexpr uint32_t DONE = 1;
  static constexpr uint32_t SUBMITTED = 2;
  static constexpr uint32_t CANCEL = 4;

  FsOp() noexcept = default;
  FsOp(const FsOp&) = delete;
  FsOp& operator=(const FsOp&) = delete;
  virtual ~FsOp() = default;

  // --- io_uring protocol (all optional: an op that returns 0 from uring_plan runs on the
  // blocking pool even under the io_uring engine)
  // Entries the next step needs (<= kFsMaxSqes), or 0 for "run me on the blocking pool".
  // `wants_slot` asks for a direct-descriptor slot before the first step.
  virtual unsigned uring_plan(const UringCaps& caps) noexcept {
    (void)caps;
    return 0;
  }
  virtual bool wants_slot() const noexcept { return false; }
  // Fills the zeroed entries (user_data is the engine's); called under the ring's lock.
  virtual void uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept {
    (void)sqes;
    (void)n;
  }
  // Every completion of the step is in res[0..n).
  virtual StepOutcome uring_step_done() noexcept { return StepOutcome::Finished; }

  // --- blocking protocol: the whole operation with plain system calls.
  virtual void run_blocking() noexcept = 0;
  // The operation will not run (engine shut down, job cancelled before it started,
  // submission impossible): record `err` as its outcome.
  virtual void fail(int err) noexcept = 0;

  // --- completion
  // Publishes the outcome and wakes the waiter. Called once, by the engine.
  void complete() noexcept;
  // Leaf side: true when DONE; otherwise stores cx's waker (replacing an older one).
  bool poll_done(task::Context& cx) noexcept;
  bool is_done() const noexcept { return state.load(std::memory_order_acquire) & DONE; }
  bool cancel_requested() const noexcept { return state.load(std::memory_order_acquire) & CANCEL; }
  void take_waker_and_drop() noexcept;
  // Fails the op with `err` before it is handed to any engine (invalid input): done at
  // once, fs_op_poll never submits it.
  void fail_before_start(int err) noexcept {
    fail(err);
    state.store(DONE, std::memory_order_relaxed);
  }
  // A path holding a NUL byte names another file to the kernel (the part before the NUL):
  // as Rust does, such an op fails with EINVAL before any system call. For the derived
  // ops' constructors (fail() is theirs by then).
  void reject_nul_path(const std::string& a, const std::string& b = {}) noexcept {
    if (a.find('\0') != std::string::npos || b.find('\0') != std::string::npos) {
      fail_before_start(EINVAL);
    }
  }
  // Makes a finished op ready for another run (File reuses one op per file). Only when
  // no engine holds it.
  void reset_for_reuse() noexcept {
    state.store(0, std::memory_order_relaxed);
    stepped = false;
  }

  void ref_inc() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void ref_dec() noexcept {
    // acq_rel: the last owner sees every write of the others (outcome, buffers).
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::atomic<uint32_t> refs{1};
  std::atomic<uint32_t> state{0};
  SpinLock lock;
  Wakeable* waker = nullptr;  // guarded by lock

  // --- engine bookkeeping
  FsEngine* engine = nullptr;  // set at submission
  // io_uring: the ring this op's steps go to (null once handed to the blocking pool; read
  // by cancel() on the waiter's thread).
  std::atomic<UringRing*> ring{nullptr};
  FsOp* next = nullptr;    // io_uring: backlog link (guarded by the ring's SQ lock)
  int slot = -1;           // io_uring: reserved direct-descriptor slot, or -1
  bool slot_open = false;  // io_uring: the slot holds a file the engine must close
  bool stepped = false;    // io_uring: a step was submitted (slots are only given before)
  bool mandatory = false;  // runs even while the runtime shuts down (File writes)
  // The runtime (one reference) whose paused clock this op holds back while in flight, as
  // Tokio's fs calls do by running on the blocking pool: counted in its
  // driver.blocking_in_flight from fs_op_start to fs_op_finish. Only on a current-thread
  // runtime with timers (the only kind whose clock can be paused); null otherwise.
  HandleInner* clock_hold = nullptr;
  uint8_t nsqe = 0;  // entries of the current step
  // How many entries of the current step have no completion yet. Set by write_step before
  // the entries are published; each completion decrements it (acq_rel: the one taking it
  // to zero sees the other entries' results in res[]).
  std::atomic<uint8_t> pending_cqes{0};
  int32_t res[kFsMaxSqes] = {};
};

// Lets go of a clock hold taken by fs_op_start (engine.cpp).
void fs_op_release_clock(HandleInner* h) noexcept;

// The op's reference held by the engine from submission to completion. The clock hold
// goes after the wake: the waiter is runnable by then, so a paused clock cannot jump in
// between. It is taken off the op before: once complete() has woken the waiter, its File
// may start the op again (FileOp is reused), which writes clock_hold anew.
inline void fs_op_finish(FsOp* op) noexcept {
  HandleInner* hold = op->clock_hold;
  op->clock_hold = nullptr;
  op->complete();
  if (hold) fs_op_release_clock(hold);
  op->ref_dec();
}

}  // namespace tokio::detail
