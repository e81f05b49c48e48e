#pragma once
// signal::unix::SignalKind: which Unix signal a Signal listens for (Tokio's SignalKind).
//
//   auto s = tokio::signal::unix::signal(SignalKind::terminate());
//   auto rt = SignalKind::from_raw(SIGRTMIN + 1);   // any signal number
//
// <csignal> gives the signal numbers; it is a small standard header.

#include <csignal>

namespace tokio::signal::unix {

class SignalKind {
 public:
  // Any signal number. signal() refuses the ones that cannot be caught (SIGKILL, SIGSTOP),
  // the synchronous faults (SIGSEGV, SIGILL, SIGFPE, SIGBUS) and numbers out of range.
  static constexpr SignalKind from_raw(int signum) noexcept { return SignalKind(signum); }

  static constexpr SignalKind alarm() noexcept { return SignalKind(SIGALRM); }
  static constexpr SignalKind child() noexcept { return SignalKind(SIGCHLD); }
  static constexpr SignalKind hangup() noexcept { return SignalKind(SIGHUP); }
  static constexpr SignalKind interrupt() noexcept { return SignalKind(SIGINT); }
  static constexpr SignalKind io() noexcept { return SignalKind(SIGIO); }
  static constexpr SignalKind pipe() noexcept { return SignalKind(SIGPIPE); }
  static constexpr SignalKind quit() noexcept { return SignalKind(SIGQUIT); }
  static constexpr SignalKind terminate() noexcept { return SignalKind(SIGTERM); }
  static constexpr SignalKind user_defined1() noexcept { return SignalKind(SIGUSR1); }
  static constexpr SignalKind user_defined2() noexcept { return SignalKind(SIGUSR2); }
  static constexpr SignalKind window_change() noexcept { return SignalKind(SIGWINCH); }

  constexpr int as_raw_value() const noexcept { return signum_; }
  friend constexpr bool operator==(SignalKind, SignalKind) noexcept = default;

 private:
  constexpr explicit SignalKind(int s) noexcept : signum_(s) {}
  int signum_;
};

}  // namespace tokio::signal::unix
