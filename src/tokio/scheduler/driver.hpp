#pragma once
// Driver: what an idle runtime thread parks on.
//
// Exactly one thread at a time parks in the driver (the current-thread scheduler's thread,
// or whichever multi-thread worker wins the driver lock); the other idle workers park on
// their own futex. park() returns when unpark() is called, when the timeout passes, or
// (with the I/O and time drivers, added by their own modules) when an fd becomes ready or
// a timer is due. unpark() may be called from any thread.

#include <chrono>
#include <optional>

#include "tokio/scheduler/config.hpp"
#include "tokio/scheduler/park.hpp"

namespace tokio::detail {

class Driver {
 public:
  explicit Driver(const Config& cfg) : cfg_(cfg) {}

  // nullopt: until unparked; zero: poll without blocking.
  void park(std::optional<std::chrono::nanoseconds> timeout) { parker_.park(timeout); }
  void unpark() noexcept { parker_.unpark(); }
  // True when a zero-timeout park can make progress (I/O or timers to poll).
  bool has_drivers() const noexcept { return false; }
  void shutdown() noexcept {}

 private:
  const Config& cfg_;
  Parker parker_;
};

}  // namespace tokio::detail
