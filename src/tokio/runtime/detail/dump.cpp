// Handle::dump (runtime/dump.hpp).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tokio/core/detail/quote.hpp"
#include "tokio/runtime/detail/coarse_clock.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/stall.hpp"
#include "tokio/runtime/detail/task_names.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"
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

namespace dump_impl {
// "1.250 s", "37 ms".
std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  std::string frac = std::to_string(ms % 1000);
  return std::to_string(ms / 1000) + "." + std::string(3 - frac.size(), '0') + frac + " s";
}

// A readable function name from std::source_location. Inside a coroutine g++ names the
// function its body was lowered into: "void ns::S::m(ns::S::m(int)::_ZN...Frame*)", and a
// lambda nested in a coroutine carries its enclosing one's lowered name too. Every lowered
// parameter list "(...Frame*)" goes, as do the lowered return type "void ", the call
// operators of lambdas and template arguments (" [with T = ...]"):
// "ns::S::m", "f()::<lambda(int)>".
std::string readable_function(const char* raw) {
  std::string fn = raw ? raw : "";
  if (auto cut = fn.find(" [with "); cut != std::string::npos) fn.resize(cut);
  bool lowered = false;
  for (std::size_t frame; (frame = fn.find(".Frame*)")) != std::string::npos;) {
    lowered = true;
    // The '(' that opens this lowered parameter list.
    int depth = 0;
    std::size_t open = std::string::npos;
    for (std::size_t i = frame + 8; i-- > 0;) {
      if (fn[i] == ')') {
        ++depth;
      } else if (fn[i] == '(' && --depth == 0) {
        open = i;
        break;
      }
    }
    if (open == std::string::npos) break;
    fn.erase(open, frame + 8 - open);
  }
  if (!lowered) return fn;
  if (fn.rfind("void ", 0) == 0) fn.erase(0, 5);
  for (std::size_t at; (at = fn.find("::operator()::")) != std::string::npos;) fn.erase(at, 12);
  for (const char* tail : {"::operator() const", "::operator()"}) {
    std::string t(tail);
    if (fn.size() > t.size() && fn.compare(fn.size() - t.size(), t.size(), t) == 0) {
      fn.resize(fn.size() - t.size());
      break;
    }
  }
  return fn;
}
// Ends a dump's claim on a suspended task (TaskState::release_read), passing on a wake or
// an abort that came meanwhile as the task's runner would have.
void release_claim(detail::TaskHeader* t) noexcept {
  using R = detail::TaskState::ReadRelease;
  switch (t->state.release_read()) {
    case R::Idle: break;
    case R::Notified: t->sched->schedule(t, false); break;
    case R::Cancelled: detail::task_cancel_and_complete(t); break;
  }
}

}  // namespace dump_impl

Dump::Dump() noexcept = default;
Dump::Dump(std::vector<TaskDump> tasks) : tasks_(std::move(tasks)) {}
Dump::Dump(const Dump& o) = default;
Dump::Dump(Dump&& o) noexcept = default;
Dump& Dump::operator=(const Dump& o) = default;
Dump& Dump::operator=(Dump&& o) noexcept = default;
Dump::~Dump() = default;
std::vector<TaskDump> Dump::tasks() && noexcept { return std::move(tasks_); }

std::string Dump::to_string() const {
  std::string out;
  out += std::to_string(tasks_.size()) + (tasks_.size() == 1 ? " task\n" : " tasks\n");
  for (const TaskDump& t : tasks_) {
    out += "task " + std::to_string(t.id.value);
    if (!t.name.empty()) {
      out += ' ';
      detail::append_debug_quoted(out, t.name);
    }
    out += " ";
    out += runtime::to_string(t.state);
    out += " for " + dump_impl::format_duration(t.time_in_state);
    if (!t.waiting_on.empty()) out += ", waiting on " + t.waiting_on;
    if (t.time_left) out += ", " + dump_impl::format_duration(*t.time_left) + " left";
    if (t.depth > 0) {
      out += " (" + std::to_string(t.depth) + (t.depth == 1 ? " frame" : " frames");
      // The library's wrapper frames (a callable's spawn frame, branches) have no line.
      if (!t.backtrace.empty() && t.backtrace.size() < t.depth) {
        out += ", " + std::to_string(t.backtrace.size()) + " shown";
      }
      out += ")";
    }
    out += "\n";
    for (const std::string& frame : t.backtrace) out += "    at " + frame + "\n";
  }
  return out;
}

// Reads each listed task's state word (atomic) and, for a task that is suspended, its poll
// slot and the parent links of its chain: plain fields, and frames a run would free. So
// the suspended task is claimed first (TaskState::claim_idle_for_read: RUNNING, so no
// worker polls or cancels it while it is read) and released after; a wake or an abort
// meanwhile is passed on as a runner's would be (it was once read while a worker ran it:
// a use after free of its inner frames under ASan). Each listed task is held by a
// reference, so its header stays valid.
Dump Handle::dump() const {
  using detail::TaskState;
  std::vector<detail::TaskHeader*> listed;
  inner()->owned.snapshot(listed);
  const uint32_t now_ms = detail::steady_ms();
  std::vector<TaskDump> tasks;
  tasks.reserve(listed.size());
  for (detail::TaskHeader* t : listed) {
    TaskDump d;
    d.id = task::Id{t->id()};
    d.name = detail::task_name(t);
    uint64_t s = t->state.load();
    // Modulo 2^24 ms; a stamp a little ahead of now_ms (a transition on another thread
    // after now_ms was read) comes out just under 2^24: counted as 0.
    uint32_t in_state = (now_ms - TaskState::since_ms(s)) & 0xFFFFFFu;
    if (in_state > 0xFFFFFFu - 60'000) in_state = 0;
    d.time_in_state = std::chrono::milliseconds(in_state);
    if (s & TaskState::COMPLETE) {
      d.state = TaskDump::State::Completed;
    } else if (s & TaskState::RUNNING) {
      d.state = TaskDump::State::Running;
    } else if ((s & TaskState::NOTIFIED) || !t->state.claim_idle_for_read()) {
      // Woken, or since the load run, aborted or completed: its frames are not read.
      uint64_t now = (s & TaskState::NOTIFIED) ? s : t->state.load();
      d.state = (now & TaskState::COMPLETE)  ? TaskDump::State::Completed
                : (now & TaskState::RUNNING) ? TaskDump::State::Running
                                             : TaskDump::State::Scheduled;
    } else {
      d.state = TaskDump::State::Idle;
      const detail::LeafName* leaf = detail::leaf_entry(t->slot.poll_fn);
      d.waiting_on = detail::leaf_name(leaf);
      if (leaf && leaf->ms_left && t->slot.leaf) {
        if (int64_t ms = leaf->ms_left(t->slot.leaf); ms >= 0) {
          d.time_left = std::chrono::milliseconds(ms);
        }
      }
      for (void* f = t->slot.continuation ? t->slot.continuation.address() : nullptr; f;
           f = detail::parent_link(f)) {
        ++d.depth;
        const detail::TaskWhere& w = detail::task_where(f);
        if (!w.file() || !*w.file()) continue;  // no location, or a library wrapper frame
        std::string fn = dump_impl::readable_function(w.function());
        std::string line = std::string(w.file()) + ":" + std::to_string(w.line());
        if (!fn.empty()) line += " in " + fn;
        d.backtrace.push_back(std::move(line));
      }
      dump_impl::release_claim(t);
    }
    tasks.push_back(std::move(d));
  }
  for (detail::TaskHeader* t : listed) detail::task_drop_ref(t);
  return Dump(std::move(tasks));
}

}  // namespace tokio::runtime
