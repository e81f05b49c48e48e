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
std::size_t RuntimeMetrics::global_queue_depth() const noexcept { return h_->global_queue_depth(); }
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

uint64_t RuntimeMetrics::io_driver_fd_registered_count() const noexcept {
  const detail::IoDriver* d = h_->driver.io();
  return d ? detail::io_driver_counts(d).registered : 0;
}
uint64_t RuntimeMetrics::io_driver_fd_deregistered_count() const noexcept {
  const detail::IoDriver* d = h_->driver.io();
  return d ? detail::io_driver_counts(d).deregistered : 0;
}
uint64_t RuntimeMetrics::io_driver_ready_count() const noexcept {
  const detail::IoDriver* d = h_->driver.io();
  return d ? detail::io_driver_counts(d).ready : 0;
}

bool RuntimeMetrics::poll_time_histogram_enabled() const noexcept {
  return h_->poll_hist != nullptr;
}
std::size_t RuntimeMetrics::poll_time_histogram_num_buckets() const noexcept {
  return h_->poll_hist ? h_->config.poll_hist_buckets : 0;
}
std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>
RuntimeMetrics::poll_time_histogram_bucket_range(std::size_t bucket) const noexcept {
  auto r = h_->config.poll_hist_resolution;
  auto start = r * static_cast<int64_t>(bucket);
  if (bucket + 1 >= h_->config.poll_hist_buckets) return {start, std::chrono::nanoseconds::max()};
  return {start, start + r};
}
uint64_t RuntimeMetrics::poll_time_histogram_bucket_count(std::size_t worker,
                                                          std::size_t bucket) const noexcept {
  if (!h_->poll_hist || h_->poll_hist_workers == 0) return 0;
  if (worker >= h_->poll_hist_workers) worker = h_->poll_hist_workers - 1;
  if (bucket >= h_->config.poll_hist_buckets) bucket = h_->config.poll_hist_buckets - 1;
  return h_->poll_hist_row(worker)[bucket].load(std::memory_order_relaxed);
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
