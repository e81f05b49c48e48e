#pragma once
// Waker: a reference-counted handle that reschedules whatever is waiting on a resource.
//
// Most wakers point at a spawned task's header; the block_on thread, JoinSet entries and
// plain threads blocked in blocking_* calls provide their own Wakeable. The vtable is a
// plain struct of function pointers (no virtual inheritance) so a TaskHeader can place
// its Wakeable at offset 0 and stay standard-layout.

#include <utility>

#include "tokio/core/config.hpp"

namespace tokio::detail {

struct Wakeable;

struct WakeableVTable {
  void (*wake)(Wakeable*) noexcept;         // wake and release one reference
  void (*wake_by_ref)(Wakeable*) noexcept;  // wake, keep the reference
  void (*clone)(Wakeable*) noexcept;        // add a reference
  void (*drop)(Wakeable*) noexcept;         // release a reference
};

struct Wakeable {
  const WakeableVTable* vtable;
};

// Releases a waker reference taken out of a slot (null: nothing to do).
inline void drop_waker(Wakeable* w) noexcept {
  if (w) w->vtable->drop(w);
}
// Wakes and releases a waker reference taken out of a slot (null: nothing to do).
inline void wake_waker(Wakeable* w) noexcept {
  if (w) w->vtable->wake(w);
}

}  // namespace tokio::detail

namespace tokio::task {

class Waker {
 public:
  Waker() noexcept = default;
  // Takes over a reference the caller already holds.
  static Waker adopt(detail::Wakeable* w) noexcept { return Waker(w); }
  // Adds a reference to w.
  static Waker clone_of(detail::Wakeable* w) noexcept {
    if (w) w->vtable->clone(w);
    return Waker(w);
  }

  Waker(const Waker& o) noexcept : w_(o.w_) {
    if (w_) w_->vtable->clone(w_);
  }
  Waker(Waker&& o) noexcept : w_(detail::exchange(o.w_, nullptr)) {}
  Waker& operator=(const Waker& o) noexcept {
    if (w_ != o.w_) {
      Waker tmp(o);
      detail::swap_values(w_, tmp.w_);
    }
    return *this;
  }
  Waker& operator=(Waker&& o) noexcept {
    if (this != &o) {
      reset();
      w_ = detail::exchange(o.w_, nullptr);
    }
    return *this;
  }
  ~Waker() { reset(); }

  void wake() && noexcept {
    if (auto* w = detail::exchange(w_, nullptr)) w->vtable->wake(w);
  }
  void wake() & noexcept { std::move(*this).wake(); }
  void wake_by_ref() const noexcept {
    if (w_) w_->vtable->wake_by_ref(w_);
  }
  bool will_wake(const Waker& o) const noexcept { return w_ == o.w_; }
  bool will_wake(const detail::Wakeable* o) const noexcept { return w_ == o; }
  explicit operator bool() const noexcept { return w_ != nullptr; }
  void reset() noexcept {
    if (auto* w = detail::exchange(w_, nullptr)) w->vtable->drop(w);
  }
  detail::Wakeable* raw() const noexcept { return w_; }
  detail::Wakeable* release() noexcept { return detail::exchange(w_, nullptr); }

 private:
  explicit Waker(detail::Wakeable* w) noexcept : w_(w) {}
  detail::Wakeable* w_ = nullptr;
};

}  // namespace tokio::task
