#pragma once
// sync::Notify: wakes one waiting task, or all of them, without carrying data.
//
//   tokio::sync::Notify notify;
//   // waiter:                              // notifier:
//   co_await notify.notified();             notify.notify_one();
//
// - notify_one() wakes the task that has waited longest; when nobody waits it stores one
//   permit, so the next notified() completes at once (at most one permit is stored).
// - notify_last() is notify_one() serving the most recent waiter first.
// - notify_waiters() wakes every task waiting *now* (and every Notified created before the
//   call, even if not yet polled); it stores no permit.
// - A Notified can be enable()d before it is awaited: from then on it is in the queue and
//   counts as a waiter for notify_one().
//
// Cancel safety: notified() loses its place in the queue when cancelled. A notify_one()
// permit that was handed to a Notified destroyed before it completed is passed on to the
// next waiter (or stored), never lost.
//
// State word (`state_`, size_t):
//   bits 0..1   EMPTY (0) | WAITING (1: the queue is not empty) | NOTIFIED (2: a permit)
//   bits 2..    how many times notify_waiters() was called (a Notified created before a
//               call completes even if it was not queued yet)
// Lock-free transitions: EMPTY -> NOTIFIED (notify_one with no waiter) and
// NOTIFIED -> EMPTY (a Notified consuming the permit). Everything involving the queue
// happens under `lock_`.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/await_claim.hpp"

#include "tokio/sync/detail/wait_list.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/sync/error.hpp"

namespace tokio::detail {
struct NotifyTestHook;  // defined by the tests only: sets the count to test its wrap
}  // namespace tokio::detail

namespace tokio::sync {

class Notify;

// The future returned by Notify::notified(). Await it as a prvalue
// (`co_await n.notified()`) or as an lvalue (`co_await f` after `f.enable()`): awaiting goes
// through a small proxy, so the queued node itself never has to be copied.
class TOKIO_MUST_AWAIT Notified {
 public:
  using tokio_awaitable = void;

  // Inline for the usual case, a Notified moved before it was first polled (into a select
  // branch, say); a queued one is relinked at its new address out of line.
  Notified(Notified&& o) noexcept : n_(o.n_) {
    node_.calls = o.node_.calls;
    node_.st = o.node_.st;
    if (node_.st == St::Waiting) move_queued(o);
    o.node_.st = St::Done;
  }
  Notified(const Notified&) = delete;
  Notified& operator=(const Notified&) = delete;
  ~Notified() {
    if (node_.st == St::Waiting) release();
  }

  // Starts over as a fresh notified() of the same Notify (leaving the queue first, and
  // passing on a notification it was given but never reported).
  void reset() noexcept;

  // Joins the queue without a waker (so notify_one() counts this one as a waiter).
  // Returns true when a notification was already received.
  bool enable() noexcept { return poll_with(nullptr); }

  bool poll(task::Context& cx) noexcept { return poll_with(cx.raw_waker()); }
  // Completes now if a notification is already here (a stored permit is taken), without
  // joining the queue; false otherwise, with nothing changed. (See Leaf's try_poll.)
  bool try_poll() noexcept;

  // One await of a Notified at a time: the Notified keeps one waker, so a second await of
  // the same object (from another task, or a join naming it twice) would leave one of the
  // two waiting for ever. The awaiter claims the Notified's `awaited` byte while it lives
  // and a second one throws std::logic_error (the check of core/detail/await_claim.hpp,
  // without growing the frame: the byte sits in the node's padding, and whether this
  // awaiter holds the claim is bit 0 of its pointer; a copy, made before the first
  // suspension, holds none).
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter> {
   public:
    static constexpr const char* kLeafName = "sync::Notify::notified";  // in task dumps
    explicit Awaiter(Notified* n) : bits_(reinterpret_cast<uintptr_t>(n) | kClaim) {
      detail::claim_await_flag(n->node_.awaited, "a sync::Notified");
    }
    Awaiter(const Awaiter& o) noexcept : detail::Leaf<Awaiter>(o), bits_(o.bits_ & ~kClaim) {}
    Awaiter(Awaiter&& o) noexcept
        : detail::Leaf<Awaiter>(o), bits_(detail::exchange(o.bits_, o.bits_ & ~kClaim)) {}
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if (bits_ & kClaim) detail::release_await_flag(notified()->node_.awaited);
    }
    bool poll(task::Context& cx) noexcept { return notified()->poll(cx); }
    bool try_poll() noexcept { return notified()->try_poll(); }
    void await_resume() const noexcept {}

   private:
    static constexpr uintptr_t kClaim = 1;  // a Notified is at least 8-aligned
    Notified* notified() const noexcept { return reinterpret_cast<Notified*>(bits_ & ~kClaim); }
    uintptr_t bits_;
  };
  // Throws std::logic_error when this Notified is already being awaited elsewhere.
  Awaiter operator co_await() & { return Awaiter(this); }
  Awaiter operator co_await() && { return Awaiter(this); }

 private:
  friend class Notify;
  // Made by Notify::notified() from the state word it read.
  Notified(Notify* n, std::size_t state) noexcept : n_(n) { node_.calls = calls_of(state); }
  enum : uint8_t { NONE = 0, ONE = 1, LAST = 2, ALL = 3 };
  enum class St : uint8_t { Init, Waiting, Done };
  struct Node : detail::WaitNode {
    std::atomic<detail::Wakeable*> waker{nullptr};
    std::atomic<uint8_t> notification{NONE};
    // The owning Notified's own fields (only its owner reads or writes them), kept in what
    // would be the node's padding, so a Notified is 40 bytes, not 56: it sits in the frame
    // of every task waiting on a Notify.
    St st = St::Init;
    // An Awaiter holds the claim on this Notified (see Awaiter); not moved with it.
    bool awaited = false;
    // The low 32 bits of the Notify's notify_waiters() count when this future was made: a
    // poll that finds the count changed completes. (It could only miss one after exactly a
    // multiple of 2^32 notify_waiters() calls between the two.)
    uint32_t calls = 0;
  };

  bool poll_with(detail::Wakeable* waker) noexcept;
  void release() noexcept;
  void move_queued(Notified& from) noexcept;
  bool poll_init(detail::Wakeable* waker) noexcept;
  // The low 32 bits of the notify_waiters() count in a Notify state word.
  static uint32_t calls_of(std::size_t state) noexcept;

  Notify* n_;
  Node node_;
};

class Notify {
 public:
  static constexpr std::size_t EMPTY = 0;
  static constexpr std::size_t WAITING = 1;
  static constexpr std::size_t NOTIFIED = 2;
  static constexpr std::size_t STATE_MASK = 3;
  static constexpr std::size_t CALLS_SHIFT = 2;

  Notify() noexcept = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;
  ~Notify() {
    if (TOKIO_UNLIKELY(!waiters_.empty())) {
      detail::report_destroyed_in_use("a sync::Notify was", "tasks were waiting on it");
    }
  }

  // A future that completes on the next notification. Cheap to create.
  Notified notified() noexcept { return Notified(this, state_.load(std::memory_order_seq_cst)); }
  void notify_one() noexcept { notify(Notified::ONE); }
  void notify_last() noexcept { notify(Notified::LAST); }
  void notify_waiters() noexcept;

 private:
  friend class Notified;
  friend struct detail::NotifyTestHook;
  void notify(uint8_t strategy) noexcept;
  // With lock_ held: hands one notification to a waiter (returning its waker, to be woken
  // after unlocking) or stores the permit.
  detail::Wakeable* notify_locked(uint8_t strategy) noexcept;

  std::atomic<std::size_t> state_{0};
  detail::WaitLock lock_;
  detail::WaitList waiters_;
};

inline uint32_t Notified::calls_of(std::size_t state) noexcept {
  return static_cast<uint32_t>(state >> Notify::CALLS_SHIFT);
}

}  // namespace tokio::sync
