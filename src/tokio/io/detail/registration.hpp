#pragma once
// Registration: one fd registered with the current runtime's reactor, and the leaf
// awaitables every I/O object is built from.
//
//   IoOp<Op>        waits until the fd is ready for the op's interest, runs one syscall
//                   attempt, and on EAGAIN clears readiness (with the observed tick) and
//                   waits again. The result is the op's finish(r).
//   ReadinessAwait  waits for readiness only (readable(), writable(), AsyncFd guards).
//   try_io_once     the non-waiting form (try_read, try_write...): EAGAIN when not ready.
//
// An attempt's raw result is an int64_t: >= 0 success value, < 0 a negated errno, or
// kIoShutdown. Every awaitable spends one unit of coop budget per poll, and unregisters its
// waiter node in its destructor, so destroying a suspended operation (abort, select,
// timeout) leaves nothing behind in the reactor.
//
// A Registration holds a reference on its runtime, so the driver outlives every fd it
// serves even when the Runtime object is dropped first (operations then fail with
// io::ReactorErrc::shutdown).

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/reactor_error.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/io/detail/scheduled_io.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

class IoDriver;

inline constexpr int64_t kIoShutdown = INT64_MIN;

inline std::error_code io_error_code(int64_t r) noexcept {
  if (r == kIoShutdown) return make_error_code(io::ReactorErrc::shutdown);
  return {static_cast<int>(-r), std::system_category()};
}
inline tokio::unexpected<std::error_code> io_unexpected(int64_t r) noexcept {
  return tokio::unexpected(io_error_code(r));
}
// The usual finish: a byte count.
inline io::Result<std::size_t> finish_size(int64_t r) noexcept {
  if (r < 0) return io_unexpected(r);
  return static_cast<std::size_t>(r);
}

class Registration {
 public:
  Registration() noexcept = default;
  // Registers `fd` with the reactor of the runtime this thread is in, with `ready`
  // (io::Ready bits) assumed until an operation sees EAGAIN. Throws std::logic_error
  // (naming `what`) outside a runtime or when it has no I/O driver.
  static io::Result<Registration> create(int fd, io::Interest interest, const char* what,
                                         uint32_t ready = 0);

  Registration(Registration&& o) noexcept
      : driver_(detail::exchange(o.driver_, nullptr)),
        handle_(detail::exchange(o.handle_, nullptr)),
        io_(detail::exchange(o.io_, nullptr)),
        fd_(detail::exchange(o.fd_, -1)) {}
  Registration& operator=(Registration&& o) noexcept {
    if (this != &o) {
      (void)deregister();
      driver_ = detail::exchange(o.driver_, nullptr);
      handle_ = detail::exchange(o.handle_, nullptr);
      io_ = detail::exchange(o.io_, nullptr);
      fd_ = detail::exchange(o.fd_, -1);
    }
    return *this;
  }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration() { (void)deregister(); }

  // Removes the fd from epoll (it must still be open). Idempotent.
  io::Result<void> deregister() noexcept;

  ScheduledIo* io() const noexcept { return io_; }
  int fd() const noexcept { return fd_; }
  // Whether this registration is with the reactor of `h`'s runtime.
  bool on(const HandleInner* h) const noexcept { return handle_ == h; }
  explicit operator bool() const noexcept { return io_ != nullptr; }

 private:
  IoDriver* driver_ = nullptr;
  HandleInner* handle_ = nullptr;  // one reference, keeps the driver alive
  ScheduledIo* io_ = nullptr;
  int fd_ = -1;
};

// Runs `op` once if the registration looks ready for `mask`; EAGAIN otherwise (and clears
// the readiness when the syscall itself says EAGAIN).
template <class Op>
int64_t try_io_once(ScheduledIo* io, uint32_t mask, Op& op) noexcept {
  if (!io) return -EBADF;
  uint32_t snap = io->load();
  if (snap & ScheduledIo::kShutdown) return kIoShutdown;
  if (!(snap & mask)) return -EAGAIN;
  int64_t r = op();
  if (r == -EAGAIN || (r > 0 && op.drained(r))) io->clear_readiness(snap, mask);
  return r;
}

// Base for op functors: no success proves readiness consumed unless the op says so, and
// every op waits for readiness unless it has nothing to do (a stream read into an empty
// buffer completes with 0 at once, as POSIX read(2) and a 0-byte write do).
struct OpBase {
  bool drained(int64_t) const noexcept { return false; }
  bool nothing_to_do() const noexcept { return false; }
};

template <class Op>
class TOKIO_MUST_AWAIT IoOp : public Leaf<IoOp<Op>> {
 public:
  static constexpr const char* kLeafName = leaf_name_of<Op>();  // "socket recv", ...
  IoOp(ScheduledIo* io, io::Interest interest, Op op) noexcept
      : io_(io), waiter_(interest.mask()), op_(std::move(op)) {
    if (io) waiter_.gen = io->generation();
  }
  IoOp(const IoOp& o) noexcept : Leaf<IoOp>(o), io_(o.io_), waiter_(o.waiter_), op_(o.op_) {}
  ~IoOp() {
    if (io_) io_->remove_waiter(waiter_);
  }

  bool poll(task::Context& cx) noexcept {
    if (TOKIO_UNLIKELY(!io_)) {
      res_ = -EBADF;  // a moved-from or closed I/O object
      return true;
    }
    if (TOKIO_UNLIKELY(op_.nothing_to_do())) {
      res_ = 0;
      return true;
    }
    if (!coop_poll_proceed(cx)) return false;
    for (;;) {
      uint32_t snap;
      if (!io_->poll_ready(cx, waiter_, snap)) return false;
      if (TOKIO_UNLIKELY(snap & ScheduledIo::kShutdown)) {
        res_ = kIoShutdown;
        break;
      }
      int64_t r = op_();
      if (r == -EAGAIN) {
        io_->clear_readiness(snap, waiter_.mask);
        uint32_t now = io_->load();
        if (TOKIO_UNLIKELY((now & ScheduledIo::kTickMask) == (snap & ScheduledIo::kTickMask) &&
                           ScheduledIo::is_ready(now, waiter_.mask))) {
          // Only final states (hang-up, error) keep it "ready", yet the syscall would
          // block (an odd device, or a user closure's own EAGAIN): yield and retry later
          // instead of spinning inside this poll and starving the worker.
          defer_wake(cx);
          return false;
        }
        continue;
      }
      if (r > 0 && op_.drained(r)) io_->clear_readiness(snap, waiter_.mask);
      res_ = r;
      break;
    }
    io_->remove_waiter(waiter_);
    return true;
  }
  // (poll spells out attempt() and ScheduledIo::try_ready itself: built on them, it took
  // 0.6-1.4 M more instructions in a callgrind of `bench net echo 2 1`, 1% of the run.)
  //
  // Leaf's try_poll: the operation runs only when the readiness word already says ready,
  // and its EAGAIN clears that readiness as poll's does; nothing is linked either way. A
  // waiter an earlier poll linked (a borrowed operation that lost a select) is unlinked
  // once the operation completes, as poll does.
  bool try_poll() noexcept {
    if (TOKIO_UNLIKELY(completes_at_once())) return true;
    return coop_try([&] {
      uint32_t snap;
      if (!io_->try_ready(waiter_, snap) || !attempt(snap)) return false;
      io_->remove_waiter(waiter_);
      return true;
    });
  }

  decltype(auto) await_resume() { return op_.finish(res_); }

 private:
  // A moved-from or closed I/O object (EBADF), or an operation with nothing to do (0):
  // done without waiting or budget.
  bool completes_at_once() noexcept {
    if (!io_) res_ = -EBADF;
    else if (op_.nothing_to_do()) res_ = 0;
    else return false;
    return true;
  }
  // Runs the operation on a snapshot that says ready (or shut down): true with its result
  // in res_; false when the syscall said EAGAIN, the readiness it saw then cleared.
  bool attempt(uint32_t snap) noexcept {
    if (TOKIO_UNLIKELY(snap & ScheduledIo::kShutdown)) {
      res_ = kIoShutdown;
      return true;
    }
    int64_t r = op_();
    if (r == -EAGAIN) {
      io_->clear_readiness(snap, waiter_.mask);
      return false;
    }
    if (r > 0 && op_.drained(r)) io_->clear_readiness(snap, waiter_.mask);
    res_ = r;
    return true;
  }

  ScheduledIo* io_;
  IoWaiter waiter_;
  Op op_;
  int64_t res_ = 0;
};

// What a readiness wait observed: the readiness word (ready bits, tick, shutdown).
struct ReadyEvent {
  uint32_t snapshot = 0;
  uint32_t mask = 0;
  io::Ready ready() const noexcept {
    if (snapshot & ScheduledIo::kShutdown) return io::Ready::from_bits(mask);
    uint32_t r = snapshot & mask;
    // An error event alone (EPOLLERR: a UDP socket's ICMP error) satisfies any interest:
    // the operation surfaces the error, which clears it. Reported as ERROR only, it read as
    // neither readable nor writable, so the loop Tokio documents (`if ready.is_readable()
    // { try_recv }`) never ran the operation and spun on ready() (helper-90: 300 million
    // returns in 2 s). The directions asked for are reported with it.
    if (r & io::Ready::kError) {
      r |= mask & (io::Ready::kReadable | io::Ready::kWritable | io::Ready::kPriority);
    }
    return io::Ready::from_bits(r);
  }
  bool is_shutdown() const noexcept { return snapshot & ScheduledIo::kShutdown; }
};

// Waits until the registration is ready for `interest`. Finish(ReadyEvent-or-error) maps
// the outcome to the awaitable's result type.
template <class Finish>
class TOKIO_MUST_AWAIT ReadinessAwait : public Leaf<ReadinessAwait<Finish>> {
 public:
  ReadinessAwait(ScheduledIo* io, io::Interest interest, Finish f = Finish()) noexcept
      : io_(io), waiter_(interest.mask()), finish_(std::move(f)) {
    if (io) waiter_.gen = io->generation();
  }
  ReadinessAwait(const ReadinessAwait& o) noexcept
      : Leaf<ReadinessAwait>(o), io_(o.io_), waiter_(o.waiter_), finish_(o.finish_) {}
  ~ReadinessAwait() {
    if (io_) io_->remove_waiter(waiter_);
  }

  bool poll(task::Context& cx) noexcept {
    if (TOKIO_UNLIKELY(!io_)) return true;
    if (!coop_poll_proceed(cx)) return false;
    return io_->poll_ready(cx, waiter_, ev_.snapshot) && settle();
  }
  // Leaf's try_poll: ready when the readiness word already says so; nothing is linked.
  bool try_poll() noexcept {
    if (TOKIO_UNLIKELY(!io_)) return true;
    return coop_try([&] { return io_->try_ready(waiter_, ev_.snapshot) && settle(); });
  }

  decltype(auto) await_resume() {
    if (!io_) return finish_(Event(tokio::unexpected(io_error_code(-EBADF))));
    if (ev_.is_shutdown()) return finish_(Event(io_unexpected(kIoShutdown)));
    return finish_(Event(ev_));
  }

 private:
  // io::Result<ReadyEvent>, spelled to wait for a use (core/config.hpp, dependent_t); so
  // are the Finish policies' parameter and result types below.
  using Event = dependent_t<Finish, io::Result<ReadyEvent>>;

  // Ready: the interest the readiness met, and out of the wait list.
  bool settle() noexcept {
    ev_.mask = waiter_.mask;
    io_->remove_waiter(waiter_);
    return true;
  }

  ScheduledIo* io_;
  IoWaiter waiter_;
  ReadyEvent ev_;
  Finish finish_;
};

struct FinishVoid {
  template <class Event>
  io::Result<void> operator()(Event r) const noexcept {
    if (!r) return tokio::unexpected(r.error());
    return {};
  }
};
struct FinishReady {
  template <class Event>
  dependent_t<Event, io::Result<io::Ready>> operator()(Event r) const noexcept {
    if (!r) return tokio::unexpected(r.error());
    return r->ready();
  }
};

// An awaitable that is ready at once with a stored value (flush on a socket, errors found
// before any waiting).
template <class T>
class TOKIO_MUST_AWAIT ReadyValue : public Leaf<ReadyValue<T>> {
 public:
  explicit ReadyValue(T v) : v_(std::move(v)) {}
  ReadyValue(const ReadyValue& o) : Leaf<ReadyValue>(o), v_(o.v_) {}
  bool poll(task::Context&) noexcept { return true; }
  T await_resume() { return std::move(v_); }

 private:
  T v_;
};

}  // namespace tokio::detail
