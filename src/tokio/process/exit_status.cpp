#include "tokio/process/exit_status.hpp"

#include <sys/wait.h>

#include <cstdio>

#include "tokio/signal/errors.hpp"

namespace tokio::process {

// As std's: only a raw status of 0 (from_raw may set bits above the 16 a wait status uses,
// which WEXITSTATUS would ignore).
bool ExitStatus::success() const noexcept { return raw_ == 0; }

std::optional<int> ExitStatus::code() const noexcept {
  if (WIFEXITED(raw_)) return WEXITSTATUS(raw_);
  return std::nullopt;
}

std::optional<int> ExitStatus::signal() const noexcept {
  if (WIFSIGNALED(raw_)) return WTERMSIG(raw_);
  return std::nullopt;
}

bool ExitStatus::core_dumped() const noexcept { return WIFSIGNALED(raw_) && WCOREDUMP(raw_); }

std::optional<int> ExitStatus::stopped_signal() const noexcept {
  if (WIFSTOPPED(raw_)) return WSTOPSIG(raw_);
  return std::nullopt;
}

bool ExitStatus::continued() const noexcept { return WIFCONTINUED(raw_); }

namespace exit_status_impl {
// " (SIGKILL)" for the signals std's Display names, nothing for the others (a real-time
// signal shows as its bare number there).
std::string named(int sig) {
  const char* a = tokio::detail::signal_abbrev(sig);
  return a ? std::string(" (") + a + ")" : std::string();
}
}  // namespace exit_status_impl

// Rust std's Display of ExitStatus, word for word.
std::string ExitStatus::to_string() const {
  if (auto c = code()) return "exit status: " + std::to_string(*c);
  if (auto s = signal()) {
    std::string r = "signal: " + std::to_string(*s) + exit_status_impl::named(*s);
    if (core_dumped()) r += " (core dumped)";
    return r;
  }
  if (auto s = stopped_signal()) {
    return "stopped (not terminated) by signal: " + std::to_string(*s) +
           exit_status_impl::named(*s);
  }
  if (continued()) return "continued (WIFCONTINUED)";
  char hex[16];
  std::snprintf(hex, sizeof hex, "%#x", static_cast<unsigned>(raw_));
  return "unrecognised wait status: " + std::to_string(raw_) + " " + hex;
}

}  // namespace tokio::process
