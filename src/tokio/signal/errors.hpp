#pragma once
// Errors of tokio::signal, and signal names.
//
// signal::unix::signal() refuses SIGKILL and SIGSTOP (they cannot be caught) and the
// synchronous faults SIGSEGV, SIGILL, SIGFPE and SIGBUS (a handler that returns restarts
// the faulting instruction, so a listener could never run). The error it returns has the
// "tokio.signal" category, the signal number as its value, a message naming the signal,
// and compares equal to std::errc::invalid_argument:
//
//   auto s = signal::unix::signal(SignalKind::from_raw(SIGKILL));
//   s.error() == std::errc::invalid_argument      // true
//   s.error().message()                           // "refusing to listen for SIGKILL: ..."
//
// A number outside 1..SIGRTMAX gets the same kind of error, whose message says so:
// "refusing to listen for signal 1000: not a signal number (1 to 64)".

#include <string>
#include <system_error>

namespace tokio::signal {

const std::error_category& signal_category() noexcept;

// The error's value for signal number 0 (a zero error_code would read as "no error").
inline constexpr int kRefusedSignalZero = -0x7fffffff - 1;

// The error for a signal that signal() refuses (the value is the signal number, except
// for 0: kRefusedSignalZero).
inline std::error_code refused_signal_error(int signum) noexcept {
  return {signum != 0 ? signum : kRefusedSignalZero, signal_category()};
}

}  // namespace tokio::signal

namespace tokio::detail {

// "SIGINT", "SIGRTMIN+3", or "signal 99" for a number with no name.
std::string signal_name(int signum);
// The classic name ("SIGINT"), for SIGHUP..SIGSYS (with SIGSTKFLT and SIGPWR) only: the
// signals Rust's std names in an ExitStatus; nullptr for a real-time or unknown number.
const char* signal_abbrev(int signum) noexcept;

// True for the signals signal() refuses: SIGKILL, SIGSTOP, the synchronous faults, and
// the numbers between SIGSYS and SIGRTMIN, which the C library keeps for its threads.
bool signal_is_forbidden(int signum) noexcept;

}  // namespace tokio::detail
