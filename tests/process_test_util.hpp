#pragma once
// Helpers for the tokio::process suites: runtimes, /proc inspection (zombies, process
// groups), temporary files.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "internals.hpp"  // detail::process_force_sigchld
#include "net_test_util.hpp"

// The names the process test files use unqualified.
using tokio::Task;
using tokio::process::Child;
using tokio::process::Command;
using tokio::process::ExitStatus;
using tokio::process::Output;
using tokio::process::Stdio;
namespace io = tokio::io;

namespace pt {

// For its scope, children spawned are watched through SIGCHLD (on = true) or pidfds; the
// default (pidfds where the kernel has them) comes back at the end of the scope.
class ForceSigchld {
 public:
  explicit ForceSigchld(bool on) { tokio::detail::process_force_sigchld(on); }
  ~ForceSigchld() { tokio::detail::process_force_sigchld(false); }
  ForceSigchld(const ForceSigchld&) = delete;
  ForceSigchld& operator=(const ForceSigchld&) = delete;
};

// `cat` with stdin and stdout piped (what most pipe cases drive).
inline tokio::io::Result<tokio::process::Child> spawn_piped_cat() {
  tokio::process::Command cmd("cat");
  cmd.stdin(tokio::process::Stdio::piped()).stdout(tokio::process::Stdio::piped());
  return cmd.spawn();
}

inline tokio::runtime::Runtime runtime(int flavour) {
  if (flavour == 0) return tokio::runtime::Builder::new_current_thread().enable_all().build();
  return tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
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
  FILE* p = ::popen(
      ("grep -l '^[0-9]* (.*) Z " + self + " ' /proc/[0-9]*/stat 2>/dev/null").c_str(), "r");
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
