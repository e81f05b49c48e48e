// RuntimeMetrics: reads of the counters the schedulers, owned-task list and blocking pool
// keep (see WorkerStats in handle_inner.hpp for who writes what).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/metrics.hpp"

namespace tokio::runtime {

namespace metrics_impl {
std::size_t clamp(const detail::HandleInner* h, std::size_t w) noexcept {
  return w < h->num_workers() ? w : h->num_workers() - 1;
}
const detail::WorkerStats& stats(const detail::HandleInner* h, std::size_t w) noexcept {
  return h->worker_stats(clamp(h, w));
}
}  // namespace metrics_impl

std::size_t RuntimeMetrics::num_workers() const noexcept { return h_->num_workers(); }
std::size_t RuntimeMetrics::num_alive_tasks() const noexcept { return h_->owned.alive(); }
std::size_t RuntimeMetrics::global_queue_depth() const noexcept {
  return h_->global_queue_depth();
}
uint64_t RuntimeMetrics::spawned_tasks_count() const noexcept { return h_->owned.spawned(); }
uint64_t RuntimeMetrics::remote_schedule_count() const noexcept {
  return h_->remote_schedule_count();
}
std::size_t RuntimeMetrics::num_blocking_threads() const {
  std::size_t total = h_->blocking.num_threads();
  std::size_t workers = h_->blocking.num_mandatory_running();
  return total > workers ? total - workers : 0;
}
std::size_t RuntimeMetrics::num_idle_blocking_threads() const {
  return h_->blocking.num_idle_threads();
}
std::size_t RuntimeMetrics::blocking_queue_depth() const { return h_->blocking.queue_depth(); }
uint64_t RuntimeMetrics::budget_forced_yield_count() const noexcept {
  return h_->budget_forced_yields.load(std::memory_order_relaxed);
}

uint64_t RuntimeMetrics::stall_count() const noexcept {
  return h_->stall_watchdog ? h_->stall_watchdog->stalls() : 0;
}

uint64_t RuntimeMetrics::worker_park_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).park_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_park_unpark_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).park_unpark_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_noop_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).noop_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_steal_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).steal_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_steal_operations(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).steal_operations.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_poll_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).poll_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_local_schedule_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).local_schedule_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_overflow_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h_, w).overflow_count.load(std::memory_order_relaxed);
}
std::chrono::nanoseconds RuntimeMetrics::worker_total_busy_duration(std::size_t w) const noexcept {
  return std::chrono::nanoseconds(
      static_cast<int64_t>(metrics_impl::stats(h_, w).busy_ns.load(std::memory_order_relaxed)));
}
std::size_t RuntimeMetrics::worker_local_queue_depth(std::size_t w) const noexcept {
  return h_->worker_local_queue_depth(metrics_impl::clamp(h_, w));
}

}  // namespace tokio::runtime
