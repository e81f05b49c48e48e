// JoinError as text (join_error.hpp).
#include "tokio/task/join_error.hpp"

#include <exception>
#include <string>

namespace tokio::task {

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
