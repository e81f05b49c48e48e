#pragma once
// Building blocks shared by the synchronization primitives (internal):
//
// - WaitNode / WaitList: an intrusive, circular, doubly linked list with a sentinel.
//   Waiter nodes live inside the awaitables themselves (no allocation per wait). Because
//   the list is circular around a sentinel, a node can unlink itself without knowing which
//   list holds it: Notify::notify_waiters moves its waiters onto a list on its own stack
//   and wakes them in batches, and a waiter destroyed meanwhile still unlinks cleanly
//   under the same lock.
// - WakeList: up to 32 wakers collected under a lock and woken after it is released, so a
//   woken task never contends on the lock its waker is still holding.
// - WaitLock: the lock guarding waiter lists (short critical sections: link, unlink,
//   hand a permit over).
//
// Every list is guarded by its owner's WaitLock; a node's `prev`/`next` are only read or
// written under that lock.

#include <atomic>
#include <cstddef>
#include "tokio/core/detail/atomic.hpp"
#include "tokio/core/detail/mutex.hpp"

#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

using WaitLock = SpinLock;
using WaitGuard = LockGuard<WaitLock>;

struct WaitNode {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;

  bool linked() const noexcept { return next != nullptr; }
  // Unlinks this node from whatever list holds it (caller holds that list's lock).
  void unlink() noexcept {
    prev->next = next;
    next->prev = prev;
    prev = next = nullptr;
  }
};

class WaitList {
 public:
  WaitList() noexcept { head_.prev = head_.next = &head_; }
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  bool empty() const noexcept { return head_.next == &head_; }
  void push_back(WaitNode* n) noexcept {
    n->prev = head_.prev;
    n->next = &head_;
    head_.prev->next = n;
    head_.prev = n;
  }
  WaitNode* front() const noexcept { return empty() ? nullptr : head_.next; }
  WaitNode* back() const noexcept { return empty() ? nullptr : head_.prev; }
  WaitNode* pop_front() noexcept {
    if (empty()) return nullptr;
    WaitNode* n = head_.next;
    n->unlink();
    return n;
  }
  WaitNode* pop_back() noexcept {
    if (empty()) return nullptr;
    WaitNode* n = head_.prev;
    n->unlink();
    return n;
  }
  // Moves every node of `o` to the back of this list (O(1)).
  void splice_back(WaitList& o) noexcept {
    if (o.empty()) return;
    WaitNode* first = o.head_.next;
    WaitNode* last = o.head_.prev;
    first->prev = head_.prev;
    head_.prev->next = first;
    last->next = &head_;
    head_.prev = last;
    o.head_.prev = o.head_.next = &o.head_;
  }
  // Puts `n` where `old` is (a suspended awaitable moved to a new address).
  static void replace(WaitNode* old, WaitNode* n) noexcept {
    n->prev = old->prev;
    n->next = old->next;
    n->prev->next = n;
    n->next->prev = n;
    old->prev = old->next = nullptr;
  }

 private:
  WaitNode head_;
};

// Wakers gathered under a lock, woken once it is released. Each entry is an owned
// reference (consumed by wake()).
class WakeList {
 public:
  static constexpr std::size_t kCapacity = 32;

  WakeList() noexcept = default;
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;
  ~WakeList() { wake_all(); }

  bool can_push() const noexcept { return n_ < kCapacity; }
  void push(Wakeable* w) noexcept {
    if (w) items_[n_++] = w;
  }
  void wake_all() noexcept {
    std::size_t n = n_;
    n_ = 0;
    for (std::size_t i = 0; i < n; ++i) items_[i]->vtable->wake(items_[i]);
  }

 private:
  Wakeable* items_[kCapacity];
  std::size_t n_ = 0;
};

// With `lock` held: takes every node off `list` (a list detached from a waiter queue, whose
// nodes unlink themselves under `lock` when destroyed meanwhile), lets `take(node)` mark it
// served and return its waker, and wakes those in batches of WakeList::kCapacity with the
// lock released in between (a woken task never contends on the lock we hold). Returns with
// `lock` released.
template <class F>
void wake_all_and_unlock(WaitLock& lock, WaitList& list, F&& take) noexcept {
  WakeList wl;
  while (WaitNode* n = list.front()) {
    if (!wl.can_push()) {
      lock.unlock();
      wl.wake_all();
      lock.lock();
      continue;
    }
    list.pop_front();
    wl.push(take(n));
  }
  lock.unlock();
  wl.wake_all();
}

// Moves a waiting awaitable's registration from node `from` to node `to` (the awaitable
// moved to a new address while waiting), under `lock`: `to` takes `from`'s state word and
// waker, and its place in the queue while still_queued(state) says it was not dequeued yet.
template <class Node, class S, class StillQueued>
void move_waiter(WaitLock& lock, Node& from, Node& to, Atomic<S> Node::*state,
                 StillQueued&& still_queued) noexcept {
  WaitGuard g(lock);
  S s = (from.*state).load(std::memory_order_acquire);
  (to.*state).store(s, std::memory_order_relaxed);
  to.waker.store(from.waker.exchange(nullptr, std::memory_order_relaxed),
                 std::memory_order_relaxed);
  if (still_queued(s)) WaitList::replace(&from, &to);
}

// Replaces the waker stored in `slot` with `w` (cloned) unless it is already `w`; the
// previous one is dropped. `slot` is an atomic pointer that notifiers take with
// exchange(nullptr); the caller holds the lock that serializes replacements.
inline void store_waker_locked(Atomic<Wakeable*>& slot, Wakeable* w) noexcept {
  Wakeable* old = slot.load(std::memory_order_relaxed);
  if (old == w) return;
  if (w) w->vtable->clone(w);
  slot.store(w, std::memory_order_relaxed);
  if (old) old->vtable->drop(old);
}

// Takes the waker out of `slot` (the caller owns the returned reference).
inline Wakeable* take_waker(Atomic<Wakeable*>& slot) noexcept {
  return slot.exchange(nullptr, std::memory_order_acq_rel);
}

}  // namespace tokio::detail
