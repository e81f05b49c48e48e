#pragma once
// HeldPermits, SemaphoreGuard and PermitAcquire (internal): what every permit, lock guard
// and acquiring await of the sync primitives is, written once.
//
// HeldPermits<Keep> holds n permits of a BatchSemaphore and gives them back when destroyed
// or assigned over. Keep is what else it holds: the owner (a pointer, or a std::shared_ptr
// that keeps a Semaphore/Mutex/RwLock alive for the "owned" forms) or nothing (NoKeep).
// SemaphoreGuard<U, Keep> adds a pointer to the value the permits protect: Mutex's
// MutexGuard / OwnedMutexGuard / MappedMutexGuard / OwnedMappedMutexGuard and RwLock's
// read and write guards (borrowed, owned, mapped) all derive from it. Releasing the
// permits happens before Keep is let go, so an owned guard never outlives its lock.
//
// PermitAcquire<Make, E> is the leaf that waits for n permits (FIFO, see BatchSemaphore)
// and hands them to make(n), which builds what the await yields: a guard (Mutex::lock,
// RwLock::read...), a permit (Semaphore::acquire, mpsc reserve). With E = void the
// semaphore never closes (a lock's) and the await yields make's result; otherwise it yields
// Result<Out, E>, E{} once the semaphore is closed. Cancel safety: destroyed while waiting,
// it leaves the queue and passes on any permits it had been handed (AcquireOp).
//
// Move rules, the same for every permit and guard: movable and move-assignable (assigning
// releases what the target held first); a moved-from one holds nothing and releases
// nothing; no copies.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"

namespace tokio::detail {

struct NoKeep {};

template <class Keep>
class HeldPermits {
 public:
  using keep_type = Keep;

  HeldPermits() noexcept = default;
  HeldPermits(BatchSemaphore* s, std::size_t n, Keep keep) noexcept
      : s_(s), n_(n), keep_(std::move(keep)) {}
  HeldPermits(HeldPermits&& o) noexcept
      : s_(detail::exchange(o.s_, nullptr)),
        n_(detail::exchange(o.n_, 0)),
        keep_(detail::exchange(o.keep_, Keep())) {}
  HeldPermits& operator=(HeldPermits&& o) noexcept {
    if (this != &o) {
      release();
      s_ = detail::exchange(o.s_, nullptr);
      n_ = detail::exchange(o.n_, 0);
      keep_ = detail::exchange(o.keep_, Keep());
    }
    return *this;
  }
  ~HeldPermits() { release(); }

 protected:
  // Gives the permits back, then lets go of Keep.
  void release() noexcept {
    if (BatchSemaphore* s = detail::exchange(s_, nullptr)) s->release(n_);
    n_ = 0;
    keep_ = Keep();
  }
  // Takes other's permits; both must come from the same semaphore (else throws
  // std::logic_error with `mismatch`).
  void merge_from(HeldPermits& other, const char* mismatch) {
    // p.merge(std::move(p)): the move would leave nothing to merge into (Rust cannot say it).
    if (&other == this) {
      throw_misuse(
          "a semaphore permit merged with itself (p.merge(std::move(p))): it "
          "already holds its permits; merge another permit into it");
    }
    if (other.s_ && s_ && other.s_ != s_) throw_misuse(mismatch);
    if (!s_) {
      s_ = other.s_;
      keep_ = std::move(other.keep_);
    }
    n_ += other.n_;
    other.disown();
    other.keep_ = Keep();
  }
  // Takes n of the permits off (for a split); false, taking nothing, when fewer are held.
  bool split_off(std::size_t n) noexcept {
    if (n > n_ || !s_) return false;
    n_ -= n;
    return true;
  }
  // Gives up holding without releasing: the permits now belong to whoever takes them (a
  // mapped or downgraded guard, or forget()).
  BatchSemaphore* disown() noexcept {
    n_ = 0;
    return detail::exchange(s_, nullptr);
  }

  BatchSemaphore* s_ = nullptr;
  std::size_t n_ = 0;
  [[no_unique_address]] Keep keep_{};
};

// A guard is empty when default-constructed (`g = {}` drops a guard, as drop(g) in Rust)
// and after a move: reaching the value through an empty guard throws std::logic_error
// instead of touching a value the guard no longer locks.
template <class U, class Keep>
class SemaphoreGuard : public HeldPermits<Keep> {
 public:
  SemaphoreGuard() noexcept = default;
  SemaphoreGuard(BatchSemaphore* s, std::size_t n, U* v, Keep keep = Keep()) noexcept
      : HeldPermits<Keep>(s, n, std::move(keep)), v_(v) {}
  SemaphoreGuard(SemaphoreGuard&& o) noexcept
      : HeldPermits<Keep>(std::move(o)), v_(detail::exchange(o.v_, nullptr)) {}
  SemaphoreGuard& operator=(SemaphoreGuard&& o) noexcept {
    if (this != &o) {
      HeldPermits<Keep>::operator=(std::move(o));
      v_ = detail::exchange(o.v_, nullptr);
    }
    return *this;
  }

  U& operator*() const { return *checked(); }
  U* operator->() const { return checked(); }

 private:
  U* checked() const {
    if (TOKIO_UNLIKELY(!v_)) {
      throw_misuse(
          "use of an empty lock guard (moved-from, or dropped with `g = {}`): lock "
          "again to reach the value");
    }
    return v_;
  }

 protected:
  // Moves the permits of g into a guard G on f(value) (a pointer into the value), keeping
  // `keep_permits` of them and releasing the rest now (a downgrade; the release happens
  // after G holds its share, so no writer can slip in between). G keeps g's Keep when it
  // has the same kind of Keep.
  template <class G, class Self, class F>
  static G transfer(Self&& g, F&& f, std::size_t keep_permits) {
    static_assert(std::is_pointer_v<decltype(std::forward<F>(f)(*g.v_))>,
                  "map: the function must return a pointer into the guarded value");
    return rebind<G>(g, std::forward<F>(f)(*g.checked()), keep_permits);  // empty: throws
  }
  template <class G, class Self, class F>
  static G map_into(Self&& g, F&& f) {
    std::size_t n = g.n_;
    return transfer<G>(std::forward<Self>(g), std::forward<F>(f), n);
  }
  // Tokio's try_map: f returns a pointer into the value, or null when there is nothing to
  // narrow to; then the guard itself comes back, unchanged, as the error.
  template <class G, class Self, class F>
  static Result<G, Self> try_map_into(Self&& g, F&& f) {
    static_assert(std::is_pointer_v<decltype(std::forward<F>(f)(*g.v_))>,
                  "try_map: the function must return a pointer into the guarded value, or "
                  "nullptr to keep the guard");
    auto* v = std::forward<F>(f)(*g.checked());        // an empty guard throws
    if (!v) return unexpected(std::forward<Self>(g));  // callers pass an rvalue guard
    std::size_t n = g.n_;
    return rebind<G>(g, v, n);
  }

 private:
  // Moves g's permits into a G on `v` (see transfer).
  template <class G, class Self, class V>
  static G rebind(Self& g, V* v, std::size_t keep_permits) {
    std::size_t n = g.n_;
    typename G::keep_type keep{};
    if constexpr (std::is_same_v<typename G::keep_type, Keep>) keep = std::move(g.keep_);
    BatchSemaphore* s = g.disown();
    G out(s, keep_permits, v, std::move(keep));
    if (keep_permits < n) s->release(n - keep_permits);
    return out;
  }

 protected:
  U* v_ = nullptr;
};

// For downgrade: the read-only view of a write guard's value.
template <class T>
const T* as_const_ptr(T& v) noexcept {
  return &v;
}

template <class Make, class E = void>
class TOKIO_MUST_AWAIT PermitAcquire : public Leaf<PermitAcquire<Make, E>> {
  using Out = decltype(std::declval<Make&>()(std::size_t{}));
  using PR = BatchSemaphore::PollResult;

 public:
  static constexpr const char* kLeafName = leaf_name_of<Make>();  // Mutex::lock, ...
  static_assert(kLeafName != nullptr, "a PermitAcquire's Make names the wait (kLeafName)");
  // `fail`: yield E{} at once without waiting (a request that can never be served).
  PermitAcquire(BatchSemaphore* s, std::size_t n, Make make, bool fail = false) noexcept
      : make_(std::move(make)), op_(s, n), closed_(fail) {}
  // Copies and moves happen only before the first poll.
  PermitAcquire(const PermitAcquire& o) noexcept requires std::is_copy_constructible_v<Make>
      : Leaf<PermitAcquire>(o), make_(o.make_), op_(o.op_), closed_(o.closed_) {}
  PermitAcquire(PermitAcquire&& o) noexcept
      : Leaf<PermitAcquire>(o), make_(std::move(o.make_)), op_(o.op_), closed_(o.closed_) {}

  // Awaited again after it gave its guard or permits (a future kept as an lvalue and
  // passed to a second select, say): Tokio's async fn would panic. Polling on would start
  // a second acquire, which for a lock whose guard is still held waits for ever, and an
  // owned form's Make has already given its owner away.
  void before_first_poll() const {
    if (op_.taken()) throw_awaited_after_completion(kLeafName);
  }
  bool poll(task::Context& cx) noexcept {
    if (closed_) return true;
    if (!coop_poll_proceed(cx)) return false;
    PR r = op_.poll(cx.raw_waker());
    if (r == PR::Pending) return false;
    closed_ = r == PR::Closed;
    return true;
  }
  // Leaf's try_poll: the permits if they are free now, or the close as poll reports it;
  // otherwise nothing is queued.
  bool try_poll() noexcept {
    return closed_ || coop_try([&] {
             PR r = op_.try_poll();
             closed_ = r == PR::Closed;
             return r != PR::Pending;
           });
  }
  auto await_resume() {
    if constexpr (std::is_void_v<E>) {
      op_.take();
      return make_(op_.permits());
    } else {
      if (closed_) return Result<Out, E>(unexpected(E{}));
      op_.take();
      return Result<Out, E>(make_(op_.permits()));
    }
  }

 private:
  // Declared first, destroyed last: an owned form's Make holds the last reference to the
  // semaphore's owner (the shared_ptr of acquire_owned(std::move(s)), the Sender of
  // std::move(tx).reserve_owned()), and ~AcquireOp leaves the semaphore's queue, so the
  // semaphore must outlive it. The other order freed the semaphore first when a pending
  // owned acquire was cancelled (heap-use-after-free in cancel_acquire).
  Make make_;
  AcquireOp op_;
  bool closed_;
};

// A Make for the lock guards: builds Guard from the lock's owner handle (a pointer, or the
// std::shared_ptr of an owned guard).
template <class Guard, class Owner>
struct MakeGuard {
  static constexpr const char* kLeafName = Guard::kLeafName;
  Owner owner;
  Guard operator()(std::size_t) noexcept { return Guard(std::move(owner)); }
};

}  // namespace tokio::detail
