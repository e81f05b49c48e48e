#include "tokio/runtime/detail/owned_tasks.hpp"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"

namespace tokio::detail {

namespace runtime_owned_tasks_impl {
// Every OwnedTasks of the process, for name_of. Never destroyed: lists may be torn down
// during static destruction.
struct Registry {
  std::mutex mu;
  std::vector<OwnedTasks*> lists;
};
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}
}  // namespace runtime_owned_tasks_impl

OwnedTasks::OwnedTasks(RefCounted* owner, std::size_t shards) : owner_(owner) {
  std::size_t n = 1;
  while (n < shards) n <<= 1;
  shards_ = std::make_unique<Shard[]>(n);
  mask_ = n - 1;
  auto& r = runtime_owned_tasks_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  r.lists.push_back(this);
}

OwnedTasks::~OwnedTasks() {
  auto& r = runtime_owned_tasks_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  std::erase(r.lists, this);
}

bool OwnedTasks::find_named(uint64_t ident, uint64_t& id, std::string& name) {
  auto& r = runtime_owned_tasks_impl::registry();
  std::lock_guard<std::mutex> g(r.mu);
  for (OwnedTasks* o : r.lists) {
    Shard& s = o->shard_of(ident >> 5);  // TaskHeader::shard_key of a named task
    std::lock_guard<SpinLock> sg(s.lock);
    // Listed tasks are alive while the lock is held (unlinking takes it before any free).
    for (TaskHeader* t = s.head; t; t = t->owned_next) {
      if (t->ident == ident) {
        id = t->id();
        name = task_name(t);
        return true;
      }
    }
  }
  return false;
}

bool OwnedTasks::bind(TaskHeader* t) noexcept {
  Shard& s = shard_of(t);
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

// The list surgery; the caller holds s.lock.
inline void OwnedTasks::unlink_locked(Shard& s, TaskHeader* t) noexcept {
  if (t->owned_prev) t->owned_prev->owned_next = t->owned_next;
  else s.head = t->owned_next;
  if (t->owned_next) t->owned_next->owned_prev = t->owned_prev;
  t->owned_prev = t->owned_next = nullptr;
}

void OwnedTasks::on_complete(TaskHeader* t, bool joinable) noexcept {
  Shard& s = shard_of(t);
  if (joinable) {
    // One RMW in place of the lock this used to take. Relaxed: the counts are for metrics
    // and LocalSet idleness, read without ordering.
    s.joinable_done.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard<SpinLock> g(s.lock);
  unlink_locked(s, t);
  s.len.store(s.len.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void OwnedTasks::unlink_joined(TaskHeader* t) noexcept {
  Shard& s = shard_of(t);
  std::lock_guard<SpinLock> g(s.lock);
  unlink_locked(s, t);
}

void OwnedTasks::on_dealloc(uint64_t shard_key) noexcept {
  Shard& s = shard_of(shard_key);
  // The last free of a shard releases the owner's self reference; that may free this
  // object, so it is the final access.
  if (s.bound.fetch_sub(1, std::memory_order_acq_rel) == 1) owner_->ref_dec();
}

// Appends shard i's tasks to `out`, each with a reference of the caller's. A listed task is
// alive while we hold the lock: before completion the list's reference keeps it, after a
// joinable completion its JoinHandle's reference does (dropped only after unlink_joined).
void OwnedTasks::collect_shard(std::size_t i, std::vector<TaskHeader*>& out) {
  Shard& s = shards_[i];
  std::lock_guard<SpinLock> g(s.lock);
  for (TaskHeader* t = s.head; t; t = t->owned_next) {
    t->state.ref_inc();
    try {
      out.push_back(t);
    } catch (...) {
      (void)t->state.ref_dec();  // the list's (or the JoinHandle's) reference remains
      throw;
    }
  }
}

void OwnedTasks::snapshot(std::vector<TaskHeader*>& out) {
  for (std::size_t i = 0; i <= mask_; ++i) collect_shard(i, out);
}

// Every listed task, oldest first, each with a reference of the caller's. The lists keep
// the newest at their heads, spread over shards; ids grow with spawns, so sorting by id gives
// the order Tokio's one list is walked in at a shutdown (its oldest task goes first: a port
// whose teardown logs or guards assume it sees the same order).
void OwnedTasks::collect_oldest_first(std::vector<TaskHeader*>& out) {
  snapshot(out);
  std::sort(out.begin(), out.end(),
            [](const TaskHeader* a, const TaskHeader* b) { return a->id() < b->id(); });
}

void OwnedTasks::abort_all() noexcept {
  std::vector<TaskHeader*> all;
  collect_oldest_first(all);
  // An abort only flags a running task (it cancels itself after its poll) and schedules
  // an idle one, which its worker then cancels instead of polling.
  for (TaskHeader* t : all) {
    task_abort(t);
    task_drop_ref(t);
  }
}

void OwnedTasks::close_and_shutdown_all() noexcept {
  closed_.store(true, std::memory_order_release);
  std::vector<TaskHeader*> all;
  collect_oldest_first(all);
  // Idle tasks are cancelled here; a task being polled elsewhere is flagged and cancels
  // itself when that poll returns. Binding is closed, so no new task can appear.
  for (TaskHeader* t : all) task_shutdown(t);
}

std::size_t OwnedTasks::alive() const noexcept {
  // Read without the locks: a completion between the two loads may be counted in one only;
  // clamped so a racing read never shows a huge count.
  std::size_t listed = 0, done = 0;
  for (std::size_t i = 0; i <= mask_; ++i) {
    done += shards_[i].joinable_done.load(std::memory_order_relaxed);
    listed += shards_[i].len.load(std::memory_order_relaxed);
  }
  return listed > done ? listed - done : 0;
}

}  // namespace tokio::detail

namespace tokio::detail {
uint64_t OwnedTasks::spawned() const noexcept {
  uint64_t n = 0;
  for (std::size_t i = 0; i <= mask_; ++i) n += shards_[i].spawned.load(std::memory_order_relaxed);
  return n;
}
}  // namespace tokio::detail
