#pragma once
// HandleInner: the shared state of one runtime (what runtime::Handle points to). The two
// scheduler flavours derive from it.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/blocking_pool.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/driver.hpp"
#include "tokio/runtime/detail/entry.hpp"
#include "tokio/runtime/detail/owned_tasks.hpp"
#include "tokio/runtime/detail/stall.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/runtime/detail/task_names.hpp"

namespace tokio::detail {

// Per-worker counters. Written only by the worker that owns them (plain load+store, no
// RMW), read by anyone through RuntimeMetrics.
struct WorkerStats {
  std::atomic<uint64_t> park_count{0};
  std::atomic<uint64_t> park_unpark_count{0};
  std::atomic<uint64_t> noop_count{0};
  std::atomic<uint64_t> steal_count{0};
  std::atomic<uint64_t> steal_operations{0};
  std::atomic<uint64_t> poll_count{0};
  std::atomic<uint64_t> local_schedule_count{0};
  std::atomic<uint64_t> overflow_count{0};
  std::atomic<uint64_t> busy_ns{0};
  uint64_t polls_at_last_park = 0;  // the owner's alone: poll_count when it last parked

  static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // The owner is about to wait for work (each wait of a park, a spurious wake-up's too): a
  // park, and a no-op one when no task was polled since the previous park (Tokio's
  // meaning of worker_noop_count).
  void about_to_park() noexcept {
    bump(park_count);
    const uint64_t polls = poll_count.load(std::memory_order_relaxed);
    if (polls == polls_at_last_park) {
      bump(noop_count);
    } else {
      polls_at_last_park = polls;
    }
  }
};

// What tls.worker points to: the base of each scheduler's per-worker context (the
// multi-thread Worker, the current-thread core's context), so a scheduler can tell whether
// the current thread is one of its own workers and reach its own state from it.
// Runs a runtime thread hook (on_thread_start / stop / park / unpark, named `name`): one
// that throws is reported on stderr with the exception's message, and the thread goes on
// (it cannot hand the exception to anyone; left to propagate it ended the process with
// only std::terminate's line).
void call_thread_hook(const Callback<void()>& hook, const char* name) noexcept;

struct WorkerContext {
  HandleInner* handle;
  StallProbe* stall = nullptr;  // set while a stall watchdog watches this thread's polls
  // This worker's poll-time histogram row (HandleInner::poll_hist), or null when off.
  std::atomic<uint64_t>* poll_hist = nullptr;
};

// The one spawn step of every scheduler (HandleInner::spawn, a LocalSet's spawn): stamps
// the new task (its state's SINCE), binds it to `s` and its owned list, tells the spawn
// hook, and schedules it; `refuse` (the runtime halted) or a closed owned list cancels it
// instead (task_reject).
inline void bind_and_schedule(Scheduler& s, OwnedTasks& owned, TaskHeader* t,
                              bool refuse) noexcept {
  t->state.set_since_unshared(task_stamp());
  t->sched = &s;
  if (TOKIO_UNLIKELY(refuse || !owned.bind(t))) {
    t->sched = nullptr;
    task_reject(t);
    return;
  }
  if (TOKIO_UNLIKELY(s.hooks != nullptr)) task_spawned(t);
  s.schedule(t, false);
}

struct HandleInner : RefCounted, Scheduler {
  HandleInner(Config cfg, std::size_t owned_shards, std::size_t blocking_threads_extra);

  // Binds and schedules a new task, or cancels it when the runtime is shut down.
  void spawn(TaskHeader* t) noexcept {
    bind_and_schedule(*this, owned, t, halted.load(std::memory_order_relaxed));
  }

  // UnhandledException policy (see runtime/unhandled.hpp).
  void task_failed(TaskHeader* t, const std::exception_ptr& e, TaskFailure kind) noexcept override;
  // ShutdownRuntime fired: throws UnhandledExceptionShutdown from a block_on (check after
  // every wake-up of a block_on loop).
  void throw_if_halted() const {
    if (TOKIO_UNLIKELY(halted.load(std::memory_order_acquire))) throw_halted();
  }
  [[noreturn]] void throw_halted() const;

  // Drives a block_on root (its slot armed by set_starter) until it finishes.
  virtual void block_on_slot(PollSlot& slot) = 0;
  // Cancels every task, stops the workers and the blocking pool. Called once.
  virtual void shutdown(std::optional<std::chrono::nanoseconds> blocking_timeout) = 0;
  virtual runtime::RuntimeFlavor flavor() const noexcept = 0;
  virtual std::size_t num_workers() const noexcept = 0;
  virtual const WorkerStats& worker_stats(std::size_t i) const noexcept = 0;
  virtual std::size_t worker_local_queue_depth(std::size_t i) const noexcept = 0;
  virtual std::size_t global_queue_depth() const noexcept = 0;
  virtual uint64_t remote_schedule_count() const noexcept = 0;
  // Multi-thread only: hands this worker's core to another thread (block_in_place).
  virtual void block_in_place_begin() {}
  virtual void block_in_place_end() {}
  // Wakes every thread that drives this runtime (workers, block_on callers) so each sees
  // `halted` (UnhandledException::ShutdownRuntime).
  virtual void wake_all_for_halt() noexcept = 0;

  void on_complete(TaskHeader* t, bool joinable) noexcept override {
    owned.on_complete(t, joinable);
  }
  void on_joined(TaskHeader* t) noexcept override { owned.unlink_joined(t); }
  void on_dealloc(uint64_t key) noexcept override { owned.on_dealloc(key); }

  // True when the calling thread is one of this runtime's workers holding a core.
  bool on_worker_thread() const noexcept {
    WorkerContext* w = tls.worker;
    return w && w->handle == this;
  }

  // Builder::rng_seed: seeds the thread's random state (select's branch order) from the
  // seed and `stream`, so the same program makes the same choices, as in Tokio. A worker
  // passes its index (fixed at build, whichever thread starts first), a block_on the next
  // block_on number (kBlockOnStream + a counter).
  void seed_thread_rng(ThreadContext& t, uint64_t stream) noexcept;
  static constexpr uint64_t kBlockOnStream = uint64_t(1) << 32;
  uint64_t next_block_on_stream() noexcept {
    return kBlockOnStream + rng_block_ons.fetch_add(1, std::memory_order_relaxed);
  }

  Config config;
  std::atomic<uint64_t> rng_block_ons{0};  // block_ons seeded (relaxed: a counter)
  uint64_t id;
  Driver driver;
  OwnedTasks owned;
  BlockingPool blocking;
  std::atomic<bool> is_shutdown{false};
  // Polls of this runtime's tasks that the coop budget forced to yield
  // (RuntimeMetrics::budget_forced_yield_count; relaxed, a statistic).
  std::atomic<uint64_t> budget_forced_yields{0};
  // The task exception that halted the runtime (ShutdownRuntime): written once, by the
  // thread that wins `halt_claimed`, before `halted` is set with release.
  // Builder::stall_threshold: the watchdog (null when off).
  std::unique_ptr<StallWatchdog> stall_watchdog;
  // Builder::enable_metrics_poll_time_histogram: workers x buckets counts, each row written
  // by its worker only (relaxed: a statistic), null when off. Sized by the scheduler.
  std::unique_ptr<std::atomic<uint64_t>[]> poll_hist;
  std::size_t poll_hist_workers = 0;
  void init_poll_histogram(std::size_t workers) {
    if (!config.poll_time_histogram) return;
    poll_hist_workers = workers;
    poll_hist = std::make_unique<std::atomic<uint64_t>[]>(workers * config.poll_hist_buckets);
  }
  std::atomic<uint64_t>* poll_hist_row(std::size_t worker) noexcept {
    return poll_hist ? &poll_hist[worker * config.poll_hist_buckets] : nullptr;
  }
  std::atomic<bool> halt_claimed{false};
  std::exception_ptr halt_exception;
  uint64_t halt_task_id = 0;

 protected:
  ~HandleInner() override;
};

// Marks the calling thread as driving a runtime for the guard's lifetime; throws the
// nested-runtime error when it already is, except inside block_in_place (as in Tokio,
// whose block_in_place docs show Handle::block_on there): the thread gave its worker core
// away, so the guard sets the thread's poll and runtime context aside (the task being
// polled, its waker and slot, the worker, defer list, LocalSet, budget...) and the nested
// block_on runs as on a plain thread; the destructor puts it all back.
class EnterRuntime {
 public:
  EnterRuntime(HandleInner* h, const char* what);
  ~EnterRuntime();
  EnterRuntime(const EnterRuntime&) = delete;
  EnterRuntime& operator=(const EnterRuntime&) = delete;

 private:
  // The fields of ThreadContext that belong to the poll or the runtime in progress (not
  // the id block, random state or allocator hand-offs, which stay with the thread).
  struct SetAside {
    Wakeable* waker;
    PollSlot* slot;
    TaskHeader* task;
    int32_t budget;
    TaskLocalBinding* locals;
    bool yield_requested;
    WorkerContext* worker;
    LocalSetShared* local_set;
    DeferList* defer;
    uint32_t runtime_depth;
    uint32_t blocking_region;
    uint32_t transfers;
    void* bounce;
  };
  HandleInner* prev_handle_;
  uint64_t prev_rng_;    // the thread's random state, given back on exit (rng_seed)
  bool nested_ = false;  // entered from inside block_in_place: `aside_` holds the context
  SetAside aside_{};
};

HandleInner* make_current_thread(Config cfg);
HandleInner* make_multi_thread(Config cfg);

}  // namespace tokio::detail
