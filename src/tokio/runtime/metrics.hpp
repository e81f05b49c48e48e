#pragma once
// runtime::RuntimeMetrics: counters of a running runtime (Tokio's stable metrics plus the
// unstable ones users ask for most). Each read is a relaxed load of a counter the runtime
// maintains anyway; the definitions live in runtime/detail/metrics.cpp.

#include <chrono>
#include <utility>
#include <cstddef>
#include <cstdint>

#include "tokio/runtime/detail/entry.hpp"

namespace tokio::runtime {

// Holds a reference to its runtime's shared state (as Tokio's holds a Handle), so it may
// outlive the Runtime: read after the runtime was dropped, it gives the final figures.
class RuntimeMetrics {
 public:
  explicit RuntimeMetrics(detail::HandleInner* h) noexcept : ref_(h) {}

  // Worker threads (1 for the current-thread runtime).
  std::size_t num_workers() const noexcept;
  // Tasks spawned and not yet finished.
  std::size_t num_alive_tasks() const noexcept;
  // Tasks waiting in the inject (global) queue.
  std::size_t global_queue_depth() const noexcept;
  // Tokio's earlier names for the two above (active_tasks_count: 1.26-1.38;
  // injection_queue_depth: up to 1.30), so code written against those releases compiles.
  std::size_t active_tasks_count() const noexcept { return num_alive_tasks(); }
  std::size_t injection_queue_depth() const noexcept { return global_queue_depth(); }
  // Tasks spawned on this runtime since it started.
  uint64_t spawned_tasks_count() const noexcept;
  // Times a task was scheduled from outside the runtime's threads.
  uint64_t remote_schedule_count() const noexcept;
  // Threads of the blocking pool (excluding multi-thread workers).
  std::size_t num_blocking_threads() const;
  std::size_t num_idle_blocking_threads() const;
  std::size_t blocking_queue_depth() const;
  // Times a task of this runtime was forced to yield by the coop budget.
  uint64_t budget_forced_yield_count() const noexcept;
  // Polls the stall detector caught lasting longer than Builder::stall_threshold (0 when
  // the detector is off).
  uint64_t stall_count() const noexcept;
  // The I/O driver (0 without enable_io): file descriptors registered with it and
  // deregistered from it so far, and readiness events it has dispatched.
  uint64_t io_driver_fd_registered_count() const noexcept;
  uint64_t io_driver_fd_deregistered_count() const noexcept;
  uint64_t io_driver_ready_count() const noexcept;

  // The poll-time histogram (Builder::enable_metrics_poll_time_histogram).
  bool poll_time_histogram_enabled() const noexcept;
  std::size_t poll_time_histogram_num_buckets() const noexcept;
  // [start, end) of a bucket; the last bucket's end is nanoseconds::max(). A bucket past the
  // last reads the last (Tokio panics).
  std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds> poll_time_histogram_bucket_range(
      std::size_t bucket) const noexcept;
  uint64_t poll_time_histogram_bucket_count(std::size_t worker, std::size_t bucket) const noexcept;
  // Tokio's earlier names for the same figures (1.2x-1.3x).
  bool poll_count_histogram_enabled() const noexcept { return poll_time_histogram_enabled(); }
  std::size_t poll_count_histogram_num_buckets() const noexcept {
    return poll_time_histogram_num_buckets();
  }
  // (Out of line: inline, it would instantiate its std::pair in every user TU.)
  std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds> poll_count_histogram_bucket_range(
      std::size_t bucket) const noexcept;
  uint64_t poll_count_histogram_bucket_count(std::size_t worker,
                                             std::size_t bucket) const noexcept {
    return poll_time_histogram_bucket_count(worker, bucket);
  }

  // Per worker (an index past the last worker reads the last one).
  // Parks: waits for work (a zero-timeout turn of the drivers is not one). The park/unpark
  // count goes up when the worker parks and again when it wakes: odd while it is parked.
  uint64_t worker_park_count(std::size_t w) const noexcept;
  uint64_t worker_park_unpark_count(std::size_t w) const noexcept;
  // Parks with no task polled since the worker's previous park (Tokio's meaning).
  uint64_t worker_noop_count(std::size_t w) const noexcept;
  uint64_t worker_steal_count(std::size_t w) const noexcept;
  uint64_t worker_steal_operations(std::size_t w) const noexcept;
  uint64_t worker_poll_count(std::size_t w) const noexcept;
  uint64_t worker_local_schedule_count(std::size_t w) const noexcept;
  uint64_t worker_overflow_count(std::size_t w) const noexcept;
  std::chrono::nanoseconds worker_total_busy_duration(std::size_t w) const noexcept;
  std::size_t worker_local_queue_depth(std::size_t w) const noexcept;

 private:
  detail::HandleInner* h() const noexcept { return ref_.get(); }
  detail::HandleRef ref_;
};

}  // namespace tokio::runtime
