#pragma once
// Runtime configuration collected by runtime::Builder.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <exception>

#include "tokio/core/task_id.hpp"
#include "tokio/runtime/detail/callback.hpp"
#include "tokio/runtime/flavor.hpp"
#include "tokio/runtime/unhandled.hpp"

namespace tokio::detail {

// The most workers a multi-thread runtime has: Idle counts them in 16-bit fields of one
// state word (runtime/detail/idle.hpp), so Builder::worker_threads and
// TOKIO_WORKER_THREADS refuse more.
inline constexpr std::size_t kMaxWorkerThreads = 0xFFFF;

// The per-task hooks (Tokio's on_task_spawn / on_task_terminate / on_before_task_poll /
// on_after_task_poll), kept together so the poll path tests one pointer.
struct TaskHooks {
  Callback<void(const task::TaskInfo&)> on_spawn;
  Callback<void(const task::TaskInfo&)> on_terminate;
  Callback<void(const task::TaskInfo&)> before_poll;
  Callback<void(const task::TaskInfo&)> after_poll;
  bool any() const noexcept { return on_spawn || on_terminate || before_poll || after_poll; }
};

struct Config {
  runtime::RuntimeFlavor flavor = runtime::RuntimeFlavor::MultiThread;
  std::size_t worker_threads = 0;  // 0: number of CPUs (or TOKIO_WORKER_THREADS)
  std::string thread_name = "tokio-rt-worker";
  Callback<std::string()> thread_name_fn;
  std::size_t thread_stack_size = 0;  // 0: the platform default
  Callback<void()> on_thread_start;
  Callback<void()> on_thread_stop;
  Callback<void()> on_thread_park;
  Callback<void()> on_thread_unpark;
  std::size_t max_blocking_threads = 512;
  std::chrono::nanoseconds thread_keep_alive = std::chrono::seconds(10);
  std::optional<uint32_t> global_queue_interval;  // nullopt: 31 current-thread, tuned multi
  uint32_t event_interval = 61;
  bool enable_io = false;
  bool enable_time = false;
  bool start_paused = false;
  bool disable_lifo_slot = false;
  std::size_t max_io_events_per_tick = 1024;
  std::optional<uint64_t> rng_seed;
  // fs: run file operations on the blocking pool even where io_uring works (fs/ layer).
  bool disable_io_uring = false;
  runtime::UnhandledException unhandled = runtime::UnhandledException::Report;
  // Called with every task exception the policy acts on (see UnhandledException).
  Callback<void(const task::TaskInfo&, std::exception_ptr)> on_unhandled_exception;
  TaskHooks task_hooks;
  // Builder::stall_threshold (0: no stall detector).
  std::chrono::nanoseconds stall_threshold{0};
  // Builder::enable_metrics_poll_time_histogram: per-worker counts of poll durations in
  // `poll_hist_buckets` linear buckets of `poll_hist_resolution` (the last one open-ended).
  bool poll_time_histogram = false;
  std::chrono::nanoseconds poll_hist_resolution{100000};
  std::size_t poll_hist_buckets = 10;
};

}  // namespace tokio::detail
