#pragma once
// runtime::RuntimeMetrics: counters of a running runtime (Tokio's stable metrics plus the
// unstable ones users ask for most).

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {
extern std::atomic<uint64_t> g_budget_forced_yields;
}

namespace tokio::runtime {

class RuntimeMetrics {
 public:
  explicit RuntimeMetrics(detail::HandleInner* h) noexcept : h_(h) {}

  // Worker threads (1 for the current-thread runtime).
  std::size_t num_workers() const noexcept { return h_->num_workers(); }
  // Tasks spawned and not yet finished.
  std::size_t num_alive_tasks() const noexcept { return h_->owned.alive(); }
  // Tasks waiting in the inject (global) queue.
  std::size_t global_queue_depth() const noexcept { return h_->global_queue_depth(); }
  // Tasks spawned on this runtime since it started.
  uint64_t spawned_tasks_count() const noexcept { return h_->owned.spawned(); }
  // Times a task was scheduled from outside the runtime's threads.
  uint64_t remote_schedule_count() const noexcept {
    return h_->remote_schedule_count();
  }
  // Threads of the blocking pool (excluding multi-thread workers).
  std::size_t num_blocking_threads() const {
    std::size_t total = h_->blocking.num_threads();
    std::size_t workers = h_->blocking.num_mandatory_running();
    return total > workers ? total - workers : 0;
  }
  std::size_t num_idle_blocking_threads() const { return h_->blocking.num_idle_threads(); }
  std::size_t blocking_queue_depth() const { return h_->blocking.queue_depth(); }
  // Times any task was forced to yield by the coop budget (process-wide).
  uint64_t budget_forced_yield_count() const noexcept {
    return detail::g_budget_forced_yields.load(std::memory_order_relaxed);
  }

  uint64_t worker_park_count(std::size_t w) const noexcept { return get(w).park_count.load(); }
  uint64_t worker_park_unpark_count(std::size_t w) const noexcept {
    return get(w).park_unpark_count.load();
  }
  uint64_t worker_noop_count(std::size_t w) const noexcept { return get(w).noop_count.load(); }
  uint64_t worker_steal_count(std::size_t w) const noexcept { return get(w).steal_count.load(); }
  uint64_t worker_steal_operations(std::size_t w) const noexcept {
    return get(w).steal_operations.load();
  }
  uint64_t worker_poll_count(std::size_t w) const noexcept { return get(w).poll_count.load(); }
  uint64_t worker_local_schedule_count(std::size_t w) const noexcept {
    return get(w).local_schedule_count.load();
  }
  uint64_t worker_overflow_count(std::size_t w) const noexcept {
    return get(w).overflow_count.load();
  }
  std::chrono::nanoseconds worker_total_busy_duration(std::size_t w) const noexcept {
    return std::chrono::nanoseconds(static_cast<int64_t>(get(w).busy_ns.load()));
  }
  std::size_t worker_local_queue_depth(std::size_t w) const noexcept {
    return h_->worker_local_queue_depth(check(w));
  }

 private:
  std::size_t check(std::size_t w) const noexcept {
    return w < h_->num_workers() ? w : h_->num_workers() - 1;
  }
  const detail::WorkerStats& get(std::size_t w) const noexcept { return h_->worker_stats(check(w)); }
  detail::HandleInner* h_;
};

}  // namespace tokio::runtime
