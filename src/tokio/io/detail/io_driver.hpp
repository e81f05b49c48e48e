#pragma once
// IoDriver: the runtime's reactor (epoll, edge-triggered), what the scheduler parks in
// (runtime/detail/driver.hpp) when the Builder enabled I/O.
//
// turn(timeout) releases the registrations freed since the last turn, blocks in
// epoll_wait, and ORs each event into its ScheduledIo (waking the waiters it satisfies).
// Exactly one thread turns the driver at a time (the current-thread scheduler's thread, or
// the multi-thread worker holding the driver lock), so events are dispatched by one thread.
//
// Registration set: every live ScheduledIo is on an intrusive list (for shutdown), guarded
// by `mu_` together with the free list and the pending-release list. Deregistration first
// removes the fd from epoll, then queues the ScheduledIo for release; it is reused only
// after the *next* turn starts, so an event already returned by epoll_wait for it (being
// dispatched on the driver thread right now) never touches a recycled entry.
//
// Park state (`park_state_`, 32 bits), so unpark() costs a syscall only when needed:
//   0 IDLE      the driver thread is not blocked in epoll_wait
//   1 PARKED    a thread is in (or entering) a blocking epoll_wait
//   2 NOTIFIED  an unpark arrived while IDLE: the next blocking turn polls instead
// unpark() swaps in NOTIFIED and writes the eventfd only when it replaced PARKED. An
// unpark from the thread that is dispatching events is dropped: that thread is awake and
// its scheduler looks for work as soon as turn() returns.

#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/io/detail/scheduled_io.hpp"
#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/driver.hpp"

namespace tokio::detail {

class IoDriver {
 public:
  static constexpr uint32_t IDLE = 0;
  static constexpr uint32_t PARKED = 1;
  static constexpr uint32_t NOTIFIED = 2;

  explicit IoDriver(const Config& cfg);
  ~IoDriver();
  IoDriver(const IoDriver&) = delete;
  IoDriver& operator=(const IoDriver&) = delete;

  void turn(std::optional<std::chrono::nanoseconds> timeout);
  void unpark() noexcept;
  void shutdown() noexcept;

  // Registers `fd` with epoll for `interest`. Fails after shutdown.
  io::Result<ScheduledIo*> add(int fd, io::Interest interest);
  // Removes `fd` from epoll and queues `io` for release. The fd must still be open.
  io::Result<void> remove(int fd, ScheduledIo* io) noexcept;

  // Metrics.
  uint64_t fd_registered_count() const noexcept {
    return registered_.load(std::memory_order_relaxed);
  }
  uint64_t fd_deregistered_count() const noexcept {
    return deregistered_.load(std::memory_order_relaxed);
  }
  uint64_t ready_count() const noexcept { return ready_events_.load(std::memory_order_relaxed); }
  std::size_t num_registered() const;

 private:
  static constexpr std::size_t kNotifyAfter = 16;  // pending releases before an unpark

  void release_pending() noexcept;
  static uint32_t to_epoll(io::Interest interest) noexcept;
  static uint32_t from_epoll(uint32_t events) noexcept;

  int epfd_ = -1;
  int evfd_ = -1;
  std::vector<epoll_event> events_;
  std::atomic<uint32_t> park_state_{IDLE};

  mutable std::mutex mu_;
  ScheduledIo* live_ = nullptr;  // registration set (guarded by mu_)
  std::size_t num_live_ = 0;
  std::vector<ScheduledIo*> free_;     // reset entries for reuse, never freed (mu_)
  std::vector<ScheduledIo*> pending_;  // deregistered, released at the next turn (mu_)
  std::atomic<std::size_t> pending_count_{0};
  bool is_shutdown_ = false;  // guarded by mu_

  std::atomic<uint64_t> registered_{0};
  std::atomic<uint64_t> deregistered_{0};
  std::atomic<uint64_t> ready_events_{0};
};

// The I/O driver of `h`'s runtime; throws std::logic_error naming `what` when the runtime
// was built without enable_io().
IoDriver* io_driver_of(HandleInner* h, const char* what);

}  // namespace tokio::detail
