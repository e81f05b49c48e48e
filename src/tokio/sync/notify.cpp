#include "tokio/sync/notify.hpp"

namespace tokio::sync {

using detail::Wakeable;

namespace sync_notify_impl {
constexpr std::size_t state_of(std::size_t s) noexcept { return s & Notify::STATE_MASK; }
constexpr std::size_t with_state(std::size_t s, std::size_t st) noexcept {
  return (s & ~Notify::STATE_MASK) | st;
}
}  // namespace sync_notify_impl

// --- Notify ------------------------------------------------------------------------------

void Notify::notify(uint8_t strategy) noexcept {
  std::size_t s = state_.load(std::memory_order_seq_cst);
  for (;;) {
    if (sync_notify_impl::state_of(s) != WAITING) {
      // Store the permit (a permit already stored absorbs this one). The CAS, even when
      // the value does not change, detects a concurrent consumer of the stored permit.
      if (state_.compare_exchange_weak(s, sync_notify_impl::with_state(s, NOTIFIED),
                                       std::memory_order_seq_cst)) {
        return;
      }
      continue;
    }
    lock_.lock();
    Wakeable* w = notify_locked(strategy);
    lock_.unlock();
    if (w) w->vtable->wake(w);
    return;
  }
}

Wakeable* Notify::notify_locked(uint8_t strategy) noexcept {
  std::size_t s = state_.load(std::memory_order_seq_cst);
  for (;;) {
    if (sync_notify_impl::state_of(s) != WAITING) {
      if (state_.compare_exchange_weak(s, sync_notify_impl::with_state(s, NOTIFIED),
                                       std::memory_order_seq_cst)) {
        return nullptr;
      }
      continue;
    }
    detail::WaitNode* n = strategy == Notified::LAST ? waiters_.pop_back() : waiters_.pop_front();
    auto* node = static_cast<Notified::Node*>(n);
    Wakeable* w = detail::take_waker(node->waker);
    node->notification.store(strategy, std::memory_order_release);  // node may go away now
    // While WAITING no lock-free transition applies, so a plain store is safe.
    if (waiters_.empty())
      state_.store(sync_notify_impl::with_state(s, EMPTY), std::memory_order_seq_cst);
    return w;
  }
}

void Notify::notify_waiters() noexcept {
  // Nobody queued: only the call count moves (a stored permit stays), without the lock. A
  // Notified queueing concurrently changes the state under the lock with a CAS, so one of
  // the two CASes fails and sees the other.
  std::size_t s = state_.load(std::memory_order_seq_cst);
  while (sync_notify_impl::state_of(s) != WAITING) {
    if (state_.compare_exchange_weak(s, s + (std::size_t{1} << CALLS_SHIFT),
                                     std::memory_order_seq_cst)) {
      return;
    }
  }
  lock_.lock();
  s = state_.load(std::memory_order_seq_cst);
  if (sync_notify_impl::state_of(s) != WAITING) {
    // Nobody queued: only the call count moves (a stored permit stays).
    state_.fetch_add(std::size_t{1} << CALLS_SHIFT, std::memory_order_seq_cst);
    lock_.unlock();
    return;
  }
  // Take the whole queue, so tasks that start waiting while we wake are not included.
  detail::WaitList local;
  local.splice_back(waiters_);
  state_.store(sync_notify_impl::with_state(s + (std::size_t{1} << CALLS_SHIFT), EMPTY),
               std::memory_order_seq_cst);
  // A Notified destroyed while the lock is released for a batch unlinks itself from
  // `local` (the list is circular, so it needs no list head).
  detail::wake_all_and_unlock(lock_, local, [](detail::WaitNode* n) noexcept {
    auto* node = static_cast<Notified::Node*>(n);
    detail::Wakeable* k = detail::take_waker(node->waker);
    node->notification.store(Notified::ALL, std::memory_order_release);
    return k;
  });
}

// --- Notified ----------------------------------------------------------------------------

// The state byte and the count snapshot live in the node's padding (notify.hpp).
static_assert(sizeof(void*) != 8 || sizeof(Notified) == 40);

// A queued Notified moved to a new address: put the new node in its place.
void Notified::move_queued(Notified& from) noexcept {
  detail::move_waiter(n_->lock_, from.node_, node_, &Node::notification,
                      [](uint8_t note) { return note == NONE; });
}

void Notified::reset() noexcept {
  release();
  node_.calls = calls_of(n_->state_.load(std::memory_order_seq_cst));
  node_.notification.store(NONE, std::memory_order_relaxed);
  node_.st = St::Init;
}

void Notified::release() noexcept {
  if (node_.st != St::Waiting) return;
  node_.st = St::Done;
  Notify* n = n_;
  uint8_t note = node_.notification.load(std::memory_order_acquire);
  if (note == ALL) return;  // notify_waiters() already unlinked us; nothing to pass on
  n->lock_.lock();
  if (note == NONE) note = node_.notification.load(std::memory_order_acquire);
  if (note == NONE) {
    node_.unlink();
    detail::drop_waker(detail::take_waker(node_.waker));
    std::size_t s = n->state_.load(std::memory_order_seq_cst);
    if (n->waiters_.empty() && sync_notify_impl::state_of(s) == Notify::WAITING) {
      n->state_.store(sync_notify_impl::with_state(s, Notify::EMPTY), std::memory_order_seq_cst);
    }
    n->lock_.unlock();
    return;
  }
  Wakeable* w = nullptr;
  // A notify_one/notify_last permit we never consumed: pass it on.
  if (note == ONE || note == LAST) w = n->notify_locked(note);
  n->lock_.unlock();
  if (w) w->vtable->wake(w);
}

bool Notified::poll_with(Wakeable* waker) noexcept {
  switch (node_.st) {
    case St::Done: return true;
    case St::Init: return poll_init(waker);
    case St::Waiting: break;
  }
  if (node_.notification.load(std::memory_order_acquire) != NONE) {
    node_.st = St::Done;
    return true;
  }
  if (waker == nullptr || node_.waker.load(std::memory_order_acquire) == waker) return false;
  detail::WaitGuard g(n_->lock_);
  if (node_.notification.load(std::memory_order_acquire) != NONE) {
    node_.st = St::Done;
    return true;
  }
  detail::store_waker_locked(node_.waker, waker);
  return false;
}

bool Notified::try_poll() noexcept {
  switch (node_.st) {
    case St::Done: return true;
    case St::Waiting: return poll_with(nullptr);
    case St::Init: break;
  }
  std::atomic<std::size_t>& state = n_->state_;
  std::size_t s = state.load(std::memory_order_seq_cst);
  // A notify_waiters() since creation, or a stored permit (taken).
  for (;;) {
    if (calls_of(s) != node_.calls) {
      node_.st = St::Done;
      return true;
    }
    if (sync_notify_impl::state_of(s) != Notify::NOTIFIED) return false;
    if (state.compare_exchange_weak(s, sync_notify_impl::with_state(s, Notify::EMPTY),
                                    std::memory_order_seq_cst)) {
      node_.st = St::Done;
      return true;
    }
  }
}

bool Notified::poll_init(Wakeable* waker) noexcept {
  if (try_poll()) return true;  // the fast path: no lock, nothing queued
  std::atomic<std::size_t>& state = n_->state_;
  detail::WaitGuard g(n_->lock_);
  std::size_t s = state.load(std::memory_order_seq_cst);
  for (;;) {
    if (calls_of(s) != node_.calls) {
      node_.st = St::Done;
      return true;
    }
    std::size_t st = sync_notify_impl::state_of(s);
    if (st == Notify::NOTIFIED) {
      if (state.compare_exchange_weak(s, sync_notify_impl::with_state(s, Notify::EMPTY),
                                      std::memory_order_seq_cst)) {
        node_.st = St::Done;
        return true;
      }
      continue;
    }
    if (st == Notify::EMPTY) {
      if (!state.compare_exchange_weak(s, sync_notify_impl::with_state(s, Notify::WAITING),
                                       std::memory_order_seq_cst)) {
        continue;
      }
    }
    break;
  }
  if (waker) waker->vtable->clone(waker);
  node_.waker.store(waker, std::memory_order_relaxed);
  n_->waiters_.push_back(&node_);
  node_.st = St::Waiting;
  return false;
}

}  // namespace tokio::sync
