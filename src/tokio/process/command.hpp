#pragma once
// process::Command: builds and spawns a child process (Tokio's Command, itself
// std::process::Command with async waiting).
//
//   using tokio::process::Command, tokio::process::Stdio;
//   Command git("git");
//   git.args({"log", "-1"}).current_dir("/src");   // (g++ 12: no braced list in a co_await)
//   auto out = co_await git.output();
//   if (out && out->status.success()) std::cout << out->stdout;
//
//   Command cmd("sort");
//   cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
//   auto child = cmd.spawn();                      // io::Result<Child>
//
// spawn()   starts the child now (stdin/stdout/stderr inherited unless set); the errors of
//           starting it are spawn()'s: a missing program, a file that is not executable,
//           a bad current_dir, uid/gid/process_group refused... come back as an io::Result
//           error whose message names the program and the cause (process/detail/
//           spawn_error.hpp), never as a child that exits with 127. Needs a runtime with
//           the I/O driver (std::logic_error otherwise). Like Tokio's (and std's) spawn,
//           it blocks the calling thread until the child has called execve: about a
//           millisecond for a small program here, more for big ones or in VMs.
// status()  runs the child (stdio inherited unless set) and waits for its exit.
// output()  runs it with stdout and stderr piped and stdin from /dev/null (unless set)
//           and collects both outputs concurrently while waiting.
// status() and output() start the child when called, as Tokio's do, blocking the calling
// thread as spawn() does (the Task only waits: a Task dropped without being awaited still
// ran the child, and one dropped later starts nothing more); the Task does not refer to
// the Command and may outlive it. A status()/output() Task dropped midway leaves no
// zombie: the child is reaped in the background (killed first if kill_on_drop).
// Unlike Tokio 1.24's output(), which forces stdout and stderr to pipes (changing the
// Command) and lets stdin inherit, output() follows std's rules: stdin from /dev/null and
// pipes by default, and a stdio set on the Command is kept.
//
// GCC 12: keep braced lists out of co_await expressions (`co_await
// Command("x").args({"a"}).output()` fails to compile with "array used as initializer");
// build the Command in a statement first.
//
// A Command can spawn any number of children. `program` without a '/' is looked up in
// PATH (the PATH given with env() if any, else the parent's). Spawning uses vfork (no
// copy of the parent's address space); see process/detail/spawn.hpp.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/detail/owned.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/process/child.hpp"
#include "tokio/process/exit_status.hpp"
#include "tokio/process/stdio.hpp"

namespace tokio::detail {
struct CommandSpec;  // process/detail/spawn.hpp

template <class S>
concept StringSource = std::is_constructible_v<std::string, const S&>;

// What Command's string setters take: anything a std::string can be built from
// (std::string, a literal, std::string_view, std::filesystem::path...), as Rust's take
// AsRef<OsStr>. One implicit conversion at the call, then moved into the command.
struct StringArg {
  template <StringSource S>
  StringArg(const S& s) : value(s) {}                           // NOLINT: implicit on purpose
  StringArg(std::string&& s) noexcept : value(std::move(s)) {}  // NOLINT: implicit on purpose
  std::string value;
};
}  // namespace tokio::detail

namespace tokio::process {

class Command {
 public:
  explicit Command(detail::StringArg program);
  Command(Command&&) noexcept;
  Command& operator=(Command&&) noexcept;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;
  ~Command();

  Command& arg(detail::StringArg a);
  // Any range of things convertible to std::string (vector<string>, array of const char*...).
  template <class R>
  Command& args(const R& range) {
    for (const auto& a : range) arg(std::string(a));
    return *this;
  }
  Command& args(std::initializer_list<std::string_view> l) {
    for (auto a : l) arg(a);
    return *this;
  }
  // argv[0] as the program sees it (default: the program as given). Unix only in Rust.
  Command& arg0(detail::StringArg a);

  Command& env(detail::StringArg key, detail::StringArg value);
  // Any range of pairs (map<string,string>, vector<pair<...>>...).
  template <class R>
  Command& envs(const R& range) {
    for (const auto& [k, v] : range) env(std::string(k), std::string(v));
    return *this;
  }
  Command& env_remove(detail::StringArg key);
  Command& env_clear();
  Command& current_dir(detail::StringArg dir);

  Command& stdin(Stdio s);
  Command& stdout(Stdio s);
  Command& stderr(Stdio s);

  // Kill the child (SIGKILL) when its Child object is destroyed before it was reaped.
  Command& kill_on_drop(bool on);
  // setpgid(0, pgroup) in the child: 0 = a new group led by the child.
  Command& process_group(int pgroup);
  Command& uid(uint32_t id);
  Command& gid(uint32_t id);

  const std::string& get_program() const;
  std::vector<std::string> get_args() const;
  std::optional<std::string> get_current_dir() const;
  bool get_kill_on_drop() const;

  io::Result<Child> spawn();
  Task<io::Result<ExitStatus>> status();
  Task<io::Result<Output>> output();

 private:
  // The specification; throws std::logic_error on a moved-from Command.
  detail::CommandSpec* spec() const;
  detail::Owned<detail::CommandSpec> spec_;
};

}  // namespace tokio::process
