// The current-thread scheduler: every task runs on the thread inside block_on.
//
// The "core" (local run queue and counters) is owned by at most one thread at a time: the
// thread inside block_on that took it. Wakes from that thread push to the local queue with
// no synchronisation; wakes from any other thread go through the inject queue and unpark
// the driver. A second thread calling block_on while the core is taken drives its own
// future with its thread parker and takes the core when it is released.
//
// Shutdown needs the core. When another thread's block_on holds it, shutdown sets
// is_shutdown and unparks the driver: the holder's run loop sees the flag at its next turn,
// gives the core back and ends its block_on with std::runtime_error (unless its future
// finished first). A shutdown that may not wait that long (shutdown_background, or
// shutdown_timeout's time is up) leaves a mark in core_ instead (abandoned()): the holder
// finds it when it gives the core back and completes the shutdown itself.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/ring.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/defer.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/inject.hpp"
#include "tokio/runtime/detail/park.hpp"

namespace tokio::detail {

namespace runtime_current_thread_impl {

class CurrentThread;

struct CtCore {
  PtrRing<TaskHeader> queue{64};
  uint32_t tick = 0;
  WorkerStats stats;
};

struct CtContext : WorkerContext {
  CtCore* core;
};

// Installs a defer list on this thread for the scope.
struct DeferScope {
  DeferList list;
  DeferList* prev;
  DeferScope() : prev(tls.defer) { tls.defer = &list; }
  ~DeferScope() {
    tls.defer = prev;
    wake_deferred(list);
  }
};

class CurrentThread final : public HandleInner {
 public:
  explicit CurrentThread(Config cfg) : HandleInner(std::move(cfg), 1, 0) {
    init_poll_histogram(1);
    core_.store(new CtCore(), std::memory_order_release);
    interval_ = config.global_queue_interval.value_or(31);
    if (interval_ == 0) interval_ = 1;
  }

  runtime::RuntimeFlavor flavor() const noexcept override {
    return runtime::RuntimeFlavor::CurrentThread;
  }
  std::size_t num_workers() const noexcept override { return 1; }
  // On the thread that holds the core (a task or block_on's future asking): the counters
  // and the queue as they are now. Elsewhere: as the holder last published them (at each
  // turn of the drivers, every event_interval polls while busy, at each park, and when it
  // gives the core back), since the core is that thread's alone and is freed at shutdown
  // while a reader may still hold the Handle; Tokio publishes at the same points and stores
  // the depth at every push and pop.
  const WorkerStats& worker_stats(std::size_t) const noexcept override {
    if (const CtCore* core = own_core()) return core->stats;
    return stats_view();
  }
  std::size_t worker_local_queue_depth(std::size_t) const noexcept override {
    if (const CtCore* core = own_core()) return core->queue.size();
    return local_depth_.load(std::memory_order_relaxed);
  }
  // The core, when the calling thread holds it.
  const CtCore* own_core() const noexcept {
    auto* ctx = static_cast<const CtContext*>(tls.worker);
    return ctx && ctx->handle == this ? ctx->core : nullptr;
  }
  std::size_t global_queue_depth() const noexcept override { return inject_.len(); }
  uint64_t remote_schedule_count() const noexcept override { return inject_.remote_pushes(); }

  void schedule(TaskHeader* t, bool /*yield*/) noexcept override {
    auto* ctx = static_cast<CtContext*>(tls.worker);
    if (ctx && ctx->handle == this && ctx->core) {
      ctx->core->queue.push_back(t);
      WorkerStats::bump(ctx->core->stats.local_schedule_count);
      return;
    }
    inject_.push(t, true);
    driver.unpark();
  }

  void wake_all_for_halt() noexcept override {
    root_woken_.store(true, std::memory_order_release);
    driver.unpark();
    std::lock_guard<std::mutex> g(waiters_mu_);
    for (ParkThread* p : waiters_) p->parker.unpark();
  }

  void block_on_slot(PollSlot& slot) override {
    EnterRuntime enter(this, "block_on (Runtime::block_on or Handle::block_on)");
    for (;;) {
      // The core goes to the shutdown from here on (see the file comment).
      if (is_shutdown.load(std::memory_order_relaxed)) throw_shut_down();
      if (CtCore* core = take_core()) {
        run_with_core(core, slot);
        return;
      }
      // Another thread runs the scheduler: drive our future with this thread's parker
      // until it finishes or the core is released.
      ParkThread* pt = ParkThread::current();
      {
        std::lock_guard<std::mutex> g(waiters_mu_);
        waiters_.push_back(pt);
      }
      // Listed only while here: a throw (halted, or the future's own exception) must not
      // leave pt behind for a later unpark after its thread is gone (use-after-free).
      struct Unlist {
        CurrentThread* self;
        ParkThread* pt;
        ~Unlist() {
          std::lock_guard<std::mutex> g(self->waiters_mu_);
          self->waiters_.erase(std::find(self->waiters_.begin(), self->waiters_.end(), pt));
        }
      };
      bool done;
      {
        Unlist unlist{this, pt};
        throw_if_halted();
        done = poll_root(slot, &pt->wakeable);
        if (!done && core_.load(std::memory_order_acquire) == nullptr &&
            !halted.load(std::memory_order_relaxed) &&
            !is_shutdown.load(std::memory_order_relaxed)) {
          pt->parker.park();
        }
      }
      if (done) return;
    }
  }

  void shutdown(std::optional<std::chrono::nanoseconds> timeout) override {
    if (is_shutdown.exchange(true, std::memory_order_acq_rel)) return;
    const auto start = std::chrono::steady_clock::now();
    // A thread inside block_on with the core sees is_shutdown at its next turn of the run
    // loop (the unpark ends its driver park) and gives the core back; block_on threads
    // waiting without the core see it when woken.
    driver.unpark();
    {
      std::lock_guard<std::mutex> g(waiters_mu_);
      for (ParkThread* p : waiters_) p->parker.unpark();
    }
    CtCore* core = nullptr;
    ParkThread* pt = ParkThread::current();
    while (!(core = take_core())) {
      auto left = timeout ? *timeout - (std::chrono::steady_clock::now() - start)
                          : std::chrono::nanoseconds(std::chrono::milliseconds(10));
      if (left.count() <= 0) {
        // Out of time: the holder completes the shutdown when it gives the core back. The
        // CAS fails only when the core came back meanwhile: take it then. acq_rel: the
        // release pairs with the holder's failed CAS in ReleaseCore (it then owns the rest
        // of the shutdown and sees is_shutdown); the acquire with its successful one.
        CtCore* none = nullptr;
        if (core_.compare_exchange_strong(none, abandoned(), std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
          return;
        }
        continue;
      }
      {
        std::lock_guard<std::mutex> g(waiters_mu_);
        waiters_.push_back(pt);
      }
      // acquire: pairs with ReleaseCore's CAS (a core seen here is taken next iteration).
      if (core_.load(std::memory_order_acquire) == nullptr) {
        pt->parker.park(std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(10)));
      }
      std::lock_guard<std::mutex> g(waiters_mu_);
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), pt));
    }
    std::optional<std::chrono::nanoseconds> blocking_left = timeout;
    if (timeout) {
      blocking_left = std::max(std::chrono::nanoseconds(0),
                               std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   *timeout - (std::chrono::steady_clock::now() - start)));
    }
    finish_shutdown(core, blocking_left);
  }

 private:
  static const WakeableVTable kRootWakerVTable;

  // What core_ holds once a shutdown gave up waiting for the core: never dereferenced.
  static CtCore* abandoned() noexcept {
    static char tag;
    return reinterpret_cast<CtCore*>(&tag);
  }

  // Takes the core when it is free (not held, not abandoned to its holder by a shutdown).
  // acquire: pairs with the release of ReleaseCore's CAS (the core's queue and counters as
  // the last holder left them).
  CtCore* take_core() noexcept {
    CtCore* c = core_.load(std::memory_order_acquire);
    while (c != nullptr && c != abandoned()) {
      if (core_.compare_exchange_weak(c, nullptr, std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        return c;
      }
    }
    return nullptr;
  }

  [[noreturn]] static void throw_shut_down() {
    throw std::runtime_error(
        "tokio: the current-thread runtime was shut down (its Runtime dropped or shut down) "
        "while this block_on ran: its future was cancelled before it finished. Keep the "
        "Runtime alive until every block_on on it has returned.");
  }

  // The rest of a shutdown, by the thread that has the core: cancels every task, closes
  // the queues, stops the blocking pool (waiting at most `timeout`) and the drivers.
  void finish_shutdown(CtCore* core, std::optional<std::chrono::nanoseconds> timeout) noexcept {
    blocking.begin_shutdown();  // queued closures are cancelled, not started meanwhile
    {
      CtContext ctx{{this}, core};
      WorkerContext* prev_worker = tls.worker;
      HandleInner* prev_handle = tls.handle;
      tls.worker = &ctx;
      tls.handle = this;
      owned.close_and_shutdown_all();
      while (TaskHeader* t = core->queue.pop_front()) task_drop_ref(t);
      // From here on a wake from another thread (a blocking closure finishing, a foreign
      // thread) finds the queue closed and just releases its reference.
      inject_.close_and_drain([](TaskHeader* t) { task_drop_ref(t); });
      tls.worker = prev_worker;
      tls.handle = prev_handle;
    }
    blocking.shutdown(timeout);
    driver.shutdown();
    delete core;
  }

  const WorkerStats& stats_view() const noexcept { return stats_snapshot_; }

  bool poll_root(PollSlot& slot, Wakeable* waker) {
    ThreadContext& c = tls;
    Wakeable* pw = c.waker;
    TaskHeader* pt = c.task;
    int32_t pb = c.budget;
    c.waker = waker;
    c.task = nullptr;
    c.budget = kInitialBudget;
    task::Context cx(waker);
    // The block_on future runs on the core's thread like a task: blocking in it stalls
    // every task (watched when this thread holds the core and a stall detector is on).
    StallProbe* sp = c.worker && c.worker->handle == this ? c.worker->stall : nullptr;
    uint64_t outer = sp ? sp->begin(kStallBlockOnRoot, slot.poll_fn) : 0;
    bool done = drive_slot(slot, cx);
    if (sp) sp->end(outer);
    c.waker = pw;
    c.task = pt;
    c.budget = pb;
    return done;
  }

  TaskHeader* next_task(CtCore* core) noexcept {
    if (core->tick % interval_ == 0) {
      if (TaskHeader* t = inject_.pop()) return t;
      return core->queue.pop_front();
    }
    if (TaskHeader* t = core->queue.pop_front()) return t;
    return inject_.pop();
  }

  void run_task(CtCore* core, TaskHeader* t) noexcept {
    tls.budget = kInitialBudget;
    t->vt()->run(t);
    tls.budget = -1;
    WorkerStats::bump(core->stats.poll_count);
  }

  // UnhandledException::ShutdownRuntime fired: every task was aborted (owned.abort_all),
  // which queued the idle ones to be cancelled by their next run. Run them all now, before
  // block_on throws, so their destructors (sockets, files, guards) run then, as in Tokio,
  // not when the Runtime object is destroyed. A task woken meanwhile (by a destructor) is
  // cancelled too: begin_run cancels instead of polling once halted.
  void cancel_queued_for_halt(CtCore* core, DeferList& deferred) noexcept {
    for (;;) {
      wake_deferred(deferred);
      bool any = false;
      while (TaskHeader* t = next_task(core)) {
        run_task(core, t);
        any = true;
      }
      if (!any && deferred.empty()) return;
    }
  }

  // Refreshes the coarse clock (once) before the next batch: park(0) ends every batch.
  void park(CtCore* core, std::optional<std::chrono::nanoseconds> timeout) {
    if (timeout && timeout->count() == 0 && !driver.has_drivers()) {
      refresh_coarse_clock(std::chrono::steady_clock::now());
      publish_stats(core);
      return;
    }
    // A zero-timeout turn of the drivers is not a park (Tokio's park_yield): the park
    // metrics and hooks count only waits. park_unpark_count goes up on the way in and on the
    // way out, so it is odd while the thread is parked (Tokio's meaning).
    const bool waits = !timeout || timeout->count() != 0;
    if (waits) {
      frame_cache_on_park();  // empty slabs unused for a while go back (frame_alloc.hpp)
      call_thread_hook(config.on_thread_park, "on_thread_park");
      core->stats.about_to_park();
      WorkerStats::bump(core->stats.park_unpark_count);
    }
    publish_stats(core);  // a busy thread's counters show every event_interval polls
    driver.park(timeout);
    refresh_coarse_clock(std::chrono::steady_clock::now());
    if (waits) {
      WorkerStats::bump(core->stats.park_unpark_count);
      publish_stats(core);
      call_thread_hook(config.on_thread_unpark, "on_thread_unpark");
    }
  }

  void publish_stats(CtCore* core) noexcept {
    auto copy = [](std::atomic<uint64_t>& d, const std::atomic<uint64_t>& s) {
      d.store(s.load(std::memory_order_relaxed), std::memory_order_relaxed);
    };
    copy(stats_snapshot_.park_count, core->stats.park_count);
    copy(stats_snapshot_.park_unpark_count, core->stats.park_unpark_count);
    copy(stats_snapshot_.noop_count, core->stats.noop_count);
    copy(stats_snapshot_.poll_count, core->stats.poll_count);
    copy(stats_snapshot_.local_schedule_count, core->stats.local_schedule_count);
    copy(stats_snapshot_.busy_ns, core->stats.busy_ns);
    local_depth_.store(core->queue.size(), std::memory_order_relaxed);
  }

  void run_with_core(CtCore* core, PollSlot& slot) {
    CtContext ctx{{this}, core};
    WorkerContext* prev_worker = tls.worker;
    tls.worker = &ctx;
    struct Release {
      CurrentThread* self;
      CtCore* core;
      WorkerContext* prev;
      ~Release() {
        self->publish_stats(core);
        tls.worker = prev;
        // ReleaseCore. release: pairs with take_core's acquire (the next holder sees the
        // queue as left here). Fails only on abandoned() (the holder's core_ is null
        // otherwise): a shutdown gave up waiting, so finish it here; acquire pairs with that
        // shutdown's CAS.
        CtCore* none = nullptr;
        if (!self->core_.compare_exchange_strong(none, core, std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
          self->finish_shutdown(core, std::chrono::nanoseconds(0));
        }
        std::lock_guard<std::mutex> g(self->waiters_mu_);
        for (ParkThread* p : self->waiters_) p->parker.unpark();
      }
    } release{this, core, prev_worker};
    StallProbe stall_probe;
    StallScope stall_scope(stall_watchdog.get(), stall_probe, 0);
    ctx.poll_hist = poll_hist_row(0);

    DeferScope defer;
    root_woken_.store(true, std::memory_order_relaxed);
    const uint32_t event_interval = std::max<uint32_t>(config.event_interval, 1);
    auto busy_start = std::chrono::steady_clock::now();
    // The first batch's stamps (a dump's "idle for ..."): this thread's coarse clock may be
    // unset (a fresh thread: 0, read as hours) or stale since its last block_on.
    refresh_coarse_clock(busy_start);
    for (;;) {
      if (TOKIO_UNLIKELY(halted.load(std::memory_order_acquire))) {
        cancel_queued_for_halt(core, defer.list);
        throw_halted();
      }
      if (root_woken_.exchange(false, std::memory_order_acquire)) {
        if (poll_root(slot, &root_waker_.wakeable)) break;
      }
      // A shutdown on another thread waits for this core (see the file comment). Relaxed:
      // a flag only; the core itself changes hands through core_.
      if (TOKIO_UNLIKELY(is_shutdown.load(std::memory_order_relaxed))) throw_shut_down();
      bool parked = false;
      for (uint32_t i = 0; i < event_interval; ++i) {
        ++core->tick;
        TaskHeader* t = next_task(core);
        if (!t) {
          if (!defer.list.empty()) {
            // Only yielded tasks are left: poll the drivers, then let them run again.
            park(core, std::chrono::nanoseconds(0));
            wake_deferred(defer.list);
            parked = true;
            break;
          }
          if (root_woken_.load(std::memory_order_acquire)) break;
          auto now = std::chrono::steady_clock::now();
          WorkerStats::bump(
              core->stats.busy_ns,
              static_cast<uint64_t>(
                  std::chrono::duration_cast<std::chrono::nanoseconds>(now - busy_start).count()));
          park(core, std::nullopt);
          busy_start = std::chrono::steady_clock::now();
          parked = true;
          break;
        }
        run_task(core, t);
        // A shutdown from another thread is seen once per batch (above), not per task.
        if (TOKIO_UNLIKELY(halted.load(std::memory_order_relaxed))) break;
      }
      if (!parked) {
        park(core, std::chrono::nanoseconds(0));
        wake_deferred(defer.list);
      }
    }
    auto now = std::chrono::steady_clock::now();
    WorkerStats::bump(
        core->stats.busy_ns,
        static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - busy_start).count()));
  }

  static void root_wake_by_ref(Wakeable* w) noexcept {
    auto* self = container_of(w);
    self->root_woken_.store(true, std::memory_order_release);
    self->driver.unpark();
  }
  static void root_clone(Wakeable* w) noexcept { container_of(w)->ref_inc(); }
  static void root_drop(Wakeable* w) noexcept { container_of(w)->ref_dec(); }
  static void root_wake(Wakeable* w) noexcept {
    root_wake_by_ref(w);
    root_drop(w);
  }
  // The root's waker: a Wakeable with a back pointer (CurrentThread itself is not
  // standard-layout, so no offsetof arithmetic).
  struct RootWaker {
    Wakeable wakeable;
    CurrentThread* owner;
  };
  static CurrentThread* container_of(Wakeable* w) noexcept {
    return reinterpret_cast<RootWaker*>(w)->owner;
  }

  std::atomic<CtCore*> core_{nullptr};
  Inject inject_;
  uint32_t interval_ = 31;
  std::atomic<bool> root_woken_{false};
  RootWaker root_waker_{{&kRootWakerVTable}, this};
  std::mutex waiters_mu_;
  std::vector<ParkThread*> waiters_;
  WorkerStats stats_snapshot_;
  std::atomic<std::size_t> local_depth_{0};
};

const WakeableVTable CurrentThread::kRootWakerVTable{
    &CurrentThread::root_wake, &CurrentThread::root_wake_by_ref, &CurrentThread::root_clone,
    &CurrentThread::root_drop};

}  // namespace runtime_current_thread_impl

HandleInner* make_current_thread(Config cfg) {
  return new runtime_current_thread_impl::CurrentThread(std::move(cfg));
}

}  // namespace tokio::detail
