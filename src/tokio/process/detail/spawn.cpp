#include "tokio/process/detail/spawn.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/process/detail/child_state.hpp"
#include "tokio/process/detail/spawn_error.hpp"
#include "tokio/signal/detail/registry.hpp"

extern char** environ;

// The child's code must not be instrumented: under ASan and in plain builds vfork() shares
// the parent's memory (and its sanitizer state) until execve.
#if defined(__clang__) || defined(__GNUC__)
#define TOKIO_CHILD_CODE __attribute__((noinline, no_sanitize("address", "thread", "undefined")))
#else
#define TOKIO_CHILD_CODE
#endif

namespace tokio::detail::process_spawn_impl {

// The steps of the child (see spawn.hpp); a failure reports {step, errno}.
enum Step : int {
  kStepStdio = 1,
  kStepPgroup,
  kStepGid,
  kStepUid,
  kStepCwd,
  kStepMask,
  kStepExec,
  kStepSearch,  // every PATH candidate failed as execvp skips them (ENOENT, EACCES...)
  kStepRead,    // (parent side, TSan builds) the error pipe gave a partial report
};

struct ChildError {
  int step;
  int err;
};

// The kernel's struct sigaction (rt_sigaction(2) takes it, not glibc's).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  uint64_t mask;
};

// Everything the child reads, prepared by the parent.
struct ChildArgs {
  const char* path;          // a program with a '/' (npaths == 0)
  const char* const* paths;  // else the PATH candidates, tried in order as execvp does
  int npaths;
  char* const* argv;
  char* const* envp;
  int fds[3];       // the descriptor to put on 0, 1, 2 (-1: inherit)
  const char* cwd;  // null: stay
  bool set_pgroup;
  int pgroup;
  bool set_gid;
  unsigned gid;
  bool set_uid;
  unsigned uid;
  ChildError* report;  // the parent's: where a failing step stores {step, errno}
  int errfd;           // under TSan (vfork is fork there): the error pipe's write end
};

[[noreturn]] TOKIO_CHILD_CODE void child_fail(const ChildArgs* a, int step, int err) noexcept {
  ChildError e{step, err};
#if defined(TOKIO_TSAN)
  syscall(SYS_write, a->errfd, &e, sizeof e);
#else
  // Volatile: stores the compiler must make before the exit (nothing in this process reads
  // them; the parent does once vfork returns there).
  *static_cast<volatile int*>(&a->report->step) = e.step;
  *static_cast<volatile int*>(&a->report->err) = e.err;
#endif
  syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}
[[noreturn]] TOKIO_CHILD_CODE void child_fail(const ChildArgs* a, int step) noexcept {
  child_fail(a, step, errno);
}

// Runs in the vfork()ed child: raw system calls on prepared data only (no allocation, no
// locks, no glibc wrappers with process-wide state such as setuid's thread broadcast).
[[noreturn]] TOKIO_CHILD_CODE void child_exec(const ChildArgs* a) noexcept {
  // 1. No handler of the parent may run in the child: reset caught signals to default.
  // Ignored ones stay ignored, as exec itself would keep them, except SIGPIPE (Rust's std
  // resets it: a program ignoring it must not pass that on to the pipelines it runs).
  KernelSigaction dfl{};
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old{};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof(uint64_t)) != 0) continue;
    if (old.handler == SIG_DFL || (old.handler == SIG_IGN && sig != SIGPIPE)) continue;
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(uint64_t));
  }
  // 2. stdin, stdout, stderr. (The parent moved every source below 3 that is not already
  // in place out of the way, so no dup3 clobbers a later source.)
  for (int i = 0; i < 3; ++i) {
    int fd = a->fds[i];
    if (fd < 0) continue;
    long r = fd == i ? syscall(SYS_fcntl, i, F_SETFD, 0)  // in place: just inheritable
                     : syscall(SYS_dup3, fd, i, 0);
    if (r < 0) child_fail(a, kStepStdio);
  }
  // 3. Process group, groups, gid, uid (gid first: after setuid it may be too late).
  if (a->set_pgroup && syscall(SYS_setpgid, 0, a->pgroup) < 0) child_fail(a, kStepPgroup);
  if (a->set_gid && syscall(SYS_setgid, a->gid) < 0) child_fail(a, kStepGid);
  if (a->set_uid) {
    // Dropping root: drop the supplementary groups too (as Rust's Command does).
    if (syscall(SYS_getuid) == 0) syscall(SYS_setgroups, 0, nullptr);
    if (syscall(SYS_setuid, a->uid) < 0) child_fail(a, kStepUid);
  }
  // 4. Working directory.
  if (a->cwd && syscall(SYS_chdir, a->cwd) < 0) child_fail(a, kStepCwd);
  // 5. The parent blocked everything around vfork; the program starts with nothing blocked.
  uint64_t none = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none) < 0) {
    child_fail(a, kStepMask);
  }
  // 6. A bare name: each PATH candidate in turn, here, after the chdir and setuid, with
  // execvp's rules (glibc's, which Rust's std runs in its child): a candidate missing or
  // refused (ENOENT, EACCES, ENOTDIR, ESTALE, ENODEV, ETIMEDOUT) passes to the next, any
  // other error is the answer; none left, EACCES if one was refused. So which candidate
  // runs, and which error wins over a bad current_dir or process_group, is the child's,
  // seen with its uid, as std's.
  if (a->npaths == 0) {
    syscall(SYS_execve, a->path, a->argv, a->envp);
    child_fail(a, kStepExec);
  }
  bool refused = false;
  int last = ENOENT;
  for (int i = 0; i < a->npaths; ++i) {
    syscall(SYS_execve, a->paths[i], a->argv, a->envp);
    last = errno;
    switch (last) {
      case EACCES: refused = true; break;
      case ENOENT:
      case ESTALE:
      case ENOTDIR:
      case ENODEV:
      case ETIMEDOUT: break;
      default: child_fail(a, kStepExec, last);
    }
  }
  child_fail(a, kStepSearch, refused ? EACCES : last);
}

TOKIO_CHILD_CODE pid_t do_vfork(const ChildArgs* a) noexcept {
  pid_t pid = vfork();
  if (pid == 0) child_exec(a);
  return pid;
}

std::error_code spawn_error(const std::string& program, const std::string& cause, int err) {
  std::string shown;  // a NUL byte shown as \0, so that the message prints whole
  for (char c : program) {
    if (c == '\0') shown += "\\0";
    else shown += c;
  }
  std::string msg = "failed to spawn '" + shown + "': ";
  if (!cause.empty()) msg += cause + ": ";
  msg += std::generic_category().message(err);
  return error_with_message(err, std::move(msg));
}

bool has_nul(std::string_view s) noexcept { return s.find('\0') != std::string_view::npos; }

// The files execvp would try for `prog` (no '/'), in order, as Rust's std's child does:
// from the child's PATH (the Command's when it sets one; none after env_remove("PATH") or
// env_clear, which leaves execvp's default, /bin:/usr/bin), an empty entry meaning the
// working directory. The child tries them after its chdir and setuid (child_exec, step 6).
std::vector<std::string> path_candidates(const CommandSpec& spec) {
  std::string path_var = "/bin:/usr/bin";
  auto it = spec.env.find("PATH");
  if (it != spec.env.end()) {
    if (it->second) path_var = *it->second;
  } else if (!spec.env_clear) {
    if (const char* p = std::getenv("PATH")) path_var = p;
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = path_var.find(':', start);
    std::string dir =
        path_var.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (dir.empty()) dir = ".";
    out.push_back(dir + "/" + spec.program);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

const char* stream_name(int i) noexcept { return i == 0 ? "stdin" : i == 1 ? "stdout" : "stderr"; }

}  // namespace tokio::detail::process_spawn_impl

namespace tokio::detail {

Spawned::~Spawned() {
  if (pid < 0) return;
  if (kill_on_drop) ::kill(pid, SIGKILL);
  orphan_child(pid);
}

io::Result<SpawnPlan> prepare_spawn(const CommandSpec& spec,
                                    const process::Stdio::Kind defaults[3]) {
  namespace impl = process_spawn_impl;
  using Kind = process::Stdio::Kind;
  const std::string& prog = spec.program;
  auto fail = [&](int err, const std::string& cause) {
    return tokio::unexpected(impl::spawn_error(prog, cause, err));
  };

  // --- check and resolve
  // ENOENT, as Rust's (execvp of "" finds nothing).
  if (prog.empty()) return fail(ENOENT, "empty program name");
  bool nul = impl::has_nul(prog) || (spec.arg0 && impl::has_nul(*spec.arg0)) ||
             (spec.cwd && impl::has_nul(*spec.cwd));
  for (const auto& a : spec.args) nul = nul || impl::has_nul(a);
  for (const auto& [k, v] : spec.env) nul = nul || impl::has_nul(k) || (v && impl::has_nul(*v));
  if (nul) return fail(EINVAL, "an argument, variable or path contains a NUL byte");

  SpawnPlan plan;
  plan.program = prog;
  if (prog.find('/') != std::string::npos) {
    plan.path = prog;
  } else {
    plan.candidates = impl::path_candidates(spec);
  }

  // --- argv and the environment
  plan.argv_strings.reserve(spec.args.size() + 1);
  plan.argv_strings.push_back(spec.arg0 ? *spec.arg0 : prog);
  plan.argv_strings.insert(plan.argv_strings.end(), spec.args.begin(), spec.args.end());
  if (spec.env_clear || !spec.env.empty()) {
    plan.inherit_env = false;
    if (!spec.env_clear && environ) {
      for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        std::string key(kv.substr(0, kv.find('=')));
        if (spec.env.count(key)) continue;  // set or removed by the Command
        plan.env_strings.emplace_back(kv);
      }
    }
    for (const auto& [k, v] : spec.env) {
      if (v) plan.env_strings.push_back(k + "=" + *v);
    }
  }
  plan.cwd = spec.cwd;
  plan.pgroup = spec.pgroup;
  plan.uid = spec.uid;
  plan.gid = spec.gid;
  plan.kill_on_drop = spec.kill_on_drop;

  // --- the child's stdin/stdout/stderr
  plan.child_side.reserve(6);
  for (int i = 0; i < 3; ++i) {
    Kind k = spec.stdio[i] ? spec.stdio[i]->kind() : defaults[i];
    switch (k) {
      case Kind::inherit: break;
      case Kind::null: {
        int fd = ::open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
        if (fd < 0)
          return fail(errno, std::string("opening /dev/null for ") + impl::stream_name(i));
        plan.child_side.emplace_back(fd);
        plan.fds[i] = fd;
        break;
      }
      case Kind::piped: {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0) {
          return fail(errno, std::string("creating the pipe for ") + impl::stream_name(i));
        }
        int parent = i == 0 ? p[1] : p[0];
        int child = i == 0 ? p[0] : p[1];
        plan.pipes[i] = OwnedFd(parent);
        plan.child_side.emplace_back(child);
        if (auto nb = set_nonblocking(parent); !nb) {
          return fail(nb.error().value(),
                      std::string("making the ") + impl::stream_name(i) + " pipe non-blocking");
        }
        plan.fds[i] = child;
        break;
      }
      case Kind::fd: {
        // Our own copy: the Command (and its Stdio) may be gone before the vfork runs.
        // At least 3, so no dup3 in the child can overwrite it before it is used.
        int src = spec.stdio[i]->as_raw_fd();
        int fd = src < 0 ? -1 : ::fcntl(src, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
          return fail(src < 0 ? EBADF : errno,
                      std::string("Stdio::from_fd for ") + impl::stream_name(i));
        }
        plan.child_side.emplace_back(fd);
        plan.fds[i] = fd;
        break;
      }
    }
  }
  // (Every source is now a descriptor of our own numbered >= 3, or inherit: pipe2 and
  // open return the lowest free numbers, which are >= 3 unless the program closed one of
  // 0, 1, 2; move those out of the way too.)
  for (int i = 0; i < 3; ++i) {
    if (plan.fds[i] >= 0 && plan.fds[i] < 3) {
      int fd = ::fcntl(plan.fds[i], F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        return fail(errno, std::string("duplicating the descriptor for ") + impl::stream_name(i));
      plan.child_side.emplace_back(fd);
      plan.fds[i] = fd;
    }
  }
  return plan;
}

io::Result<Spawned> execute_spawn(SpawnPlan plan) {
  namespace impl = process_spawn_impl;
  auto fail = [&](int err, const std::string& cause) {
    return tokio::unexpected(impl::spawn_error(plan.program, cause, err));
  };

  std::vector<char*> argv;
  argv.reserve(plan.argv_strings.size() + 1);
  for (auto& a : plan.argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (!plan.inherit_env) {
    envp.reserve(plan.env_strings.size() + 1);
    for (auto& e : plan.env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
  }

  // SIGCHLD ignored (SIG_IGN, or a handler with SA_NOCLDWAIT, perhaps inherited from the
  // program that started us) has the kernel reap our children itself: waitpid then fails
  // with ECHILD and the exit status is lost. Tokio installs its SIGCHLD handler at every
  // spawn, which ends that; ours (chaining to what it replaces: nothing for SIG_IGN) does
  // the same, before the child can exit.
  struct sigaction chld {};
  if (::sigaction(SIGCHLD, nullptr, &chld) == 0 &&
      (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT))) {
    (void)signal_install(SIGCHLD, /*reclaim=*/true);
  }

  impl::ChildError ce{};
#if defined(TOKIO_TSAN)
  int ep[2];
  if (::pipe2(ep, O_CLOEXEC) < 0) return fail(errno, "creating the error pipe");
  // A parent with 0, 1 or 2 closed (a daemon) gets them back here, and the child's dup3
  // onto its stdio would then replace the pipe's write end: the exec failure report would
  // go into the child's stdout or stderr and the spawn would look successful. Keep both
  // ends above 2.
  for (int& end : ep) {
    if (end > 2) continue;
    int moved = ::fcntl(end, F_DUPFD_CLOEXEC, 3);
    int e = errno;
    ::close(end);
    end = moved;
    if (moved < 0) {
      for (int other : ep) {
        if (other >= 0) ::close(other);  // the end that failed is -1 by now
      }
      return fail(e, "creating the error pipe");
    }
  }
#endif

  std::vector<const char*> paths;
  paths.reserve(plan.candidates.size());
  for (auto& c : plan.candidates) paths.push_back(c.c_str());

  impl::ChildArgs a{};
  a.path = plan.path.c_str();
  a.paths = paths.data();
  a.npaths = static_cast<int>(paths.size());
  a.argv = argv.data();
  a.envp = plan.inherit_env ? environ : envp.data();
  for (int i = 0; i < 3; ++i) a.fds[i] = plan.fds[i];
  a.cwd = plan.cwd ? plan.cwd->c_str() : nullptr;
  a.set_pgroup = plan.pgroup.has_value();
  a.pgroup = plan.pgroup.value_or(0);
  a.set_gid = plan.gid.has_value();
  a.gid = plan.gid.value_or(0);
  a.set_uid = plan.uid.has_value();
  a.uid = plan.uid.value_or(0);
  a.report = &ce;
#if defined(TOKIO_TSAN)
  a.errfd = ep[1];
#else
  a.errfd = -1;
#endif

  // Every signal blocked while the child shares our memory: no handler may run in it
  // before it reset them (see spawn.hpp).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = impl::do_vfork(&a);
  int vfork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
#if defined(TOKIO_TSAN)
  ::close(ep[1]);
  if (pid < 0) {
    ::close(ep[0]);
    return fail(vfork_errno, "vfork");
  }
  ssize_t n;
  do {
    n = ::read(ep[0], &ce, sizeof ce);
  } while (n < 0 && errno == EINTR);
  ::close(ep[0]);
  if (n != 0 && n != sizeof ce) ce = {impl::kStepRead, EIO};
#else
  if (pid < 0) return fail(vfork_errno, "vfork");
  // The child has exec'd or exited by now (vfork waits for that); what it stored is read
  // through volatile so the compiler cannot reuse the zeros written before the call.
  ce = {*static_cast<const volatile int*>(&ce.step), *static_cast<const volatile int*>(&ce.err)};
#endif
  if (ce.step != 0) {
    // The child failed before or at execve and exited: reap it, report why.
    int st;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (ce.step == impl::kStepRead) return fail(ce.err, "reading the child's error report");
    switch (ce.step) {
      case impl::kStepStdio: return fail(ce.err, "setting up stdin/stdout/stderr");
      case impl::kStepPgroup:
        return fail(ce.err, "process_group(" + std::to_string(a.pgroup) + ")");
      case impl::kStepGid: return fail(ce.err, "gid(" + std::to_string(a.gid) + ")");
      case impl::kStepUid: return fail(ce.err, "uid(" + std::to_string(a.uid) + ")");
      case impl::kStepCwd: return fail(ce.err, "current_dir '" + *plan.cwd + "'");
      case impl::kStepMask: return fail(ce.err, "clearing the signal mask");
      case impl::kStepSearch:
        return fail(ce.err, ce.err == EACCES ? "found in PATH but not executable"
                                             : "program not found in PATH");
      default:
        if (ce.err == ENOENT) {
          // execve says ENOENT for the file it was asked to run, and also for the
          // interpreter a script's #! line names or the loader a binary asks for.
          // The file execve was given, as the child saw it: a relative path is taken
          // from the child's working directory.
          std::string seen = plan.path;
          if (plan.cwd && !seen.empty() && seen[0] != '/') seen = *plan.cwd + "/" + seen;
          if (::access(seen.c_str(), F_OK) == 0) {
            return fail(ce.err,
                        "the program exists, but the interpreter its #! line names (or the "
                        "dynamic loader it needs) was not found");
          }
          return fail(ce.err, "program not found");
        }
        if (ce.err == EACCES) return fail(ce.err, "program not executable");
        if (ce.err == ENOEXEC) return fail(ce.err, "not an executable format");
        return fail(ce.err, "execve");
    }
  }
  Spawned out;
  out.pid = pid;
  out.kill_on_drop = plan.kill_on_drop;
  for (int i = 0; i < 3; ++i) out.pipes[i] = std::move(plan.pipes[i]);
  return out;
}

}  // namespace tokio::detail
