#pragma once
// Helpers for the tokio::process suites: runtimes, /proc inspection (zombies, process
// groups), temporary files.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "net_test_util.hpp"

namespace pt {

// ThreadSanitizer runs a signal handler only once the thread that took the signal reaches
// a call TSan intercepts. The runtime parks its threads (and a multi-thread block_on) in
// raw futex syscalls, which TSan does not see, and the kernel prefers to deliver SIGCHLD to
// the thread that spawned the child (usually such a runtime thread): under TSan alone, a
// SIGCHLD-mode wait could then stall until that thread happens to wake. So, under TSan
// only, the test runtimes' threads and the off_main() threads block SIGCHLD, and the
// kernel hands it to a thread waiting in an intercepted call (pthread_join, a condition
// variable, nanosleep). Plain and ASan builds run with nothing blocked.
inline constexpr bool kTsan = test::kScale > 1;

inline void block_sigchld_under_tsan() {
  if constexpr (kTsan) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
  }
}

inline tokio::runtime::Runtime runtime(int flavour) {
  if (flavour == 0) return tokio::runtime::Builder::new_current_thread().enable_all().build();
  return tokio::runtime::Builder::new_multi_thread()
      .worker_threads(2)
      .enable_all()
      .on_thread_start(&block_sigchld_under_tsan)
      .build();
}

// Runs f() on a new thread while this one waits in pthread_join, and returns its result
// (rethrowing its exception, doctest's REQUIRE included).
//
// Why: see kTsan above. The kernel prefers the main thread for a process-directed signal
// (kill(getpid())); pthread_join is intercepted (a "blocking call" in which TSan runs
// handlers at once), while block_on may park the thread it runs on in a raw futex. The new
// thread blocks SIGCHLD under TSan (it runs block_on, and spawns children). Elsewhere this
// changes nothing.
template <class F>
auto off_main(F f) -> std::invoke_result_t<F&> {
  using R = std::invoke_result_t<F&>;
  std::exception_ptr err;
  if constexpr (std::is_void_v<R>) {
    std::thread t([&] {
      block_sigchld_under_tsan();
      try {
        f();
      } catch (...) {
        err = std::current_exception();
      }
    });
    t.join();
    if (err) std::rethrow_exception(err);
  } else {
    std::optional<R> out;
    std::thread t([&] {
      block_sigchld_under_tsan();
      try {
        out.emplace(f());
      } catch (...) {
        err = std::current_exception();
      }
    });
    t.join();
    if (err) std::rethrow_exception(err);
    return std::move(*out);
  }
}

// /proc/PID/stat of one of our children: its state letter ('R', 'S', 'Z'...) and process
// group, or state 0 when PID is gone (reaped) or is not our child any more.
struct ProcStat {
  char state = 0;
  int pgrp = 0;
};
inline ProcStat proc_stat(int pid) {
  ProcStat st;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return st;
  char line[1024];
  std::size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  line[n] = 0;
  const char* p = std::strrchr(line, ')');
  if (!p) return st;
  char state = 0;
  int ppid = 0, pgrp = 0;
  if (std::sscanf(p + 2, "%c %d %d", &state, &ppid, &pgrp) != 3) return st;
  if (ppid != ::getpid()) return st;  // a recycled pid: ours is gone
  st.state = state;
  st.pgrp = pgrp;
  return st;
}
// True once PID is neither running nor a zombie of ours (it was reaped).
inline bool reaped(int pid) { return proc_stat(pid).state == 0; }
inline bool zombie(int pid) { return proc_stat(pid).state == 'Z'; }

// Our children that are zombies right now (scans /proc).
inline std::vector<int> zombie_children() {
  std::vector<int> out;
  std::string self = std::to_string(::getpid());
  FILE* p = ::popen(("grep -l '^[0-9]* (.*) Z " + self + " ' /proc/[0-9]*/stat 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out.push_back(std::atoi(buf + 6));
  ::pclose(p);
  return out;
}

// A temporary directory removed at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tokio-proc-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
  std::string write(const std::string& name, const std::string& content, mode_t mode) const {
    std::string f = path + "/" + name;
    FILE* fp = std::fopen(f.c_str(), "w");
    REQUIRE(fp != nullptr);
    std::fwrite(content.data(), 1, content.size(), fp);
    std::fclose(fp);
    ::chmod(f.c_str(), mode);
    return f;
  }
};

}  // namespace pt
