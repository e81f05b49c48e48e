#pragma once
// io::AsyncFd<T>: registers any non-blocking file descriptor with the reactor and waits for
// its readiness; the building block for I/O objects the library does not provide.
//
//   auto afd = tokio::io::AsyncFd<int>::create(fd);           // fd already O_NONBLOCK
//   for (;;) {
//     auto guard = co_await afd->readable();                  // io::Result<Guard>
//     if (!guard) co_return tokio::unexpected(guard.error());
//     auto r = guard->try_io([&](auto& a) -> io::Result<std::size_t> {
//       ssize_t n = ::read(a.as_raw_fd(), buf, sizeof buf);
//       if (n < 0) return io::last_os_error();
//       return std::size_t(n);
//     });
//     if (r) co_return *r;                                    // done (value or error)
//     // else: EAGAIN, readiness was cleared; wait again
//   }
//
// T is `int` (a raw fd the caller keeps ownership of) or any type with `int as_raw_fd()
// const`; AsyncFd owns the T and destroys it after deregistering. Readiness is edge-based:
// a guard says "the fd may be ready"; only clear_ready() (or try_io seeing EAGAIN) resets
// it, and a clear is ignored if a newer event arrived meanwhile.
//
// Cancel safety: readable(), writable(), ready() and async_io() are cancel-safe (nothing
// is consumed until the operation completes).
//
// After into_inner() or a move, an AsyncFd holds nothing: get_ref()/get_mut()/into_inner()
// throw std::logic_error, as_raw_fd() is -1, and readable()/writable()/ready()/async_io()/
// try_io() give an EBADF error without calling the closure.

#include <concepts>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/io/detail/closure_op.hpp"
#include "tokio/io/detail/registration.hpp"

namespace tokio::io {

template <class T>
concept AsRawFd = std::same_as<T, int> || requires(const T& t) {
  { t.as_raw_fd() } -> std::convertible_to<int>;
};

// try_io's "the operation would block" outcome (readiness has been cleared).
struct TryIoError {
  friend bool operator==(TryIoError, TryIoError) = default;
};

template <AsRawFd T>
class AsyncFd;

template <AsRawFd T>
class AsyncFdReadyGuard {
 public:
  AsyncFdReadyGuard(AsyncFd<T>* fd, detail::ReadyEvent ev) noexcept : fd_(fd), ev_(ev) {}

  // The readiness this guard observed.
  Ready ready() const noexcept { return ev_.ready(); }
  // Forgets the observed readiness: the next readable()/writable() waits for a new event.
  void clear_ready() noexcept { clear_ready_matching(Ready::ALL); }
  void clear_ready_matching(Ready r) noexcept {
    if (auto* io = fd_->reg_.io()) io->clear_readiness(ev_.snapshot, ev_.mask & r.bits());
  }
  // Keeps the readiness (the default when the guard is dropped).
  void retain_ready() noexcept {}

  // Runs f(AsyncFd<T>&) -> io::Result<R>. An EAGAIN/EWOULDBLOCK error clears the readiness
  // and gives TryIoError; any other outcome is returned as is.
  template <class F>
  auto try_io(F&& f) -> tokio::Result<std::invoke_result_t<F&, AsyncFd<T>&>, TryIoError> {
    auto r = f(*fd_);
    if (!r && is_would_block(r.error())) {
      clear_ready();
      return tokio::unexpected(TryIoError{});
    }
    return r;
  }

  AsyncFd<T>& get_ref() const noexcept { return *fd_; }
  T& get_inner() const noexcept { return fd_->get_ref(); }

 private:
  AsyncFd<T>* fd_;
  detail::ReadyEvent ev_;
};

namespace detail_afd {
template <AsRawFd T>
struct FinishGuard {
  AsyncFd<T>* fd;
  io::Result<AsyncFdReadyGuard<T>> operator()(io::Result<detail::ReadyEvent> r) const noexcept {
    if (!r) return tokio::unexpected(r.error());
    return AsyncFdReadyGuard<T>(fd, *r);
  }
};

}  // namespace detail_afd

template <AsRawFd T>
class AsyncFd {
 public:
  // Registers inner's fd (which must be non-blocking) for `interest`. Needs a runtime with
  // the I/O driver (throws std::logic_error otherwise).
  static Result<AsyncFd> create(T inner,
                                Interest interest = Interest::READABLE | Interest::WRITABLE) {
    int fd = raw_fd_of(inner);
    auto reg = detail::Registration::create(fd, interest, "io::AsyncFd::create");
    if (!reg) return tokio::unexpected(reg.error());
    return AsyncFd(std::move(inner), std::move(*reg), interest);
  }

  // A moved-from AsyncFd holds nothing (its optional is emptied, not left holding a
  // moved-from T).
  AsyncFd(AsyncFd&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : inner_(detail::exchange(o.inner_, std::nullopt)),
        reg_(std::move(o.reg_)),
        interest_(o.interest_) {}
  AsyncFd& operator=(AsyncFd&& o) noexcept(
      std::is_nothrow_move_constructible_v<T>&& std::is_nothrow_move_assignable_v<T>) {
    if (this != &o) {
      reg_ = std::move(o.reg_);  // deregisters ours first, while its fd is still open
      inner_ = detail::exchange(o.inner_, std::nullopt);
      interest_ = o.interest_;
    }
    return *this;
  }

  T& get_ref() { return held("get_ref"); }
  const T& get_ref() const { return held("get_ref"); }
  T& get_mut() { return held("get_mut"); }
  int as_raw_fd() const noexcept { return inner_ ? raw_fd_of(*inner_) : -1; }
  Interest interest() const noexcept { return interest_; }

  // Deregisters and hands the inner value back.
  T into_inner() && {
    T& inner = held("into_inner");
    (void)reg_.deregister();
    T v = std::move(inner);
    inner_.reset();
    return v;
  }

  // Waits until the fd may be readable / writable / ready for `interest`.
  auto readable() noexcept { return ready_guard(Interest::READABLE); }
  auto writable() noexcept { return ready_guard(Interest::WRITABLE); }
  auto ready(Interest interest) noexcept { return ready_guard(interest); }

  // Waits for `interest` and runs f(T&) -> io::Result<R> until it does not fail with
  // EAGAIN/EWOULDBLOCK (each would-block clears readiness first).
  // async_io(interest, f, args...) calls f(T&, args&...) with decayed copies of args kept
  // in the operation (so f can be a capture-less lambda; README, "Compilers").
  template <class F>
  auto async_io(Interest interest, F f) {
    return detail::async_io_closure(reg_.io(), interest, bind_inner(std::move(f)));
  }
  template <class F, class A, class... Rest>
  auto async_io(Interest interest, F f, A&& arg, Rest&&... rest) {
    return async_io(interest, [f = std::move(f), a = std::decay_t<A>(std::forward<A>(arg)),
                               ... r = std::decay_t<Rest>(std::forward<Rest>(rest))](T& t) mutable {
      return f(t, a, r...);
    });
  }
  // Runs f once if the fd looks ready for `interest`; EAGAIN (as an error) otherwise.
  template <class F>
  auto try_io(Interest interest, F f) -> std::invoke_result_t<F&, T&> {
    return detail::try_io_closure(reg_.io(), interest, bind_inner(std::move(f)));
  }

 private:
  friend class AsyncFdReadyGuard<T>;

  AsyncFd(T inner, detail::Registration reg, Interest interest)
      : inner_(std::move(inner)), reg_(std::move(reg)), interest_(interest) {}

  // f(T&) as the nullary closure the registration's ClosureOp runs. Empty (after
  // into_inner or a move), the registration is empty too, so the operation fails with EBADF
  // and never runs the closure.
  template <class F>
  auto bind_inner(F f) {
    T* inner = inner_ ? &*inner_ : nullptr;
    return [inner, f = std::move(f)]() mutable { return f(*inner); };
  }
  T& held(const char* what) {
    static_cast<const AsyncFd&>(*this).held(what);  // throws when empty
    return *inner_;
  }
  const T& held(const char* what) const {
    if (!inner_) {
      throw std::logic_error(std::string("io::AsyncFd::") + what +
                             ": this AsyncFd holds nothing (after into_inner() or a move); use "
                             "the AsyncFd it was moved into");
    }
    return *inner_;
  }
  static int raw_fd_of(const T& t) noexcept {
    if constexpr (std::is_same_v<T, int>) return t;
    else return static_cast<int>(t.as_raw_fd());
  }
  auto ready_guard(Interest interest) noexcept {
    return detail::ReadinessAwait<detail_afd::FinishGuard<T>>(reg_.io(), interest,
                                                              detail_afd::FinishGuard<T>{this});
  }

  // Declared before reg_: the registration is removed while the fd is still open.
  std::optional<T> inner_;
  detail::Registration reg_;
  Interest interest_;
};

}  // namespace tokio::io
