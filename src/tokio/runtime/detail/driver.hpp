#pragma once
// Driver: what an idle runtime thread parks on.
//
// Exactly one thread at a time parks in the driver (the current-thread scheduler's thread,
// or whichever multi-thread worker wins the driver lock); the other idle workers park on
// their own futex. park() returns when unpark() is called, when the timeout passes, when
// an fd becomes ready (I/O stack) or when a timer is due (time stack). unpark() may be
// called from any thread.
//
// The stack, as in Tokio: time wraps I/O wraps the thread parker.
//   park(timeout):  t = time->before_park(timeout)        (clamp to the next deadline)
//                   io ? io->turn(t) : parker.park(t)     (epoll_wait or futex)
//                   time->after_park()                    (fire due timers)
// The I/O stack (reactor/) and the time stack (timers/) implement the interfaces below;
// make_io_stack (driver.cpp) and make_time_stack (timers/time_driver.cpp) create them when
// the Builder enables them.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/park.hpp"

namespace tokio::detail {

class Driver;

class IoStack {
 public:
  virtual ~IoStack() = default;
  // Waits for events up to `timeout` (nullopt: until unpark), dispatches readiness.
  virtual void turn(std::optional<std::chrono::nanoseconds> timeout) = 0;
  virtual void unpark() noexcept = 0;
  // The runtime is shutting down: fail every registration's pending and future waits.
  virtual void shutdown() noexcept = 0;
};

class TimeStack {
 public:
  virtual ~TimeStack() = default;
  // Returns the timeout to park with: `timeout` clamped to the next timer deadline.
  virtual std::optional<std::chrono::nanoseconds> before_park(
      std::optional<std::chrono::nanoseconds> timeout) = 0;
  // Fires every timer that is due.
  virtual void after_park() = 0;
  virtual void shutdown() noexcept = 0;
};

std::unique_ptr<IoStack> make_io_stack(const Config& cfg, Driver& owner);
std::unique_ptr<TimeStack> make_time_stack(const Config& cfg, Driver& owner);

class Driver {
 public:
  explicit Driver(const Config& cfg);
  ~Driver();

  // nullopt: until unparked; zero: poll without blocking.
  void park(std::optional<std::chrono::nanoseconds> timeout);
  void unpark() noexcept {
    unparked_.store(true, std::memory_order_release);
    if (io_) io_->unpark();
    else parker_.unpark();
  }
  // True when unpark() was called since the previous call (clears the flag). The time
  // stack uses it so a paused clock never jumps ahead while a wake-up is pending.
  bool take_unparked() noexcept { return unparked_.exchange(false, std::memory_order_acq_rel); }
  // True when a zero-timeout park can make progress (I/O or timers to poll).
  bool has_drivers() const noexcept { return io_ || time_; }
  void shutdown() noexcept;

  IoStack* io() const noexcept { return io_.get(); }
  TimeStack* time() const noexcept { return time_.get(); }
  const Config& config() const noexcept { return cfg_; }

  // spawn_blocking tasks queued or running (maintained by the blocking pool): while any
  // are in flight a paused clock does not auto-advance.
  std::atomic<std::size_t> blocking_in_flight{0};

 private:
  const Config& cfg_;
  Parker parker_;
  std::atomic<bool> unparked_{false};
  std::unique_ptr<IoStack> io_;
  std::unique_ptr<TimeStack> time_;
};

}  // namespace tokio::detail
