#include "tokio/io/detail/scheduled_io.hpp"

namespace tokio::detail {

void ScheduledIo::link(IoWaiter& w) noexcept {
  w.next = nullptr;
  w.prev = tail_;
  if (tail_) tail_->next = &w;
  else head_ = &w;
  tail_ = &w;
  w.linked.store(true, std::memory_order_relaxed);
}

void ScheduledIo::unlink(IoWaiter& w) noexcept {
  if (w.prev) w.prev->next = w.next;
  else head_ = w.next;
  if (w.next) w.next->prev = w.prev;
  else tail_ = w.prev;
  w.prev = w.next = nullptr;
}

bool ScheduledIo::poll_ready_slow(task::Context& cx, IoWaiter& w, uint32_t& snapshot) noexcept {
  Wakeable* old = nullptr;
  lock_.lock();
  // Re-check under the lock: the driver sets readiness before it takes the lock to wake,
  // so either we see the new readiness here or the driver sees our registration.
  snapshot = readiness_.load(std::memory_order_acquire);
  if (TOKIO_UNLIKELY(stale(w))) snapshot = kShutdown;  // never link into a reset entry
  if (is_ready(snapshot, w.mask)) {
    lock_.unlock();
    return true;
  }
  Wakeable* cur = cx.raw_waker();
  IoWaiter* owner = slot_owner_.load(std::memory_order_relaxed);
  if (w.linked.load(std::memory_order_relaxed)) {
    // Registered already (polled again, perhaps by another waker): swap the waker.
    Wakeable* held = owner == &w ? slot_waker_.load(std::memory_order_relaxed) : w.waker;
    if (held != cur) {
      old = held;
      cur->vtable->clone(cur);
      if (owner == &w) slot_waker_.store(cur, std::memory_order_relaxed);
      else w.waker = cur;
    }
  } else if (owner == nullptr) {
    cur->vtable->clone(cur);
    slot_waker_.store(cur, std::memory_order_relaxed);
    slot_mask_ = static_cast<uint8_t>(w.mask);
    slot_owner_.store(&w, std::memory_order_relaxed);
    w.linked.store(true, std::memory_order_relaxed);
  } else {
    cur->vtable->clone(cur);
    w.waker = cur;
    link(w);
  }
  lock_.unlock();
  if (old) old->vtable->drop(old);
  return false;
}

void ScheduledIo::remove_waiter_slow(IoWaiter& w) noexcept {
  Wakeable* waker = nullptr;
  lock_.lock();
  if (w.linked.load(std::memory_order_relaxed)) {
    if (slot_owner_.load(std::memory_order_relaxed) == &w) {
      waker = slot_waker_.exchange(nullptr, std::memory_order_relaxed);
      slot_owner_.store(nullptr, std::memory_order_relaxed);
    } else {
      unlink(w);
      waker = w.waker;
      w.waker = nullptr;
    }
    w.linked.store(false, std::memory_order_relaxed);  // the owner itself: no pairing
  }
  lock_.unlock();
  if (waker) waker->vtable->drop(waker);
}

void ScheduledIo::set_readiness(uint32_t ready) noexcept {
  uint32_t cur = readiness_.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t tick = ((cur & kTickMask) + kTickOne) & kTickMask;
    uint32_t next = (cur & (kShutdown | kReadyMask)) | ready | tick;
    if (readiness_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
      break;
    }
  }
  wake(ready);
}

void ScheduledIo::reset() noexcept {
  lock_.lock();
  uint32_t g = generation_.load(std::memory_order_relaxed) + 1;
  generation_.store(g == 0 ? 1 : g, std::memory_order_relaxed);
  sock_state.store(0, std::memory_order_relaxed);
  readiness_.store(0, std::memory_order_release);
  lock_.unlock();
}

void ScheduledIo::shutdown() noexcept {
  readiness_.fetch_or(kShutdown, std::memory_order_acq_rel);
  wake(kReadyMask);
}

void ScheduledIo::wake(uint32_t ready) noexcept {
  // Wakers are collected under the lock and woken outside it (a wake may schedule a task,
  // unpark a worker, take other locks); at most kBatch at a time.
  constexpr std::size_t kBatch = 32;
  Wakeable* batch[kBatch];
  for (;;) {
    std::size_t n = 0;
    bool more = false;
    lock_.lock();
    IoWaiter* owner = slot_owner_.load(std::memory_order_relaxed);
    if (owner && (slot_mask_ & ready)) {
      batch[n++] = slot_waker_.exchange(nullptr, std::memory_order_relaxed);
      slot_owner_.store(nullptr, std::memory_order_relaxed);
      // The driver's only touch of the slot waiter's node, and its last: one store, no
      // load (the turn prefetched the line). It tells the owner, in memory the owner
      // owns, that the registration is gone, so the owner never reads this entry again
      // for it: the entry may be released (deregistration) before the owner looks.
      // Release pairs with remove_waiter's acquire load of `linked`.
      owner->linked.store(false, std::memory_order_release);
    }
    IoWaiter* w = head_;
    while (w) {
      IoWaiter* next = w->next;
      if (w->mask & ready) {
        if (n == kBatch) {
          more = true;
          break;
        }
        unlink(*w);
        batch[n++] = w->waker;
        w->waker = nullptr;
        // Last touch of the node: its owner may complete (and free it) from here on.
        w->linked.store(false, std::memory_order_release);
      }
      w = next;
    }
    lock_.unlock();
    for (std::size_t i = 0; i < n; ++i) batch[i]->vtable->wake(batch[i]);
    if (!more) return;
  }
}

}  // namespace tokio::detail
