#pragma once
// ExclusiveUse: one pending operation at a time on an object whose operations keep a view
// of its own buffer between polls (BufReader, BufWriter, a Framed sink). Rust's `&mut self`
// makes a second one impossible to write; in C++ `join(w.write_all(a), w.flush())` compiles,
// and the second operation would move or refill the bytes under the first one's write or
// read in flight (wrong bytes sent, buffered bytes lost). An operation claims the object at
// each poll and lets go when it completes or is destroyed; a different operation polled in
// between throws std::logic_error naming the object, which the awaiting code receives.
//
// ExclusiveUse is not synchronized: such an object is used from one task at a time anyway
// (its operations are not thread-safe); a claim costs a load and a store per poll.
// BasicExclusiveUse<true> is the synchronized form, for an object whose operations may be
// polled on two threads at once (signal::unix::Signal's recv, whose poll cannot throw and
// reports a refused claim itself): a compare-exchange per poll.

#include <atomic>
#include <type_traits>

namespace tokio::detail {

[[noreturn]] void throw_concurrent_use(const char* what);
// An operation on an object left empty by a move ("io::BufWriter used after ...").
[[noreturn]] void throw_moved_from(const char* what);
// A stream moved while a next() on it waits (see check_no_pending_next).
[[noreturn]] void throw_moved_while_pending(const char* what);
// The same, from a move that must not throw (abort_if_pending_next): says so on stderr and
// aborts.
[[noreturn]] void abort_moved_while_pending(const char* what) noexcept;
// A second next() on one stream while another waits (stream::PollStream::Next).
[[noreturn]] void throw_concurrent_next(const char* what);

// kAcrossThreads: the object's operations may be polled on different threads at once (a
// signal::unix::Signal awaited on two runtimes), so the claim is a compare-exchange whose
// acquire pairs with the previous holder's release: the next holder sees the object's
// state as the last one left it. Without it (the default), a claim is a plain load and
// store, for objects used from one task at a time.
template <bool kAcrossThreads>
class BasicExclusiveUse {
 public:
  BasicExclusiveUse() noexcept = default;
  // A moved object has no pending operation (moving one with an operation pending is
  // already an error: the operation points at the old object).
  BasicExclusiveUse(BasicExclusiveUse&&) noexcept {}
  BasicExclusiveUse& operator=(BasicExclusiveUse&&) noexcept {
    holder_ = nullptr;
    return *this;
  }

  // True when `op` holds the object now (it was free, or `op` held it already).
  bool try_claim(const void* op) noexcept {
    if constexpr (kAcrossThreads) {
      const void* cur = nullptr;
      return std::atomic_ref<const void*>(holder_).compare_exchange_strong(
                 cur, op, std::memory_order_acquire) ||
             cur == op;
    } else {
      if (holder_ != nullptr && holder_ != op) return false;
      holder_ = op;
      return true;
    }
  }
  // `what` names the object's type in the error ("io::BufWriter").
  void claim(const void* op, const char* what) {
    if (!try_claim(op)) throw_concurrent_use(what);
  }
  // For PendingClaim (single-task objects only): whether `op` may go on (nobody else holds
  // the object), without claiming it.
  bool free_for(const void* op) const noexcept requires(!kAcrossThreads) {
    return holder_ == nullptr || holder_ == op;
  }
  void release(const void* op) noexcept {
    if constexpr (kAcrossThreads) {
      // Only the holder clears the word (the others' exchanges expect null), so a load and
      // a store do: release, pairing with the next claim's acquire.
      std::atomic_ref<const void*> h(holder_);
      if (h.load(std::memory_order_relaxed) == op) h.store(nullptr, std::memory_order_release);
    } else {
      if (holder_ == op) holder_ = nullptr;
    }
  }

 private:
  const void* holder_ = nullptr;
};
using ExclusiveUse = BasicExclusiveUse<false>;

// Called first thing by the move of a stream whose pending next() waits inside it (a read
// or a receive kept in the stream, PendingClaim): the move cancels that wait, so the task
// waiting would never be woken; the move is refused (std::logic_error) before anything
// changes, and the waiting next() goes on undisturbed.
inline void check_no_pending_next(const ExclusiveUse& next_use, const char* what) {
  if (!next_use.free_for(nullptr)) throw_moved_while_pending(what);
}
// The check of a stream whose move does not throw (detail::NextClaim, ReceiverStream), so
// that it can be sent through a channel (mpsc needs nothrow moves) or kept in a vector: the
// misuse is reported on stderr and the program aborts, as a misplaced EnterGuard does.
inline void abort_if_pending_next(const ExclusiveUse& next_use, const char* what) noexcept {
  if (!next_use.free_for(nullptr)) abort_moved_while_pending(what);
}

// A claim held for one synchronous call (a receiver's try_recv): taken at construction
// (false when another operation holds the object), let go at scope exit, exception or not.
template <bool kAcrossThreads>
class ScopedExclusiveUse {
 public:
  explicit ScopedExclusiveUse(BasicExclusiveUse<kAcrossThreads>& u) noexcept
      : u_(u), held_(u.try_claim(this)) {}
  ScopedExclusiveUse(const ScopedExclusiveUse&) = delete;
  ScopedExclusiveUse& operator=(const ScopedExclusiveUse&) = delete;
  ~ScopedExclusiveUse() {
    if (held_) u_.release(this);
  }
  explicit operator bool() const noexcept { return held_; }

 private:
  BasicExclusiveUse<kAcrossThreads>& u_;
  bool held_;
};

// An operation's side of it: poll() claims around each poll of `step`, keeps the claim
// while the step is pending and lets go once it is ready (any result: `step` returns a
// Poll, or a bool "done") or when the operation is destroyed. A copy holds nothing.
template <bool kAcrossThreads>
class BasicExclusiveClaim {
 public:
  using Use = BasicExclusiveUse<kAcrossThreads>;
  BasicExclusiveClaim() noexcept = default;
  BasicExclusiveClaim(const BasicExclusiveClaim&) noexcept {}
  BasicExclusiveClaim& operator=(const BasicExclusiveClaim&) = delete;
  ~BasicExclusiveClaim() {
    if (held_) held_->release(this);
  }

  template <class Step>
  auto poll(Use& use, const char* what, Step&& step) {
    use.claim(this, what);
    held_ = &use;
    auto r = step();
    if (r) {
      use.release(this);
      held_ = nullptr;
    }
    return r;
  }

 private:
  Use* held_ = nullptr;  // the object claimed while pending, else null
};
using ExclusiveClaim = BasicExclusiveClaim<false>;

// The claim of a stream's next() (stream::PollStream::Next), for a stream used from one
// task at a time (an ExclusiveUse): a poll that finds another next() holding the stream
// completes with `refused` set, and await_resume throws. Only a next() that is left
// waiting (a registering poll that found nothing) claims the stream, until it completes or
// is destroyed; a ready poll only checks that nobody else holds it (a load and a test per
// item, where claiming and letting go at every poll cost a stream_map consumer 16
// instructions an item, callgrind). Enough for the misuse it catches: a second task's next() while
// one waits, which took the one waker the stream keeps over and left the first task
// waiting for ever.
struct PendingClaim {
  bool claimed = false;  // held while the next() waits, registered
  bool refused = false;  // another next() held it

  // `attempt()` may throw (a peek's poll): the operation then completes with what it threw,
  // and the claim is let go. A noexcept attempt (next()'s) takes no handler.
  template <class Attempt>
  bool poll(ExclusiveUse& use, const void* op, bool registering,
            Attempt&& attempt) noexcept(noexcept(attempt())) {
    if (!use.free_for(op)) return refused = true;
    bool ready;
    if constexpr (noexcept(attempt())) {
      ready = attempt();
    } else {
      try {
        ready = attempt();
      } catch (...) {
        release(use, op);
        claimed = false;
        throw;
      }
    }
    if (ready) {
      if (claimed) {
        use.release(op);
        claimed = false;
      }
      return true;
    }
    if (registering && !claimed) {
      (void)use.try_claim(op);
      claimed = true;
    }
    return false;
  }
  void release(ExclusiveUse& use, const void* op) noexcept {
    if (claimed) use.release(op);
  }
};

// The claim of a leaf whose poll cannot throw (the mpsc and broadcast receives): two
// bytes in the leaf, which passes its own address as the operation. A poll that finds
// another holder completes with `refused` set, and the leaf's await_resume throws. A
// registering poll keeps the claim while the leaf waits; a try_poll (Leaf's, which
// registers nothing) keeps only a claim the leaf already held. The leaf's destructor
// calls release().
struct RefusableClaim {
  bool claimed = false;  // held while the leaf waits, registered
  bool refused = false;  // another operation held it
  // The object's owner holds the claim for as long as it owns the object and made this
  // operation (a ReceiverStream's receives): nothing to claim or let go per poll.
  bool by_owner = false;

  // `attempt()` runs holding the object; true = ready.
  template <bool kAcrossThreads, class Attempt>
  bool poll(BasicExclusiveUse<kAcrossThreads>& use, const void* op, bool registering,
            Attempt&& attempt) noexcept {
    if (by_owner) return attempt();
    if (!use.try_claim(op)) return refused = true;
    const bool ready = attempt();
    if (!ready && (registering || claimed)) {
      claimed = true;
      return false;
    }
    use.release(op);
    claimed = false;
    return ready;
  }
  template <bool kAcrossThreads>
  void release(BasicExclusiveUse<kAcrossThreads>& use, const void* op) noexcept {
    if (claimed) use.release(op);
  }
};

// The state of an operation on such an object (the steps of BufReader's and BufWriter's
// operations, as a base): poll() claims `b->use_` around Derived::poll_claimed. Derived
// holds `b`, a pointer to the object, whose class names itself in kTypeName and befriends
// this template.
template <class Derived>
struct ClaimedStep {
  ExclusiveClaim claim{};

  template <class Cx>
  auto poll(Cx& cx) {
    auto& self = static_cast<Derived&>(*this);
    using Owner = std::remove_pointer_t<decltype(self.b)>;
    // An owner that can be left empty by a move says so (its buffer went with the move).
    if constexpr (requires { self.b->moved_from(); }) {
      if (self.b->moved_from()) throw_moved_from(Owner::kTypeName);
    }
    return claim.poll(self.b->use_, Owner::kTypeName, [&] { return self.poll_claimed(cx); });
  }
};

}  // namespace tokio::detail
