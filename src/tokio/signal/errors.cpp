#include "tokio/signal/errors.hpp"

#include <csignal>
#include <string>

namespace tokio::detail::signal_errors_impl {

const char* abbrev(int s) noexcept {
  switch (s) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
#ifdef SIGSTKFLT
    case SIGSTKFLT: return "SIGSTKFLT";
#endif
    case SIGCHLD: return "SIGCHLD";
    case SIGCONT: return "SIGCONT";
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGURG: return "SIGURG";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPROF: return "SIGPROF";
    case SIGWINCH: return "SIGWINCH";
    case SIGIO: return "SIGIO";
#ifdef SIGPWR
    case SIGPWR: return "SIGPWR";
#endif
    case SIGSYS: return "SIGSYS";
    default: return nullptr;
  }
}

class SignalCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.signal"; }
  std::string message(int value) const override {
    int sig = value == signal::kRefusedSignalZero ? 0 : value;
    std::string n = signal_name(sig);
    if (sig < 1 || sig > SIGRTMAX) {
      return "refusing to listen for " + n + ": not a signal number (1 to " +
             std::to_string(SIGRTMAX) + ")";
    }
    if (sig == SIGKILL || sig == SIGSTOP) {
      return "refusing to listen for " + n + ": it cannot be caught or ignored";
    }
    if (sig > SIGSYS && sig < SIGRTMIN) {
      return "refusing to listen for " + n +
             ": the C library keeps it for its own threads (programs' real-time signals are "
             "SIGRTMIN, " +
             std::to_string(SIGRTMIN) + ", to SIGRTMAX)";
    }
    if (signal_is_forbidden(sig)) {
      return "refusing to listen for " + n +
             ": it is a synchronous fault (the faulting instruction would run again as soon "
             "as a handler returned)";
    }
    return "refusing to listen for " + n;
  }
  std::error_condition default_error_condition(int) const noexcept override {
    return std::errc::invalid_argument;
  }
};

}  // namespace tokio::detail::signal_errors_impl

namespace tokio::signal {

const std::error_category& signal_category() noexcept {
  static const detail::signal_errors_impl::SignalCategory cat;
  return cat;
}

}  // namespace tokio::signal

namespace tokio::detail {

std::string signal_name(int signum) {
  if (const char* a = signal_errors_impl::abbrev(signum)) return a;
  if (signum >= SIGRTMIN && signum <= SIGRTMAX) {
    if (signum == SIGRTMIN) return "SIGRTMIN";
    if (signum == SIGRTMAX) return "SIGRTMAX";
    return "SIGRTMIN+" + std::to_string(signum - SIGRTMIN);
  }
  return "signal " + std::to_string(signum);
}

const char* signal_abbrev(int signum) noexcept { return signal_errors_impl::abbrev(signum); }

bool signal_is_forbidden(int signum) noexcept {
  return signum == SIGKILL || signum == SIGSTOP || signum == SIGSEGV || signum == SIGILL ||
         signum == SIGFPE || signum == SIGBUS || (signum > SIGSYS && signum < SIGRTMIN);
}

}  // namespace tokio::detail
