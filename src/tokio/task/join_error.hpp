#pragma once
// task::JoinError: why awaiting a JoinHandle produced no value.

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>

#include "tokio/core/display.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task_id.hpp"

namespace tokio::task {

// A task did not produce a value: it was cancelled (aborted, or its runtime shut down),
// or its body threw ("panicked", in Tokio's words). Awaiting a JoinHandle rethrows the
// task's own exception for a panic and throws JoinError for a cancellation; JoinSet and
// Result-returning APIs hand the JoinError over as a value.
class JoinError : public std::runtime_error {
 public:
  static JoinError cancelled(Id id) { return JoinError(id, nullptr); }
  static JoinError panic(Id id, std::exception_ptr e) { return JoinError(id, std::move(e)); }

  bool is_cancelled() const noexcept { return !payload_; }
  bool is_panic() const noexcept { return static_cast<bool>(payload_); }
  Id id() const noexcept { return id_; }
  // The exception the task threw (null when cancelled).
  const std::exception_ptr& panic_payload() const noexcept { return payload_; }
  // Tokio's into_panic: the exception the task threw; a cancellation has none, and asking
  // is a logic error (Tokio panics too).
  std::exception_ptr into_panic() const;
  // Tokio's try_into_panic: the exception, or this error back for a cancellation.
  Result<std::exception_ptr, JoinError> try_into_panic() const {
    if (payload_) return payload_;
    return unexpected(*this);
  }
  // Rethrows the task's exception for a panic, throws this JoinError for a cancellation.
  [[noreturn]] void rethrow() const {
    if (payload_) std::rethrow_exception(payload_);
    throw *this;
  }

 private:
  JoinError(Id id, std::exception_ptr e);
  Id id_;
  std::exception_ptr payload_;
};

// "task 7 was cancelled" / "task 7 threw an exception: <what()>"; `os << e` and
// (TOKIO_CONFIG_STD_FORMAT) std::format("{}", e) print the same.
std::string to_string(const JoinError& e);
using detail::operator<<;

}  // namespace tokio::task

namespace tokio::detail {
template <>
struct enable_display<task::JoinError> : std::true_type {};
}  // namespace tokio::detail
