#pragma once
// process::ExitStatus and process::Output: how a child process ended, and what it wrote.
//
//   auto st = co_await child.wait();            // io::Result<ExitStatus>
//   if (st && st->success()) ...
//   st->code()          // std::optional<int>: the exit code, when it exited normally
//   st->signal()        // std::optional<int>: the signal that terminated it
//   st->to_string()     // "exit status: 3", "signal: 9 (SIGKILL)", "signal: 11 (SIGSEGV) (core dumped)"
//   std::cout << *st    // the same text (Rust's Display)
//
// ExitStatus wraps the raw wait status (waitpid's int), as Rust's ExitStatus does on Unix
// (from_raw / into_raw); Output holds stdout and stderr as std::string (bytes, not
// necessarily text; Rust: Vec<u8>).

#include <optional>
#include <string>
#include <type_traits>

#include "tokio/core/display.hpp"

namespace tokio::process {

class ExitStatus {
 public:
  // A status that reports success (exit code 0).
  constexpr ExitStatus() noexcept = default;
  static constexpr ExitStatus from_raw(int raw) noexcept { return ExitStatus(raw); }
  constexpr int into_raw() const noexcept { return raw_; }

  // Exited normally with code 0: a raw status of 0, as std's (so from_raw(0x10000), whose
  // code() is 0, is not a success).
  bool success() const noexcept;
  // The exit code (0-255) when the process exited normally.
  std::optional<int> code() const noexcept;
  // The signal that terminated the process.
  std::optional<int> signal() const noexcept;
  // Terminated by a signal and dumped core.
  bool core_dumped() const noexcept;
  // Stopped by this signal (only seen with waitpid(WUNTRACED), never by wait()).
  std::optional<int> stopped_signal() const noexcept;
  bool continued() const noexcept;

  // "exit status: N", "signal: N (SIGNAME)", with " (core dumped)" when it did: std's
  // Display, which names only the classic signals ("signal: 34" for SIGRTMIN).
  std::string to_string() const;

  friend constexpr bool operator==(ExitStatus, ExitStatus) noexcept = default;

 private:
  constexpr explicit ExitStatus(int raw) noexcept : raw_(raw) {}
  int raw_ = 0;
};

// What Command::output() and Child::wait_with_output() collect.
struct Output {
  ExitStatus status;
  std::string stdout;
  std::string stderr;
};

// `os << status` (and, with TOKIO_CONFIG_STD_FORMAT, std::format): its to_string().
using detail::operator<<;

}  // namespace tokio::process

namespace tokio::detail {
template <>
struct enable_display<process::ExitStatus> : std::true_type {};
}  // namespace tokio::detail
