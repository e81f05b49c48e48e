#pragma once
// Task names (task::Builder::name) and the reports and hooks that show a task's identity.
//
// Names live in one process-wide registry keyed by task id, not in the task header: an
// unnamed task pays nothing (the header keeps its 80 bytes; TaskState::NAMED says whether to
// look), and a named one pays a map entry. The registry is touched when a named task is
// spawned, freed, reported or dumped, never on the poll path.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

// The task's name, or "" (no lock taken for an unnamed task).
std::string task_name(const TaskHeader* t);
// The name of the task with this id, or "" (for reports made without the header at hand).
std::string task_name_by_id(uint64_t id);
// A freed named task's registry entry goes (dealloc_task).
void forget_task_name(uint64_t id) noexcept;
// Runs the runtime's on_task_spawn hook, if any, for a task just bound to its scheduler.
void task_spawned(TaskHeader* t) noexcept;
// An exception's what(), or a stand-in for one that is not a std::exception.
std::string exception_what(const std::exception_ptr& e) noexcept;
// One line on stderr: "tokio: task <id> ("<name>") <how>: <what()>".
void report_task_exception(const TaskHeader* t, const std::exception_ptr& e,
                           const char* how) noexcept;

}  // namespace tokio::detail
