#include "tokio/sync/cancellation_token.hpp"

#include <vector>

#include "tokio/core/detail/mutex.hpp"

namespace tokio::detail {

struct CancelTree {
  Mutex m;
  std::atomic<std::size_t> refs{1};
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

CancelNode::~CancelNode() { tree->release(); }

CancelNode* CancelNode::new_root() { return new CancelNode(new CancelTree()); }

CancelNode* CancelNode::new_child(CancelNode* parent) {
  CancelTree* t = parent->tree;
  t->refs.fetch_add(1, std::memory_order_relaxed);
  auto* child = new CancelNode(t);
  LockGuard<Mutex> g(t->m);
  if (parent->cancelled.load(std::memory_order_relaxed)) {
    child->cancelled.store(true, std::memory_order_release);
  } else {
    child->parent = parent;
    parent->ref();
    parent->children.push_back(child);
  }
  return child;
}

void CancelNode::cancel() {
  std::vector<CancelNode*> todo;        // the subtree (each with a reference taken)
  std::vector<std::stop_source> stops;  // the subtree's stop_token() sources
  CancelNode* outer_parent = nullptr;   // our parent: loses its link reference to us
  {
    LockGuard<Mutex> g(tree->m);
    if (cancelled.load(std::memory_order_relaxed)) return;
    todo.push_back(this);
    ref();
    for (std::size_t i = 0; i < todo.size(); ++i) {
      CancelNode* n = todo[i];
      n->cancelled.store(true, std::memory_order_release);
      if (n->stop.stop_possible()) stops.push_back(n->stop);
      // Detach the children (each held a link reference on n; we keep it as the
      // reference `todo` needs, and give n's back below).
      while (WaitNode* c = n->children.pop_front()) {
        auto* child = static_cast<CancelNode*>(c);
        child->parent = nullptr;
        child->ref();
        todo.push_back(child);
        n->refs.fetch_sub(1, std::memory_order_relaxed);  // n stays alive: todo holds it
      }
    }
    if (parent) {
      unlink();
      outer_parent = std::exchange(parent, nullptr);
    }
  }
  for (CancelNode* n : todo) n->notify.notify_waiters();
  for (auto& st : stops) st.request_stop();
  for (CancelNode* n : todo) n->release();
  if (outer_parent) outer_parent->release();
}

void CancelNode::drop_handle() noexcept {
  if (handles.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Last handle: hand our children to our parent (or make them roots) and unlink.
  std::size_t moved = 0;
  CancelNode* old_parent = nullptr;
  {
    LockGuard<Mutex> g(tree->m);
    while (WaitNode* c = children.pop_front()) {
      auto* child = static_cast<CancelNode*>(c);
      child->parent = parent;
      if (parent) {
        parent->ref();
        parent->children.push_back(child);
      }
      ++moved;
    }
    if (parent) {
      unlink();
      old_parent = std::exchange(parent, nullptr);
    }
  }
  if (old_parent) old_parent->release();
  // The children's link references on us, then the handles' own reference.
  if (moved) refs.fetch_sub(moved, std::memory_order_acq_rel);
  release();
}

}  // namespace tokio::detail

namespace tokio::sync {

Task<> CancellationToken::cancelled_owned() const {
  return [](CancellationToken t) -> Task<> { co_await t.cancelled(); }(*this);
}

}  // namespace tokio::sync

namespace tokio::sync {

std::stop_token CancellationToken::stop_token() const {
  std::stop_source src(std::nostopstate);
  {
    detail::LockGuard<detail::Mutex> g(n_->tree->m);
    if (!n_->stop.stop_possible()) n_->stop = std::stop_source();
    src = n_->stop;
  }
  // Cancelled before the source existed: cancel() saw no source, so request the stop here
  // (the flag is set under the tree's lock, so one of the two always sees the other).
  if (is_cancelled()) src.request_stop();
  return src.get_token();
}

}  // namespace tokio::sync
