// The task harness: waking, running, completing and joining spawned tasks.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>

#include "tokio/core/detail/quote.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/defer.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/core/detail/rand.hpp"
#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"

namespace tokio::detail {

namespace runtime_harness_impl {
std::atomic<uint64_t> g_next_task_id_block{1};

void dealloc_task(TaskHeader* t) noexcept {
  Scheduler* s = t->sched;
  uint64_t key = t->shard_key();
  // A name in a block of its own goes too (one in the frame block goes with the frame).
  const TaskName* name = (t->ident & 3) == TaskHeader::kOwnNameBlock ? t->name_block() : nullptr;
  t->vt()->dealloc(t);
  if (name) free_task_name(name);
  if (s) s->on_dealloc(key);
}

// The identity a hook or a report shows: the id, and the name if the task has one.
struct InfoOf {
  std::string name;
  task::TaskInfo info;
  explicit InfoOf(const TaskHeader* t) : name(task_name(t)), info{task::Id{t->id()}, name} {}
};

template <class Hook>
void call_hook(const Hook& hook, const TaskHeader* t) noexcept {
  try {
    InfoOf i(t);
    hook(i.info);
  } catch (...) {
    std::string what = exception_what(std::current_exception());
    std::fprintf(stderr,
                 "tokio: a task hook threw: %s; hooks must not throw (the exception was "
                 "dropped)\n",
                 what.c_str());
  }
}

// One poll's duration into its worker's histogram row (linear buckets, the last open).
void record_poll_time(const Config& cfg, std::atomic<uint64_t>* row,
                      std::chrono::steady_clock::time_point start) noexcept {
  auto d = std::chrono::steady_clock::now() - start;
  auto b = static_cast<std::size_t>(d / cfg.poll_hist_resolution);
  if (b >= cfg.poll_hist_buckets) b = cfg.poll_hist_buckets - 1;
  row[b].store(row[b].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Runs with tls describing `t`, restoring the previous values afterwards (a LocalSet
// polls its tasks from inside another task's poll). A task::Builder's name offered in a
// statement that suspends (core/detail/task_name.hpp) neither leaks into the tasks polled
// next on this thread nor reaches a poll from outside: each poll starts with none.
struct TaskPollScope {
  ThreadContext& c;
  Wakeable* waker;
  PollSlot* slot;
  TaskHeader* task;
  TaskLocalBinding* locals;
  const char* pending_name;
  std::size_t pending_name_len;
  void* named_frame;
  void* named_block;
  bool yielded;
  explicit TaskPollScope(TaskHeader* t) noexcept
      : c(tls),
        waker(c.waker),
        slot(c.slot),
        task(c.task),
        locals(c.locals),
        pending_name(c.pending_name),
        pending_name_len(c.pending_name_len),
        named_frame(c.named_frame),
        named_block(c.named_block),
        yielded(c.yield_requested) {
    c.waker = &t->wakeable;
    c.task = t;
    c.locals = nullptr;  // task-locals are per task, never inherited
    c.pending_name = nullptr;
    c.named_frame = nullptr;
    c.yield_requested = false;
  }
  ~TaskPollScope() {
    c.waker = waker;
    c.slot = slot;
    c.task = task;
    c.locals = locals;
    c.pending_name = pending_name;
    c.pending_name_len = pending_name_len;
    c.named_frame = named_frame;
    c.named_block = named_block;
    c.yield_requested = yielded;
  }
};

// One poll of the task's chain with tls describing it.
inline void poll_task(TaskHeader* t, bool& done, bool& yielded) noexcept {
  TaskPollScope scope(t);
  task::Context cx(&t->wakeable);
  done = drive_slot(t->slot, cx);
  yielded = tls.yield_requested;
}

// A poll on a scheduler with observers (Scheduler::observed): the task hooks around it, and
// the calling worker's stall probe (stall.hpp: three relaxed stores) and poll-time
// histogram, when this thread has them.
void poll_observed(TaskHeader* t, bool& done, bool& yielded) noexcept {
  const TaskHooks* hooks = t->sched->hooks;
  if (hooks && hooks->before_poll) call_hook(hooks->before_poll, t);
  WorkerContext* wc = tls.worker;
  StallProbe* sp = wc ? wc->stall : nullptr;
  std::atomic<uint64_t>* hist = wc ? wc->poll_hist : nullptr;
  std::chrono::steady_clock::time_point poll_start{};
  if (hist) poll_start = std::chrono::steady_clock::now();
  uint64_t outer_poll = 0;
  if (sp) outer_poll = sp->begin(t->ident, t->slot.poll_fn);  // no read of a name block
  poll_task(t, done, yielded);
  if (sp) sp->end(outer_poll);
  if (hist) record_poll_time(wc->handle->config, hist, poll_start);
  if (hooks && hooks->after_poll) call_hook(hooks->after_poll, t);
}
}  // namespace runtime_harness_impl

uint64_t allocate_task_id_block() noexcept {
  return runtime_harness_impl::g_next_task_id_block.fetch_add(1024, std::memory_order_relaxed);
}

// --- waker vtable ------------------------------------------------------------------------
namespace runtime_harness_impl {
// A task about to be submitted will next poll the leaf it is suspended on, which is often
// far from its header (after a read buffer in its frame): start that load now, so it
// overlaps whatever the scheduler runs before this task. Only after Submit: the task is
// idle then (its last poll wrote `slot` before releasing RUNNING, which the transition's
// acquire saw) and nobody else writes `slot` until it runs.
inline void prefetch_leaf(const TaskHeader* t) noexcept {
  if (t->slot.leaf) TOKIO_PREFETCH(t->slot.leaf, 1);
}
}  // namespace runtime_harness_impl

void task_wake(Wakeable* w) noexcept {
  TaskHeader* t = TaskHeader::from_wakeable(w);
  switch (t->state.to_notified_by_val([] { return task_stamp(); })) {
    case TaskState::Notify::Submit: {
      runtime_harness_impl::prefetch_leaf(t);
      // The waker's reference now belongs to the queue: once schedule() has pushed it, a
      // worker (or the shutdown) can run the task to completion and free it, and the last
      // task freed can free the runtime, while schedule() still reads the scheduler to
      // unpark a worker. A thread that entered t's runtime (a worker, the block_on thread,
      // a blocking-pool thread, an EnterGuard) keeps that runtime alive by being there. Any
      // other thread, and any wake of a LocalSet's task, holds a reference to the
      // scheduler's shared state through the call, taken while the queue's reference is
      // still ours (so the task, and through it the scheduler, is alive). Tokio keeps the
      // waker's task reference instead and drops it after schedule(); measured here that
      // extra decrement on the task's word, which the woken worker is writing at the same
      // moment, cost about 19% of `notify_one/100 w=6` (a main thread waking workers' tasks),
      // where the count of the shared state stays in the waking thread's cache.
      RefCounted* keep =
          static_cast<Scheduler*>(tls.handle) != t->sched ? t->sched->shared : nullptr;
      if (keep) keep->ref_inc();
      t->sched->schedule(t, false);
      if (keep) keep->ref_dec();
      break;
    }
    case TaskState::Notify::Dealloc: runtime_harness_impl::dealloc_task(t); break;
    case TaskState::Notify::DoNothing: break;
  }
}

void task_wake_by_ref(Wakeable* w) noexcept {
  TaskHeader* t = TaskHeader::from_wakeable(w);
  if (t->state.to_notified_by_ref([] { return task_stamp(); }) == TaskState::Notify::Submit) {
    runtime_harness_impl::prefetch_leaf(t);
    t->sched->schedule(t, false);
  }
}

void task_clone(Wakeable* w) noexcept { TaskHeader::from_wakeable(w)->state.ref_inc(); }

void task_drop(Wakeable* w) noexcept { task_drop_ref(TaskHeader::from_wakeable(w)); }

void task_drop_ref(TaskHeader* t) noexcept {
  if (t->state.ref_dec()) runtime_harness_impl::dealloc_task(t);
}

// --- running -----------------------------------------------------------------------------
bool task_begin_run(TaskHeader* t) noexcept {
  if (TOKIO_UNLIKELY(t->sched && t->sched->halted.load(std::memory_order_relaxed))) {
    t->state.to_notified_and_cancel();  // UnhandledException::ShutdownRuntime: never polled again
  }
  switch (t->state.to_running(task_stamp())) {
    case TaskState::ToRunning::Failed: task_drop_ref(t); return false;
    case TaskState::ToRunning::Cancelled: task_cancel_and_complete(t); return false;
    case TaskState::ToRunning::Acquired: break;
  }
  return true;
}

void task_run_coroutine(TaskHeader* t) noexcept {
  if (!task_begin_run(t)) return;
  bool done;
  bool yielded;
  if (TOKIO_LIKELY(!t->sched || !t->sched->observed)) {
    runtime_harness_impl::poll_task(t, done, yielded);
  } else {
    runtime_harness_impl::poll_observed(t, done, yielded);
  }
  if (done) {
    t->vt()->finish(t);
    task_complete(t);
    return;
  }
  if (yielded) {
    // yield_now: back in line behind everything else ready, with no waker clone.
    if (!t->state.to_notified_after_yield(task_stamp())) {
      task_cancel_and_complete(t);
      return;
    }
    if (DeferList* d = tls.defer) d->tasks.push_back(t);
    else t->sched->schedule(t, true);
    return;
  }
  switch (t->state.to_idle(task_stamp())) {
    case TaskState::ToIdle::Ok: return;
    case TaskState::ToIdle::OkNotified: t->sched->schedule(t, true); return;
    case TaskState::ToIdle::OkDealloc: runtime_harness_impl::dealloc_task(t); return;
    case TaskState::ToIdle::Cancelled: task_cancel_and_complete(t); return;
  }
}

void task_cancel_and_complete(TaskHeader* t) noexcept {
  {
    // Destructors of the cancelled frame may use the runtime (spawn, wake, deregister).
    runtime_harness_impl::TaskPollScope scope(t);
    t->vt()->cancel(t);
  }
  task_complete(t);
}

namespace runtime_harness_impl {
// Who hears of the task's unread exception: its scheduler, or for a task no scheduler
// runs (spawn_blocking) the runtime it names (TaskVTable::reporter).
Scheduler* reporter_of(TaskHeader* t) noexcept {
  if (t->sched) return t->sched;
  auto* r = t->vt()->reporter;
  return r ? r(t) : nullptr;
}
}  // namespace runtime_harness_impl

void task_complete(TaskHeader* t) noexcept {
  Scheduler* sched = t->sched;
  Scheduler* report = runtime_harness_impl::reporter_of(t);
  // An exception is reported in two steps, each reading it in place in the output, so this
  // thread never holds a reference of its own to it. Were it to hold one past to_complete
  // (the publication), a JoinHandle on another thread could take the output, read the
  // exception and drop its reference, and this thread's drop would free the exception with
  // nothing but libstdc++'s reference count ordering the two (which TSan cannot see).
  // - Before the publication, nobody else can touch the output: TaskFailure::Completed
  //   (ShutdownRuntime acts on it; Report waits to see whether anyone reads it).
  // - After it, when nobody holds the JoinHandle, the output is still this thread's alone:
  //   TaskFailure::CompletedUnobserved (Report acts on it; ShutdownRuntime already has).
  const std::exception_ptr* failed = nullptr;
  if (report) {
    failed = t->vt()->exception(t);
    if (TOKIO_UNLIKELY(failed != nullptr)) report->task_failed(t, *failed, TaskFailure::Completed);
  }
  uint64_t s = t->state.to_complete();
  if (TOKIO_UNLIKELY(failed != nullptr) && !(s & TaskState::JOIN_INTEREST)) {
    report->task_failed(t, *failed, TaskFailure::CompletedUnobserved);
  }
  if (sched) {
    if (TOKIO_UNLIKELY(sched->hooks != nullptr) && sched->hooks->on_terminate) {
      runtime_harness_impl::call_hook(sched->hooks->on_terminate, t);
    }
  }
  if (!(s & TaskState::JOIN_INTEREST)) {
    t->vt()->drop_output(t);
  } else if (s & TaskState::JOIN_WAKER) {
    Wakeable* w = t->join_waker;
    w->vtable->wake_by_ref(w);
    uint64_t after = t->state.unset_join_waker_after_complete();
    if (!(after & TaskState::JOIN_INTEREST)) {
      t->join_waker = nullptr;
      w->vtable->drop(w);
    }
  }
  // A task whose JoinHandle still exists stays listed (completed-not-joined, for dumps);
  // the handle unlinks it (task_join_release).
  if (t->sched) t->sched->on_complete(t, (s & TaskState::JOIN_INTEREST) != 0);
  // The owned-list reference and the runner's reference.
  if (t->state.ref_dec_n(2)) runtime_harness_impl::dealloc_task(t);
}

void task_schedule_new(TaskHeader* t) noexcept { t->sched->schedule(t, false); }

void task_output_dropped(TaskHeader* t, const std::exception_ptr& e) noexcept {
  if (Scheduler* report = runtime_harness_impl::reporter_of(t)) {
    report->task_failed(t, e, TaskFailure::DroppedUnread);
  }
}

void task_spawned(TaskHeader* t) noexcept {
  if (t->sched && t->sched->hooks && t->sched->hooks->on_spawn) {
    runtime_harness_impl::call_hook(t->sched->hooks->on_spawn, t);
  }
}

const char* task_failure_text(TaskFailure kind) noexcept {
  switch (kind) {
    case TaskFailure::Completed: return "threw";
    case TaskFailure::CompletedUnobserved: return "threw, and nobody holds its JoinHandle";
    case TaskFailure::DroppedUnread:
      return "threw, and its JoinHandle was dropped without reading it";
    case TaskFailure::DestructorThrew: return "was being cancelled when a destructor threw";
  }
  return "threw";
}

void report_task_exception(const TaskHeader* t, const std::exception_ptr& e,
                           const char* how) noexcept {
  std::string what = exception_what(e);
  std::string name = task_name(t);
  std::string shown = name.empty() ? std::string() : " (" + debug_quoted(name) + ")";
  std::fprintf(stderr, "tokio: task %llu%s %s: %s\n", static_cast<unsigned long long>(t->id()),
               shown.c_str(), how, what.c_str());
}

void task_abort(TaskHeader* t) noexcept {
  if (t->state.to_notified_and_cancel()) t->sched->schedule(t, false);
}

void task_shutdown(TaskHeader* t) noexcept {
  // The caller holds a reference for us; it becomes the runner's reference when we claim.
  if (t->state.to_shutdown()) {
    task_cancel_and_complete(t);
  } else {
    task_drop_ref(t);
  }
}

void task_reject(TaskHeader* t) noexcept {
  // Unbound and never scheduled: we hold the notified ref from INITIAL.
  if (t->state.to_running(0) == TaskState::ToRunning::Failed) {
    task_drop_ref(t);
    return;
  }
  task_cancel_and_complete(t);
}

// --- joining -----------------------------------------------------------------------------
namespace runtime_harness_impl {
void replace_join_waker(TaskHeader* t, Wakeable* w) noexcept {
  if (Wakeable* old = t->join_waker) old->vtable->drop(old);
  w->vtable->clone(w);
  t->join_waker = w;
}
void clear_join_waker(TaskHeader* t) noexcept {
  if (Wakeable* old = t->join_waker) {
    t->join_waker = nullptr;
    old->vtable->drop(old);
  }
}
}  // namespace runtime_harness_impl

bool task_join_poll_waker(TaskHeader* t, Wakeable* w) noexcept {
  uint64_t s = t->state.load();
  if (s & TaskState::COMPLETE) return true;
  if (s & TaskState::JOIN_WAKER) {
    if (t->join_waker == w) return false;
    // Take the field back before replacing the waker.
    if (!t->state.unset_join_waker()) return true;
  }
  runtime_harness_impl::replace_join_waker(t, w);
  if (!t->state.set_join_waker()) {
    runtime_harness_impl::clear_join_waker(t);
    return true;
  }
  return false;
}

bool task_join_poll(TaskHeader* t, task::Context& cx) noexcept {
  return task_join_poll_waker(t, cx.raw_waker());
}

bool task_join_release(TaskHeader* t) noexcept {
  uint64_t after = t->state.drop_join_interest();
  if (!(after & TaskState::JOIN_WAKER)) runtime_harness_impl::clear_join_waker(t);
  if (!(after & TaskState::COMPLETE)) return false;
  // It completed while this handle existed, so it is still listed (task_complete): unlink
  // it before the caller drops the handle's reference, which is what kept it alive there.
  if (t->sched) t->sched->on_joined(t);
  return true;
}

void wake_deferred(DeferList& d) noexcept {
  // Index loops: a wake may run code that defers more (it lands after, and is woken too).
  for (std::size_t i = 0; i < d.tasks.size(); ++i) d.tasks[i]->sched->schedule(d.tasks[i], true);
  d.tasks.clear();
  for (std::size_t i = 0; i < d.wakers.size(); ++i) d.wakers[i]->vtable->wake(d.wakers[i]);
  d.wakers.clear();
}

// A parameter's destructor threw out of h.destroy() (see destroy_coroutine): report it,
// and free the frame where the compiler skipped that (g++; clang frees it while
// unwinding, and freeing it again would be a double free).
void destroy_parameter_threw(std::coroutine_handle<> h, const std::exception_ptr& e) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  task_frame_delete(h.address());
#else
  (void)h;
#endif
  report_destroy_exception(e);
}

void destroy_finished(std::coroutine_handle<> h) noexcept { destroy_finished_inline(h); }

void destroy_suspended(std::coroutine_handle<> h) noexcept {
  ThreadContext& t = tls;
  std::exception_ptr caught;
  void* saved_frame = t.destroying_frame;
  void* saved_slot = t.destroy_exception;
  t.destroying_frame = h.address();
  t.destroy_exception = &caught;
  std::exception_ptr from_parameter;  // see destroy_coroutine (core/task.hpp)
  try {
    h.destroy();
  } catch (...) {
    from_parameter = std::current_exception();
  }
  t.destroying_frame = saved_frame;
  t.destroy_exception = saved_slot;
  if (TOKIO_UNLIKELY(caught != nullptr)) {
    // Parked at its final suspend (a local's destructor threw): promise, parameters and
    // memory go now.
    destroy_finished(h);
    report_destroy_exception(caught);
  }
  if (TOKIO_UNLIKELY(from_parameter != nullptr)) {
    destroy_parameter_threw(h, from_parameter);
  }
}

void report_destroy_exception(const std::exception_ptr& e) noexcept {
  std::string what = exception_what(e);
  if (TaskHeader* task = tls.task) {
    if (task->sched) {  // the runtime's UnhandledException policy decides
      task->sched->task_failed(task, e, TaskFailure::DestructorThrew);
      return;
    }
    std::fprintf(stderr,
                 "tokio: task %llu: a destructor threw while the task was being cancelled: %s\n",
                 static_cast<unsigned long long>(task->id()), what.c_str());
  } else {
    std::fprintf(stderr, "tokio: a destructor threw while a coroutine frame was destroyed: %s\n",
                 what.c_str());
  }
}

void defer_waker(Wakeable* w) {
  w->vtable->clone(w);
  tls.defer->wakers.push_back(w);
}

// --- coop --------------------------------------------------------------------------------
bool coop_poll_proceed_slow(task::Context& cx) noexcept {
  // Counted on the runtime of this thread (a LocalSet's tasks count on the runtime that
  // drives the set); relaxed: a statistic read by RuntimeMetrics.
  if (HandleInner* h = tls.handle) h->budget_forced_yields.fetch_add(1, std::memory_order_relaxed);
  // Deferred like yield_now's wake, as Tokio's coop does since tokio#7185 (context::defer).
  // An immediate wake re-queued the task as its poll ended, and that push notified another
  // worker while a task this poll had woken still sat in our LIFO slot, which no other
  // worker can steal: when the notified worker's wake-up preempted this thread (a loaded
  // machine), it took the re-queued task and ran it again and again while the LIFO task
  // waited for this thread to get its CPU back (the chat example's readers lost messages
  // to a sender's burst; helper-74 traced it). Without a defer list (a block_on outside a
  // worker) defer_wake wakes at once, as before.
  defer_wake(cx);
  return false;
}

}  // namespace tokio::detail
