#pragma once
// Runtime configuration collected by runtime::Builder.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "tokio/runtime/detail/callback.hpp"
#include "tokio/runtime/flavor.hpp"

namespace tokio::detail {

struct Config {
  runtime::RuntimeFlavor flavor = runtime::RuntimeFlavor::MultiThread;
  std::size_t worker_threads = 0;  // 0: number of CPUs (or TOKIO_WORKER_THREADS)
  std::string thread_name = "tokio-rt-worker";
  Callback<std::string> thread_name_fn;
  std::size_t thread_stack_size = 0;  // 0: the platform default
  Callback<void> on_thread_start;
  Callback<void> on_thread_stop;
  Callback<void> on_thread_park;
  Callback<void> on_thread_unpark;
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
};

}  // namespace tokio::detail
