#include "tokio/sync/barrier.hpp"

namespace tokio::sync {

Barrier::Wait::Wait(Wait&& o) noexcept
    : detail::Leaf<Wait>(o), b_(o.b_), st_(o.st_), leader_(o.leader_) {
  if (st_ == St::Waiting) {
    detail::move_waiter(b_->lock_, o.node_, node_, &Node::released, [](bool r) { return !r; });
  }
  o.st_ = St::Done;
}

Barrier::Wait::~Wait() {
  if (st_ != St::Waiting || node_.released.load(std::memory_order_acquire)) return;
  detail::WaitGuard g(b_->lock_);
  if (node_.released.load(std::memory_order_acquire)) return;
  node_.unlink();
  detail::drop_waker(detail::take_waker(node_.waker));
}

bool Barrier::Wait::poll(task::Context& cx) noexcept {
  detail::Wakeable* waker = cx.raw_waker();
  if (st_ == St::Done) return true;
  Barrier* b = b_;
  if (st_ == St::Waiting) {
    if (node_.released.load(std::memory_order_acquire)) {
      st_ = St::Done;
      return true;
    }
    if (node_.waker.load(std::memory_order_acquire) == waker) return false;
    detail::WaitGuard g(b->lock_);
    if (node_.released.load(std::memory_order_acquire)) {
      st_ = St::Done;
      return true;
    }
    detail::store_waker_locked(node_.waker, waker);
    return false;
  }
  // First poll: arrive.
  b->lock_.lock();
  if (++b->arrived_ < b->n_) {
    waker->vtable->clone(waker);
    node_.waker.store(waker, std::memory_order_relaxed);
    b->waiters_.push_back(&node_);
    st_ = St::Waiting;
    b->lock_.unlock();
    return false;
  }
  // Last arrival: release the generation and lead it.
  b->arrived_ = 0;
  detail::WaitList local;
  local.splice_back(b->waiters_);
  detail::WakeList wl;
  while (detail::WaitNode* n = local.front()) {
    if (!wl.can_push()) {
      b->lock_.unlock();
      wl.wake_all();
      b->lock_.lock();
      continue;
    }
    local.pop_front();
    auto* node = static_cast<Node*>(n);
    wl.push(detail::take_waker(node->waker));
    node->released.store(true, std::memory_order_release);
  }
  b->lock_.unlock();
  wl.wake_all();
  st_ = St::Done;
  leader_ = true;
  return true;
}

}  // namespace tokio::sync
