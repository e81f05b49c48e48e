#include <cstdio>
#include <cstdlib>

#include "tokio/task/local_set.hpp"

namespace tokio::detail {

namespace {
constexpr uint32_t kLocalMaxTasksPerTick = 61;
constexpr uint32_t kLocalRemoteFirstInterval = 31;
}  // namespace

LocalSetShared::LocalSetShared() : owner_(pthread_self()), owned_(this, 1) {}

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

void LocalSetShared::spawn(TaskHeader* t) noexcept {
  t->sched = this;
  if (!owned_.bind(t)) {
    t->sched = nullptr;
    task_reject(t);
    return;
  }
  schedule(t, false);
}

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
  if (tick_ % kLocalRemoteFirstInterval == 0) {
    if (TaskHeader* t = remote_.pop()) return t;
    return local_.pop_front();
  }
  if (TaskHeader* t = local_.pop_front()) return t;
  return remote_.pop();
}

bool LocalSetShared::tick() {
  for (uint32_t i = 0; i < kLocalMaxTasksPerTick; ++i) {
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

}  // namespace tokio::detail
