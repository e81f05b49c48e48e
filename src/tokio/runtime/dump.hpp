#pragma once
// runtime::Dump (Handle::dump()): every live task of a runtime, its state and what it is
// suspended on. Tokio keeps this behind an unstable flag (tokio::runtime::dump); here it is
// always available and costs nothing until a dump is taken.
//
// A dump is taken while the runtime runs: tasks keep moving meanwhile, so each entry is a
// snapshot of that task at the moment it was read. The task that takes the dump is listed
// as running.

#include <chrono>
#include <cstddef>
#include <optional>
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
    // Finished while its JoinHandle (or JoinSet entry) still exists: listed until the handle
    // reads the output or is dropped ("completed, not joined").
    Completed,
  };
  task::Id id;
  std::string name;  // "" for an unnamed task (see task::Builder)
  State state = State::Idle;
  // How long it has been in that state: since its last poll ended (idle), since it was
  // woken (scheduled), since its poll began (running), since its last poll
  // began (completed: the poll it finished in). Millisecond precision at best, one batch of polls at worst (see
  // runtime/detail/coarse_clock.hpp; a task woken from outside the workers while they all
  // slept counts from when a worker last ran); wraps after 4.6 hours.
  std::chrono::milliseconds time_in_state{0};
  // The leaf it is suspended on, as the compiler names the type (for example
  // "sync::Notify::Notified" or "time::Sleep"); "" while it runs, is queued or has finished.
  std::string waiting_on;
  // For a leaf that waits for a deadline (a sleep, an interval's tick): the time left, read
  // when the dump was taken. to_string() shows it after the name ("waiting on time::sleep,
  // 250 ms left").
  std::optional<std::chrono::milliseconds> time_left;
  // The number of tokio::Task frames in its suspended chain (1: the task's own coroutine).
  std::size_t depth = 0;
  // Its async backtrace, innermost frame first: for each Task coroutine of the chain, the
  // co_await it is suspended at, as "file:line in function" with g++ (std::source_location)
  // or "file:line" with clang++ 14 (no std::source_location on libstdc++ 12). The library's
  // wrapper frames (spawn(callable, args...), select and join branches) are left out. Empty
  // with TOKIO_CONFIG_NO_TASK_LOCATIONS.
  std::vector<std::string> backtrace;
};

const char* to_string(TaskDump::State s) noexcept;

class Dump {
 public:
  // (The constructors, copy, move and destructor are defined in dump.cpp: inline, they
  // would instantiate std::vector<TaskDump>'s members in every TU that includes this.)
  Dump() noexcept;
  explicit Dump(std::vector<TaskDump> tasks);
  Dump(const Dump& o);
  Dump(Dump&& o) noexcept;
  Dump& operator=(const Dump& o);
  Dump& operator=(Dump&& o) noexcept;
  ~Dump();
  const std::vector<TaskDump>& tasks() const& noexcept { return tasks_; }
  // On a temporary (`for (auto& t : handle.dump().tasks())`), the tasks themselves: a
  // reference into the temporary would dangle.
  std::vector<TaskDump> tasks() && noexcept;
  // One line per task, then its backtrace: `task 12 "conn 10.0.0.1:5555" idle for 1.250 s,
  // waiting on TcpStream read op (3 frames)` / `    at src/conn.cpp:42 in handle(...)`.
  std::string to_string() const;

 private:
  std::vector<TaskDump> tasks_;
};

}  // namespace tokio::runtime
