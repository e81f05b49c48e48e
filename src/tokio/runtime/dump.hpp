#pragma once
// runtime::Dump (Handle::dump()): every live task of a runtime, its state and what it is
// suspended on. Tokio keeps this behind an unstable flag (tokio::runtime::dump); here it is
// always available and costs nothing until a dump is taken.
//
// A dump is taken while the runtime runs: tasks keep moving meanwhile, so each entry is a
// snapshot of that task at the moment it was read. The task that takes the dump is listed
// as running.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "tokio/core/task_id.hpp"

namespace tokio::runtime {

struct TaskDump {
  enum class State {
    Idle,       // suspended, waiting for a wake-up
    Scheduled,  // woken, queued to run
    Running,    // inside a poll on some thread
    Completed,  // finished; its output waits for its JoinHandle
  };
  task::Id id;
  std::string name;  // "" for an unnamed task (see task::Builder)
  State state = State::Idle;
  // The leaf it is suspended on, as the compiler names the type (for example
  // "sync::Notify::Notified" or "time::Sleep"); "" while it runs, is queued or has finished.
  std::string waiting_on;
  // The number of tokio::Task frames in its suspended chain (1: the task's own coroutine).
  std::size_t depth = 0;
  // Its async backtrace, innermost frame first: each Task coroutine of the chain as
  // "file:line in function" with g++ (std::source_location; the line is the coroutine's
  // closing one) or "file:line" with clang++ 14 (its opening line). The wrapper frame of
  // spawn(callable, args...) is left out. Empty with TOKIO_CONFIG_NO_TASK_LOCATIONS.
  std::vector<std::string> backtrace;
};

const char* to_string(TaskDump::State s) noexcept;

class Dump {
 public:
  Dump() = default;
  explicit Dump(std::vector<TaskDump> tasks) : tasks_(std::move(tasks)) {}
  const std::vector<TaskDump>& tasks() const noexcept { return tasks_; }
  // One line per task: `task 12 "conn 10.0.0.1:5555" idle, waiting on TcpStream read op
  // (3 frames)`.
  std::string to_string() const;

 private:
  std::vector<TaskDump> tasks_;
};

}  // namespace tokio::runtime
