#include "tokio/runtime/detail/handle_inner.hpp"

#include <stdexcept>
#include <cstdio>
#include <string>

#include "tokio/core/task_id.hpp"
#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/unhandled.hpp"

namespace tokio::detail {

namespace runtime_handle_inner_impl {
std::atomic<uint64_t> g_next_runtime_id{1};
}

HandleInner::HandleInner(Config cfg, std::size_t owned_shards, std::size_t blocking_threads_extra)
    : Scheduler(this),
      config(std::move(cfg)),
      id(runtime_handle_inner_impl::g_next_runtime_id.fetch_add(1, std::memory_order_relaxed)),
      driver(config),
      owned(this, owned_shards),
      blocking(this, config, config.max_blocking_threads + blocking_threads_extra) {
  // Tasks spawned before any worker runs a batch get a current stamp (coarse_clock.hpp).
  g_coarse_ms.store(steady_ms(), std::memory_order_relaxed);
  if (config.task_hooks.any()) hooks = &config.task_hooks;
  observed = hooks != nullptr || config.stall_threshold.count() > 0 || config.poll_time_histogram;
  if (config.stall_threshold.count() > 0) {
    stall_watchdog = std::make_unique<StallWatchdog>(config.stall_threshold);
  }
}

HandleInner::~HandleInner() = default;

// The UnhandledException policy. Completed: the task threw and its JoinHandle will deliver
// the exception (reported only if that handle is later dropped unread: DroppedUnread).
// CompletedUnobserved / DroppedUnread: nobody will ever see it.
void HandleInner::task_failed(TaskHeader* t, const std::exception_ptr& e,
                              TaskFailure kind) noexcept {
  using runtime::UnhandledException;
  switch (config.unhandled) {
    case UnhandledException::Ignore: return;
    case UnhandledException::Report:
      if (kind == TaskFailure::Completed) return;
      break;
    case UnhandledException::ShutdownRuntime:
      // Acted on when it completed (TaskFailure::Completed, reported for every task that
      // finished with an exception, before anyone could read it).
      if (kind == TaskFailure::DroppedUnread || kind == TaskFailure::CompletedUnobserved) return;
      if (!halt_claimed.exchange(true, std::memory_order_acq_rel)) {
        halt_exception = e;
        halt_task_id = t->id();
        // Pairs with the acquire load in throw_if_halted: the exception is visible there.
        halted.store(true, std::memory_order_release);
        owned.abort_all();
        wake_all_for_halt();
      }
      break;
  }
  if (config.on_unhandled_exception) {
    try {
      std::string name = task_name(t);
      task::TaskInfo info{task::Id{t->id()}, name};
      config.on_unhandled_exception(info, e);
      return;
    } catch (...) {
      // The hook failed at its job: say so, then report the task's exception the default
      // way below, so neither is lost.
      std::string what = exception_what(std::current_exception());
      std::fprintf(stderr,
                   "tokio: the on_unhandled_exception hook threw: %s; hooks must not throw (the "
                   "task's exception is reported below instead)\n",
                   what.c_str());
    }
  }
  report_task_exception(
      t, e,
      config.unhandled == UnhandledException::ShutdownRuntime
          ? "threw (the runtime is shut down: UnhandledException::ShutdownRuntime)"
          : task_failure_text(kind));
}

void HandleInner::throw_halted() const {
  std::string what = exception_what(halt_exception);
  throw runtime::UnhandledExceptionShutdown(
      task::Id{halt_task_id}, halt_exception,
      "tokio: the runtime was shut down because task " + std::to_string(halt_task_id) +
          " threw (UnhandledException::ShutdownRuntime): " + what +
          ". Build the runtime with UnhandledException::Report to keep it running.");
}

EnterRuntime::EnterRuntime(HandleInner* h, const char* what) {
  ThreadContext& t = tls;
  if (t.runtime_depth > 0) {
    if (t.blocking_region == 0) {
      throw std::logic_error(
          std::string("tokio: ") + what +
          " called from a thread that is already driving a runtime (inside block_on or a "
          "task). Await the future instead, or run the blocking code with "
          "tokio::task::spawn_blocking (or, on the multi-thread runtime, inside "
          "tokio::task::block_in_place).");
    }
    nested_ = true;
    aside_ = SetAside{t.waker,           t.slot,      t.task,      t.budget, t.locals,
                      t.yield_requested, t.worker,    t.local_set, t.defer,  t.runtime_depth,
                      t.blocking_region, t.transfers, t.bounce};
    t.waker = nullptr;
    t.slot = nullptr;
    t.task = nullptr;
    t.budget = -1;
    t.locals = nullptr;
    t.yield_requested = false;
    t.worker = nullptr;
    t.local_set = nullptr;
    t.defer = nullptr;
    t.runtime_depth = 0;
    t.blocking_region = 0;
    t.transfers = 0;
    t.bounce = nullptr;
  }
  ++t.runtime_depth;
  prev_handle_ = t.handle;
  t.handle = h;
  prev_rng_ = t.rng_state;
  if (h->config.rng_seed) h->seed_thread_rng(t, h->next_block_on_stream());
}

void HandleInner::seed_thread_rng(ThreadContext& t, uint64_t stream) noexcept {
  if (!config.rng_seed) return;
  // splitmix64 of the seed and the stream: distinct per stream, never 0.
  uint64_t z = *config.rng_seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  t.rng_state = z != 0 ? z : 1;
}

EnterRuntime::~EnterRuntime() {
  ThreadContext& t = tls;
  --t.runtime_depth;
  t.handle = prev_handle_;
  t.rng_state = prev_rng_;
  if (!nested_) return;
  t.waker = aside_.waker;
  t.slot = aside_.slot;
  t.task = aside_.task;
  t.budget = aside_.budget;
  t.locals = aside_.locals;
  t.yield_requested = aside_.yield_requested;
  t.worker = aside_.worker;
  t.local_set = aside_.local_set;
  t.defer = aside_.defer;
  t.runtime_depth = aside_.runtime_depth;
  t.blocking_region = aside_.blocking_region;
  t.transfers = aside_.transfers;
  t.bounce = aside_.bounce;
}

HandleInner* current_handle_or_throw(const char* what) {
  if (HandleInner* h = tls.handle) return h;
  throw std::logic_error(std::string("tokio: ") + what +
                         " called outside a tokio runtime: call it from a task, inside "
                         "Runtime::block_on, or while holding a Runtime::enter() guard");
}

void call_thread_hook(const Callback<void()>& hook, const char* name) noexcept {
  if (!hook) return;
  try {
    hook();
  } catch (...) {
    std::string what = exception_what(std::current_exception());
    std::fprintf(stderr,
                 "tokio: the runtime's %s hook threw: %s; hooks must not throw (the exception "
                 "was dropped and the thread goes on)\n",
                 name, what.c_str());
  }
}

}  // namespace tokio::detail
