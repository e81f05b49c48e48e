#pragma once
// ClosureOp: the operation behind try_io / async_io on AsyncFd and on the sockets. It runs a
// caller's closure `f() -> io::Result<R>` (which does the system call itself on the raw fd);
// a would-block error becomes -EAGAIN for the registration, which then clears the readiness
// it saw and, for async_io, waits for the next readiness event. Any other outcome is the
// caller's own, returned as is.

#include <cerrno>
#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/io/interest.hpp"

namespace tokio::io {

// True for the error a non-blocking call gives when it would have to wait.
inline bool is_would_block(const std::error_code& e) noexcept {
  return e == std::errc::resource_unavailable_try_again || e == std::errc::operation_would_block;
}

}  // namespace tokio::io

namespace tokio::detail {

template <class F>
struct ClosureOp : OpBase {
  using R = std::invoke_result_t<F&>;
  F f;
  std::optional<R> out;
  explicit ClosureOp(F fn) : f(std::move(fn)) {}
  ClosureOp(const ClosureOp& o) : f(o.f) {}
  int64_t operator()() noexcept {
    R r = f();
    if (!r && io::is_would_block(r.error())) return -EAGAIN;
    out.emplace(std::move(r));
    return 0;
  }
  R finish(int64_t res) {
    if (out) return std::move(*out);
    return io_unexpected(res);
  }
};

// Runs f once if `io` looks ready for `interest` (EAGAIN as an error otherwise, and after a
// would-block result, with the readiness cleared).
template <class F>
auto try_io_closure(ScheduledIo* io, io::Interest interest, F f) -> std::invoke_result_t<F&> {
  ClosureOp<F> op(std::move(f));
  int64_t r = try_io_once(io, interest.mask(), op);
  return op.finish(r);
}

// Waits for `interest` and runs f until it does not report would-block.
template <class F>
auto async_io_closure(ScheduledIo* io, io::Interest interest, F f) {
  return IoOp<ClosureOp<F>>(io, interest, ClosureOp<F>(std::move(f)));
}

// try_io / async_io as members of an I/O object (Tokio's names on its sockets): Self
// befriends UserIo<Self> and keeps its registration in `sock_` (a PollSocket).
template <class Self>
class UserIo {
 public:
  // Runs f() -> io::Result<R> (a system call of the caller's own on as_raw_fd()) once if
  // the object looks ready for `interest`; EAGAIN otherwise. A would-block result from f
  // clears the readiness, so the next readable()/writable() waits for a new event.
  template <class F>
  auto try_io(io::Interest interest, F f) {
    return try_io_closure(target(), interest, std::move(f));
  }
  // Waits for `interest` and runs f until it stops reporting would-block. Cancel-safe when
  // f is (f runs only once the object is ready).
  template <class F>
  auto async_io(io::Interest interest, F f) {
    return async_io_closure(target(), interest, std::move(f));
  }

 private:
  ScheduledIo* target() const noexcept { return static_cast<const Self*>(this)->sock_.io(); }
};

}  // namespace tokio::detail
