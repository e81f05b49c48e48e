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
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::sync {

// try_lock found the mutex locked.
struct TryLockError {
  friend bool operator==(TryLockError, TryLockError) = default;
};

template <class T>
class Mutex;

// A locked view of a part of the protected value (MutexGuard::map).
template <class U>
class MappedMutexGuard {
 public:
  MappedMutexGuard(detail::BatchSemaphore* s, U* v) noexcept : s_(s), v_(v) {}
  MappedMutexGuard(MappedMutexGuard&& o) noexcept
      : s_(std::exchange(o.s_, nullptr)), v_(std::exchange(o.v_, nullptr)) {}
  MappedMutexGuard& operator=(MappedMutexGuard&&) = delete;
  ~MappedMutexGuard() {
    if (s_) s_->release(1);
  }
  U& operator*() const noexcept { return *v_; }
  U* operator->() const noexcept { return v_; }

 private:
  detail::BatchSemaphore* s_;
  U* v_;
};

template <class T>
class [[nodiscard]] MutexGuard {
 public:
  explicit MutexGuard(Mutex<T>* m) noexcept : m_(m) {}
  MutexGuard(MutexGuard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  MutexGuard& operator=(MutexGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  ~MutexGuard() { unlock(); }

  T& operator*() const noexcept { return m_->value_; }
  T* operator->() const noexcept { return &m_->value_; }
  Mutex<T>* mutex() const noexcept { return m_; }

  // Narrows the guard to a part of the value: map(std::move(g), [](T& v) { return &v.x; }).
  template <class F>
  static auto map(MutexGuard&& g, F&& f) {
    using P = std::invoke_result_t<F, T&>;
    static_assert(std::is_pointer_v<P>, "MutexGuard::map: the function must return a pointer");
    P p = std::forward<F>(f)(*g);
    Mutex<T>* m = std::exchange(g.m_, nullptr);
    return MappedMutexGuard<std::remove_pointer_t<P>>(&m->sem_, p);
  }

 private:
  void unlock() noexcept {
    if (auto* m = std::exchange(m_, nullptr)) m->sem_.release(1);
  }
  Mutex<T>* m_;
};

template <class T>
class [[nodiscard]] OwnedMutexGuard {
 public:
  explicit OwnedMutexGuard(std::shared_ptr<Mutex<T>> m) noexcept : m_(std::move(m)) {}
  OwnedMutexGuard(OwnedMutexGuard&& o) noexcept = default;
  OwnedMutexGuard& operator=(OwnedMutexGuard&& o) noexcept {
    if (this != &o) {
      unlock();
      m_ = std::move(o.m_);
    }
    return *this;
  }
  ~OwnedMutexGuard() { unlock(); }

  T& operator*() const noexcept { return m_->value_; }
  T* operator->() const noexcept { return &m_->value_; }
  const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return m_; }

 private:
  void unlock() noexcept {
    if (m_) {
      m_->sem_.release(1);
      m_.reset();
    }
  }
  std::shared_ptr<Mutex<T>> m_;
};

template <class T>
class Mutex {
 public:
  Mutex() requires std::is_default_constructible_v<T> : sem_(1, Unchecked{}), value_() {}
  explicit Mutex(T value) : sem_(1, Unchecked{}), value_(std::move(value)) {}
  template <class... A>
  explicit Mutex(std::in_place_t, A&&... a) : sem_(1, Unchecked{}), value_(std::forward<A>(a)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  template <class Guard, class Owner>
  class LockAwaiter : public detail::Leaf<LockAwaiter<Guard, Owner>> {
   public:
    LockAwaiter(Owner owner, detail::BatchSemaphore* s) noexcept
        : owner_(std::move(owner)), op_(s, 1) {}
    LockAwaiter(const LockAwaiter& o) noexcept
        : detail::Leaf<LockAwaiter>(o), owner_(o.owner_), op_(o.op_) {}
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
  using Lock = LockAwaiter<MutexGuard<T>, Mutex*>;
  using LockOwned = LockAwaiter<OwnedMutexGuard<T>, std::shared_ptr<Mutex>>;

  // Waits for the lock; yields a MutexGuard<T>.
  Lock lock() noexcept { return Lock(this, &sem_); }
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
    return LockOwned(std::move(m), s);
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

 private:
  using Unchecked = detail::BatchSemaphore::Unchecked;
  friend class MutexGuard<T>;
  friend class OwnedMutexGuard<T>;

  detail::BatchSemaphore sem_;
  T value_;
};

}  // namespace tokio::sync
