#pragma once
// runtime::Builder: configures and builds a Runtime, with Tokio's knobs and defaults.
//
//   auto rt = tokio::runtime::Builder::new_multi_thread()
//                 .worker_threads(4)
//                 .enable_all()
//                 .build();

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "tokio/core/detail/owned.hpp"
#include "tokio/runtime/detail/callback.hpp"
#include "tokio/core/task_id.hpp"
#include "tokio/runtime/flavor.hpp"
#include "tokio/runtime/unhandled.hpp"
#include "tokio/runtime/runtime.hpp"

namespace tokio::detail {
struct Config;  // runtime/detail/config.hpp
}

namespace tokio::runtime {

// What the task hooks receive (Tokio's runtime::TaskMeta): the task's id and name, as the
// fields `id` and `name` (Tokio's accessor methods id() and name() are fields here).
using TaskMeta = task::TaskInfo;

class Builder {
 public:
  // All tasks run on the thread that calls block_on.
  static Builder new_current_thread();
  // A work-stealing pool of worker threads (one per CPU unless worker_threads is set).
  static Builder new_multi_thread();

  Builder(Builder&& o) noexcept;
  Builder& operator=(Builder&& o) noexcept;
  ~Builder();

  // Number of worker threads (multi-thread only). Must be at least 1.
  Builder& worker_threads(std::size_t n);
  Builder& thread_name(std::string name);
  // Names each worker thread with f() (any callable returning std::string).
  Builder& thread_name_fn(detail::Callback<std::string()> f);
  Builder& thread_stack_size(std::size_t bytes);
  // Hooks run on each worker thread (any callable taking no argument; a std::function works).
  Builder& on_thread_start(detail::Callback<void()> f);
  Builder& on_thread_stop(detail::Callback<void()> f);
  Builder& on_thread_park(detail::Callback<void()> f);
  Builder& on_thread_unpark(detail::Callback<void()> f);
  // Upper bound on spawn_blocking threads (default 512). Must be at least 1.
  Builder& max_blocking_threads(std::size_t n);
  // How long an idle blocking thread waits for work before exiting (default 10 s).
  Builder& thread_keep_alive(std::chrono::nanoseconds d);
  // Scheduler ticks between checks of the global queue (default 31 current-thread, 61
  // multi-thread). Must be at least 1.
  Builder& global_queue_interval(uint32_t ticks);
  // Scheduler ticks between polls of the I/O and time drivers (default 61). At least 1.
  Builder& event_interval(uint32_t ticks);
  Builder& enable_io();
  Builder& enable_time();
  Builder& enable_all();
  // Start with the clock paused (tests; current-thread only, needs enable_time).
  Builder& start_paused(bool paused);
  Builder& max_io_events_per_tick(std::size_t n);
  Builder& disable_lifo_slot();
  // Seeds the runtime's randomness (Tokio's rng_seed): each block_on and each worker
  // thread starts its random state from it, so select's branch order (and the workers'
  // steal order) repeats from run to run of the same program on a current-thread runtime.
  Builder& rng_seed(uint64_t seed);
  // tokio::fs runs its operations on the blocking pool (as Tokio does) instead of io_uring.
  // Also: TOKIO_FS_ENGINE=blocking in the environment. Without it, io_uring is used when
  // the kernel allows it and the runtime has the I/O driver (enable_io).
  Builder& disable_io_uring();

  // What to do with an exception a task throws (default: report the ones nobody awaits).
  Builder& unhandled_exception(UnhandledException policy);
  // Receives every task exception the policy acts on, with the task's identity (instead of
  // the default report line, under Report).
  Builder& on_unhandled_exception(
      detail::Callback<void(const task::TaskInfo&, std::exception_ptr)> f);
  // Task hooks, called on the thread that spawns, finishes or polls the task. They run on
  // the runtime's hot paths: keep them short, and never block in them.
  Builder& on_task_spawn(detail::Callback<void(const task::TaskInfo&)> f);
  Builder& on_task_terminate(detail::Callback<void(const task::TaskInfo&)> f);
  Builder& on_before_task_poll(detail::Callback<void(const task::TaskInfo&)> f);
  Builder& on_after_task_poll(detail::Callback<void(const task::TaskInfo&)> f);

  // Starts a watchdog that reports (stderr, RuntimeMetrics::stall_count) a task that stays
  // inside one poll longer than `threshold`: a blocking call in async code. Off by default.
  Builder& stall_threshold(std::chrono::nanoseconds threshold);

  // Per-worker histogram of task poll durations (RuntimeMetrics::poll_time_histogram_*):
  // `buckets` linear buckets `resolution` wide, the last one open-ended (Tokio's default:
  // 10 x 100 us). Off by default: it reads the clock twice per poll.
  Builder& enable_metrics_poll_time_histogram();
  Builder& metrics_poll_time_histogram_configuration(std::chrono::nanoseconds resolution,
                                                     std::size_t buckets);
  // The same histogram under Tokio's earlier names (1.2x-1.3x, "poll_count_histogram"):
  // resolution and bucket count set one at a time (same limits as above).
  Builder& enable_metrics_poll_count_histogram() { return enable_metrics_poll_time_histogram(); }
  Builder& metrics_poll_count_histogram_resolution(std::chrono::nanoseconds resolution);
  Builder& metrics_poll_count_histogram_buckets(std::size_t buckets);

  // Builds the runtime. Throws std::system_error when threads cannot be started and
  // std::invalid_argument for an inconsistent configuration.
  Runtime build();

 private:
  explicit Builder(RuntimeFlavor f);
  // The configuration; throws std::logic_error on a moved-from Builder.
  detail::Config* cfg() const;
  detail::Owned<detail::Config> cfg_;
};

}  // namespace tokio::runtime
