#pragma once
// sync::RwLock<T>: an asynchronous reader-writer lock, fair and write-preferring.
//
//   tokio::sync::RwLock<Config> cfg;
//   { auto r = co_await cfg.read();  use(r->field); }     // many readers at once
//   { auto w = co_await cfg.write(); w->field = 2; }      // one writer, no readers
//
// Built, as in Tokio, on a Semaphore holding max_readers permits: a reader takes one, a
// writer takes all of them. Requests are served in FIFO order, so a waiting writer holds
// back the readers that arrive after it (no writer starvation) and a writer at the head
// collects permits as readers release them.
//
// Cancel safety: read() and write() lose their place in the queue when cancelled; any
// permits a cancelled write() had collected pass on to the next waiter. read_owned() and
// write_owned() behave the same.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/mutex.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::sync {

template <class T>
class RwLock;

template <class T>
class [[nodiscard]] RwLockReadGuard {
 public:
  explicit RwLockReadGuard(const RwLock<T>* l) noexcept : l_(l) {}
  RwLockReadGuard(RwLockReadGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  RwLockReadGuard& operator=(RwLockReadGuard&&) = delete;
  ~RwLockReadGuard() {
    if (l_) l_->sem_.release(1);
  }
  const T& operator*() const noexcept { return l_->value_; }
  const T* operator->() const noexcept { return &l_->value_; }

 private:
  const RwLock<T>* l_;
};

template <class T>
class [[nodiscard]] RwLockWriteGuard {
 public:
  explicit RwLockWriteGuard(RwLock<T>* l) noexcept : l_(l) {}
  RwLockWriteGuard(RwLockWriteGuard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  RwLockWriteGuard& operator=(RwLockWriteGuard&&) = delete;
  ~RwLockWriteGuard() {
    if (l_) l_->sem_.release(l_->max_readers_);
  }
  T& operator*() const noexcept { return l_->value_; }
  T* operator->() const noexcept { return &l_->value_; }

  // Turns the write lock into a read lock atomically (no writer can slip in between);
  // readers waiting behind it may proceed.
  static RwLockReadGuard<T> downgrade(RwLockWriteGuard&& g) noexcept {
    RwLock<T>* l = std::exchange(g.l_, nullptr);
    l->sem_.release(l->max_readers_ - 1);
    return RwLockReadGuard<T>(l);
  }

 private:
  RwLock<T>* l_;
};

template <class T>
class [[nodiscard]] OwnedRwLockReadGuard {
 public:
  explicit OwnedRwLockReadGuard(std::shared_ptr<RwLock<T>> l) noexcept : l_(std::move(l)) {}
  OwnedRwLockReadGuard(OwnedRwLockReadGuard&&) noexcept = default;
  OwnedRwLockReadGuard& operator=(OwnedRwLockReadGuard&&) = delete;
  ~OwnedRwLockReadGuard() {
    if (l_) l_->sem_.release(1);
  }
  const T& operator*() const noexcept { return l_->value_; }
  const T* operator->() const noexcept { return &l_->value_; }

 private:
  std::shared_ptr<RwLock<T>> l_;
};

template <class T>
class [[nodiscard]] OwnedRwLockWriteGuard {
 public:
  explicit OwnedRwLockWriteGuard(std::shared_ptr<RwLock<T>> l) noexcept : l_(std::move(l)) {}
  OwnedRwLockWriteGuard(OwnedRwLockWriteGuard&&) noexcept = default;
  OwnedRwLockWriteGuard& operator=(OwnedRwLockWriteGuard&&) = delete;
  ~OwnedRwLockWriteGuard() {
    if (l_) l_->sem_.release(l_->max_readers_);
  }
  T& operator*() const noexcept { return l_->value_; }
  T* operator->() const noexcept { return &l_->value_; }

  static OwnedRwLockReadGuard<T> downgrade(OwnedRwLockWriteGuard&& g) noexcept {
    std::shared_ptr<RwLock<T>> l = std::move(g.l_);
    l->sem_.release(l->max_readers_ - 1);
    return OwnedRwLockReadGuard<T>(std::move(l));
  }

 private:
  std::shared_ptr<RwLock<T>> l_;
};

template <class T>
class RwLock {
 public:
  // Tokio's MAX_READS: the default (and largest) number of concurrent readers.
  static constexpr uint32_t MAX_READS = UINT32_MAX >> 3;

  RwLock() requires std::is_default_constructible_v<T> : RwLock(T()) {}
  explicit RwLock(T value) : sem_(MAX_READS, Unchecked{}), max_readers_(MAX_READS), value_(std::move(value)) {}
  // At most max_reads readers at once (1..MAX_READS; throws std::invalid_argument otherwise).
  static RwLock with_max_readers(T value, uint32_t max_reads) {
    return RwLock(std::move(value), max_reads);
  }
  RwLock(T value, uint32_t max_reads)
      : sem_(check_max(max_reads), Unchecked{}), max_readers_(max_reads), value_(std::move(value)) {}
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  template <class Guard, class Owner>
  class Awaiter : public detail::Leaf<Awaiter<Guard, Owner>> {
   public:
    Awaiter(Owner owner, detail::BatchSemaphore* s, std::size_t n) noexcept
        : owner_(std::move(owner)), op_(s, n) {}
    Awaiter(const Awaiter& o) noexcept : detail::Leaf<Awaiter>(o), owner_(o.owner_), op_(o.op_) {}
    bool poll(task::Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      return op_.poll(cx.raw_waker()) == detail::BatchSemaphore::PollResult::Ready;
    }
    Guard await_resume() noexcept {
      op_.take();
      return Guard(std::move(owner_));
    }

   private:
    Owner owner_;
    detail::AcquireOp op_;
  };
  using Read = Awaiter<RwLockReadGuard<T>, const RwLock*>;
  using Write = Awaiter<RwLockWriteGuard<T>, RwLock*>;
  using ReadOwned = Awaiter<OwnedRwLockReadGuard<T>, std::shared_ptr<RwLock>>;
  using WriteOwned = Awaiter<OwnedRwLockWriteGuard<T>, std::shared_ptr<RwLock>>;

  // Shared access; yields RwLockReadGuard<T>.
  Read read() const noexcept { return Read(this, &sem_, 1); }
  // Exclusive access; yields RwLockWriteGuard<T>.
  Write write() noexcept { return Write(this, &sem_, max_readers_); }

  Result<RwLockReadGuard<T>, TryLockError> try_read() const noexcept {
    if (sem_.try_acquire(1) == detail::BatchSemaphore::TryResult::Ok) return RwLockReadGuard<T>(this);
    return unexpected(TryLockError{});
  }
  Result<RwLockWriteGuard<T>, TryLockError> try_write() noexcept {
    if (sem_.try_acquire(max_readers_) == detail::BatchSemaphore::TryResult::Ok) {
      return RwLockWriteGuard<T>(this);
    }
    return unexpected(TryLockError{});
  }

  // For plain threads; throw std::logic_error on a runtime thread.
  RwLockReadGuard<T> blocking_read() const {
    Read r = read();
    return detail::blocking_wait(r, "RwLock::blocking_read");
  }
  RwLockWriteGuard<T> blocking_write() {
    Write w = write();
    return detail::blocking_wait(w, "RwLock::blocking_write");
  }

  static ReadOwned read_owned(std::shared_ptr<RwLock> l) {
    if (!l) detail::throw_misuse("RwLock::read_owned on a null shared_ptr");
    detail::BatchSemaphore* s = &l->sem_;
    return ReadOwned(std::move(l), s, 1);
  }
  static WriteOwned write_owned(std::shared_ptr<RwLock> l) {
    if (!l) detail::throw_misuse("RwLock::write_owned on a null shared_ptr");
    detail::BatchSemaphore* s = &l->sem_;
    std::size_t n = l->max_readers_;
    return WriteOwned(std::move(l), s, n);
  }
  static Result<OwnedRwLockReadGuard<T>, TryLockError> try_read_owned(std::shared_ptr<RwLock> l) {
    if (l && l->sem_.try_acquire(1) == detail::BatchSemaphore::TryResult::Ok) {
      return OwnedRwLockReadGuard<T>(std::move(l));
    }
    return unexpected(TryLockError{});
  }
  static Result<OwnedRwLockWriteGuard<T>, TryLockError> try_write_owned(std::shared_ptr<RwLock> l) {
    if (l && l->sem_.try_acquire(l->max_readers_) == detail::BatchSemaphore::TryResult::Ok) {
      return OwnedRwLockWriteGuard<T>(std::move(l));
    }
    return unexpected(TryLockError{});
  }

  uint32_t max_readers() const noexcept { return max_readers_; }
  T& get_mut() noexcept { return value_; }
  T into_inner() && { return std::move(value_); }

 private:
  using Unchecked = detail::BatchSemaphore::Unchecked;
  friend class RwLockReadGuard<T>;
  friend class RwLockWriteGuard<T>;
  friend class OwnedRwLockReadGuard<T>;
  friend class OwnedRwLockWriteGuard<T>;

  static uint32_t check_max(uint32_t n) {
    if (n == 0 || n > MAX_READS) {
      throw std::invalid_argument("tokio::sync::RwLock: max_reads must be in 1..=" +
                                  std::to_string(MAX_READS) + " (got " + std::to_string(n) + ")");
    }
    return n;
  }

  mutable detail::BatchSemaphore sem_;
  uint32_t max_readers_;
  T value_;
};

}  // namespace tokio::sync
