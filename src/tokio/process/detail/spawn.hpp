#pragma once
// Spawning a child process (what Command::spawn() runs).
//
// The parent prepares everything that allocates (the resolved program path, argv, envp,
// the descriptors each of the child's stdin/stdout/stderr gets), then vfork()s. The child
// shares the parent's memory until it calls execve (the parent's thread is suspended
// meanwhile; other threads run on), so nothing is copied and the child only makes raw
// system calls on prepared data:
//   1. resets every signal with a handler to SIG_DFL (a handler of the parent, say our
//      signal handler, must never run in the child);
//   2. dup2()s the prepared descriptors onto 0, 1, 2;
//   3. setpgid (process_group), setgroups/setgid/setuid (gid, uid);
//   4. chdir (current_dir);
//   5. clears its signal mask (the parent blocked every signal around vfork, so no
//      handler can run in the child before step 1);
//   6. execve.
// A failing step writes {step, errno} to a close-on-exec pipe and exits; the parent reads
// that pipe after vfork returns (EOF = execve succeeded), reaps the failed child and
// returns an error naming the program and the step ("current_dir '/x': No such file or
// directory"). So a missing program, a file that is not executable or a bad directory is
// an error of spawn(), never a child exiting with 127. (Under ThreadSanitizer vfork()
// behaves as fork(); the pipe works the same.)
//
// Every descriptor the library opens is close-on-exec; the child inherits only 0, 1, 2
// and the descriptors the program itself left inheritable.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

struct Spawned {
  int pid = -1;
  OwnedFd pipes[3];  // the parent's ends of piped stdin, stdout, stderr (-1 otherwise)
};

// Spawns spec's program; unset stdio entries use `defaults` (inherit/piped/null).
io::Result<Spawned> spawn_process(const CommandSpec& spec, const process::Stdio::Kind defaults[3]);

}  // namespace tokio::detail
