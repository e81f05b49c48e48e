#pragma once
// runtime::UnhandledException (what a runtime does with an exception a task threw) and
// runtime::UnhandledExceptionShutdown (what block_on throws once it shut the runtime down).

#include <exception>
#include <stdexcept>
#include <string>

#include "tokio/core/task_id.hpp"

namespace tokio::runtime {

// What the runtime does when a spawned task's body throws (Tokio's UnhandledPanic).
enum class UnhandledException {
  // An exception that nobody will see (the task's JoinHandle was dropped, before or after
  // the task finished, without awaiting it) is reported: one line on stderr with the task's
  // id, name and what(). An exception the JoinHandle delivers is not reported. The default.
  Report,
  // Nothing is reported; the JoinHandle (if any) still delivers the exception.
  Ignore,
  // Any exception a task throws shuts the runtime down, as Tokio's ShutdownRuntime: no task
  // is polled again, and block_on (this one and every later one) throws
  // runtime::UnhandledExceptionShutdown, which carries the task's exception.
  ShutdownRuntime,
};

// Thrown by block_on on a runtime that UnhandledException::ShutdownRuntime shut down.
class UnhandledExceptionShutdown : public std::runtime_error {
 public:
  UnhandledExceptionShutdown(task::Id id, std::exception_ptr e, const std::string& what)
      : std::runtime_error(what), id_(id), exception_(std::move(e)) {}
  // The task whose exception shut the runtime down, and that exception.
  task::Id task_id() const noexcept { return id_; }
  const std::exception_ptr& task_exception() const noexcept { return exception_; }

 private:
  task::Id id_;
  std::exception_ptr exception_;
};

}  // namespace tokio::runtime
