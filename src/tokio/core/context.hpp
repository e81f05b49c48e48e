#pragma once
// task::Context: what every poll receives, Rust's std::task::Context. It lends the waker of
// the task being polled; a resource that cannot complete now clones it (waker()) and wakes
// it when it can.

#include "tokio/core/waker.hpp"

namespace tokio::task {

class Context {
 public:
  explicit Context(detail::Wakeable* w) noexcept : w_(w) {}
  // A new reference to the current task's waker.
  Waker waker() const noexcept { return Waker::clone_of(w_); }
  // The current task's wakeable, borrowed for the duration of the poll.
  detail::Wakeable* raw_waker() const noexcept { return w_; }
  bool will_wake(const Waker& w) const noexcept { return w.raw() == w_; }
  void wake_by_ref() const noexcept {
    if (w_) w_->vtable->wake_by_ref(w_);
  }

 private:
  detail::Wakeable* w_;
};

}  // namespace tokio::task
