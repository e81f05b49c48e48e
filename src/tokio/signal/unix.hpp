#pragma once
// signal::unix::signal(kind) and Signal: a stream of deliveries of one Unix signal.
//
//   auto term = tokio::signal::unix::signal(SignalKind::terminate());   // io::Result<Signal>
//   if (!term) ...;                                                     // e.g. SIGKILL refused
//   for (;;) {
//     co_await term->recv();                                            // the next SIGTERM
//     ...
//   }
//
// Semantics, as Tokio's:
//   - every listener of a signal is woken by each delivery (any number of Signals, on any
//     runtimes of the process);
//   - deliveries between two recv()s coalesce into one: recv() reports "at least one
//     delivery since the last recv" (the OS itself coalesces a signal still pending);
//   - a listener only sees deliveries made after it was created;
//   - the first listener of a signal installs a process-wide handler FOR THE LIFE OF THE
//     PROCESS: dropping every Signal does not restore the previous disposition. The
//     signal's default action is replaced: after signal(SignalKind::interrupt()), Ctrl-C
//     no longer terminates the process even once no Signal is left. A handler installed
//     before ours (sigaction, plain or SA_SIGINFO) still runs, after ours; one installed
//     after ours replaces it (then no listener sees the signal).
//   - no thread needs to block the signal; the handler only sets a flag and writes to an
//     eventfd that the runtime's reactor watches (see signal/detail/registry.hpp).
//
// signal() needs a runtime with the I/O driver (std::logic_error otherwise) and refuses
// SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE and SIGBUS (see signal/errors.hpp).
//
// recv() is cancel-safe: a recv destroyed before it completes (select, timeout, abort)
// consumes nothing, and the next recv still reports the delivery. A Signal must not be
// moved or destroyed while a recv on it is in flight, and serves one recv at a time (a
// second recv awaited while one is pending throws std::logic_error).

#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/signal/errors.hpp"
#include "tokio/signal/signal_kind.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/signal/detail/registry.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::signal::unix {
class Signal;
}  // namespace tokio::signal::unix

namespace tokio::detail {

// Signal::recv(): true once a delivery arrived; false at once on a moved-from Signal
// (Tokio's recv() -> Option<()>: Some(()) / None). One recv at a time per Signal (Rust's
// `&mut self`): a second one polled while another is pending completes at once and throws
// std::logic_error from the co_await, rather than racing the first over the listener's
// state (which two runtimes' threads would do unsynchronised).
class TOKIO_MUST_AWAIT SignalRecvOp : public Leaf<SignalRecvOp> {
 public:
  explicit SignalRecvOp(SignalListener* l) noexcept : l_(l) {}
  SignalRecvOp(const SignalRecvOp& o) noexcept : Leaf<SignalRecvOp>(o), l_(o.l_) {}
  ~SignalRecvOp() {
    signal_cancel_recv(*l_, node_);
    claim_.release(l_->recv_use, this);
  }
  bool poll(task::Context& cx) noexcept {
    return claim_.poll(l_->recv_use, this, true, [&] { return signal_poll_recv(*l_, node_, cx); });
  }
  // Leaf's try_poll: a delivery not yet seen, found without waiting on anything.
  bool try_poll() noexcept {
    return claim_.poll(l_->recv_use, this, false, [&] { return signal_try_recv(*l_, node_); });
  }
  bool await_resume() const {
    if (claim_.refused) {
      throw_misuse(
          "signal::unix::Signal::recv: a second recv() was awaited on one Signal while "
          "another is pending (a Signal serves one recv at a time): await them one after "
          "the other, or give each task a Signal of its own (signal(kind) again)");
    }
    return l_->sig != 0;
  }

 private:
  SignalListener* l_;
  SignalRecvNode node_;
  RefusableClaim claim_;  // of the Signal (SignalListener::recv_use)
};

// signal::unix::signal, its errors naming `what` (the public call the user made: ctrl_c).
io::Result<signal::unix::Signal> make_signal(signal::unix::SignalKind kind, const char* what);

}  // namespace tokio::detail

namespace tokio::signal::unix {

class Signal {
 public:
  Signal(Signal&& o) noexcept : l_(detail::exchange(o.l_, detail::SignalListener{})) {}
  Signal& operator=(Signal&& o) noexcept {
    if (this != &o) {
      detail::signal_listener_release(l_);
      l_ = detail::exchange(o.l_, detail::SignalListener{});
    }
    return *this;
  }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal() { detail::signal_listener_release(l_); }

  // Waits for the next delivery (bool: true, or false on a moved-from Signal). Cancel-safe.
  detail::SignalRecvOp recv() noexcept { return detail::SignalRecvOp(&l_); }

  // The signal number listened for (0 for a moved-from Signal).
  int signum() const noexcept { return l_.sig; }

 private:
  friend io::Result<Signal> tokio::detail::make_signal(tokio::signal::unix::SignalKind kind,
                                                       const char* what);
  Signal() noexcept = default;

  detail::SignalListener l_;
};

// Starts listening for `kind` (installing the process-wide handler on first use).
io::Result<Signal> signal(SignalKind kind);

}  // namespace tokio::signal::unix
