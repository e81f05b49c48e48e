#include "tokio/process/exit_status.hpp"

#include <sys/wait.h>

#include "tokio/signal/errors.hpp"

namespace tokio::process {

bool ExitStatus::success() const noexcept { return WIFEXITED(raw_) && WEXITSTATUS(raw_) == 0; }

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

std::string ExitStatus::to_string() const {
  if (auto c = code()) return "exit status: " + std::to_string(*c);
  if (auto s = signal()) {
    std::string r = "signal: " + std::to_string(*s) + " (" + detail::signal_name(*s) + ")";
    if (core_dumped()) r += " (core dumped)";
    return r;
  }
  if (auto s = stopped_signal()) {
    return "stopped (not terminated) by signal: " + std::to_string(*s) + " (" +
           detail::signal_name(*s) + ")";
  }
  if (continued()) return "continued (WIFCONTINUED)";
  return "unrecognised wait status: " + std::to_string(raw_);
}

}  // namespace tokio::process
