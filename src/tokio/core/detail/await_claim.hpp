#pragma once
// AwaitClaim: one await at a time on an object whose leaf keeps a single waker (a Sleep's
// timer entry, a oneshot receiver's rx waker, an Interval, a JoinHandle's join waker). Rust's `&mut self` makes a
// second concurrent await unwritable; here it compiles, and the second waker would replace
// the first, which would then never wake. So the object carries a `bool` flag and each
// awaiter holds an AwaitClaim on it while it lives: a second one made while the first
// lives throws std::logic_error saying so (two tasks awaiting the object, or a join or
// select naming it twice).
//
// (mpsc receivers check differently: a recv claims the channel only while it is pending,
// sync/mpsc_receiver.hpp.)
//
// The flag is read and written through a relaxed std::atomic_ref<bool>: two threads may
// make awaiters on one object at once (that is the misuse being reported), so the accesses
// must not be a data race; nothing else is published through it. The check is best effort
// (two claims racing on two cores can both pass, as the misuse would have before), and
// costs two relaxed stores and a load per await.

#include <atomic>
#include <utility>

#include "tokio/core/config.hpp"

namespace tokio::detail {

[[noreturn]] void throw_second_await(const char* what);

// The object's flag: set while an awaiter holds a claim. A copy or an assignment of the
// object does not copy it (the copy has no awaiter).
struct AwaitFlag {
  bool busy = false;
  AwaitFlag() noexcept = default;
  AwaitFlag(const AwaitFlag&) noexcept {}
  AwaitFlag& operator=(const AwaitFlag&) noexcept { return *this; }
};

// The flag's two steps, for AwaitClaim and for an awaiter that keeps its claim some other
// way (sync::Notified's, which has no room for a pointer): claim (throws when it is taken)
// and release.
inline void claim_await_flag(bool& busy, const char* what) {
  std::atomic_ref<bool> b(busy);
  if (b.load(std::memory_order_relaxed)) throw_second_await(what);
  b.store(true, std::memory_order_relaxed);
}
inline void release_await_flag(bool& busy) noexcept {
  std::atomic_ref<bool>(busy).store(false, std::memory_order_relaxed);
}

class AwaitClaim {
 public:
  AwaitClaim() noexcept = default;  // no claim yet (see take)
  // Claims at once; `what` names the object in the error ("a time::Sleep").
  AwaitClaim(AwaitFlag& flag, const char* what) { take(flag, what); }
  // Claims now unless this already holds `flag`'s claim (a leaf that is its own future,
  // such as an Interval's Tick, claims when first awaited, and may be awaited again).
  void take(AwaitFlag& flag, const char* what) {
    if (flag_ == &flag.busy) return;
    release();
    claim_await_flag(flag.busy, what);
    flag_ = &flag.busy;
  }
  // The claim moves with the awaiter (an await's temporary moved into place); a copy holds
  // none (a future copied before it is awaited).
  AwaitClaim(AwaitClaim&& o) noexcept : flag_(detail::exchange(o.flag_, nullptr)) {}
  AwaitClaim(const AwaitClaim&) noexcept {}
  AwaitClaim& operator=(AwaitClaim&& o) noexcept {
    if (this != &o) {
      release();
      flag_ = detail::exchange(o.flag_, nullptr);
    }
    return *this;
  }
  AwaitClaim& operator=(const AwaitClaim& o) noexcept {
    if (this != &o) release();
    return *this;
  }
  ~AwaitClaim() { release(); }

 private:
  void release() noexcept {
    if (flag_) release_await_flag(*detail::exchange(flag_, nullptr));
  }

  bool* flag_ = nullptr;
};

}  // namespace tokio::detail
