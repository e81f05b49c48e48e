#pragma once
// Driver: what an idle runtime thread parks on.
//
// Exactly one thread at a time parks in the driver (the current-thread scheduler's thread,
// or whichever multi-thread worker wins the driver lock); the other idle workers park on
// their own futex. park() returns when unpark() is called, when the timeout passes, when
// an fd becomes ready (I/O driver) or when a timer is due (time driver). unpark() may be
// called from any thread.
//
// The stack, as in Tokio: time wraps I/O wraps the thread parker.
//   park(timeout):  t = time_driver_before_park(timeout)      (clamp to the next deadline)
//                   io ? io_driver_turn(t) : parker.park(t)   (epoll_wait or futex)
//                   time_driver_after_park()                   (fire due timers)
//
// The two drivers belong to higher layers (io/detail/io_driver.hpp, time/detail/driver.hpp).
// The runtime holds them through typed pointers and calls them only through the functions
// declared below, which those layers define: the runtime never includes them, and never
// needs to cast.

#include <cstdint>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>

#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/park.hpp"

namespace tokio::detail {

class Driver;
class IoDriver;
class TimeDriver;
class FsEngine;

// --- defined by the I/O layer (io/detail/io_driver.cpp) -----------------------------------
IoDriver* io_driver_create(const Config& cfg, Driver& owner);
void io_driver_destroy(IoDriver* d) noexcept;
// Waits for events up to `timeout` (nullopt: until unpark), dispatches readiness.
void io_driver_turn(IoDriver* d, std::optional<std::chrono::nanoseconds> timeout);
void io_driver_unpark(IoDriver* d) noexcept;
// The runtime is shutting down: fail every registration's pending and future waits.
void io_driver_shutdown(IoDriver* d) noexcept;
// RuntimeMetrics' I/O driver counters: fds registered, deregistered, readiness events.
struct IoDriverCounts {
  uint64_t registered = 0;
  uint64_t deregistered = 0;
  uint64_t ready = 0;
};
IoDriverCounts io_driver_counts(const IoDriver* d) noexcept;

// --- defined by the time layer (time/detail/driver.cpp) -----------------------------------
TimeDriver* time_driver_create(const Config& cfg, Driver& owner);
void time_driver_destroy(TimeDriver* d) noexcept;
// Returns the timeout to park with: `timeout` clamped to the next timer deadline.
std::optional<std::chrono::nanoseconds> time_driver_before_park(
    TimeDriver* d, std::optional<std::chrono::nanoseconds> timeout);
// Fires every timer that is due.
void time_driver_after_park(TimeDriver* d);
void time_driver_shutdown(TimeDriver* d) noexcept;

// --- defined by the fs layer (fs/detail/engine.cpp) -------------------------------------
// The fs engine (io_uring or blocking pool) is created on a runtime's first fs operation
// and kept in Driver::fs_engine_slot(). At shutdown this closes the slot (no engine is
// created afterwards), cancels the operations their waiters abandoned and waits until the
// kernel is done with every buffer. Idempotent.
void fs_engine_close(std::atomic<FsEngine*>& slot) noexcept;

class Driver {
 public:
  explicit Driver(const Config& cfg);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // nullopt: until unparked; zero: poll without blocking.
  void park(std::optional<std::chrono::nanoseconds> timeout);
  void unpark() noexcept {
    unparked_.store(true, std::memory_order_release);
    if (io_) io_driver_unpark(io_);
    else parker_.unpark();
  }
  // True when unpark() was called since the previous call (clears the flag). The time
  // driver uses it so a paused clock never jumps ahead while a wake-up is pending.
  bool take_unparked() noexcept { return unparked_.exchange(false, std::memory_order_acq_rel); }
  // True when a zero-timeout park can make progress (I/O or timers to poll).
  bool has_drivers() const noexcept { return io_ || time_; }
  void shutdown() noexcept;

  // The drivers (null when the Builder did not enable them).
  IoDriver* io() const noexcept { return io_; }
  // The fs layer's engine slot (see fs_engine_close).
  std::atomic<FsEngine*>& fs_engine_slot() noexcept { return fs_; }
  TimeDriver* time() const noexcept { return time_; }
  const Config& config() const noexcept { return cfg_; }

  // spawn_blocking tasks queued or running (maintained by the blocking pool): while any
  // are in flight a paused clock does not auto-advance.
  std::atomic<std::size_t> blocking_in_flight{0};

 private:
  const Config& cfg_;
  Parker parker_;
  std::atomic<bool> unparked_{false};
  IoDriver* io_ = nullptr;
  TimeDriver* time_ = nullptr;
  std::atomic<FsEngine*> fs_{nullptr};
};

}  // namespace tokio::detail
