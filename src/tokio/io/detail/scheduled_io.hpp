#pragma once
// ScheduledIo: the reactor's per-fd state, shared by the driver (which sets readiness from
// epoll events) and the tasks doing I/O on the fd (which clear it when a syscall says
// EAGAIN, and wait for it otherwise).
//
// Readiness word (`readiness`, 32 bits):
//   bits 0-5   io::Ready bits: READABLE 1, WRITABLE 2, READ_CLOSED 4, WRITE_CLOSED 8,
//              PRIORITY 16, ERROR 32
//   bits 8-30  tick: advanced (mod 2^23) every time the driver ORs in an event
//   bit 31     SHUTDOWN: the runtime's driver shut down, or the I/O object deregistered;
//              every wait completes with an error
//
// Generation (`generation_`, 32 bits, never 0): advanced, under `lock`, each time a released
// entry is reset for reuse. An operation records the generation of the registration it was
// made for (IoWaiter::gen); one still polled after its I/O object was destroyed (a misuse:
// another task dropped the object under it) finds a different generation once the entry
// has been reset, and fails as after SHUTDOWN instead of waiting on the reset entry (a
// hang) or taking the readiness of the socket that now uses it (a read from whatever fd
// then has the old number). Between the deregistration and the reset, SHUTDOWN says it. A
// wait that records 0 (the runtime's own waiters, whose objects cannot go first) is not
// checked.
//
// Edge-triggered epoll reports a transition once, so readiness is sticky: it is set by the
// driver and cleared only by an operation that got EAGAIN (or a short read/write on a
// stream, which proves the same). The clear carries the tick the operation observed before
// its syscall; if the driver delivered a new edge since, the tick differs and the clear is
// dropped, so a clear racing with a new edge can never hide it. READ_CLOSED / WRITE_CLOSED
// are final and never cleared.
//
// Waiters live inside the awaiting operations (IoWaiter, no allocation per wait), in one of
// two places, both guarded by `lock`:
//   the direct slot  the first waiter to register while the slot is free. Its waker and
//                    mask are copied into this ScheduledIo, so waking it loads only from
//                    this entry and the task, never from the node: with one task per
//                    connection the node sits in the task's frame, often pages away from
//                    the frame's start (a 16 KiB read buffer before it), and the driver
//                    would wait on a cache and TLB miss per wake to unlink it
//                    (bench/NOTES.md, issue 10).
//   the list         every further waiter (two tasks waiting on one fd, both halves of a
//                    split waiting at once): an intrusive doubly-linked list of nodes.
// The driver takes every waker whose interest the new readiness satisfies and wakes it
// outside the lock. Either way the node's `linked` flag says "registered": set under the
// lock at registration, cleared under the lock by whoever ends the registration (the
// driver's wake with a release store that the owner's acquire load pairs with, or the
// owner itself). The owner reads it without the lock and, once it reads false, never
// touches this entry for that wait again: the driver is done with the node and its waker,
// so an operation that completes after being woken never takes the lock, and an operation
// that outlives its I/O object (the entry released after a deregistration wake) never
// reads the released entry. For the slot, the wake's store into the node is its only
// touch of the node (no load), and the driver turn prefetches that line beforehand.

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
  Wakeable* waker = nullptr;   // owned reference while linked (guarded by the lock)
  uint8_t mask = 0;            // readiness bits that complete this wait (Interest::mask)
  Atomic<bool> linked{false};  // registered, in the direct slot or in the list
  uint32_t gen = 0;            // the registration's generation it waits for; 0: unchecked
  explicit IoWaiter(uint32_t m = 0) noexcept : mask(static_cast<uint8_t>(m)) {}
  // Awaitables are copied before they first suspend: a copy is never registered.
  IoWaiter(const IoWaiter& o) noexcept : mask(o.mask), gen(o.gen) {}
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
  // A waiter of another generation (its I/O object is gone) gets kShutdown at once.
  bool poll_ready(task::Context& cx, IoWaiter& w, uint32_t& snapshot) noexcept {
    snapshot = load();
    if (TOKIO_LIKELY(is_ready(snapshot, w.mask))) {
      // After the acquire load: a snapshot taken after a reset sees its generation.
      if (TOKIO_UNLIKELY(stale(w))) snapshot = kShutdown;
      return true;
    }
    return poll_ready_slow(cx, w, snapshot);
  }
  // poll_ready's check without registering (a leaf's try_poll): true as poll_ready would
  // return it; false when not ready, with nothing linked or changed.
  bool try_ready(const IoWaiter& w, uint32_t& snapshot) const noexcept {
    snapshot = load();
    if (!is_ready(snapshot, w.mask)) return false;
    // After the acquire load: a snapshot taken after a reset sees its generation.
    if (TOKIO_UNLIKELY(stale(w))) snapshot = kShutdown;
    return true;
  }

  // The generation operations on this registration record (IoWaiter::gen).
  uint32_t generation() const noexcept { return generation_.load(std::memory_order_relaxed); }

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
    // Acquire pairs with wake()'s release store: after reading false the driver owns (and
    // has taken) the waker and will touch neither the node nor, for it, this entry.
    if (w.linked.load(std::memory_order_acquire)) remove_waiter_slow(w);
  }

  // True while `w` holds the direct slot. Racy outside the lock: for tests and assertions.
  bool in_direct_slot(const IoWaiter& w) const noexcept {
    return slot_owner_.load(std::memory_order_relaxed) == &w;
  }

  // Marks bits ready without an event (a socket known to be connected is writable before
  // epoll says so). No tick change: like any readiness, it is cleared only by an
  // operation that then sees EAGAIN.
  void assume_ready(uint32_t bits) noexcept {
    readiness_.fetch_or(bits & kReadyMask, std::memory_order_acq_rel);
  }

  // --- driver side
  // Starts loading what waking the slot's waiter and then running it will touch: its waker
  // (a task header), the node's `linked` flag, which the wake stores to, and the waiting
  // operation around the node (IoOp keeps its `io_` just before the node, its op after).
  // Called for every event of a driver turn before any wake, so the turn's cache misses
  // overlap instead of being taken one by one, and the operation's lines (often pages from
  // the header, after a read buffer in the frame) are on their way before the task runs. Reads the slot without the lock: a stale pointer
  // only makes the hint useless (a prefetch never faults).
  void prefetch_waiter() const noexcept {
    if (const Wakeable* w = slot_waker_.load(std::memory_order_relaxed)) TOKIO_PREFETCH(w, 1);
    if (const IoWaiter* n = slot_owner_.load(std::memory_order_relaxed)) {
      const char* at = reinterpret_cast<const char*>(n);
      TOKIO_PREFETCH(at - sizeof(void*), 1);
      TOKIO_PREFETCH(&n->linked, 1);
      TOKIO_PREFETCH(at + sizeof(IoWaiter), 1);
    }
  }
  // ORs `ready` into the word, advances the tick and wakes the waiters it satisfies.
  void set_readiness(uint32_t ready) noexcept;
  // Marks the registration shut down and wakes every waiter.
  void shutdown() noexcept;
  // Wakes every waiter whose mask intersects `ready`.
  void wake(uint32_t ready) noexcept;
  // Prepares a released entry for reuse: a new generation (never 0), then a clear word
  // (release: pairs with poll_ready's acquire load, so whoever sees the clear word sees
  // the new generation). Under the lock, so poll_ready_slow sees both or neither.
  void reset() noexcept;

  // Per-registration state owned by the socket layer (net/socket.hpp: whether TCP_INQ is
  // on). Kept here because the registration's address is stable while the I/O object
  // that owns it may move.
  std::atomic<uint8_t> sock_state{0};
  // In what would be sock_state's padding (the entry stays one line).
  Atomic<uint32_t> generation_{1};

  // Links in the driver's registration set (guarded by the driver's mutex).
  ScheduledIo* set_prev = nullptr;
  ScheduledIo* set_next = nullptr;

 private:
  bool stale(const IoWaiter& w) const noexcept { return w.gen != 0 && w.gen != generation(); }
  bool poll_ready_slow(task::Context& cx, IoWaiter& w, uint32_t& snapshot) noexcept;
  void remove_waiter_slow(IoWaiter& w) noexcept;
  void link(IoWaiter& w) noexcept;
  void unlink(IoWaiter& w) noexcept;

  // The whole entry, slot included, is one cache line (static_assert below): a wake and an
  // operation's poll each touch only that line and the task.
  Atomic<uint32_t> readiness_{0};
  SpinLock lock_;
  uint8_t slot_mask_ = 0;  // the slot waiter's mask (ready bits fit in 8); guarded by lock_
  // The waiter in the direct slot, or null when the slot is free. Written and read under
  // lock_; Atomic (relaxed) only so that the driver's prefetch_waiter may read it without
  // the lock, as a hint. The owner never reads it without the lock (it reads `linked`).
  Atomic<IoWaiter*> slot_owner_{nullptr};
  // The slot waiter's waker, an owned reference; written under lock_. Atomic (relaxed) only
  // so that prefetch_waiter may read it without the lock.
  Atomic<Wakeable*> slot_waker_{nullptr};
  IoWaiter* head_ = nullptr;  // the list; guarded by lock_
  IoWaiter* tail_ = nullptr;
};
static_assert(sizeof(ScheduledIo) == 64, "a ScheduledIo is one cache line");
static_assert(ScheduledIo::kReadyMask <= 0xFF, "slot_mask_ holds the ready bits in 8 bits");

}  // namespace tokio::detail
