#pragma once
// sync::Mutex<T>: an asynchronous mutual-exclusion lock whose guard may be held across
// co_await points.
//
//   tokio::sync::Mutex<std::vector<int>> m;
//   {
//     auto g = co_await m.lock();          // MutexGuard<std::vector<int>>
//     g->push_back(1);
//   }                                      // unlocked here
//
// A Mutex is a Semaphore with one permit (as in Tokio): lockers are served strictly in
// FIFO order and the unlock hands the lock directly to the next waiter.
//
// Cancel safety: lock() is not cancel-safe in the sense that a cancelled lock() loses its
// place in the queue; if the lock had already been handed to it, it passes to the next
// waiter. lock_owned() behaves the same. Use a std::mutex instead when the critical section never awaits: it is cheaper.
//
// blocking_lock() serves plain threads (it throws std::logic_error on a runtime thread).
// lock_owned() on a std::shared_ptr<Mutex<T>> returns a guard that keeps the mutex alive
// and can be moved into another task.

#include <memory>
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
class Mutex;

// A locked view of a part of the protected value (MutexGuard::map).
template <class U>
class [[nodiscard]] MappedMutexGuard : public detail::SemaphoreGuard<U, detail::NoKeep> {
 public:
  using detail::SemaphoreGuard<U, detail::NoKeep>::SemaphoreGuard;
};

// The same for an owned guard (OwnedMutexGuard::map): keeps the mutex alive.
template <class T, class U>
class [[nodiscard]] OwnedMappedMutexGuard
    : public detail::SemaphoreGuard<U, std::shared_ptr<Mutex<T>>> {
 public:
  using detail::SemaphoreGuard<U, std::shared_ptr<Mutex<T>>>::SemaphoreGuard;
};

template <class T>
class [[nodiscard]] MutexGuard : public detail::SemaphoreGuard<T, Mutex<T>*> {
  using Base = detail::SemaphoreGuard<T, Mutex<T>*>;

 public:
  MutexGuard() noexcept = default;                               // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName = "sync::Mutex::lock";  // names the wait in task dumps
  using Base::Base;
  explicit MutexGuard(Mutex<T>* m) noexcept : Base(&m->sem_, 1, &m->value_, m) {}

  Mutex<T>* mutex() const noexcept { return this->keep_; }

  // Narrows the guard to a part of the value: map(std::move(g), [](T& v) { return &v.x; }).
  template <class F>
  static auto map(MutexGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template map_into<MappedMutexGuard<U>>(std::move(g), std::forward<F>(f));
  }
  // The same when f may return nullptr: then the error holds the guard, unchanged.
  template <class F>
  static auto try_map(MutexGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template try_map_into<MappedMutexGuard<U>>(std::move(g), std::forward<F>(f));
  }
};

// A guard that holds its mutex by std::shared_ptr (Mutex::lock_owned): it may be moved
// into another task and keeps the mutex alive.
template <class T>
class [[nodiscard]] OwnedMutexGuard : public detail::SemaphoreGuard<T, std::shared_ptr<Mutex<T>>> {
  using Base = detail::SemaphoreGuard<T, std::shared_ptr<Mutex<T>>>;

 public:
  OwnedMutexGuard() noexcept = default;  // empty (`g = {}` drops a guard)
  static constexpr const char* kLeafName =
      "sync::Mutex::lock_owned";  // names the wait in task dumps
  using Base::Base;
  explicit OwnedMutexGuard(std::shared_ptr<Mutex<T>> m) noexcept : OwnedMutexGuard(m.get(), m) {}

  const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return this->keep_; }

  template <class F>
  static auto map(OwnedMutexGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template map_into<OwnedMappedMutexGuard<T, U>>(std::move(g), std::forward<F>(f));
  }
  template <class F>
  static auto try_map(OwnedMutexGuard&& g, F&& f) {
    using U = std::remove_pointer_t<decltype(std::forward<F>(f)(*g))>;
    return Base::template try_map_into<OwnedMappedMutexGuard<T, U>>(std::move(g),
                                                                    std::forward<F>(f));
  }

 private:
  // (m is read through `raw` because the argument initializing Keep may be moved first.)
  OwnedMutexGuard(Mutex<T>* raw, std::shared_ptr<Mutex<T>>& m) noexcept
      : Base(&raw->sem_, 1, &raw->value_, std::move(m)) {}
};

template <class T>
class Mutex {
  static_assert(detail::SyncValueType<T>::ok);

 public:
  Mutex() requires std::is_default_constructible_v<T> : sem_(1, Unchecked{}), value_() {}
  explicit Mutex(T value) : sem_(1, Unchecked{}), value_(std::move(value)) {}
  template <class... A>
  explicit Mutex(std::in_place_t, A&&... a) : sem_(1, Unchecked{}), value_(std::forward<A>(a)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  ~Mutex() {
    if (TOKIO_UNLIKELY(sem_.available_permits() == 0)) {
      detail::report_destroyed_in_use("a sync::Mutex was", "locked (a guard outlives it)");
    }
  }

  template <class Guard, class Owner>
  using Acquire = detail::PermitAcquire<detail::MakeGuard<Guard, Owner>>;
  using Lock = Acquire<MutexGuard<T>, Mutex*>;
  using LockOwned = Acquire<OwnedMutexGuard<T>, std::shared_ptr<Mutex>>;

  // Waits for the lock; yields a MutexGuard<T>.
  Lock lock() noexcept { return Lock(&sem_, 1, {this}); }
  Result<MutexGuard<T>, TryLockError> try_lock() noexcept {
    if (sem_.try_acquire(1) == detail::BatchSemaphore::TryResult::Ok) return MutexGuard<T>(this);
    return unexpected(TryLockError{});
  }
  // For plain threads; throws std::logic_error on a runtime thread.
  MutexGuard<T> blocking_lock() {
    Lock l = lock();
    return detail::blocking_wait(l, "Mutex::blocking_lock");
  }

  static LockOwned lock_owned(std::shared_ptr<Mutex> m) {
    if (!m) detail::throw_misuse("Mutex::lock_owned on a null shared_ptr");
    detail::BatchSemaphore* s = &m->sem_;
    return LockOwned(s, 1, {std::move(m)});
  }
  static Result<OwnedMutexGuard<T>, TryLockError> try_lock_owned(std::shared_ptr<Mutex> m) {
    if (!m) detail::throw_misuse("Mutex::try_lock_owned on a null shared_ptr");
    if (m->sem_.try_acquire(1) == detail::BatchSemaphore::TryResult::Ok) {
      return OwnedMutexGuard<T>(std::move(m));
    }
    return unexpected(TryLockError{});
  }

  // Direct access when the caller has exclusive access to the Mutex itself.
  T& get_mut() noexcept { return value_; }
  T into_inner() && { return std::move(value_); }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the Mutex over: write "
                             "std::move(mutex).into_inner() (Rust moves it implicitly)")

 private:
  using Unchecked = detail::BatchSemaphore::Unchecked;
  friend class MutexGuard<T>;
  friend class OwnedMutexGuard<T>;

  detail::BatchSemaphore sem_;
  T value_;
};

}  // namespace tokio::sync
