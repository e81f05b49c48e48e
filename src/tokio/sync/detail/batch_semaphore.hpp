#pragma once
// BatchSemaphore (internal): the FIFO-fair counting semaphore under Semaphore, Mutex,
// RwLock, OnceCell and the bounded mpsc channel.
//
// Permit word (`permits_`, size_t):
//   bit 0        CLOSED        close() was called; acquires fail
//   bit 1        HAS_WAITERS   the waiter queue is not empty
//   bits 2..     available permits (at most MAX_PERMITS = SIZE_MAX >> 3)
// Invariant: HAS_WAITERS set => available == 0. Released permits are handed to queued
// waiters first, in FIFO order, and only what is left once the queue is empty goes back
// into the word. HAS_WAITERS is only set or cleared with `lock_` held. Hence:
//   - try-acquire and the first poll of an acquire take permits with one CAS and cannot
//     overtake a queued waiter (there is nothing to take while one waits);
//   - a release with no waiter is one CAS, no lock (Tokio locks on every release).
//
// A waiter asking for n permits takes what is available at once and queues for the rest;
// releasers top it up under the lock. Its `state` word holds the permits it still needs
// (0 = fully served, and then the node is already unlinked), plus WAITER_CLOSED when
// close() dequeued it. When a waiting acquire is destroyed (select lost, task aborted),
// whatever it had already been given is released again, so a permit handed to a waiter
// that is going away is passed on to the next one, never lost.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"
#include "tokio/sync/detail/wait_list.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/sync/error.hpp"

namespace tokio::detail {

class BatchSemaphore {
 public:
  static constexpr std::size_t CLOSED = 1;
  static constexpr std::size_t HAS_WAITERS = 2;
  static constexpr std::size_t SHIFT = 2;
  static constexpr std::size_t MAX_PERMITS = SIZE_MAX >> 3;
  static constexpr std::size_t WAITER_CLOSED = std::size_t{1} << (sizeof(std::size_t) * 8 - 1);

  struct Waiter : WaitNode {
    Atomic<std::size_t> state{0};  // permits still needed | WAITER_CLOSED
    Atomic<Wakeable*> waker{nullptr};
  };

  enum class TryResult { Ok, NoPermits, Closed };
  enum class PollResult { Ready, Pending, Closed };

  // Throws std::invalid_argument when permits > MAX_PERMITS.
  explicit BatchSemaphore(std::size_t permits);
  // Tag constructor for callers that validated `permits` themselves.
  struct Unchecked {};
  BatchSemaphore(std::size_t permits, Unchecked) noexcept : permits_(permits << SHIFT) {}
  BatchSemaphore(const BatchSemaphore&) = delete;
  ~BatchSemaphore() {
    if (TOKIO_UNLIKELY(!waiters_.empty())) {
      report_destroyed_in_use("a sync::Semaphore, Mutex or RwLock was",
                              "tasks were waiting to acquire it");
    }
  }
  BatchSemaphore& operator=(const BatchSemaphore&) = delete;

  std::size_t available_permits() const noexcept {
    return permits_.load(std::memory_order_acquire) >> SHIFT;
  }
  bool is_closed() const noexcept { return permits_.load(std::memory_order_acquire) & CLOSED; }

  TryResult try_acquire(std::size_t n) noexcept {
    std::size_t cur = permits_.load(std::memory_order_acquire);
    for (;;) {
      if (cur & CLOSED) return TryResult::Closed;
      if ((cur >> SHIFT) < n) return TryResult::NoPermits;
      if (permits_.compare_exchange_weak(cur, cur - (n << SHIFT), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return TryResult::Ok;
      }
    }
  }

  // Gives n permits back: to queued waiters first, the rest to the word. Always inlined:
  // g++ otherwise calls it from Recv::poll, 7 instructions a receive (sync_mpsc bench).
  TOKIO_ALWAYS_INLINE void release(std::size_t n) noexcept {
    if (n == 0) return;
    std::size_t cur = permits_.load(std::memory_order_acquire);
    while (!(cur & HAS_WAITERS)) {
      if (permits_.compare_exchange_weak(cur, cur + (n << SHIFT), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return;
      }
    }
    release_slow(n);
  }
  // add_permits with the overflow check (throws std::invalid_argument, adds nothing).
  void add_permits_checked(std::size_t n);

  // Removes up to n available permits; returns how many were removed.
  std::size_t forget_permits(std::size_t n) noexcept;

  // Fails every queued and future acquire. Permits can still be released.
  void close() noexcept;

  // The acquire protocol, driven by an awaitable that owns `w`. `queued` says whether `w`
  // is in the queue (set by poll_acquire). Ready means the n permits now belong to the
  // caller.
  PollResult poll_acquire(Waiter& w, std::size_t n, bool& queued, Wakeable* waker) noexcept {
    PollResult r = try_poll_acquire(w, n, queued);
    if (r != PollResult::Pending) return r;
    if (!queued) return enqueue(w, n, queued, waker);
    // Still waiting; a spurious poll with the same waker needs no lock (a releaser that
    // takes the waker concurrently wakes this very task).
    if (w.waker.load(std::memory_order_acquire) == waker && waker != nullptr) {
      return PollResult::Pending;
    }
    return update_waker(w, queued, waker);
  }

  // poll_acquire without a waker (a leaf's try_poll): Ready when the n permits belong to
  // the caller now (taken from the word, or all assigned to `w` while it was queued);
  // Closed as poll_acquire; Pending with nothing queued or changed.
  PollResult try_poll_acquire(Waiter& w, std::size_t n, bool& queued) noexcept {
    if (!queued) {
      TryResult r = try_acquire(n);
      if (r == TryResult::Ok) return PollResult::Ready;
      return r == TryResult::Closed ? PollResult::Closed : PollResult::Pending;
    }
    // Acquire: pairs with the release that hands the permits over (distribute_locked).
    std::size_t s = w.state.load(std::memory_order_acquire);
    if (s == 0) {
      queued = false;
      return PollResult::Ready;
    }
    return (s & WAITER_CLOSED) ? PollResult::Closed : PollResult::Pending;
  }

  // Called when the awaitable owning `w` goes away (or saw Closed): unlinks it and
  // passes on what it had been given. `n` is what it asked for.
  void cancel_acquire(Waiter& w, std::size_t n, bool& queued) noexcept;

 private:
  PollResult enqueue(Waiter& w, std::size_t n, bool& queued, Wakeable* waker) noexcept;
  PollResult update_waker(Waiter& w, bool& queued, Wakeable* waker) noexcept;
  void release_slow(std::size_t n) noexcept;
  // With lock_ held: serves waiters from `n` permits, queues their wakers in `wl`, and
  // returns the word to the no-waiter state with the leftovers when the queue empties.
  // Returns the permits still to distribute when `wl` filled up (the caller wakes and
  // calls again), else 0.
  std::size_t distribute_locked(std::size_t n, WakeList& wl) noexcept;
  // With lock_ held: distributes n permits, waking in batches with the lock released in
  // between; returns with lock_ released.
  void distribute_and_unlock(std::size_t n) noexcept;

  Atomic<std::size_t> permits_;
  WaitLock lock_;
  WaitList waiters_;
};

// An acquisition of n permits, embedded in the awaitables built on the semaphore. Copy
// and move are only allowed before the first poll (awaitables may be moved into wrappers
// before they run); afterwards the node is linked by address.
class AcquireOp {
 public:
  AcquireOp(BatchSemaphore* sem, std::size_t n) noexcept : sem_(sem), n_(n) {}
  // A copy (made before the first poll) starts afresh; one of an op that handed its
  // permits over is spent too.
  AcquireOp(const AcquireOp& o) noexcept : sem_(o.sem_), n_(o.n_), taken_(o.taken_) {}
  AcquireOp& operator=(const AcquireOp&) = delete;
  ~AcquireOp() { finish(); }

  // Ready: the permits are held by this op until take() (or released in the destructor).
  BatchSemaphore::PollResult poll(Wakeable* waker) noexcept {
    if (acquired_) return BatchSemaphore::PollResult::Ready;
    return settle(sem_->poll_acquire(node_, n_, queued_, waker));
  }
  // poll without a waker (a leaf's try_poll): as poll, but Pending leaves nothing queued.
  BatchSemaphore::PollResult try_poll() noexcept {
    if (acquired_) return BatchSemaphore::PollResult::Ready;
    return settle(sem_->try_poll_acquire(node_, n_, queued_));
  }
  // Hands the acquired permits over to the caller (a permit or a guard), once.
  void take() noexcept {
    acquired_ = false;
    taken_ = true;
  }
  // The permits were handed over: a later poll would start a second acquire (see
  // PermitAcquire::before_first_poll).
  bool taken() const noexcept { return taken_; }
  // Gives up now, as the destructor would: leaves the queue, and permits already assigned
  // (partly or fully) go back to the semaphore and so to the next waiter.
  void cancel() noexcept { finish(); }
  BatchSemaphore* semaphore() const noexcept { return sem_; }
  std::size_t permits() const noexcept { return n_; }

 private:
  // What a poll's answer leaves behind: Ready, the permits held; Closed, out of the queue.
  BatchSemaphore::PollResult settle(BatchSemaphore::PollResult r) noexcept {
    if (r == BatchSemaphore::PollResult::Ready) acquired_ = true;
    else if (r == BatchSemaphore::PollResult::Closed) sem_->cancel_acquire(node_, n_, queued_);
    return r;
  }
  void finish() noexcept {
    if (acquired_) {
      acquired_ = false;
      sem_->release(n_);
    } else if (queued_) {
      sem_->cancel_acquire(node_, n_, queued_);
    }
  }

  BatchSemaphore* sem_;
  std::size_t n_;
  BatchSemaphore::Waiter node_;
  bool queued_ = false;
  bool acquired_ = false;
  bool taken_ = false;
};

}  // namespace tokio::detail
