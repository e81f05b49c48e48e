// Runs this test binary again, as a child process, for one test case: for what only a
// process of its own can show (an abort with its message, a start with standard fds
// closed). The child runs with `env_var`=1 in its environment and `-tc=<case_name>`; the
// test case checks the variable first and, in the child, does the thing and exits.
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include <doctest/doctest.h>

extern char** environ;

namespace test {

struct ChildOutcome {
  int status = 0;   // as waitpid gives it (WIFEXITED, WIFSIGNALED...)
  std::string err;  // what the child wrote to stderr
};

// In the child (env_var set): true. Test cases start with
//   if (test::in_child(kEnv)) ::_exit(child_body());
inline bool in_child(const char* env_var) { return std::getenv(env_var) != nullptr; }

inline ChildOutcome run_self_as_child(const char* case_name, const char* env_var,
                                      std::initializer_list<int> close_fds = {}) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  std::string exe(buf, static_cast<std::size_t>(n));
  std::string filter = std::string("-tc=") + case_name;
  std::string mark = std::string(env_var) + "=1";
  std::vector<char*> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  env.push_back(mark.data());
  env.push_back(nullptr);
  int err_pipe[2];
  REQUIRE(::pipe(err_pipe) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&fa, err_pipe[0]);
  posix_spawn_file_actions_addclose(&fa, err_pipe[1]);
  for (int fd : close_fds) posix_spawn_file_actions_addclose(&fa, fd);
  char* argv[] = {exe.data(), filter.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv, env.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(err_pipe[1]);
  ChildOutcome out;
  if (rc == 0) {
    std::array<char, 4096> chunk{};
    for (;;) {
      ssize_t got = ::read(err_pipe[0], chunk.data(), chunk.size());
      if (got <= 0) break;
      out.err.append(chunk.data(), static_cast<std::size_t>(got));
    }
  }
  ::close(err_pipe[0]);
  REQUIRE(rc == 0);
  REQUIRE(::waitpid(pid, &out.status, 0) == pid);
  return out;
}

// The pair for a child that counts its own failures: in the child, report_and_exit(n)
// prints "failures=n" to stderr and exits (0 when n is 0); in the parent,
// check_child_passes runs the case there and checks both.
[[noreturn]] inline void report_and_exit(int failures) {
  std::fprintf(stderr, "failures=%d\n", failures);
  ::_exit(failures == 0 ? 0 : 1);
}
inline void check_child_passes(const char* case_name, const char* env_var) {
  auto child = run_self_as_child(case_name, env_var);
  CAPTURE(child.err);
  CHECK(WIFEXITED(child.status));
  CHECK(WEXITSTATUS(child.status) == 0);
  CHECK(child.err.find("failures=0") != std::string::npos);
}

}  // namespace test
