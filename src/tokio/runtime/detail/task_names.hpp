#pragma once
// Task names (task::Builder::name) and the reports and hooks that show a task's identity.
//
// A named task's name lives in a TaskName (core/detail/task_name.hpp), in the task's frame
// block or a small block of its own, pointed to by the header's ident word, which then finds
// the id too: an unnamed task pays nothing (the header keeps its 80 bytes), a named one a
// copy of the text, with no lock and no shared table.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

// The task's name, or "" (no lock taken for an unnamed task).
std::string task_name(const TaskHeader* t);
// The id and name of the task whose ident word (TaskHeader::ident) is `ident`, for the stall
// watchdog, which has only that word: an unnamed task's id is in it; a named one is looked
// up in every runtime's and LocalSet's owned-task list (OwnedTasks::find_named; id 0 and no
// name if it is gone).
void describe_task(uint64_t ident, uint64_t& id, std::string& name);
// A freed named task's own name block goes (dealloc_task; TaskName::own_block).
void free_task_name(const TaskName* n) noexcept;
// Runs the runtime's on_task_spawn hook, if any, for a task just bound to its scheduler.
void task_spawned(TaskHeader* t) noexcept;
// An exception's what(), or a stand-in for one that is not a std::exception.
std::string exception_what(const std::exception_ptr& e) noexcept;
// One line on stderr: "tokio: task <id> ("<name>") <how>: <what()>".
void report_task_exception(const TaskHeader* t, const std::exception_ptr& e,
                           const char* how) noexcept;

}  // namespace tokio::detail
