#pragma once
// sync::CancellationToken (tokio-util's): a cancellation signal shared by tasks, arranged
// in a tree. Cancelling a token cancels every token derived from it with child_token();
// cancelling a child does not affect its parent.
//
//   tokio::sync::CancellationToken token;
//   auto child = token.child_token();
//   tokio::spawn([](auto t) -> tokio::Task<> {
//     co_await tokio::select(t.cancelled(), work());   // stops when cancelled
//   }, child);
//   token.cancel();
//
// Copying a token clones it (same signal). cancelled() and cancelled_owned() both hold
// their own reference, so neither needs the token to outlive the await (cancelled_owned()
// exists for Tokio parity; it is a Task, and so allocates a frame). drop_guard() cancels when the guard
// is destroyed, unless disarm()ed.
//
// Cancel safety: cancelled() and cancelled_owned() are cancel-safe (a destroyed one leaves no
// waiter behind).
//
// Structure: each token is a node; all nodes of a tree share one mutex (CancelTree) that
// guards parent/children links. A node's `refs` counts 1 while any handle exists plus 1
// per linked child (children point at their parent) plus temporary references taken by
// cancel(). When the last handle of a node goes away its children are moved up to its
// parent, so short-lived children of a long-lived token leave nothing behind.

#include <atomic>
#include <cstddef>

#include <optional>
#include <stop_token>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/sync/detail/wait_list.hpp"
#include "tokio/core/combinators.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

// The tree's mutex and reference count (defined in cancellation_token.cpp).
struct CancelTree;

struct CancelNode : WaitNode {  // WaitNode: the link in the parent's `children`
  explicit CancelNode(CancelTree* t) noexcept : tree(t) {}
  ~CancelNode();

  std::atomic<std::size_t> handles{1};
  std::atomic<std::size_t> refs{1};
  CancelTree* tree;
  CancelNode* parent = nullptr;  // guarded by tree->m
  WaitList children;             // guarded by tree->m
  std::atomic<bool> cancelled{false};
  sync::Notify notify;
  // The std::stop_source behind CancellationToken::stop_token(), made on first request;
  // guarded by tree->m. cancel() requests a stop on it (outside the lock: the stop
  // callbacks run synchronously).
  std::stop_source stop{std::nostopstate};

  static CancelNode* new_root();
  static CancelNode* new_child(CancelNode* parent);
  void ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void cancel();
  void drop_handle() noexcept;
};

}  // namespace tokio::detail

namespace tokio::sync {

class CancellationToken;

// Cancels its token when destroyed, unless disarmed.
class [[nodiscard]] DropGuard {
 public:
  explicit DropGuard(detail::CancelNode* n) noexcept : n_(n) {}  // adopts a handle
  DropGuard(DropGuard&& o) noexcept : n_(detail::exchange(o.n_, nullptr)) {}
  DropGuard& operator=(DropGuard&&) = delete;
  ~DropGuard() {
    if (detail::CancelNode* n = detail::exchange(n_, nullptr)) {
      n->cancel();
      n->drop_handle();
    }
  }
  // Gives the token back without cancelling it.
  CancellationToken disarm() noexcept;

 private:
  detail::CancelNode* n_;
};

class CancellationToken {
 public:
  CancellationToken() : n_(detail::CancelNode::new_root()) {}
  CancellationToken(const CancellationToken& o) noexcept : n_(o.n_) {
    n_->handles.fetch_add(1, std::memory_order_relaxed);
  }
  CancellationToken(CancellationToken&& o) noexcept : n_(o.n_) {
    // A moved-from token stays usable: it keeps its own handle on the same node.
    n_->handles.fetch_add(1, std::memory_order_relaxed);
  }
  CancellationToken& operator=(CancellationToken o) noexcept {
    detail::swap_values(n_, o.n_);
    return *this;
  }
  ~CancellationToken() { n_->drop_handle(); }
  // Rust's clone(): the same as a copy (another handle on the same token).
  CancellationToken clone() const noexcept { return *this; }

  // A token cancelled whenever this one is (immediately, if it already is).
  CancellationToken child_token() const {
    return CancellationToken(detail::CancelNode::new_child(n_));
  }
  // Cancels this token and all its descendants; wakes every cancelled() waiter.
  void cancel() const { n_->cancel(); }
  bool is_cancelled() const noexcept { return n_->cancelled.load(std::memory_order_acquire); }

  // The future of cancelled(). It holds a handle on the token's node (like a clone), so
  // it may outlive the token it came from: `auto f = tok.child_token().cancelled();`
  // still completes when `tok` is cancelled.
  class TOKIO_MUST_AWAIT Cancelled : public detail::Leaf<Cancelled> {
    // The handle, as a member declared before nt_: it is released after nt_ (which lives
    // in the node) has been destroyed.
    struct Handle {
      detail::CancelNode* n;
      explicit Handle(detail::CancelNode* node) noexcept : n(node) {
        n->handles.fetch_add(1, std::memory_order_relaxed);
      }
      Handle(Handle&& o) noexcept : n(detail::exchange(o.n, nullptr)) {}
      Handle& operator=(Handle&&) = delete;
      ~Handle() {
        if (n) n->drop_handle();
      }
    };

   public:
    explicit Cancelled(detail::CancelNode* n) noexcept : h_(n), nt_(n->notify.notified()) {}
    Cancelled(Cancelled&& o) noexcept
        : detail::Leaf<Cancelled>(o), h_(std::move(o.h_)), nt_(std::move(o.nt_)) {}
    // A copy (made before the first poll) requests its own notification.
    Cancelled(const Cancelled& o) noexcept
        : detail::Leaf<Cancelled>(o), h_(o.h_.n), nt_(o.h_.n->notify.notified()) {}
    bool poll(task::Context& cx) noexcept {
      if (h_.n->cancelled.load(std::memory_order_acquire)) return true;
      return nt_.poll(cx);  // only cancel() notifies, after setting the flag
    }
    // poll without joining the Notify's queue (Leaf's try_poll).
    bool try_poll() noexcept {
      return h_.n->cancelled.load(std::memory_order_acquire) || nt_.try_poll();
    }
    void await_resume() const noexcept {}

   private:
    Handle h_;
    Notified nt_;
  };
  // Completes once the token is cancelled. Cancel-safe. Costs one reference-count
  // increment and decrement on the token (no allocation).
  Cancelled cancelled() const noexcept { return Cancelled(n_); }
  // Like cancelled(), holding its own clone of the token.
  Task<> cancelled_owned() const;

  // Runs `fut` until it finishes (its value) or the token is cancelled (nullopt; `fut` is
  // then destroyed).
  template <class A>
  auto run_until_cancelled(A&& fut) const
      -> Task<std::optional<detail::void_to_monostate_t<detail::task_value_t<A>>>> {
    return run_until_cancelled_impl(*this, detail::to_task(std::forward<A>(fut)));
  }

  // A guard that cancels this token when destroyed.
  DropGuard drop_guard() const noexcept {
    n_->handles.fetch_add(1, std::memory_order_relaxed);
    return DropGuard(n_);
  }

  bool same_token(const CancellationToken& o) const noexcept { return n_ == o.n_; }

  // A std::stop_token whose stop is requested when this token is cancelled (at once if it
  // already is), for std::jthread workers, std::condition_variable_any waits and other
  // stop_token-aware code. The other direction is cancel_on_stop() below.
  std::stop_token stop_token() const;

 private:
  friend class DropGuard;
  explicit CancellationToken(detail::CancelNode* n) noexcept : n_(n) {}  // adopts a handle

  template <class T>
  static Task<std::optional<detail::void_to_monostate_t<T>>> run_until_cancelled_impl(
      CancellationToken t, Task<T> fut) {
    auto r = co_await select_biased(t.cancelled(), std::move(fut));
    if (r.index() == 0) co_return std::nullopt;
    co_return std::move(std::get<1>(r));
  }

  detail::CancelNode* n_;
};

inline CancellationToken DropGuard::disarm() noexcept {
  return CancellationToken(detail::exchange(n_, nullptr));
}

}  // namespace tokio::sync

namespace tokio::detail {
struct CancelOnStop {
  sync::CancellationToken token;
  void operator()() const { token.cancel(); }
};
}  // namespace tokio::detail

namespace tokio::sync {

// Cancels `token` when a stop is requested on `st` (at once if it already was), for as long
// as the returned std::stop_callback lives (it holds a clone of the token):
//     std::jthread worker([&](std::stop_token st) {
//       auto link = tokio::sync::cancel_on_stop(st, token);
//       rt.block_on(serve(token));              // returns once the jthread is asked to stop
//     });
[[nodiscard]] inline std::stop_callback<detail::CancelOnStop> cancel_on_stop(
    std::stop_token st, CancellationToken token) {
  return std::stop_callback<detail::CancelOnStop>(std::move(st),
                                                  detail::CancelOnStop{std::move(token)});
}

}  // namespace tokio::sync
