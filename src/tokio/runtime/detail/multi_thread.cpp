// The multi-thread, work-stealing scheduler.
//
// Each worker owns a Core: a LIFO slot, a 256-slot local queue (stealable), counters. A
// worker loop runs local tasks, checks the inject queue every `global_queue_interval`
// ticks, steals half of another worker's queue when it runs dry (at most half the workers
// search at once), and otherwise parks: the first idle worker in the driver, the rest on
// their own futex. A freshly woken task goes to the LIFO slot so message-passing pairs run
// back to back on a warm cache; the slot is capped at 3 consecutive polls per tick and
// shares the coop budget so it cannot starve the queue.
//
// A Core can move to another thread: block_in_place parks it in Remote::handoff and starts
// a new thread for it, so the blocking closure does not stall the worker's queue.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/core/detail/rand.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/defer.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/idle.hpp"
#include "tokio/runtime/detail/inject.hpp"
#include "tokio/runtime/detail/local_queue.hpp"
#include "tokio/runtime/detail/park.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"
#include "tokio/runtime/detail/worker_parker.hpp"

namespace tokio::detail {

namespace runtime_multi_thread_impl {

constexpr uint32_t kMaxLifoPollsPerTick = 3;

// Self-tuned global queue interval (Tokio >= 1.29): check the inject queue about every
// 200 µs of task polling, estimated from an EWMA of the mean poll time, clamped to
// [2, 127] ticks; starts at the classic 61. Only used when the Builder sets no interval.
constexpr double kTargetGlobalQueueIntervalNs = 200000.0;
constexpr uint32_t kMaxGlobalQueueInterval = 127;
constexpr uint32_t kDefaultGlobalQueueInterval = 61;
constexpr double kPollTimeEwmaAlpha = 0.1;

class MultiThread;

struct Core {
  uint32_t index = 0;
  uint32_t tick = 0;
  TaskHeader* lifo_slot = nullptr;
  bool lifo_enabled = true;
  bool is_searching = false;
  bool is_shutdown = false;
  bool is_parked = false;  // inside park: wakes from the driver don't notify others yet
  FastRand rand;
  // Polling batch: from unpark (or maintenance) to the next park, for busy time and the
  // poll-time EWMA.
  std::chrono::steady_clock::time_point batch_start{};
  uint32_t polls_in_batch = 0;
  double poll_ewma_ns = kTargetGlobalQueueIntervalNs / kDefaultGlobalQueueInterval;
  uint32_t global_interval = kDefaultGlobalQueueInterval;
};

struct alignas(kCacheLine) Remote {
  LocalQueue queue;
  WorkerParker parker;
  WorkerStats stats;
  std::atomic<Core*> handoff{nullptr};  // the Core while no thread runs this worker
};

struct WorkerCtx : WorkerContext {
  MultiThread* sched;
  uint32_t index;
  Core* core;  // null once block_in_place handed the core to another thread
  DeferList defer;
};

// Cache-line aligned: allocated with its own lines, so nothing a program allocates next to
// the runtime (a counter its tasks bump, say) shares a line with the scheduler's fields
// that every wake reads (bench/NOTES.md, sync_notify: a benchmark's counter allocated just
// before the runtime; with this, Inject's and Idle's alignment, notify_one/100 w=1 went
// from 875 to 630 ms).
class alignas(kCacheLine) MultiThread final : public HandleInner {
 public:
  explicit MultiThread(Config cfg);

  void start();

  runtime::RuntimeFlavor flavor() const noexcept override {
    return runtime::RuntimeFlavor::MultiThread;
  }
  std::size_t num_workers() const noexcept override { return n_; }
  const WorkerStats& worker_stats(std::size_t i) const noexcept override {
    return remotes_[i].stats;
  }
  std::size_t worker_local_queue_depth(std::size_t i) const noexcept override {
    return remotes_[i].queue.len();
  }
  std::size_t global_queue_depth() const noexcept override { return inject_.len(); }
  uint64_t remote_schedule_count() const noexcept override { return inject_.remote_pushes(); }

  void schedule(TaskHeader* t, bool yield) noexcept override {
    auto* ctx = static_cast<WorkerCtx*>(tls.worker);
    if (ctx && ctx->handle == this && ctx->core) {
      schedule_local(ctx->core, t, yield);
      return;
    }
    inject_.push(t, true);
    notify_parked();
  }

  void block_on_slot(PollSlot& slot) override;
  void await_halt_cancellations(ParkThread& pt) noexcept;
  void wake_all_for_halt() noexcept override;
  void shutdown(std::optional<std::chrono::nanoseconds> timeout) override;
  void block_in_place_begin() override;
  void block_in_place_end() override;

  static void worker_entry(void* arg);
  void spawn_worker(uint32_t index);

 private:
  friend struct WorkerLoop;

  void schedule_local(Core* core, TaskHeader* t, bool yield) noexcept {
    WorkerStats& st = remotes_[core->index].stats;
    WorkerStats::bump(st.local_schedule_count);
    bool notify;
    if (yield) {
      push_local(core, t);
      notify = true;
    } else if (!core->lifo_enabled) {
      // The LIFO slot is capped for this tick (or disabled). A task queued behind nothing
      // is the one this worker runs next, as it would have from the slot: waking another
      // worker for it only invites a steal that moves a sequential chain (each task
      // spawning the next) from core to core. A second queued task is real extra work,
      // and notifies as before, so fan-out still gets help.
      notify = !remotes_[core->index].queue.is_empty();
      push_local(core, t);
    } else {
      TaskHeader* prev = core->lifo_slot;
      core->lifo_slot = t;
      notify = prev != nullptr;
      if (prev) push_local(core, prev);
    }
    if (notify && !core->is_parked) notify_parked();
  }

  void push_local(Core* core, TaskHeader* t) noexcept {
    Remote& r = remotes_[core->index];
    if (r.queue.push_back_or_overflow(t, inject_)) WorkerStats::bump(r.stats.overflow_count);
  }

  void notify_parked() noexcept {
    if (auto w = idle_.worker_to_notify()) remotes_[*w].parker.unpark(driver);
  }
  void notify_all() noexcept {
    for (uint32_t i = 0; i < n_; ++i) remotes_[i].parker.unpark(driver);
  }
  void notify_if_work_pending() noexcept {
    for (uint32_t i = 0; i < n_; ++i) {
      if (!remotes_[i].queue.is_empty()) {
        notify_parked();
        return;
      }
    }
    if (!inject_.is_empty()) notify_parked();
  }

  // --- the worker loop ---------------------------------------------------------------
  void run_worker(uint32_t index);
  TaskHeader* next_task(Core* core) noexcept;
  TaskHeader* next_local_task(Core* core) noexcept {
    if (TaskHeader* t = core->lifo_slot) {
      core->lifo_slot = nullptr;
      return t;
    }
    return remotes_[core->index].queue.pop();
  }
  TaskHeader* steal_work(Core* core) noexcept;
  bool run_task(WorkerCtx& ctx, TaskHeader* t);
  void park(WorkerCtx& ctx);
  void park_timeout(WorkerCtx& ctx, std::optional<std::chrono::nanoseconds> timeout);
  // Wakes the yielded tasks without a notify per task (see schedule_local), then one
  // notify if others could help.
  void wake_deferred_batch(WorkerCtx& ctx) noexcept {
    Core* core = ctx.core;
    core->is_parked = true;
    wake_deferred(ctx.defer);
    core->is_parked = false;
    if (!core->is_searching && remotes_[core->index].queue.len() > 1) notify_parked();
  }
  void maintenance(Core* core) noexcept {
    if (!core->is_shutdown) core->is_shutdown = is_shutdown.load(std::memory_order_acquire);
  }
  void transition_from_searching(Core* core) noexcept {
    if (!core->is_searching) return;
    core->is_searching = false;
    // The last searcher found work: wake another worker to keep looking.
    if (idle_.transition_worker_from_searching()) notify_parked();
  }
  bool transition_to_parked(Core* core) {
    if (core->lifo_slot || !remotes_[core->index].queue.is_empty()) return false;
    bool last = idle_.transition_worker_to_parked(core->index, core->is_searching);
    core->is_searching = false;
    if (last) notify_if_work_pending();
    return true;
  }
  bool transition_from_parked(Core* core) {
    if (core->lifo_slot || !remotes_[core->index].queue.is_empty()) {
      // Woke with work of its own (e.g. from the driver): not searching.
      core->is_searching = !idle_.unpark_worker_by_id(core->index);
      return true;
    }
    if (idle_.is_parked(core->index)) return false;
    core->is_searching = true;  // notified by another worker: go look for its work
    return true;
  }
  void start_batch(Core* core) noexcept {
    core->batch_start = std::chrono::steady_clock::now();
    refresh_coarse_clock(core->batch_start);
    core->polls_in_batch = 0;
  }
  // Ends a polling batch: accounts busy time and updates the poll-time EWMA, then re-tunes
  // the global queue interval.
  void end_batch(Core* core) noexcept {
    auto now = std::chrono::steady_clock::now();
    double ns = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - core->batch_start).count());
    WorkerStats::bump(remotes_[core->index].stats.busy_ns, static_cast<uint64_t>(ns));
    core->batch_start = now;
    if (core->polls_in_batch == 0) return;
    double n = core->polls_in_batch;
    double alpha = 1.0 - std::pow(1.0 - kPollTimeEwmaAlpha, n);
    core->poll_ewma_ns = alpha * (ns / n) + (1.0 - alpha) * core->poll_ewma_ns;
    core->polls_in_batch = 0;
    if (config.global_queue_interval) return;
    double per = kTargetGlobalQueueIntervalNs / std::max(core->poll_ewma_ns, 1.0);
    uint32_t next = static_cast<uint32_t>(std::clamp(per, 2.0, double(kMaxGlobalQueueInterval)));
    // Smooth out jitter.
    uint32_t cur = core->global_interval;
    if ((next > cur ? next - cur : cur - next) > 2) core->global_interval = next;
  }
  // A worker loop is done with its core (shutdown): hand it to the shutdown thread, or,
  // when the shutdown stopped waiting for it, finish the shutdown if it is the last.
  void submit_core(Core* core);
  // Under shutdown_mu_: moves the cores parked in handoff cells (a block_in_place start
  // pending) to shutdown_cores_.
  void take_handoffs_locked() noexcept;
  // Cancels every task (a task inside a poll is flagged and cancels itself when the poll
  // returns), drops the queued references of `cores` (handed in: no worker uses them) and
  // closes the inject queue.
  void cancel_tasks(const std::vector<Core*>& cores) noexcept;
  // Drops the references a handed-in core still queues (its LIFO slot and local queue).
  void drop_queued(Core* c) noexcept;
  // Every core is in: drops their queued references, shuts the driver down, frees them.
  void release_cores(std::vector<Core*>& cores) noexcept;

  uint32_t n_;
  std::unique_ptr<Remote[]> remotes_;
  Inject inject_;
  Idle idle_;
  SpinLock driver_lock_;

  std::mutex shutdown_mu_;
  std::condition_variable shutdown_cv_;
  // Threads inside block_on, so a halt (UnhandledException::ShutdownRuntime) can wake them.
  // Touched once per block_on call, never per poll.
  std::mutex blockers_mu_;
  std::vector<ParkThread*> blockers_;
  std::vector<Core*> shutdown_cores_;
  // Under shutdown_mu_: a bounded shutdown stopped waiting for a core (its worker is stuck
  // inside a poll) after cancelling the tasks; the worker handing in the last core calls
  // release_cores.
  bool release_late_ = false;
};

uint32_t default_workers(const Config& cfg) {
  if (cfg.worker_threads > 0) return static_cast<uint32_t>(cfg.worker_threads);
  if (const char* env = std::getenv("TOKIO_WORKER_THREADS")) {
    long v = std::strtol(env, nullptr, 10);
    if (v > static_cast<long>(kMaxWorkerThreads)) {
      throw std::invalid_argument("tokio: TOKIO_WORKER_THREADS=" + std::string(env) +
                                  ": a runtime has at most " + std::to_string(kMaxWorkerThreads) +
                                  " workers");
    }
    if (v > 0) return static_cast<uint32_t>(v);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

MultiThread::MultiThread(Config cfg)
    : HandleInner(std::move(cfg), 4 * default_workers(cfg), default_workers(cfg)),
      n_(default_workers(config)),
      remotes_(std::make_unique<Remote[]>(n_)),
      idle_(n_) {
  init_poll_histogram(n_);
  uint64_t seed = config.rng_seed.value_or(random_seed());
  for (uint32_t i = 0; i < n_; ++i) {
    auto* core = new Core();
    core->index = i;
    core->lifo_enabled = !config.disable_lifo_slot;
    core->global_interval = config.global_queue_interval.value_or(kDefaultGlobalQueueInterval);
    core->rand = FastRand(seed + 0x9E3779B97F4A7C15ull * (i + 1));
    remotes_[i].handoff.store(core, std::memory_order_relaxed);
  }
}

struct WorkerStart {
  MultiThread* sched;
  uint32_t index;
};

// Hands worker `index`'s start to the blocking pool. The pool owns the WorkerStart once
// spawn_mandatory returns; when it throws (no thread could start), the job was taken back
// and the WorkerStart is still ours.
void MultiThread::spawn_worker(uint32_t index) {
  auto s = std::make_unique<WorkerStart>(WorkerStart{this, index});
  blocking.spawn_mandatory(&MultiThread::worker_entry, s.get());
  (void)s.release();
}

void MultiThread::start() {
  for (uint32_t i = 0; i < n_; ++i) spawn_worker(i);
}

void MultiThread::worker_entry(void* arg) {
  std::unique_ptr<WorkerStart> s(static_cast<WorkerStart*>(arg));
  s->sched->run_worker(s->index);
}

void MultiThread::run_worker(uint32_t index) {
  Core* core = remotes_[index].handoff.exchange(nullptr, std::memory_order_acq_rel);
  if (!core) return;  // block_in_place took its core back before we started

  WorkerCtx ctx;
  ctx.handle = this;
  ctx.sched = this;
  ctx.index = index;
  ctx.core = core;
  ThreadContext& t = tls;
  WorkerContext* prev_worker = t.worker;
  HandleInner* prev_handle = t.handle;
  t.worker = &ctx;
  t.handle = this;
  t.defer = &ctx.defer;
  ++t.runtime_depth;
  seed_thread_rng(t, index);
  StallProbe stall_probe;
  StallScope stall_scope(stall_watchdog.get(), stall_probe, index);
  ctx.poll_hist = poll_hist_row(index);
  start_batch(core);

  const uint32_t event_interval = std::max<uint32_t>(config.event_interval, 1);
  for (;;) {
    core = ctx.core;
    if (core->is_shutdown) break;
    ++core->tick;
    if (core->tick % event_interval == 0) {
      end_batch(core);
      park_timeout(ctx, std::chrono::nanoseconds(0));
      maintenance(core);
      start_batch(core);
    }
    if (TaskHeader* task = next_task(core)) {
      if (!run_task(ctx, task)) break;
      continue;
    }
    end_batch(core);
    if (TaskHeader* task = steal_work(core)) {
      start_batch(core);
      if (!run_task(ctx, task)) break;
      continue;
    }
    if (!ctx.defer.empty()) {
      // Only yielded tasks are left: poll the drivers, then let them run again.
      if (driver.has_drivers()) {
        park_timeout(ctx, std::chrono::nanoseconds(0));  // wakes the deferred too
      } else {
        wake_deferred_batch(ctx);
      }
    } else {
      park(ctx);
    }
    start_batch(ctx.core);
  }
  // Yielded tasks must not be lost when this thread gives up its worker (shutdown, or a
  // block_in_place hand-off): without a core they go to the inject queue.
  wake_deferred(ctx.defer);
  if (ctx.core) {
    end_batch(ctx.core);
    // Cleared first: a late release in submit_core frees the core on this thread.
    submit_core(std::exchange(ctx.core, nullptr));
  }
  t.defer = nullptr;
  --t.runtime_depth;
  t.worker = prev_worker;
  t.handle = prev_handle;
}

TaskHeader* MultiThread::next_task(Core* core) noexcept {
  if (core->tick % core->global_interval == 0) {
    if (TaskHeader* t = inject_.pop()) return t;
    return next_local_task(core);
  }
  if (TaskHeader* t = next_local_task(core)) return t;
  if (inject_.is_empty()) return nullptr;
  // Refill from the inject queue: a fair share of it, at most half a local queue.
  LocalQueue& q = remotes_[core->index].queue;
  std::size_t cap = std::min<std::size_t>(q.remaining_slots(), LocalQueue::kHalf);
  std::size_t n = std::min<std::size_t>(inject_.len() / n_ + 1, cap);
  if (n == 0) return inject_.pop();
  TaskHeader* batch[LocalQueue::kHalf];
  std::size_t got = inject_.pop_n(batch, n);
  if (got == 0) return nullptr;
  for (std::size_t i = 1; i < got; ++i) q.push_back_unchecked(batch[i]);
  return batch[0];
}

TaskHeader* MultiThread::steal_work(Core* core) noexcept {
  if (!core->is_searching) core->is_searching = idle_.transition_worker_to_searching();
  if (!core->is_searching) return nullptr;
  Remote& self = remotes_[core->index];
  uint32_t start = core->rand.next_n(n_);
  for (uint32_t i = 0; i < n_; ++i) {
    uint32_t victim = (start + i) % n_;
    if (victim == core->index) continue;
    uint32_t stolen = 0;
    if (TaskHeader* t = remotes_[victim].queue.steal_into(self.queue, &stolen)) {
      WorkerStats::bump(self.stats.steal_count, stolen);
      WorkerStats::bump(self.stats.steal_operations);
      return t;
    }
  }
  return inject_.pop();
}

bool MultiThread::run_task(WorkerCtx& ctx, TaskHeader* task) {
  Core* core = ctx.core;
  transition_from_searching(core);
  WorkerStats& st = remotes_[core->index].stats;
  ThreadContext& t = tls;
  t.budget = kInitialBudget;
  WorkerStats::bump(st.poll_count);
  ++core->polls_in_batch;
  task->vt()->run(task);
  // Run what the task woke into the LIFO slot, sharing the same budget.
  uint32_t lifo_polls = 0;
  for (;;) {
    core = ctx.core;
    if (!core) {
      t.budget = -1;
      return false;  // block_in_place moved our core to another thread
    }
    TaskHeader* next = core->lifo_slot;
    if (!next) {
      core->lifo_enabled = !config.disable_lifo_slot;
      break;
    }
    core->lifo_slot = nullptr;
    if (t.budget == 0) {
      // Out of budget: the woken task waits its turn at the back of the queue.
      push_local(core, next);
      break;
    }
    if (++lifo_polls >= kMaxLifoPollsPerTick) core->lifo_enabled = false;
    WorkerStats::bump(st.poll_count);
    ++core->polls_in_batch;
    next->vt()->run(next);
  }
  t.budget = -1;
  return true;
}

void MultiThread::park(WorkerCtx& ctx) {
  Core* core = ctx.core;
  sigpipe_refresh_thread();
  frame_cache_on_park();  // empty slabs unused for a while go back (frame_alloc.hpp)
  call_thread_hook(config.on_thread_park, "on_thread_park");
  if (transition_to_parked(core)) {
    while (!core->is_shutdown) {
      // park_unpark_count goes up on the way in and on the way out: odd while parked (as
      // Tokio's). Zero-timeout driver turns (park_timeout(ctx, 0)) are not parks.
      remotes_[core->index].stats.about_to_park();
      WorkerStats::bump(remotes_[core->index].stats.park_unpark_count);
      park_timeout(ctx, std::nullopt);
      core = ctx.core;
      WorkerStats::bump(remotes_[core->index].stats.park_unpark_count);
      maintenance(core);
      if (transition_from_parked(core)) break;
    }
  }
  call_thread_hook(config.on_thread_unpark, "on_thread_unpark");
}

void MultiThread::park_timeout(WorkerCtx& ctx, std::optional<std::chrono::nanoseconds> timeout) {
  Core* core = ctx.core;
  Remote& r = remotes_[core->index];
  if (timeout && timeout->count() == 0 && !driver.has_drivers()) return;
  core->is_parked = true;
  r.parker.park(driver_lock_, driver, timeout);
  // Still flagged as parked: tasks woken by the driver and the deferred (yielded) ones go
  // to our queue without a notify each; one notify below covers the whole batch.
  wake_deferred(ctx.defer);
  core->is_parked = false;
  // Work that arrived while we slept is stealable: let a sleeper help.
  if (!core->is_searching && r.queue.len() > 1) notify_parked();
}

void MultiThread::submit_core(Core* core) {
  std::vector<Core*> cores;
  {
    std::lock_guard<std::mutex> g(shutdown_mu_);
    shutdown_cores_.push_back(core);
    shutdown_cv_.notify_all();
    if (!release_late_) return;
    take_handoffs_locked();
    if (shutdown_cores_.size() < n_) return;
    release_late_ = false;
    cores.swap(shutdown_cores_);
  }
  // The shutdown call returned while this worker was stuck in a poll, with every task
  // already cancelled but this one's (flagged; it cancelled itself as the poll returned):
  // the last core is in, so this thread finishes what that call left.
  HandleInner* prev_handle = tls.handle;
  tls.handle = this;
  release_cores(cores);
  tls.handle = prev_handle;
}

void MultiThread::take_handoffs_locked() noexcept {
  for (uint32_t i = 0; i < n_; ++i) {
    if (Core* c = remotes_[i].handoff.exchange(nullptr, std::memory_order_acq_rel)) {
      shutdown_cores_.push_back(c);
    }
  }
}

void MultiThread::wake_all_for_halt() noexcept {
  notify_all();
  std::lock_guard<std::mutex> g(blockers_mu_);
  for (ParkThread* p : blockers_) p->parker.unpark();
}

void MultiThread::block_on_slot(PollSlot& slot) {
  EnterRuntime enter(this, "block_on (Runtime::block_on or Handle::block_on)");
  ParkThread* pt = ParkThread::current();
  ThreadContext& c = tls;
  Wakeable* pw = c.waker;
  TaskHeader* ptask = c.task;
  int32_t pb = c.budget;
  {
    std::lock_guard<std::mutex> g(blockers_mu_);
    blockers_.push_back(pt);
  }
  struct Unregister {
    MultiThread* self;
    ParkThread* pt;
    ~Unregister() {
      std::lock_guard<std::mutex> g(self->blockers_mu_);
      self->blockers_.erase(std::find(self->blockers_.begin(), self->blockers_.end(), pt));
    }
  } unregister{this, pt};
  // Blocking in the block_on future (or in a LocalSet task it drives) stalls everything
  // that runs on this thread: watched like a worker when a stall detector is on.
  StallProbe probe;
  probe.worker = kStallBlockOnThread;
  BlockOnWatch watch(stall_watchdog.get(), probe);
  for (;;) {
    // Checked after the registration above: a halt either sees this thread listed (and
    // unparks it) or is seen here (halted is set before blockers_ is read).
    if (TOKIO_UNLIKELY(halted.load(std::memory_order_acquire))) {
      await_halt_cancellations(*pt);
      throw_halted();
    }
    c.waker = &pt->wakeable;
    c.task = nullptr;
    c.budget = kInitialBudget;
    task::Context cx(&pt->wakeable);
    uint64_t outer = watch.w ? probe.begin(kStallBlockOnRoot, slot.poll_fn) : 0;
    bool done = drive_slot(slot, cx);
    if (watch.w) probe.end(outer);
    c.budget = pb;
    c.waker = pw;
    c.task = ptask;
    if (done) return;
    pt->parker.park();
  }
}

// UnhandledException::ShutdownRuntime: abort_all queued every task's cancellation, which
// the workers run. Wait for them, so the tasks' destructors (sockets, files, guards) have
// run when block_on throws, as on the current-thread runtime (helper-87: 2 runs in 100
// threw with tasks still alive, most under ASan). A task stuck inside one poll would hold
// that wait for ever: give up once the count of live tasks has not moved for 100 ms.
void MultiThread::await_halt_cancellations(ParkThread& pt) noexcept {
  constexpr auto kStuck = std::chrono::milliseconds(100);
  std::size_t last = owned.alive();
  auto moved = std::chrono::steady_clock::now();
  while (last != 0) {
    (void)pt.parker.park(std::chrono::milliseconds(1));
    const std::size_t now_alive = owned.alive();
    const auto now = std::chrono::steady_clock::now();
    if (now_alive != last) {
      last = now_alive;
      moved = now;
    } else if (now - moved >= kStuck) {
      return;
    }
  }
}

// How long a bounded shutdown waits for the workers' cores at least (see shutdown).
constexpr std::chrono::milliseconds kCoreGrace{250};

void MultiThread::shutdown(std::optional<std::chrono::nanoseconds> timeout) {
  if (is_shutdown.exchange(true, std::memory_order_acq_rel)) return;
  // Queued spawn_blocking closures are cancelled now: a worker that stops returns its
  // thread to the pool, which would otherwise start them (past max_blocking_threads).
  blocking.begin_shutdown();
  notify_all();
  const auto start = std::chrono::steady_clock::now();
  auto left_of = [&](std::chrono::nanoseconds limit) {
    return std::max(std::chrono::nanoseconds(0),
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        limit - (std::chrono::steady_clock::now() - start)));
  };
  // Wait for every worker loop to stop and hand its core back: without limit when the
  // runtime is dropped, as Tokio does; for shutdown_timeout / shutdown_background at most
  // max(timeout, kCoreGrace). A worker hands its core in at its next turn, microseconds
  // away unless it is inside a poll, so the grace keeps every task cancelled by the time
  // even shutdown_background returns. Past it, a worker stuck in a poll (a blocking call
  // in async code) is not waited for: this thread cancels every task now, the stuck one
  // only flagged, as Tokio's live workers do, and that worker cancels its task when the
  // poll returns, then releases the cores and the driver (submit_core).
  std::optional<std::chrono::nanoseconds> core_limit;
  if (timeout) core_limit = std::max<std::chrono::nanoseconds>(*timeout, kCoreGrace);
  std::vector<Core*> cores;
  bool all_in = false;
  {
    std::unique_lock<std::mutex> lk(shutdown_mu_);
    for (;;) {
      take_handoffs_locked();  // cores parked for a block_in_place start count too
      if (shutdown_cores_.size() >= n_) {
        all_in = true;
        break;
      }
      auto step = std::chrono::nanoseconds(std::chrono::milliseconds(5));
      if (core_limit) {
        auto rest = left_of(*core_limit);
        if (rest.count() == 0) break;
        step = std::min(step, rest);
      }
      shutdown_cv_.wait_for(lk, step);
      notify_all();
    }
    // When a core is missing the others stay listed too, for the late release.
    if (all_in) {
      cores.swap(shutdown_cores_);
    } else {
      cores = shutdown_cores_;
    }
  }
  HandleInner* prev_handle = tls.handle;
  tls.handle = this;
  cancel_tasks(cores);
  if (!all_in) {
    std::lock_guard<std::mutex> g(shutdown_mu_);
    take_handoffs_locked();
    if (shutdown_cores_.size() >= n_) {
      all_in = true;  // the missing worker got out while the tasks were being cancelled
    } else {
      release_late_ = true;
    }
    if (all_in) cores.swap(shutdown_cores_);
  }
  tls.handle = prev_handle;
  blocking.shutdown(timeout ? std::optional(left_of(*timeout)) : std::nullopt);
  if (all_in) {
    tls.handle = this;
    release_cores(cores);
    tls.handle = prev_handle;
  }
}

void MultiThread::cancel_tasks(const std::vector<Core*>& cores) noexcept {
  owned.close_and_shutdown_all();
  for (Core* c : cores) drop_queued(c);
  // From here on a wake from another thread (a blocking closure finishing, a foreign
  // thread, a task still inside block_in_place or a stuck poll) finds the queue closed and
  // just releases its reference.
  inject_.close_and_drain([](TaskHeader* t) { task_drop_ref(t); });
}

void MultiThread::drop_queued(Core* c) noexcept {
  if (c->lifo_slot) task_drop_ref(std::exchange(c->lifo_slot, nullptr));
  while (TaskHeader* t = remotes_[c->index].queue.pop()) task_drop_ref(t);
}

void MultiThread::release_cores(std::vector<Core*>& cores) noexcept {
  // A late release: the stuck worker's core may hold references queued after the tasks
  // were cancelled (cancel_tasks saw only the cores already in).
  for (Core* c : cores) drop_queued(c);
  driver.shutdown();
  for (Core* c : cores) delete c;
  cores.clear();
}

// --- block_in_place ----------------------------------------------------------------------
void MultiThread::block_in_place_begin() {
  auto* ctx = static_cast<WorkerCtx*>(tls.worker);
  if (!ctx || ctx->handle != this || !ctx->core) return;  // not holding a core: nothing to hand off
  Core* core = ctx->core;
  // Blocking here is what block_in_place is for: not a stall.
  if (ctx->stall) ctx->stall->polling.store(0, std::memory_order_relaxed);
  // The tasks that yielded (their wakes are deferred on this thread until it parks) and
  // the task woken last would otherwise wait behind the blocking call: into the core's
  // queue, which goes with the core. (A closure waiting for one of them deadlocked.)
  if (!ctx->defer.empty()) wake_deferred_batch(*ctx);
  if (TaskHeader* t = std::exchange(core->lifo_slot, nullptr)) push_local(core, t);
  end_batch(core);
  ctx->core = nullptr;
  remotes_[ctx->index].handoff.store(core, std::memory_order_release);
  try {
    spawn_worker(ctx->index);
  } catch (...) {
    // No thread for the core: keep it and run the closure in place.
    ctx->core = remotes_[ctx->index].handoff.exchange(nullptr, std::memory_order_acq_rel);
  }
}

void MultiThread::block_in_place_end() {
  auto* ctx = static_cast<WorkerCtx*>(tls.worker);
  if (!ctx || ctx->handle != this || ctx->core) return;
  // Take the core back if the new thread has not started with it yet.
  if (Core* core = remotes_[ctx->index].handoff.exchange(nullptr, std::memory_order_acq_rel)) {
    start_batch(core);
    ctx->core = core;
  }
}

}  // namespace runtime_multi_thread_impl

HandleInner* make_multi_thread(Config cfg) {
  auto* mt = new runtime_multi_thread_impl::MultiThread(std::move(cfg));
  try {
    mt->start();
  } catch (...) {
    mt->shutdown(std::chrono::nanoseconds(0));
    mt->ref_dec();
    throw;
  }
  return mt;
}

}  // namespace tokio::detail
