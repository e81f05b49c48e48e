#include "tokio/process/command.hpp"

#include <utility>

#include "tokio/io/detail/io_driver.hpp"
#include "tokio/process/detail/child_state.hpp"
#include "tokio/process/detail/spawn.hpp"
#include "tokio/process/detail/spawn_error.hpp"
#include "tokio/runtime/detail/entry.hpp"

namespace tokio::detail {

// Wraps a started process in a Child: exit watching, pipe registration. A child that
// cannot be watched or talked to is not handed out: it is killed (and reaped by the
// reaper) and the error returned.
struct ChildFactory {
  static io::Result<process::Child> adopt(Spawned sp) {
    auto* st = new ChildState();
    st->pid = sp.release();
    st->kill_on_drop = sp.kill_on_drop;
    process::Child child(st);
    auto fail = [&](std::error_code e) -> io::Result<process::Child> {
      st->kill_on_drop = true;
      // Say that the program did start (an EMFILE here is not the program's doing).
      if (e.category() == std::generic_category() || e.category() == std::system_category()) {
        e = error_with_message(e.value(),
                               "failed to spawn: the child started but could not be watched or "
                               "connected to, so it was killed: " +
                                   e.message());
      }
      return tokio::unexpected(e);
    };
    if (auto w = child_watch(*st); !w) return fail(w.error());
    if (sp.pipes[0].get() >= 0) {
      auto p = register_pipe(std::move(sp.pipes[0]), io::Interest::WRITABLE);
      if (!p) return fail(p.error());
      child.stdin.emplace(process::ChildStdin(std::move(*p)));
    }
    if (sp.pipes[1].get() >= 0) {
      auto p = register_pipe(std::move(sp.pipes[1]), io::Interest::READABLE);
      if (!p) return fail(p.error());
      child.stdout.emplace(process::ChildStdout(std::move(*p)));
    }
    if (sp.pipes[2].get() >= 0) {
      auto p = register_pipe(std::move(sp.pipes[2]), io::Interest::READABLE);
      if (!p) return fail(p.error());
      child.stderr.emplace(process::ChildStderr(std::move(*p)));
    }
    return child;
  }
};

}  // namespace tokio::detail

namespace tokio::detail::process_command_impl {

// Misuse fails at the call, before any process exists.
void require_io_runtime(const char* what) {
  HandleInner* h = current_handle_or_throw(what);
  (void)io_driver_of(h, what);
}

// Starts the child now, on the calling thread, as spawn() and Tokio's status()/output()
// do: the vfork blocks this thread until the child has called execve. (It was queued on
// the blocking pool instead, to keep workers free; but then a status() whose Task was
// dropped still started its child later, and with the pool's threads all busy, one of
// them waiting for this very child, it never started at all.)
io::Result<process::Child> start_now(io::Result<SpawnPlan> plan) {
  if (!plan) return tokio::unexpected(plan.error());
  auto sp = execute_spawn(std::move(*plan));
  if (!sp) return tokio::unexpected(sp.error());
  return ChildFactory::adopt(std::move(*sp));
}

Task<io::Result<process::ExitStatus>> status_of(io::Result<process::Child> c) {
  if (!c) co_return tokio::unexpected(c.error());
  // As Tokio: the parent's ends of any pipes are closed, so the child cannot block on them.
  c->stdin.reset();
  c->stdout.reset();
  c->stderr.reset();
  co_return co_await c->wait();
}

Task<io::Result<process::Output>> output_of(io::Result<process::Child> c) {
  if (!c) co_return tokio::unexpected(c.error());
  co_return co_await std::move(*c).wait_with_output();
}

}  // namespace tokio::detail::process_command_impl

namespace tokio::process {

Command::Command(detail::StringArg program) : spec_(new detail::CommandSpec()) {
  spec_->program = std::move(program.value);
}
Command::Command(Command&&) noexcept = default;
Command& Command::operator=(Command&&) noexcept = default;
Command::~Command() = default;

Command& Command::arg(detail::StringArg a) {
  spec()->args.push_back(std::move(a.value));
  return *this;
}
Command& Command::arg0(detail::StringArg a) {
  spec()->arg0 = std::move(a.value);
  return *this;
}
Command& Command::env(detail::StringArg key, detail::StringArg value) {
  spec()->env[std::move(key.value)] = std::move(value.value);
  return *this;
}
Command& Command::env_remove(detail::StringArg key) {
  spec()->env[std::move(key.value)] = std::nullopt;
  return *this;
}
Command& Command::env_clear() {
  spec()->env.clear();
  spec()->env_clear = true;
  return *this;
}
Command& Command::current_dir(detail::StringArg dir) {
  spec()->cwd = std::move(dir.value);
  return *this;
}
Command& Command::stdin(Stdio s) {
  spec()->stdio[0] = std::move(s);
  return *this;
}
Command& Command::stdout(Stdio s) {
  spec()->stdio[1] = std::move(s);
  return *this;
}
Command& Command::stderr(Stdio s) {
  spec()->stdio[2] = std::move(s);
  return *this;
}
Command& Command::kill_on_drop(bool on) {
  spec()->kill_on_drop = on;
  return *this;
}
Command& Command::process_group(int pgroup) {
  spec()->pgroup = pgroup;
  return *this;
}
Command& Command::uid(uint32_t id) {
  spec()->uid = id;
  return *this;
}
Command& Command::gid(uint32_t id) {
  spec()->gid = id;
  return *this;
}

detail::CommandSpec* Command::spec() const {
  if (TOKIO_UNLIKELY(!spec_)) {
    detail::throw_misuse(
        "process::Command used after it was moved from: use the Command it was moved into");
  }
  return spec_.get();
}

const std::string& Command::get_program() const { return spec()->program; }
std::vector<std::string> Command::get_args() const { return spec()->args; }
std::optional<std::string> Command::get_current_dir() const { return spec()->cwd; }
bool Command::get_kill_on_drop() const { return spec()->kill_on_drop; }

io::Result<Child> Command::spawn() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::inherit, Stdio::Kind::inherit,
                                               Stdio::Kind::inherit};
  detail::process_command_impl::require_io_runtime("process::Command::spawn");
  return detail::process_command_impl::start_now(detail::prepare_spawn(*spec(), kDefaults));
}

Task<io::Result<ExitStatus>> Command::status() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::inherit, Stdio::Kind::inherit,
                                               Stdio::Kind::inherit};
  detail::process_command_impl::require_io_runtime("process::Command::status");
  namespace impl = detail::process_command_impl;
  return impl::status_of(impl::start_now(detail::prepare_spawn(*spec(), kDefaults)));
}

Task<io::Result<Output>> Command::output() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::null, Stdio::Kind::piped,
                                               Stdio::Kind::piped};
  detail::process_command_impl::require_io_runtime("process::Command::output");
  namespace impl = detail::process_command_impl;
  return impl::output_of(impl::start_now(detail::prepare_spawn(*spec(), kDefaults)));
}

}  // namespace tokio::process
