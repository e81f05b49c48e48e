#pragma once
// AtomicWaker (internal): one waker slot with a single registrant (a channel's receiver)
// and any number of concurrent wakers (its senders); also the waiting read's and write's
// slots of a byte pipe (io/detail/byte_pipe.hpp).
//
// State word (`state_`, 32 bits):
//   bit 0 REGISTERING  the registrant is writing the slot
//   bit 1 WAKING       a waker is taking the slot; cleared by whoever finishes the wake
//   bit 2 HAS          the slot holds a waker
// `slot_` is an atomic pointer only so that the registrant's "already registered?" check
// may read it while a waker takes it; ownership of its contents follows the bits above.
//
// Fast paths:
// - wake() with no waker stored (the receiver is busy draining) is one load: the sender
//   pays no read-modify-write on this shared line. This needs the sender's publication
//   of a message and its load of `state_` to be ordered against the registrant's
//   publication of HAS and its re-check of the queue: both sides use seq_cst (on x86 the
//   RMWs are locked instructions anyway and seq_cst loads are plain loads), so either the
//   sender sees HAS or the registrant's re-check sees the message.
// - register_waker() with the same waker already stored is one load.
// Callers that signal a condition not published with a seq_cst operation (close paths)
// use wake_always(), which skips the fast path.

#include <atomic>
#include <cstdint>

#include "tokio/core/detail/atomic.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

class AtomicWaker {
 public:
  static constexpr uint32_t REGISTERING = 1;
  static constexpr uint32_t WAKING = 2;
  static constexpr uint32_t HAS = 4;

  AtomicWaker() noexcept = default;
  AtomicWaker(const AtomicWaker&) = delete;
  AtomicWaker& operator=(const AtomicWaker&) = delete;
  ~AtomicWaker() {
    if (Wakeable* w = slot_.load(std::memory_order_relaxed)) w->vtable->drop(w);
  }

  // Stores `w` (a borrowed waker; cloned if kept). Callers re-check their condition after
  // this returns (the register-then-recheck pattern).
  void register_waker(Wakeable* w) noexcept {
    uint32_t s = state_.load(std::memory_order_seq_cst);
    if (s == HAS && slot_.load(std::memory_order_relaxed) == w) return;
    for (;;) {
      if (s & (WAKING | REGISTERING)) {
        // A wake is in progress: it will take (and wake) whatever is stored. Make sure the
        // caller is polled again instead of storing into a slot we do not own.
        w->vtable->wake_by_ref(w);
        return;
      }
      if (state_.compare_exchange_weak(s, s | REGISTERING, std::memory_order_seq_cst)) {
        break;
      }
    }
    Wakeable* old = slot_.load(std::memory_order_relaxed);
    if (old != w) {
      w->vtable->clone(w);
      slot_.store(w, std::memory_order_relaxed);
      if (old) old->vtable->drop(old);
    }
    uint32_t expected = s | REGISTERING;
    if (state_.compare_exchange_strong(expected, HAS, std::memory_order_seq_cst)) return;
    // A waker set WAKING while we registered; it left the wake to us.
    Wakeable* taken = slot_.exchange(nullptr, std::memory_order_relaxed);
    state_.store(0, std::memory_order_seq_cst);
    if (taken) taken->vtable->wake(taken);
  }

  // Wakes the stored waker, if any (and empties the slot).
  void wake() noexcept {
    uint32_t s = state_.load(std::memory_order_seq_cst);
    if (!(s & (HAS | REGISTERING))) return;
    wake_slow(true);
  }
  void wake_always() noexcept { wake_slow(true); }

  // For the registrant only (its waiting operation is being destroyed): drops the stored
  // waker instead of waking it, so a cancelled wait does not keep its task alive. A wake
  // in progress takes the waker first and wakes it (a spurious wake, harmless).
  void unregister() noexcept {
    if (!(state_.load(std::memory_order_seq_cst) & HAS)) return;
    wake_slow(false);
  }

 private:
  void wake_slow(bool wake) noexcept {
    uint32_t prev = state_.fetch_or(WAKING, std::memory_order_seq_cst);
    if (prev & (REGISTERING | WAKING)) return;  // the registrant or another waker handles it
    Wakeable* w = slot_.exchange(nullptr, std::memory_order_acquire);
    // Nobody else changes the word while WAKING is set (registrants back off, other
    // wakers only OR the bit in again). seq_cst: a waker that backed off because it saw
    // WAKING is ordered before this store, hence before the woken task's re-registration
    // and re-check, so its message is seen.
    state_.store(0, std::memory_order_seq_cst);
    if (w == nullptr) return;
    if (wake) {
      w->vtable->wake(w);
    } else {
      w->vtable->drop(w);
    }
  }

  Atomic<uint32_t> state_{0};
  Atomic<Wakeable*> slot_{nullptr};
};

}  // namespace tokio::detail
