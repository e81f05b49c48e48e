#include "tokio/io/detail/io_driver.hpp"
#include "tokio/process/command.hpp"
#include "tokio/process/detail/child_state.hpp"
#include "tokio/process/detail/spawn.hpp"
#include "tokio/runtime/detail/entry.hpp"

namespace tokio::detail::process_command_impl {

Task<io::Result<process::ExitStatus>> status_of(io::Result<process::Child> c) {
  if (!c) co_return tokio::unexpected(c.error());
  // As Tokio: the child's ends of any pipes are closed, so it cannot block on them.
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

Command::Command(std::string program) : spec_(std::make_unique<detail::CommandSpec>()) {
  spec_->program = std::move(program);
}
Command::Command(Command&&) noexcept = default;
Command& Command::operator=(Command&&) noexcept = default;
Command::~Command() = default;

Command& Command::arg(std::string a) {
  spec_->args.push_back(std::move(a));
  return *this;
}
Command& Command::arg0(std::string a) {
  spec_->arg0 = std::move(a);
  return *this;
}
Command& Command::env(std::string key, std::string value) {
  spec_->env[std::move(key)] = std::move(value);
  return *this;
}
Command& Command::env_remove(std::string key) {
  spec_->env[std::move(key)] = std::nullopt;
  return *this;
}
Command& Command::env_clear() {
  spec_->env.clear();
  spec_->env_clear = true;
  return *this;
}
Command& Command::current_dir(std::string dir) {
  spec_->cwd = std::move(dir);
  return *this;
}
Command& Command::stdin(Stdio s) {
  spec_->stdio[0] = std::move(s);
  return *this;
}
Command& Command::stdout(Stdio s) {
  spec_->stdio[1] = std::move(s);
  return *this;
}
Command& Command::stderr(Stdio s) {
  spec_->stdio[2] = std::move(s);
  return *this;
}
Command& Command::kill_on_drop(bool on) {
  spec_->kill_on_drop = on;
  return *this;
}
Command& Command::process_group(int pgroup) {
  spec_->pgroup = pgroup;
  return *this;
}
Command& Command::uid(uint32_t id) {
  spec_->uid = id;
  return *this;
}
Command& Command::gid(uint32_t id) {
  spec_->gid = id;
  return *this;
}

const std::string& Command::get_program() const noexcept { return spec_->program; }
std::vector<std::string> Command::get_args() const { return spec_->args; }
std::optional<std::string> Command::get_current_dir() const { return spec_->cwd; }
bool Command::get_kill_on_drop() const noexcept { return spec_->kill_on_drop; }

io::Result<Child> Command::spawn_with(const Stdio::Kind defaults[3]) {
  // Fail on misuse before a process exists.
  detail::HandleInner* h = detail::current_handle_or_throw("process::Command::spawn");
  (void)detail::io_driver_of(h, "process::Command::spawn");
  auto sp = detail::spawn_process(*spec_, defaults);
  if (!sp) return tokio::unexpected(sp.error());
  auto* st = new detail::ChildState();
  st->pid = sp->pid;
  st->kill_on_drop = spec_->kill_on_drop;
  Child child(st);
  auto fail = [&](std::error_code e) -> io::Result<Child> {
    // A child we cannot watch or talk to is not handed out: kill it (the reaper reaps it).
    st->kill_on_drop = true;
    return tokio::unexpected(e);
  };
  if (auto w = detail::child_watch(*st); !w) return fail(w.error());
  if (sp->pipes[0].get() >= 0) {
    auto p = detail::register_pipe(std::move(sp->pipes[0]), io::Interest::WRITABLE);
    if (!p) return fail(p.error());
    child.stdin.emplace(ChildStdin(std::move(*p)));
  }
  if (sp->pipes[1].get() >= 0) {
    auto p = detail::register_pipe(std::move(sp->pipes[1]), io::Interest::READABLE);
    if (!p) return fail(p.error());
    child.stdout.emplace(ChildStdout(std::move(*p)));
  }
  if (sp->pipes[2].get() >= 0) {
    auto p = detail::register_pipe(std::move(sp->pipes[2]), io::Interest::READABLE);
    if (!p) return fail(p.error());
    child.stderr.emplace(ChildStderr(std::move(*p)));
  }
  return child;
}

io::Result<Child> Command::spawn() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::inherit, Stdio::Kind::inherit,
                                               Stdio::Kind::inherit};
  return spawn_with(kDefaults);
}

Task<io::Result<ExitStatus>> Command::status() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::inherit, Stdio::Kind::inherit,
                                               Stdio::Kind::inherit};
  return detail::process_command_impl::status_of(spawn_with(kDefaults));
}

Task<io::Result<Output>> Command::output() {
  static constexpr Stdio::Kind kDefaults[3] = {Stdio::Kind::null, Stdio::Kind::piped,
                                               Stdio::Kind::piped};
  return detail::process_command_impl::output_of(spawn_with(kDefaults));
}

}  // namespace tokio::process
