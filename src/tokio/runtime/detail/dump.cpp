// Handle::dump (runtime/dump.hpp).
#include <string>
#include <vector>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/stall.hpp"
#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/dump.hpp"
#include "tokio/runtime/runtime.hpp"

namespace tokio::runtime {

const char* to_string(TaskDump::State s) noexcept {
  switch (s) {
    case TaskDump::State::Idle: return "idle";
    case TaskDump::State::Scheduled: return "scheduled";
    case TaskDump::State::Running: return "running";
    case TaskDump::State::Completed: return "completed, not joined";
  }
  return "?";
}

std::string Dump::to_string() const {
  std::string out;
  out += std::to_string(tasks_.size()) + (tasks_.size() == 1 ? " task\n" : " tasks\n");
  for (const TaskDump& t : tasks_) {
    out += "task " + std::to_string(t.id.value);
    if (!t.name.empty()) out += " \"" + t.name + "\"";
    out += " ";
    out += runtime::to_string(t.state);
    if (!t.waiting_on.empty()) out += ", waiting on " + t.waiting_on;
    if (t.depth > 0) {
      out += " (" + std::to_string(t.depth) + (t.depth == 1 ? " frame)" : " frames)");
    }
    out += "\n";
    for (const std::string& frame : t.backtrace) out += "    at " + frame + "\n";
  }
  return out;
}

// Reads each listed task's state word (atomic) and, for a task that is suspended, its poll
// slot and the parent links of its chain. Those are plain fields the task's own thread
// writes when it next runs: a task woken while it is being read may be reported with its
// previous leaf. Each task is held by a reference meanwhile, so its header stays valid.
Dump Handle::dump() const {
  using detail::TaskState;
  std::vector<detail::TaskHeader*> listed;
  h_->owned.snapshot(listed);
  std::vector<TaskDump> tasks;
  tasks.reserve(listed.size());
  for (detail::TaskHeader* t : listed) {
    TaskDump d;
    d.id = task::Id{t->id};
    d.name = detail::task_name(t);
    uint64_t s = t->state.load();
    if (s & TaskState::COMPLETE) {
      d.state = TaskDump::State::Completed;
    } else if (s & TaskState::RUNNING) {
      d.state = TaskDump::State::Running;
    } else if (s & TaskState::NOTIFIED) {
      d.state = TaskDump::State::Scheduled;
    } else {
      d.state = TaskDump::State::Idle;
      auto fn = t->slot.poll_fn;
      d.waiting_on = detail::leaf_name(fn);
      for (void* f = t->slot.continuation ? t->slot.continuation.address() : nullptr; f;
           f = detail::parent_link(f)) {
        ++d.depth;
        const detail::TaskWhere& w = detail::task_where(f);
        if (!w.file() || !*w.file()) continue;  // no location, or a library wrapper frame
        std::string fn = w.function() ? w.function() : "";
        // spawn(callable, args...)'s wrapper frame is the library's, not the user's.
        if (fn.find("detail::invoke_owned") != std::string::npos) continue;
        if (auto cut = fn.find(" [with "); cut != std::string::npos) fn.resize(cut);
        std::string line = std::string(w.file()) + ":" + std::to_string(w.line());
        if (!fn.empty()) line += " in " + fn;
        d.backtrace.push_back(std::move(line));
      }
    }
    tasks.push_back(std::move(d));
  }
  for (detail::TaskHeader* t : listed) detail::task_drop_ref(t);
  return Dump(std::move(tasks));
}

}  // namespace tokio::runtime
