#include <mutex>
#include <vector>

#include "tokio/runtime/detail/owned_tasks.hpp"

namespace tokio::detail {

OwnedTasks::OwnedTasks(RefCounted* owner, std::size_t shards) : owner_(owner) {
  std::size_t n = 1;
  while (n < shards) n <<= 1;
  shards_ = std::make_unique<Shard[]>(n);
  mask_ = n - 1;
}

bool OwnedTasks::bind(TaskHeader* t) noexcept {
  Shard& s = shard_of(t->id);
  {
    std::lock_guard<SpinLock> g(s.lock);
    // Checked under the shard lock: close_and_shutdown_all sets closed_ and then takes
    // every shard lock, so a bind either sees closed or is seen by the shutdown sweep.
    if (closed_.load(std::memory_order_acquire)) return false;
    t->owned_prev = nullptr;
    t->owned_next = s.head;
    if (s.head) s.head->owned_prev = t;
    s.head = t;
    s.len.store(s.len.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s.spawned.store(s.spawned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (s.bound.fetch_add(1, std::memory_order_relaxed) == 0) owner_->ref_inc();
  }
  return true;
}

void OwnedTasks::remove(TaskHeader* t) noexcept {
  Shard& s = shard_of(t->id);
  std::lock_guard<SpinLock> g(s.lock);
  if (t->owned_prev) t->owned_prev->owned_next = t->owned_next;
  else s.head = t->owned_next;
  if (t->owned_next) t->owned_next->owned_prev = t->owned_prev;
  t->owned_prev = t->owned_next = nullptr;
  s.len.store(s.len.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void OwnedTasks::on_dealloc(uint64_t id) noexcept {
  Shard& s = shard_of(id);
  // The last free of a shard releases the owner's self reference; that may free this
  // object, so it is the final access.
  if (s.bound.fetch_sub(1, std::memory_order_acq_rel) == 1) owner_->ref_dec();
}

// Appends shard i's tasks to `out`, each with a reference of the caller's: listed tasks are
// not yet past completion, so the list's reference keeps them alive while we take ours under
// the lock.
void OwnedTasks::collect_shard(std::size_t i, std::vector<TaskHeader*>& out) {
  Shard& s = shards_[i];
  std::lock_guard<SpinLock> g(s.lock);
  for (TaskHeader* t = s.head; t; t = t->owned_next) {
    t->state.ref_inc();
    try {
      out.push_back(t);
    } catch (...) {
      (void)t->state.ref_dec();  // the list's own reference remains
      throw;
    }
  }
}

void OwnedTasks::snapshot(std::vector<TaskHeader*>& out) {
  for (std::size_t i = 0; i <= mask_; ++i) collect_shard(i, out);
}

void OwnedTasks::abort_all() noexcept {
  std::vector<TaskHeader*> batch;
  for (std::size_t i = 0; i <= mask_; ++i) {
    batch.clear();
    collect_shard(i, batch);
    // An abort only flags a running task (it cancels itself after its poll) and schedules
    // an idle one, which its worker then cancels instead of polling.
    for (TaskHeader* t : batch) {
      task_abort(t);
      task_drop_ref(t);
    }
  }
}

void OwnedTasks::close_and_shutdown_all() noexcept {
  closed_.store(true, std::memory_order_release);
  std::vector<TaskHeader*> batch;
  for (std::size_t i = 0; i <= mask_; ++i) {
    batch.clear();
    collect_shard(i, batch);
    // Idle tasks are cancelled here; a task being polled elsewhere is flagged and cancels
    // itself when that poll returns. Binding is closed, so no new task can appear.
    for (TaskHeader* t : batch) task_shutdown(t);
  }
}

std::size_t OwnedTasks::alive() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i <= mask_; ++i) n += shards_[i].len.load(std::memory_order_relaxed);
  return n;
}

}  // namespace tokio::detail

namespace tokio::detail {
uint64_t OwnedTasks::spawned() const noexcept {
  uint64_t n = 0;
  for (std::size_t i = 0; i <= mask_; ++i) n += shards_[i].spawned.load(std::memory_order_relaxed);
  return n;
}
}  // namespace tokio::detail
