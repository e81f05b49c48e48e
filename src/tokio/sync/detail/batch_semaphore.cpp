#include "tokio/sync/detail/batch_semaphore.hpp"

#include <stdexcept>
#include <string>

namespace tokio::detail {

BatchSemaphore::BatchSemaphore(std::size_t permits) : permits_(0) {
  if (permits > MAX_PERMITS) {
    throw std::invalid_argument("tokio::sync: a semaphore cannot hold more than " +
                                std::to_string(MAX_PERMITS) + " permits (asked for " +
                                std::to_string(permits) + ")");
  }
  permits_.store(permits << SHIFT, std::memory_order_relaxed);
}

void BatchSemaphore::add_permits_checked(std::size_t n) {
  if (n == 0) return;
  std::size_t cur = permits_.load(std::memory_order_acquire);
  for (;;) {
    std::size_t avail = cur >> SHIFT;
    if (n > MAX_PERMITS || avail > MAX_PERMITS - n) {
      throw std::invalid_argument(
          "tokio::sync::Semaphore::add_permits: the number of permits would exceed "
          "Semaphore::MAX_PERMITS");
    }
    if (cur & HAS_WAITERS) break;  // available is 0: the waiters take them, no overflow
    if (permits_.compare_exchange_weak(cur, cur + (n << SHIFT), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return;
    }
  }
  release_slow(n);
}

std::size_t BatchSemaphore::forget_permits(std::size_t n) noexcept {
  std::size_t cur = permits_.load(std::memory_order_acquire);
  for (;;) {
    std::size_t take = (cur >> SHIFT) < n ? (cur >> SHIFT) : n;
    if (take == 0) return 0;
    if (permits_.compare_exchange_weak(cur, cur - (take << SHIFT), std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      return take;
    }
  }
}

BatchSemaphore::PollResult BatchSemaphore::enqueue(Waiter& w, std::size_t n, bool& queued,
                                                   Wakeable* waker) noexcept {
  WaitGuard g(lock_);
  std::size_t cur = permits_.load(std::memory_order_acquire);
  std::size_t need;
  for (;;) {
    if (cur & CLOSED) return PollResult::Closed;
    std::size_t avail = cur >> SHIFT;
    if (avail >= n) {
      if (permits_.compare_exchange_weak(cur, cur - (n << SHIFT), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return PollResult::Ready;
      }
      continue;
    }
    // Take what is there and queue for the rest.
    if (permits_.compare_exchange_weak(cur, (cur & CLOSED) | HAS_WAITERS, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      need = n - avail;
      break;
    }
  }
  w.state.store(need, std::memory_order_relaxed);
  if (waker) waker->vtable->clone(waker);
  w.waker.store(waker, std::memory_order_relaxed);
  waiters_.push_back(&w);
  queued = true;
  return PollResult::Pending;
}

BatchSemaphore::PollResult BatchSemaphore::update_waker(Waiter& w, bool& queued,
                                                        Wakeable* waker) noexcept {
  WaitGuard g(lock_);
  std::size_t s = w.state.load(std::memory_order_acquire);
  if (s == 0) {
    queued = false;
    return PollResult::Ready;
  }
  if (s & WAITER_CLOSED) return PollResult::Closed;
  store_waker_locked(w.waker, waker);
  return PollResult::Pending;
}

std::size_t BatchSemaphore::distribute_locked(std::size_t n, WakeList& wl) noexcept {
  while (n > 0) {
    WaitNode* f = waiters_.front();
    if (!f) break;
    auto* w = static_cast<Waiter*>(f);
    std::size_t need = w->state.load(std::memory_order_relaxed);
    if (need > n) {
      w->state.store(need - n, std::memory_order_relaxed);
      return 0;
    }
    if (!wl.can_push()) return n;
    n -= need;
    waiters_.pop_front();
    wl.push(take_waker(w->waker));
    w->state.store(0, std::memory_order_release);  // the owner may free `w` from here on
  }
  if (waiters_.empty()) {
    // Back to the no-waiter state; the leftovers become available.
    std::size_t cur = permits_.load(std::memory_order_acquire);
    while (!permits_.compare_exchange_weak(cur, (cur & ~HAS_WAITERS) + (n << SHIFT),
                                           std::memory_order_acq_rel, std::memory_order_acquire)) {
    }
  }
  return 0;
}

void BatchSemaphore::distribute_and_unlock(std::size_t n) noexcept {
  WakeList wl;
  while ((n = distribute_locked(n, wl)) > 0) {
    lock_.unlock();
    wl.wake_all();
    lock_.lock();
  }
  lock_.unlock();
  wl.wake_all();
}

void BatchSemaphore::release_slow(std::size_t n) noexcept {
  lock_.lock();
  distribute_and_unlock(n);
}

void BatchSemaphore::cancel_acquire(Waiter& w, std::size_t n, bool& queued) noexcept {
  if (!queued) return;
  queued = false;
  std::size_t s = w.state.load(std::memory_order_acquire);
  if (s == 0) {  // served in full, never consumed: pass everything on
    release(n);
    return;
  }
  std::size_t got;
  lock_.lock();
  s = w.state.load(std::memory_order_acquire);
  if (s == 0) {
    lock_.unlock();
    release(n);
    return;
  }
  if (s & WAITER_CLOSED) {
    // close() dequeued us and took the waker.
    lock_.unlock();
    got = n - (s & ~WAITER_CLOSED);
    release(got);
    return;
  }
  w.unlink();
  drop_waker(take_waker(w.waker));
  got = n - s;
  // Even with nothing to pass on, this clears HAS_WAITERS if we were the last waiter.
  distribute_and_unlock(got);
}

void BatchSemaphore::close() noexcept {
  // Nobody queued: setting the bit is enough (an enqueue after this sees CLOSED in its CAS).
  if (!(permits_.fetch_or(CLOSED, std::memory_order_acq_rel) & HAS_WAITERS)) return;
  WaitList closing;
  lock_.lock();
  permits_.fetch_or(CLOSED, std::memory_order_acq_rel);
  permits_.fetch_and(~HAS_WAITERS, std::memory_order_acq_rel);
  closing.splice_back(waiters_);
  wake_all_and_unlock(lock_, closing, [](WaitNode* f) noexcept {
    auto* w = static_cast<Waiter*>(f);
    Wakeable* k = take_waker(w->waker);
    std::size_t s = w->state.load(std::memory_order_relaxed);
    w->state.store(s | WAITER_CLOSED, std::memory_order_release);  // the owner may free `w` now
    return k;
  });
}

}  // namespace tokio::detail
