// JoinError as text (join_error.hpp).
#include "tokio/task/join_error.hpp"

#include <exception>
#include <stdexcept>
#include <string>

namespace tokio::task {

JoinError::JoinError(Id id, std::exception_ptr e)
    : std::runtime_error(e ? "task " + std::to_string(id.value) + " threw an exception"
                           : "task " + std::to_string(id.value) + " was cancelled"),
      id_(id),
      payload_(std::move(e)) {}

std::exception_ptr JoinError::into_panic() const {
  if (!payload_) throw std::logic_error("tokio: JoinError::into_panic on a cancellation");
  return payload_;
}

std::string to_string(const JoinError& e) {
  std::string s = "task " + std::to_string(e.id().value);
  if (e.is_cancelled()) return s + " was cancelled";
  s += " threw an exception";
  try {
    std::rethrow_exception(e.panic_payload());
  } catch (const std::exception& x) {
    s += ": ";
    s += x.what();
  } catch (...) {
    s += " (not derived from std::exception)";
  }
  return s;
}

}  // namespace tokio::task
