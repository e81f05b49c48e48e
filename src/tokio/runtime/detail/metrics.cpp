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

std::size_t RuntimeMetrics::num_workers() const noexcept { return h()->num_workers(); }
std::size_t RuntimeMetrics::num_alive_tasks() const noexcept { return h()->owned.alive(); }
std::size_t RuntimeMetrics::global_queue_depth() const noexcept {
  return h()->global_queue_depth();
}
uint64_t RuntimeMetrics::spawned_tasks_count() const noexcept { return h()->owned.spawned(); }
uint64_t RuntimeMetrics::remote_schedule_count() const noexcept {
  return h()->remote_schedule_count();
}
std::size_t RuntimeMetrics::num_blocking_threads() const {
  std::size_t total = h()->blocking.num_threads();
  std::size_t workers = h()->blocking.num_mandatory_running();
  return total > workers ? total - workers : 0;
}
std::size_t RuntimeMetrics::num_idle_blocking_threads() const {
  return h()->blocking.num_idle_threads();
}
std::size_t RuntimeMetrics::blocking_queue_depth() const { return h()->blocking.queue_depth(); }
uint64_t RuntimeMetrics::budget_forced_yield_count() const noexcept {
  return h()->budget_forced_yields.load(std::memory_order_relaxed);
}

uint64_t RuntimeMetrics::io_driver_fd_registered_count() const noexcept {
  const detail::IoDriver* d = h()->driver.io();
  return d ? detail::io_driver_counts(d).registered : 0;
}
uint64_t RuntimeMetrics::io_driver_fd_deregistered_count() const noexcept {
  const detail::IoDriver* d = h()->driver.io();
  return d ? detail::io_driver_counts(d).deregistered : 0;
}
uint64_t RuntimeMetrics::io_driver_ready_count() const noexcept {
  const detail::IoDriver* d = h()->driver.io();
  return d ? detail::io_driver_counts(d).ready : 0;
}

bool RuntimeMetrics::poll_time_histogram_enabled() const noexcept {
  return h()->poll_hist != nullptr;
}
std::size_t RuntimeMetrics::poll_time_histogram_num_buckets() const noexcept {
  return h()->poll_hist ? h()->config.poll_hist_buckets : 0;
}
std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>
RuntimeMetrics::poll_time_histogram_bucket_range(std::size_t bucket) const noexcept {
  // A bucket past the last reads the last, as bucket_count does (the Builder keeps
  // resolution * (buckets - 1) representable).
  const std::size_t buckets = h()->config.poll_hist_buckets;
  if (bucket + 1 >= buckets) bucket = buckets - 1;
  auto r = h()->config.poll_hist_resolution;
  auto start = r * static_cast<int64_t>(bucket);
  if (bucket + 1 == buckets) return {start, std::chrono::nanoseconds::max()};
  return {start, start + r};
}
std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>
RuntimeMetrics::poll_count_histogram_bucket_range(std::size_t bucket) const noexcept {
  return poll_time_histogram_bucket_range(bucket);
}
uint64_t RuntimeMetrics::poll_time_histogram_bucket_count(std::size_t worker,
                                                          std::size_t bucket) const noexcept {
  if (!h()->poll_hist || h()->poll_hist_workers == 0) return 0;
  if (worker >= h()->poll_hist_workers) worker = h()->poll_hist_workers - 1;
  if (bucket >= h()->config.poll_hist_buckets) bucket = h()->config.poll_hist_buckets - 1;
  return h()->poll_hist_row(worker)[bucket].load(std::memory_order_relaxed);
}

uint64_t RuntimeMetrics::stall_count() const noexcept {
  return h()->stall_watchdog ? h()->stall_watchdog->stalls() : 0;
}

uint64_t RuntimeMetrics::worker_park_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).park_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_park_unpark_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).park_unpark_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_noop_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).noop_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_steal_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).steal_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_steal_operations(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).steal_operations.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_poll_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).poll_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_local_schedule_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).local_schedule_count.load(std::memory_order_relaxed);
}
uint64_t RuntimeMetrics::worker_overflow_count(std::size_t w) const noexcept {
  return metrics_impl::stats(h(), w).overflow_count.load(std::memory_order_relaxed);
}
std::chrono::nanoseconds RuntimeMetrics::worker_total_busy_duration(std::size_t w) const noexcept {
  return std::chrono::nanoseconds(
      static_cast<int64_t>(metrics_impl::stats(h(), w).busy_ns.load(std::memory_order_relaxed)));
}
std::size_t RuntimeMetrics::worker_local_queue_depth(std::size_t w) const noexcept {
  return h()->worker_local_queue_depth(metrics_impl::clamp(h(), w));
}

}  // namespace tokio::runtime
