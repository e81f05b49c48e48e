#pragma once
// The task state word and its transitions.
//
// Encoding of TaskState::word_ (64 bits):
//   bit 0  RUNNING        a thread is polling the task (or cancelling it)
//   bit 1  COMPLETE       the future finished or was cancelled; output is written
//   bit 2  NOTIFIED       the task has been woken since it was last polled; while not
//                         RUNNING this means exactly one queue (or runner) holds a ref to it
//   bit 3  JOIN_INTEREST  a JoinHandle still exists and will read the output
//   bit 4  JOIN_WAKER     the join_waker field holds a waker; while set (and the task is not
//                         COMPLETE) only the runtime side may read the field, while clear
//                         only the JoinHandle side may write it
//   bit 5  CANCELLED      abort()/shutdown requested; the next poll cancels instead
//   bit 6                 unused (a task's name is found from its header's ident word)
//   bits 7..39            reference count (33 bits: more references than memory could
//                         hold waker clones for; ref_inc aborts before it would overflow)
//   bits 40..63           SINCE: when the task entered its current state (idle, scheduled,
//                         running), in milliseconds of the coarse clock below, modulo 2^24
//                         (4.6 hours). Written by the transitions that change that state, in
//                         the same read-modify-write, so it costs no extra atomic; read by
//                         Handle::dump for "how long in that state".
//
// References are held by: the owned-task list (until completion; owned_tasks.hpp), each
// queue entry or active runner ("notified ref"), the JoinHandle, each AbortHandle and each
// Waker clone.
// A wake while RUNNING only sets NOTIFIED: the runner's own reference is reused to put
// the task back in a queue when its poll returns.
//
// Every transition is a single atomic RMW (CAS loop), as in Tokio; the orderings are
// acq_rel so output written before COMPLETE is visible to whoever observes COMPLETE.

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"

namespace tokio::detail {

class TaskState {
 public:
  static constexpr uint64_t RUNNING = 1u << 0;
  static constexpr uint64_t COMPLETE = 1u << 1;
  static constexpr uint64_t NOTIFIED = 1u << 2;
  static constexpr uint64_t JOIN_INTEREST = 1u << 3;
  static constexpr uint64_t JOIN_WAKER = 1u << 4;
  static constexpr uint64_t CANCELLED = 1u << 5;
  static constexpr uint64_t LIFECYCLE = RUNNING | COMPLETE;
  static constexpr unsigned REF_SHIFT = 7;
  static constexpr uint64_t REF_ONE = uint64_t{1} << REF_SHIFT;
  static constexpr uint64_t FLAGS = REF_ONE - 1;
  static constexpr unsigned SINCE_SHIFT = 40;
  static constexpr uint64_t REF_MASK = (uint64_t{1} << (SINCE_SHIFT - REF_SHIFT)) - 1;
  static constexpr uint64_t SINCE_MASK = ~uint64_t{0} << SINCE_SHIFT;

  // A new task: refs for the owned list, its first queue entry and its JoinHandle.
  static constexpr uint64_t INITIAL = 3 * REF_ONE | JOIN_INTEREST | NOTIFIED;

  explicit TaskState(uint64_t init = INITIAL) noexcept : word_(init) {}

  uint64_t load() const noexcept { return word_.load(std::memory_order_acquire); }
  static uint64_t refs(uint64_t s) noexcept { return (s >> REF_SHIFT) & REF_MASK; }

  // SINCE: a coarse-clock reading (task_stamp(), runtime/detail/coarse_clock.hpp) placed in
  // the word's top bits, and back. `stamp` arguments below are since_bits(...) values.
  static uint64_t since_bits(uint32_t ms) noexcept { return uint64_t{ms} << SINCE_SHIFT; }
  static uint32_t since_ms(uint64_t s) noexcept { return static_cast<uint32_t>(s >> SINCE_SHIFT); }
  static uint64_t with_since(uint64_t s, uint64_t stamp) noexcept {
    return (s & ~SINCE_MASK) | stamp;
  }
  // Before the task is shared (spawn): when it was scheduled first.
  void set_since_unshared(uint64_t stamp) noexcept {
    word_.store(with_since(word_.load(std::memory_order_relaxed), stamp),
                std::memory_order_relaxed);
  }

  // The transitions below are defined in task_state_ops.hpp, which only the implementation
  // parses. They are declared inline so that a file calling one without including that
  // header gets the compilers' "inline function used but never defined" warning: in a split
  // implementation (TOKIO_IMPLEMENTATION_PART) the definition is only there when it does.
  enum class ToRunning { Acquired, Cancelled, Failed };
  // Called by the holder of the notified ref. Failed: already running or complete (the
  // caller drops its ref). Cancelled: RUNNING is now held and the task must be cancelled.
  inline ToRunning to_running(uint64_t stamp) noexcept;

  enum class ToIdle { Ok, OkNotified, OkDealloc, Cancelled };
  // After a poll returned pending. OkNotified: woken during the poll, the runner's ref is
  // handed to a queue again. Ok/OkDealloc: the runner's ref was released.
  inline ToIdle to_idle(uint64_t stamp) noexcept;

  // After a poll that yielded (yield_now): RUNNING -> NOTIFIED in one step, keeping the
  // runner's reference for the queue entry the caller creates. Returns false when
  // CANCELLED (the caller cancels the task instead; it still holds RUNNING).
  inline bool to_notified_after_yield(uint64_t stamp) noexcept;

  // RUNNING -> COMPLETE (SINCE kept: a completed task shows the time since its last poll
  // began, which saves the clock read here). Returns the state after the transition.
  inline uint64_t to_complete() noexcept;

  enum class Notify { DoNothing, Submit, Dealloc };
  // Waker::wake_by_ref. Submit: the caller now holds a new ref and must schedule the task.
  // `stamp()` gives the SINCE bits; it runs only when the wake schedules the task, so a
  // wake that changes nothing (already notified, running, complete) reads no clock.
  template <class Stamp>
  inline Notify to_notified_by_ref(Stamp stamp) noexcept;

  // Waker::wake (consumes the waker's ref). Submit: that ref now belongs to the queue.
  template <class Stamp>
  inline Notify to_notified_by_val(Stamp stamp) noexcept;

  // abort(): returns true when the caller must schedule the task (it holds a new ref) so a
  // runner observes CANCELLED.
  inline bool to_notified_and_cancel() noexcept;

  // Handle::dump reading a suspended task's frames from another thread: takes RUNNING
  // while the task is idle (not running, notified, cancelled or complete), so no runner
  // polls it, cancels it or frees its frames meanwhile; the SINCE bits are kept. acq_rel:
  // pairs with the release of the runner's to_idle, so its poll's writes (slot, frames)
  // are visible. The caller holds a reference of its own; false: not claimed.
  inline bool claim_idle_for_read() noexcept;
  enum class ReadRelease { Idle, Notified, Cancelled };
  // Ends claim_idle_for_read. Idle: as before. Notified: woken meanwhile; a new reference
  // is taken for the queue and the caller schedules the task. Cancelled: aborted or shut
  // down meanwhile; RUNNING is still held and a new reference taken, and the caller
  // cancels and completes the task (as a runner would after its poll).
  inline ReadRelease release_read() noexcept;

  // Runtime shutdown: marks CANCELLED and, when nobody is running the task, takes RUNNING
  // so the caller cancels it right away. Returns true in that case.
  inline bool to_shutdown() noexcept;

  // JoinHandle side. Returns false (and leaves the state alone) when the task is COMPLETE.
  inline bool set_join_waker() noexcept;
  inline bool unset_join_waker() noexcept;
  // Runtime side, after waking the join waker: returns the state after clearing the bit.
  inline uint64_t unset_join_waker_after_complete() noexcept;
  // JoinHandle dropped: clears JOIN_INTEREST (and, before completion, JOIN_WAKER so the
  // handle side owns the waker field). Returns the state after the transition.
  inline uint64_t drop_join_interest() noexcept;

  void ref_inc() noexcept {
    uint64_t prev = word_.fetch_add(REF_ONE, std::memory_order_relaxed);
    if (TOKIO_UNLIKELY(refs(prev) >= REF_MASK - 1)) std::abort();  // refcount overflow
  }
  // Returns true when this released the last reference.
  inline bool ref_dec() noexcept;
  inline bool ref_dec_n(uint64_t n) noexcept;

 private:
  Atomic<uint64_t> word_;
};

}  // namespace tokio::detail
