#pragma once
// Spawning a child process (what Command::spawn() runs).
//
// The parent prepares everything that allocates (the program path or PATH candidates, argv, envp,
// the descriptors each of the child's stdin/stdout/stderr gets), then vfork()s. The child
// shares the parent's memory until it calls execve (the parent's thread is suspended
// meanwhile; other threads run on), so nothing is copied and the child only makes raw
// system calls on prepared data:
//   1. resets every signal with a handler to SIG_DFL (a handler of the parent, say our
//      signal handler, must never run in the child), and SIGPIPE to SIG_DFL even when
//      ignored (as Rust's std does: a program that ignores SIGPIPE, as servers do, must
//      not hand that to `yes | head`);
//   2. dup2()s the prepared descriptors onto 0, 1, 2;
//   3. setpgid (process_group), setgroups/setgid/setuid (gid, uid);
//   4. chdir (current_dir);
//   5. clears its signal mask (the parent blocked every signal around vfork, so no
//      handler can run in the child before step 1);
//   6. execve (a bare program name: each PATH candidate in turn, as execvp).
// A failing step stores {step, errno} in the parent's memory (which the child shares) and
// exits; vfork returns in the parent once the child has exec'd or exited, so the parent
// then reads it (still empty = execve succeeded), reaps the failed child and returns an
// error naming the program and the step ("current_dir '/x': No such file or directory").
// So a missing program, a file that is not executable or a bad directory is an error of
// spawn(), never a child exiting with 127, and a spawn needs no descriptor beyond the
// child's pipes (a process at its descriptor limit can still spawn, as Rust's
// posix_spawn-based Command can). Under ThreadSanitizer vfork() behaves as fork() (its own
// memory, no wait for the exec): the report then goes through a close-on-exec pipe.
//
// Every descriptor the library opens is close-on-exec; the child inherits only 0, 1, 2
// and the descriptors the program itself left inheritable.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/process/stdio.hpp"

namespace tokio::detail {

// Everything a Command holds.
struct CommandSpec {
  std::string program;
  std::vector<std::string> args;
  std::optional<std::string> arg0;
  std::map<std::string, std::optional<std::string>> env;  // nullopt: removed
  bool env_clear = false;
  std::optional<std::string> cwd;
  std::optional<process::Stdio> stdio[3];
  bool kill_on_drop = false;
  std::optional<int> pgroup;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// Everything the child needs, prepared by the parent (allocations, PATH candidates, pipes,
// descriptors): a self-contained value, so the vfork itself may run on another thread
// (Command::status()/output() run it on the blocking pool: see command.hpp).
struct SpawnPlan {
  std::string program;                  // as given, for messages
  std::string path;                     // a program with a '/': as given
  std::vector<std::string> candidates;  // a bare name: the PATH entries' files, in order
  std::vector<std::string> argv_strings;
  std::vector<std::string> env_strings;
  bool inherit_env = true;  // use `environ` as it is at the vfork
  std::optional<std::string> cwd;
  std::optional<int> pgroup;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  bool kill_on_drop = false;
  int fds[3] = {-1, -1, -1};        // what the child gets on 0, 1, 2 (-1: inherit)
  std::vector<OwnedFd> child_side;  // owned sources of fds[], closed after the vfork
  OwnedFd pipes[3];                 // the parent's ends of piped streams
};

// A started child not yet adopted by a Child: destroying it hands the process to the
// orphan reaper (killing it first when kill_on_drop), so a spawn whose caller went away
// (a cancelled status()) never leaves a zombie.
struct Spawned {
  int pid = -1;
  bool kill_on_drop = false;
  OwnedFd pipes[3];  // the parent's ends of piped stdin, stdout, stderr (-1 otherwise)

  Spawned() noexcept = default;
  Spawned(Spawned&& o) noexcept
      : pid(detail::exchange(o.pid, -1)),
        kill_on_drop(o.kill_on_drop),
        pipes{std::move(o.pipes[0]), std::move(o.pipes[1]), std::move(o.pipes[2])} {}
  Spawned& operator=(Spawned&&) = delete;
  ~Spawned();
  int release() noexcept { return detail::exchange(pid, -1); }
};

// Checks and prepares spec's program; unset stdio entries use `defaults`.
io::Result<SpawnPlan> prepare_spawn(const CommandSpec& spec,
                                    const process::Stdio::Kind defaults[3]);
// vfork + execve (see above). Errors name the program and the failing step.
io::Result<Spawned> execute_spawn(SpawnPlan plan);

}  // namespace tokio::detail
