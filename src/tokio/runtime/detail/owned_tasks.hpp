#pragma once
// OwnedTasks: every live task of a scheduler, so shutdown can cancel the ones nobody will
// ever wake again.
//
// Sharded by TaskHeader::shard_key (the id, or a named task's name block address); each
// shard is a doubly linked intrusive list under a spin lock. The
// list holds one task reference from bind() until the task completes. A task that completes
// while its JoinHandle still exists (JOIN_INTEREST seen by the completing transition) stays
// listed, without a reference, until that handle lets go (unlink_joined(), on the handle's
// side, before it drops its own reference): so Handle::dump can show it as
// completed-not-joined, and the completing side pays an atomic increment instead of the
// shard lock. Whichever comes second of setting COMPLETE and clearing JOIN_INTEREST unlinks:
// both are RMWs of the state word, which orders them, so exactly one side does. Tasks not yet complete: `len - joinable_done` per shard
// (`len`: binds minus unlinks at completion, under the lock; `joinable_done`: completions that
// left the task listed; an unlink after the join changes neither). Separately
// each shard counts the tasks bound to it that are not yet deallocated (`bound`); while any
// shard is non-zero the scheduler's shared state holds a reference on itself, so a waker
// that fires after the Runtime object is gone still finds a live scheduler. Tokio gets the
// same guarantee by cloning an Arc<Handle> into every task, one contended atomic per spawn
// and per free on a single cache line; here the count is per shard.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

// Intrusively reference-counted shared state (scheduler handles, LocalSet state).
// The count has a cache line of its own: a thread outside the runtime takes and drops a
// reference around each wake it makes (harness.cpp, task_wake), and those writes must not
// evict the lines the workers read on every schedule (the Scheduler base after this one:
// its vtable pointer, hooks, halted).
class RefCounted {
 public:
  void ref_inc() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // acq_rel: the decrement that reaches zero sees every access made by the holders of the
  // other references before their decrements (each a release), so the delete follows them.
  void ref_dec() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  virtual ~RefCounted() = default;

 private:
  alignas(kCacheLine) std::atomic<std::size_t> refs_{1};
  // The rest of the line: without it a derived class could place its next base in this
  // class's tail padding, on the count's line.
  [[maybe_unused]] char pad_[kCacheLine - sizeof(std::atomic<std::size_t>)] = {};
};

class OwnedTasks {
 public:
  OwnedTasks(RefCounted* owner, std::size_t shards);

  // Links a new task (taking over its owned-list reference). Returns false once closed;
  // the caller then rejects the task.
  bool bind(TaskHeader* t) noexcept;
  // The task completed. joinable: its JoinHandle still exists, so it stays listed until
  // unlink_joined(); otherwise it is unlinked now. Either way the caller drops the list's
  // reference.
  void on_complete(TaskHeader* t, bool joinable) noexcept;
  // The JoinHandle of a task that completed joinable let go: unlink it (the handle's
  // reference still keeps it alive here).
  void unlink_joined(TaskHeader* t) noexcept;
  // A bound task was freed.
  void on_dealloc(uint64_t shard_key) noexcept;

  // Refuses further binds and cancels every task still listed. Tasks being polled on some
  // thread right now are flagged and cancel themselves when their poll returns.
  void close_and_shutdown_all() noexcept;
  // Aborts every listed task without closing the list (UnhandledException::ShutdownRuntime).
  void abort_all() noexcept;
  // Every listed task, including completed ones whose JoinHandle is alive, each with a
  // reference taken for the caller (task_drop_ref each).
  void snapshot(std::vector<TaskHeader*>& out);
  bool is_closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  bool is_empty() const noexcept { return alive() == 0; }
  std::size_t alive() const noexcept;  // listed and not complete
  uint64_t spawned() const noexcept;
  // The id and name of the listed task whose ident word is `ident`, in any OwnedTasks of the
  // process; false (and nothing set) if there is none. Scans every list, one shard lock at
  // a time: for rare reports (a stall), not for hot paths.
  static bool find_named(uint64_t ident, uint64_t& id, std::string& name);
  ~OwnedTasks();
  OwnedTasks(const OwnedTasks&) = delete;
  OwnedTasks& operator=(const OwnedTasks&) = delete;

 private:
  void collect_shard(std::size_t i, std::vector<TaskHeader*>& out);
  void collect_oldest_first(std::vector<TaskHeader*>& out);
  struct alignas(kCacheLine) Shard {
    SpinLock lock;
    TaskHeader* head = nullptr;
    std::atomic<std::size_t> len{0};            // written under `lock`
    std::atomic<std::size_t> joinable_done{0};  // RMW without the lock
    std::atomic<uint64_t> bound{0};
    std::atomic<uint64_t> spawned{0};  // written under `lock`
  };
  void unlink_locked(Shard& s, TaskHeader* t) noexcept;
  Shard& shard_of(uint64_t key) noexcept { return shards_[key & mask_]; }
  Shard& shard_of(const TaskHeader* t) noexcept { return shard_of(t->shard_key()); }

  RefCounted* owner_;
  std::unique_ptr<Shard[]> shards_;
  std::size_t mask_;
  std::atomic<bool> closed_{false};
};

}  // namespace tokio::detail
