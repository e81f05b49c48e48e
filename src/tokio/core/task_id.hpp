#pragma once
// task::Id and task::TaskInfo: a spawned task's identity, as the runtime's hooks, reports
// and dumps name it.

#include <compare>
#include <cstdint>
#include <string_view>

namespace tokio::task {

// Opaque, unique id of a spawned task (never reused within a process).
struct Id {
  uint64_t value = 0;
  friend bool operator==(Id, Id) = default;
  friend auto operator<=>(Id, Id) = default;
};

// What the runtime's task hooks receive: the task's id and its name (empty when it was
// spawned without one; see task::Builder). The name is valid during the call only.
struct TaskInfo {
  Id id;
  std::string_view name;
};

}  // namespace tokio::task
