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
#include "tokio/sync/detail/permits.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::sync {

template <class T>
class RwLock;

// Shared access to a value (RwLock::read, or a part of it after map).
template <class T>
class [[nodiscard]] RwLockReadGuard : public detail::SemaphoreGuard<const T, detail::NoKeep> {
  using Base = detail::SemaphoreGuard<const T, detail::NoKeep>;

 public:
  RwLockReadGuard() noexcept = default;                           // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName = "sync::RwLock::read";  // names the wait in task dumps
  using Base::Base;
  explicit RwLockReadGuard(const RwLock<T>* l) noexcept : Base(&l->sem_, 1, &l->value_) {}

  // Narrows the guard to a part of the value: map(std::move(g), [](const T& v) { return &v.x; }).
  template <class F>
  static auto map(RwLockReadGuard&& g, F&& f) {
    using U = std::remove_const_t<std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>>;
    return Base::template map_into<RwLockReadGuard<U>>(std::move(g), std::forward<F>(f));
  }
  // The same when f may return nullptr: then the error holds the guard, unchanged.
  template <class F>
  static auto try_map(RwLockReadGuard&& g, F&& f) {
    using U = std::remove_const_t<std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>>;
    return Base::template try_map_into<RwLockReadGuard<U>>(std::move(g), std::forward<F>(f));
  }
};

// Exclusive access to a part of the value (RwLockWriteGuard::map).
template <class U>
class [[nodiscard]] RwLockMappedWriteGuard : public detail::SemaphoreGuard<U, detail::NoKeep> {
 public:
  using detail::SemaphoreGuard<U, detail::NoKeep>::SemaphoreGuard;
};

template <class T>
class [[nodiscard]] RwLockWriteGuard : public detail::SemaphoreGuard<T, detail::NoKeep> {
  using Base = detail::SemaphoreGuard<T, detail::NoKeep>;

 public:
  RwLockWriteGuard() noexcept = default;                           // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName = "sync::RwLock::write";  // names the wait in task dumps
  using Base::Base;
  explicit RwLockWriteGuard(RwLock<T>* l) noexcept : Base(&l->sem_, l->max_readers_, &l->value_) {}

  template <class F>
  static auto map(RwLockWriteGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template map_into<RwLockMappedWriteGuard<U>>(std::move(g), std::forward<F>(f));
  }
  template <class F>
  static auto try_map(RwLockWriteGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template try_map_into<RwLockMappedWriteGuard<U>>(std::move(g), std::forward<F>(f));
  }
  // Turns the write lock into a read lock atomically (no writer can slip in between);
  // readers waiting behind it may proceed.
  static RwLockReadGuard<T> downgrade(RwLockWriteGuard&& g) noexcept {
    return Base::template transfer<RwLockReadGuard<T>>(std::move(g), detail::as_const_ptr<T>, 1);
  }
};

// The owned forms (RwLock::read_owned / write_owned) hold the lock by std::shared_ptr:
// they may be moved into another task and keep the lock alive. U is the part of the value
// they give access to after map.
template <class T, class U = T>
class [[nodiscard]] OwnedRwLockReadGuard
    : public detail::SemaphoreGuard<const U, std::shared_ptr<RwLock<T>>> {
  using Base = detail::SemaphoreGuard<const U, std::shared_ptr<RwLock<T>>>;

 public:
  OwnedRwLockReadGuard() noexcept = default;  // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName =
      "sync::RwLock::read_owned";  // names the wait in task dumps
  using Base::Base;
  explicit OwnedRwLockReadGuard(std::shared_ptr<RwLock<T>> l) noexcept requires std::is_same_v<T, U>
      : OwnedRwLockReadGuard(l.get(), l) {}

  template <class F>
  static auto map(OwnedRwLockReadGuard&& g, F&& f) {
    using V = std::remove_const_t<std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>>;
    return Base::template map_into<OwnedRwLockReadGuard<T, V>>(std::move(g), std::forward<F>(f));
  }
  template <class F>
  static auto try_map(OwnedRwLockReadGuard&& g, F&& f) {
    using V = std::remove_const_t<std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>>;
    return Base::template try_map_into<OwnedRwLockReadGuard<T, V>>(std::move(g),
                                                                   std::forward<F>(f));
  }

 private:
  // (l is read through `raw` because the argument initializing Keep may be moved first.)
  OwnedRwLockReadGuard(const RwLock<T>* raw, std::shared_ptr<RwLock<T>>& l) noexcept
      : Base(&raw->sem_, 1, &raw->value_, std::move(l)) {}
};

template <class T, class U = T>
class [[nodiscard]] OwnedRwLockMappedWriteGuard
    : public detail::SemaphoreGuard<U, std::shared_ptr<RwLock<T>>> {
 public:
  using detail::SemaphoreGuard<U, std::shared_ptr<RwLock<T>>>::SemaphoreGuard;
};

template <class T>
class [[nodiscard]] OwnedRwLockWriteGuard
    : public detail::SemaphoreGuard<T, std::shared_ptr<RwLock<T>>> {
  using Base = detail::SemaphoreGuard<T, std::shared_ptr<RwLock<T>>>;

 public:
  OwnedRwLockWriteGuard() noexcept = default;  // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName =
      "sync::RwLock::write_owned";  // names the wait in task dumps
  using Base::Base;
  explicit OwnedRwLockWriteGuard(std::shared_ptr<RwLock<T>> l) noexcept
      : OwnedRwLockWriteGuard(l.get(), l) {}

  template <class F>
  static auto map(OwnedRwLockWriteGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template map_into<OwnedRwLockMappedWriteGuard<T, U>>(std::move(g),
                                                                      std::forward<F>(f));
  }
  template <class F>
  static auto try_map(OwnedRwLockWriteGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template try_map_into<OwnedRwLockMappedWriteGuard<T, U>>(std::move(g),
                                                                          std::forward<F>(f));
  }
  static OwnedRwLockReadGuard<T> downgrade(OwnedRwLockWriteGuard&& g) noexcept {
    return Base::template transfer<OwnedRwLockReadGuard<T>>(std::move(g), detail::as_const_ptr<T>,
                                                            1);
  }

 private:
  OwnedRwLockWriteGuard(RwLock<T>* raw, std::shared_ptr<RwLock<T>>& l) noexcept
      : Base(&raw->sem_, raw->max_readers_, &raw->value_, std::move(l)) {}
};

template <class T>
class RwLock {
  static_assert(detail::SyncValueType<T>::ok);

 public:
  // Tokio's MAX_READS: the default (and largest) number of concurrent readers.
  static constexpr uint32_t MAX_READS = UINT32_MAX >> 3;

  RwLock() requires std::is_default_constructible_v<T> : RwLock(T()) {}
  explicit RwLock(T value)
      : sem_(MAX_READS, Unchecked{}), max_readers_(MAX_READS), value_(std::move(value)) {}
  // At most max_reads readers at once (1..MAX_READS; throws std::invalid_argument otherwise).
  static RwLock with_max_readers(T value, uint32_t max_reads) {
    return RwLock(std::move(value), max_reads);
  }
  RwLock(T value, uint32_t max_reads)
      : sem_(check_max(max_reads), Unchecked{}),
        max_readers_(max_reads),
        value_(std::move(value)) {}
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  template <class Guard, class Owner>
  using Acquire = detail::PermitAcquire<detail::MakeGuard<Guard, Owner>>;
  using Read = Acquire<RwLockReadGuard<T>, const RwLock*>;
  using Write = Acquire<RwLockWriteGuard<T>, RwLock*>;
  using ReadOwned = Acquire<OwnedRwLockReadGuard<T>, std::shared_ptr<RwLock>>;
  using WriteOwned = Acquire<OwnedRwLockWriteGuard<T>, std::shared_ptr<RwLock>>;

  // Shared access; yields RwLockReadGuard<T>.
  Read read() const noexcept { return Read(&sem_, 1, {this}); }
  // Exclusive access; yields RwLockWriteGuard<T>.
  Write write() noexcept { return Write(&sem_, max_readers_, {this}); }

  Result<RwLockReadGuard<T>, TryLockError> try_read() const noexcept {
    if (sem_.try_acquire(1) == detail::BatchSemaphore::TryResult::Ok)
      return RwLockReadGuard<T>(this);
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
    return ReadOwned(s, 1, {std::move(l)});
  }
  static WriteOwned write_owned(std::shared_ptr<RwLock> l) {
    if (!l) detail::throw_misuse("RwLock::write_owned on a null shared_ptr");
    detail::BatchSemaphore* s = &l->sem_;
    std::size_t n = l->max_readers_;
    return WriteOwned(s, n, {std::move(l)});
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
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the RwLock over: write "
                             "std::move(lock).into_inner() (Rust moves it implicitly)")

 private:
  using Unchecked = detail::BatchSemaphore::Unchecked;
  friend class RwLockReadGuard<T>;
  friend class RwLockWriteGuard<T>;
  friend class OwnedRwLockReadGuard<T, T>;
  friend class OwnedRwLockWriteGuard<T>;

  static uint32_t check_max(uint32_t n) {
    if (n == 0 || n > MAX_READS) detail::throw_rwlock_max_reads(n, MAX_READS);
    return n;
  }

  mutable detail::BatchSemaphore sem_;
  uint32_t max_readers_;
  T value_;
};

}  // namespace tokio::sync
