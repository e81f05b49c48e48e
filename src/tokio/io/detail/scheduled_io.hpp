#pragma once
// ScheduledIo: the reactor's per-fd state, shared by the driver (which sets readiness from
// epoll events) and the tasks doing I/O on the fd (which clear it when a syscall says
// EAGAIN, and wait for it otherwise).
//
// Readiness word (`readiness`, 32 bits):
//   bits 0-5   io::Ready bits: READABLE 1, WRITABLE 2, READ_CLOSED 4, WRITE_CLOSED 8,
//              PRIORITY 16, ERROR 32
//   bits 8-30  tick: advanced (mod 2^23) every time the driver ORs in an event
//   bit 31     SHUTDOWN: the runtime's driver shut down; every wait completes with an error
//
// Edge-triggered epoll reports a transition once, so readiness is sticky: it is set by the
// driver and cleared only by an operation that got EAGAIN (or a short read/write on a
// stream, which proves the same). The clear carries the tick the operation observed before
// its syscall; if the driver delivered a new edge since, the tick differs and the clear is
// dropped, so a clear racing with a new edge can never hide it. READ_CLOSED / WRITE_CLOSED
// are final and never cleared.
//
// Waiters: an intrusive doubly-linked list of IoWaiter nodes that live inside the awaiting
// operations (no allocation per wait), guarded by `lock`. The driver unlinks every waiter
// whose interest the new readiness satisfies, takes its waker and wakes it outside the
// lock. A waiter's `linked` flag is written under the lock and read without it by the
// owner: once it reads false (acquire), the driver will not touch the node again, so an
// operation that completes after being woken never takes the lock.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"
#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

struct IoWaiter {
  IoWaiter* prev = nullptr;
  IoWaiter* next = nullptr;
  Wakeable* waker = nullptr;  // owned reference while linked (guarded by the lock)
  uint32_t mask = 0;          // readiness bits that complete this wait (Interest::mask)
  Atomic<bool> linked{false};

  explicit IoWaiter(uint32_t m = 0) noexcept : mask(m) {}
  // Awaitables are copied before they first suspend: a copy is never linked.
  IoWaiter(const IoWaiter& o) noexcept : mask(o.mask) {}
  IoWaiter& operator=(const IoWaiter&) = delete;
};

class alignas(64) ScheduledIo {
 public:
  static constexpr uint32_t kReadyMask = io::Ready::kAll;
  static constexpr uint32_t kTickShift = 8;
  static constexpr uint32_t kTickMask = 0x7FFFFF00u;
  static constexpr uint32_t kTickOne = 1u << kTickShift;
  static constexpr uint32_t kShutdown = 0x80000000u;

  uint32_t load() const noexcept { return readiness_.load(std::memory_order_acquire); }

  // True when `snapshot` (a value of the readiness word) completes a wait with `mask`.
  static bool is_ready(uint32_t snapshot, uint32_t mask) noexcept {
    return (snapshot & (mask | kShutdown)) != 0;
  }

  // Returns true (with the readiness word in `snapshot`) when the waiter's interest is
  // ready or the driver shut down; otherwise leaves `w` linked with the current waker and
  // returns false. A linked waiter that becomes ready stays linked until remove_waiter.
  bool poll_ready(task::Context& cx, IoWaiter& w, uint32_t& snapshot) noexcept {
    snapshot = load();
    if (TOKIO_LIKELY(is_ready(snapshot, w.mask))) return true;
    return poll_ready_slow(cx, w, snapshot);
  }

  // Clears the bits of `mask` observed in `snapshot`, unless the driver delivered a new
  // event since (tick changed). Closed bits are never cleared.
  void clear_readiness(uint32_t snapshot, uint32_t mask) noexcept {
    uint32_t bits = snapshot & mask & kReadyMask & ~io::Ready::kClosed;
    if (bits == 0) return;
    uint32_t cur = readiness_.load(std::memory_order_acquire);
    for (;;) {
      if ((cur & kTickMask) != (snapshot & kTickMask)) return;  // a newer edge: keep it
      if ((cur & bits) == 0) return;
      if (readiness_.compare_exchange_weak(cur, cur & ~bits, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        return;
      }
    }
  }

  // Unlinks `w` if it is still linked and drops its waker. Called when an operation
  // completes or its awaitable is destroyed (cancellation).
  void remove_waiter(IoWaiter& w) noexcept {
    if (w.linked.load(std::memory_order_acquire)) remove_waiter_slow(w);
  }

  // Marks bits ready without an event (a socket known to be connected is writable before
  // epoll says so). No tick change: like any readiness, it is cleared only by an
  // operation that then sees EAGAIN.
  void assume_ready(uint32_t bits) noexcept {
    readiness_.fetch_or(bits & kReadyMask, std::memory_order_acq_rel);
  }

  // --- driver side
  // ORs `ready` into the word, advances the tick and wakes the waiters it satisfies.
  void set_readiness(uint32_t ready) noexcept;
  // Marks the registration shut down and wakes every waiter.
  void shutdown() noexcept;
  // Wakes every waiter whose mask intersects `ready`.
  void wake(uint32_t ready) noexcept;
  // Prepares a released entry for reuse.
  void reset() noexcept {
    readiness_.store(0, std::memory_order_relaxed);
    sock_state.store(0, std::memory_order_relaxed);
  }

  // Per-registration state owned by the socket layer (net/socket.hpp: whether TCP_INQ is
  // on). Kept here because the registration's address is stable while the I/O object
  // that owns it may move.
  std::atomic<uint8_t> sock_state{0};

  // Links in the driver's registration set (guarded by the driver's mutex).
  ScheduledIo* set_prev = nullptr;
  ScheduledIo* set_next = nullptr;

 private:
  bool poll_ready_slow(task::Context& cx, IoWaiter& w, uint32_t& snapshot) noexcept;
  void remove_waiter_slow(IoWaiter& w) noexcept;
  void link(IoWaiter& w) noexcept;
  void unlink(IoWaiter& w) noexcept;

  Atomic<uint32_t> readiness_{0};
  SpinLock lock_;
  IoWaiter* head_ = nullptr;  // guarded by lock_
  IoWaiter* tail_ = nullptr;
};

}  // namespace tokio::detail
