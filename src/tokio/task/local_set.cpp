// The scheduler of a task::LocalSet.
#include "tokio/task/local_set.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>

#include "tokio/core/detail/ring.hpp"
#include "tokio/runtime/detail/inject.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/owned_tasks.hpp"
#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

class LocalSetShared final : public RefCounted, public Scheduler {
 public:
  LocalSetShared();

  void schedule(TaskHeader* t, bool yield) noexcept override;
  void on_complete(TaskHeader* t, bool joinable) noexcept override {
    owned_.on_complete(t, joinable);
  }
  void on_joined(TaskHeader* t) noexcept override { owned_.unlink_joined(t); }
  void on_dealloc(uint64_t key) noexcept override { owned_.on_dealloc(key); }
  // A local task's exception follows the policy of the runtime driving the set at that
  // moment; with none (a set polled outside any runtime), the default: report it.
  void task_failed(TaskHeader* t, const std::exception_ptr& e, TaskFailure kind) noexcept override {
    if (HandleInner* h = tls.handle) {
      h->task_failed(t, e, kind);
    } else if (kind != TaskFailure::Completed) {
      report_task_exception(t, e, task_failure_text(kind));
    }
  }

  void spawn(TaskHeader* t) noexcept;
  // Runs up to one tick of local tasks; returns true when more are ready.
  bool tick();
  // Records cx's waker as the one to wake for remote wake-ups.
  void register_waker(Wakeable* w);
  void check_owner(const char* what) const;
  bool is_idle() const noexcept { return owned_.is_empty(); }
  std::size_t len() const noexcept { return owned_.alive(); }
  void shutdown() noexcept;

 private:
  ~LocalSetShared() override;
  TaskHeader* next_task() noexcept;
  bool on_owner_thread() const noexcept { return pthread_equal(owner_, pthread_self()); }

  pthread_t owner_;
  PtrRing<TaskHeader> local_{64};  // owner thread only
  bool closed_ = false;            // owner thread only: set by shutdown()
  Inject remote_;
  OwnedTasks owned_;
  std::mutex waker_mu_;
  Wakeable* waker_ = nullptr;
  uint32_t tick_ = 0;
};

namespace task_local_set_impl {
constexpr uint32_t kLocalMaxTasksPerTick = 61;
constexpr uint32_t kLocalRemoteFirstInterval = 31;
}  // namespace task_local_set_impl

LocalSetShared::LocalSetShared() : Scheduler(this), owner_(pthread_self()), owned_(this, 1) {
  // The task hooks of the runtime the set is created in (if any) apply to its tasks too.
  if (HandleInner* h = tls.handle) {
    hooks = h->hooks;
    observed = h->observed;  // its workers' stall probes and histograms see local polls too
  }
}

LocalSetShared::~LocalSetShared() {
  if (waker_) waker_->vtable->drop(waker_);
}

void LocalSetShared::schedule(TaskHeader* t, bool) noexcept {
  if (on_owner_thread()) {
    if (closed_) {  // shut down: the task is cancelled already, release the queue's ref
      task_drop_ref(t);
      return;
    }
    local_.push_back(t);
    // Woken from our thread but outside our poll (another task of the runtime): make
    // sure whoever drives the set polls it again.
    if (tls.local_set != this) {
      std::lock_guard<std::mutex> g(waker_mu_);
      if (waker_) waker_->vtable->wake_by_ref(waker_);
    }
    return;
  }
  remote_.push(t, true);
  std::lock_guard<std::mutex> g(waker_mu_);
  if (waker_) waker_->vtable->wake_by_ref(waker_);
}

void LocalSetShared::spawn(TaskHeader* t) noexcept { bind_and_schedule(*this, owned_, t, false); }

void LocalSetShared::register_waker(Wakeable* w) {
  std::lock_guard<std::mutex> g(waker_mu_);
  if (waker_ == w) return;
  if (waker_) waker_->vtable->drop(waker_);
  w->vtable->clone(w);
  waker_ = w;
}

void LocalSetShared::check_owner(const char* what) const {
  if (!on_owner_thread()) {
    std::fprintf(stderr,
                 "tokio: %s polled on a thread other than the one that created the LocalSet. "
                 "A LocalSet is bound to its thread: drive it with Runtime::block_on on that "
                 "thread, not from a task spawned on a multi-thread runtime.\n",
                 what);
    std::abort();
  }
}

TaskHeader* LocalSetShared::next_task() noexcept {
  if (tick_ % task_local_set_impl::kLocalRemoteFirstInterval == 0) {
    if (TaskHeader* t = remote_.pop()) return t;
    return local_.pop_front();
  }
  if (TaskHeader* t = local_.pop_front()) return t;
  return remote_.pop();
}

bool LocalSetShared::tick() {
  for (uint32_t i = 0; i < task_local_set_impl::kLocalMaxTasksPerTick; ++i) {
    ++tick_;
    TaskHeader* t = next_task();
    if (!t) return false;
    // Each local task gets its own budget, restored afterwards for the outer task.
    int32_t saved = tls.budget;
    tls.budget = kInitialBudget;
    t->vt()->run(t);
    tls.budget = saved;
  }
  return !local_.empty() || !remote_.is_empty();
}

void LocalSetShared::shutdown() noexcept {
  LocalSetEnter enter(this);
  owned_.close_and_shutdown_all();
  if (on_owner_thread()) {
    closed_ = true;
    while (TaskHeader* t = local_.pop_front()) task_drop_ref(t);
  }
  remote_.close_and_drain([](TaskHeader* t) { task_drop_ref(t); });
}

// --- the functions task/local_set.hpp declares -------------------------------------------
LocalSetShared* local_set_create() { return new LocalSetShared(); }
void local_set_ref_inc(LocalSetShared* s) noexcept { s->ref_inc(); }
void local_set_ref_dec(LocalSetShared* s) noexcept { s->ref_dec(); }
void local_set_shutdown(LocalSetShared* s) noexcept { s->shutdown(); }
void local_set_spawn(LocalSetShared* s, TaskHeader* t) noexcept { s->spawn(t); }
std::size_t local_set_len(const LocalSetShared* s) noexcept { return s->len(); }
bool local_set_is_idle(const LocalSetShared* s) noexcept { return s->is_idle(); }
void local_set_poll_begin(LocalSetShared* s, Wakeable* waker, const char* what) {
  s->check_owner(what);
  s->register_waker(waker);
}
bool local_set_tick(LocalSetShared* s) { return s->tick(); }

}  // namespace tokio::detail
