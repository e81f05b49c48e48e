#pragma once
// sync::OnceCell<T>: a value set at most once, possibly by an async initializer.
//
//   tokio::sync::OnceCell<Config> cell;
//   const Config& c = co_await cell.get_or_init([]() -> tokio::Task<Config> {
//     co_return co_await load_config();
//   });
//
// Concurrent get_or_init calls run one initializer at a time: the others wait (FIFO) and
// get the value once it is set. If the running initializer throws or is cancelled, the
// next waiter runs its own. Internally a one-permit semaphore that is closed once the
// value is set (Tokio's design): waiters woken by the close read the value.
//
// Cancel safety: get_or_init is cancel-safe in that a cancelled call never leaves the cell
// half-initialized; a cancelled initializer lets the next caller initialize.

#include <atomic>
#include <memory>  // libstdc++ defines std::reference_wrapper here (bits/refwrap.h)
#if !defined(__GLIBCXX__)
#include <functional>  // elsewhere only <functional> promises it
#endif
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"
#include "tokio/sync/semaphore.hpp"
#include "tokio/core/detail/invoke.hpp"
#include "tokio/core/task.hpp"

namespace tokio::sync {

template <class T>
class OnceCell {
 public:
  OnceCell() noexcept : sem_(1, detail::BatchSemaphore::Unchecked{}) {}
  explicit OnceCell(T value) : sem_(1, detail::BatchSemaphore::Unchecked{}) {
    emplace(std::move(value));
  }
  OnceCell(const OnceCell&) = delete;
  OnceCell& operator=(const OnceCell&) = delete;
  ~OnceCell() {
    if (initialized()) value_.~T();
  }

  bool initialized() const noexcept { return init_.load(std::memory_order_acquire); }
  // The value, or nullptr while the cell is empty.
  const T* get() const noexcept { return initialized() ? &value_ : nullptr; }
  // Mutable access for the cell's exclusive owner.
  T* get_mut() noexcept { return initialized() ? &value_ : nullptr; }

  // Sets the value unless the cell is initialized (AlreadyInitialized) or an initializer
  // is running right now (InitializingError); the value is returned in the error.
  Result<void, SetError<T>> set(T value) {
    if (initialized())
      return unexpected(SetError<T>{SetError<T>::Kind::AlreadyInitialized, std::move(value)});
    if (sem_.try_acquire(1) != detail::BatchSemaphore::TryResult::Ok) {
      auto k = initialized() ? SetError<T>::Kind::AlreadyInitialized
                             : SetError<T>::Kind::InitializingError;
      return unexpected(SetError<T>{k, std::move(value)});
    }
    emplace(std::move(value));
    return {};
  }

  // Returns the value, running `init(args...)` (which returns a tokio::Task<T> or another
  // tokio awaitable yielding T) if the cell is empty. The arguments are copied into the
  // operation (decayed), as spawn's: under g++ 12 pass state this way, with a capture-less
  // lambda (`get_or_init([](std::shared_ptr<Db> db) -> Task<Conf> { ... }, db)`), rather
  // than as a capturing lambda written inside the co_await, which meets the aggregate-
  // temporary bug (README, Compilers: its captures are destroyed twice).
  template <class F, class... Args>
  Task<std::reference_wrapper<const T>> get_or_init(F init, Args... args) {
    if (initialized()) co_return std::cref(value_);
    auto permit = co_await Semaphore::Acquire(&sem_, 1, {&sem_});
    if (!permit) co_return std::cref(value_);  // closed: another call set the value
    T v = co_await detail::invoke(init, args...);
    emplace(std::move(v));
    permit->forget();  // the semaphore is closed now; nothing to give back
    co_return std::cref(value_);
  }

  // Like get_or_init, with an initializer yielding Result<T, E>: an error is returned and
  // leaves the cell empty (the next caller tries again).
  template <class F, class... Args>
  auto get_or_try_init(F init, Args... args) -> Task<
      Result<std::reference_wrapper<const T>,
             typename detail::await_result_t<std::invoke_result_t<F&, Args&...>>::error_type>> {
    if (initialized()) co_return std::cref(value_);
    auto permit = co_await Semaphore::Acquire(&sem_, 1, {&sem_});
    if (!permit) co_return std::cref(value_);
    auto r = co_await detail::invoke(init, args...);
    if (!r.has_value()) co_return unexpected(std::move(r).error());
    emplace(std::move(*r));
    permit->forget();
    co_return std::cref(value_);
  }

  // Takes the value out, leaving the cell empty (exclusive owner only). Not inlined: into
  // a caller that has just made the cell, g++ 12 -O2 cannot see through the atomic flag
  // and reports the unset union member as "may be used uninitialized" (an error under
  // -Werror; `std::move(OnceCell<int>()).into_inner()` in sync_notify_test did).
  TOKIO_NOINLINE std::optional<T> take() {
    if (!initialized()) return std::nullopt;
    std::optional<T> out(std::move(value_));
    value_.~T();
    init_.store(false, std::memory_order_release);
    sem_.~BatchSemaphore();
    new (&sem_) detail::BatchSemaphore(1, detail::BatchSemaphore::Unchecked{});
    return out;
  }
  // Tokio's into_inner: the value, or nullopt when the cell was never set (consumes it:
  // `std::move(cell).into_inner()`).
  std::optional<T> into_inner() && { return take(); }

 private:
  void emplace(T&& v) {
    new (&value_) T(std::move(v));
    init_.store(true, std::memory_order_release);
    sem_.close();  // wakes every waiting get_or_init: they read the value
  }

  std::atomic<bool> init_{false};
  detail::BatchSemaphore sem_;
  union {
    T value_;
  };
};

}  // namespace tokio::sync
