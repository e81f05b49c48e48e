#pragma once
// runtime::Builder: configures and builds a Runtime, with Tokio's knobs and defaults.
//
//   auto rt = tokio::runtime::Builder::new_multi_thread()
//                 .worker_threads(4)
//                 .enable_all()
//                 .build();

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/runtime.hpp"

namespace tokio::runtime {

class Builder {
 public:
  // All tasks run on the thread that calls block_on.
  static Builder new_current_thread() { return Builder(RuntimeFlavor::CurrentThread); }
  // A work-stealing pool of worker threads (one per CPU unless worker_threads is set).
  static Builder new_multi_thread() { return Builder(RuntimeFlavor::MultiThread); }

  // Number of worker threads (multi-thread only). Must be at least 1.
  Builder& worker_threads(std::size_t n);
  Builder& thread_name(std::string name) {
    cfg_.thread_name = std::move(name);
    return *this;
  }
  Builder& thread_name_fn(std::function<std::string()> f) {
    cfg_.thread_name_fn = std::move(f);
    return *this;
  }
  Builder& thread_stack_size(std::size_t bytes) {
    cfg_.thread_stack_size = bytes;
    return *this;
  }
  Builder& on_thread_start(std::function<void()> f) {
    cfg_.on_thread_start = std::move(f);
    return *this;
  }
  Builder& on_thread_stop(std::function<void()> f) {
    cfg_.on_thread_stop = std::move(f);
    return *this;
  }
  Builder& on_thread_park(std::function<void()> f) {
    cfg_.on_thread_park = std::move(f);
    return *this;
  }
  Builder& on_thread_unpark(std::function<void()> f) {
    cfg_.on_thread_unpark = std::move(f);
    return *this;
  }
  // Upper bound on spawn_blocking threads (default 512). Must be at least 1.
  Builder& max_blocking_threads(std::size_t n);
  // How long an idle blocking thread waits for work before exiting (default 10 s).
  Builder& thread_keep_alive(std::chrono::nanoseconds d) {
    cfg_.thread_keep_alive = d;
    return *this;
  }
  // Scheduler ticks between checks of the global queue (default 31 current-thread, 61
  // multi-thread). Must be at least 1.
  Builder& global_queue_interval(uint32_t ticks);
  // Scheduler ticks between polls of the I/O and time drivers (default 61). At least 1.
  Builder& event_interval(uint32_t ticks);
  Builder& enable_io() {
    cfg_.enable_io = true;
    return *this;
  }
  Builder& enable_time() {
    cfg_.enable_time = true;
    return *this;
  }
  Builder& enable_all() { return enable_io().enable_time(); }
  // Start with the clock paused (tests; current-thread only, needs enable_time).
  Builder& start_paused(bool paused) {
    cfg_.start_paused = paused;
    return *this;
  }
  Builder& max_io_events_per_tick(std::size_t n) {
    cfg_.max_io_events_per_tick = n ? n : 1;
    return *this;
  }
  Builder& disable_lifo_slot() {
    cfg_.disable_lifo_slot = true;
    return *this;
  }
  Builder& rng_seed(uint64_t seed) {
    cfg_.rng_seed = seed;
    return *this;
  }

  // Builds the runtime. Throws std::system_error when threads cannot be started and
  // std::invalid_argument for an inconsistent configuration.
  Runtime build();

 private:
  explicit Builder(RuntimeFlavor f) { cfg_.flavor = f; }
  detail::Config cfg_;
};

}  // namespace tokio::runtime
