// What spawning costs the parent, and what the child is handed: descriptors held per
// child (none once it is reaped, none for the exec error report, a bounded number for
// dropped children, none past three quarters of the table), SIGCHLD ignored by the program, SIGPIPE reset in the child, and the
// PATH search done as execvp does it in the child (Rust's std).
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "internals.hpp"
#include "process_test_util.hpp"

using tokio::Task;
using tokio::process::Child;
using tokio::process::Command;
using namespace std::chrono_literals;

namespace {

int open_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

// A directory with bin/myprog (a script printing "myprog-ran") and bin2/myprog/ (a
// directory of that name), removed at scope exit.
struct ProgDir {
  std::string root;
  ProgDir() {
    char t[] = "/tmp/tokio-path-XXXXXX";
    REQUIRE(::mkdtemp(t) != nullptr);
    root = t;
    REQUIRE(::mkdir((root + "/bin").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/bin2").c_str(), 0755) == 0);
    REQUIRE(::mkdir((root + "/bin2/myprog").c_str(), 0755) == 0);
    std::ofstream(root + "/bin/myprog") << "#!/bin/sh\necho myprog-ran\n";
    REQUIRE(::chmod((root + "/bin/myprog").c_str(), 0755) == 0);
  }
  ~ProgDir() { std::system(("rm -rf '" + root + "'").c_str()); }
};

}  // namespace

// A program keeping its finished Children (a job table) held a pidfd for each until the
// Child was destroyed: 1,016 of them reached the default limit of 1,024 descriptors, and
// the next spawn failed with EMFILE (Tokio holds none).
TEST_CASE("process: a reaped Child holds no descriptor (wait and try_wait), both modes") {
  for (bool sigchld : {false, true}) {
    CAPTURE(sigchld);
    pt::ForceSigchld mode(sigchld);
    nt::Watchdog wd("process reaped fds");
    auto rt = pt::runtime(1);
    rt.block_on([]() -> Task<> {
      std::vector<Child> kept;
      const int before = open_fds();
      for (int i = 0; i < 40; ++i) {
        auto c = Command("true").spawn();
        REQUIRE(c.has_value());
        if (i % 2 == 0) {
          auto st = co_await c->wait();
          REQUIRE(st.has_value());
          CHECK(st->success());
        } else {
          for (int k = 0; k < 5000; ++k) {
            auto t = c->try_wait();
            REQUIRE(t.has_value());
            if (t->has_value()) break;
            co_await tokio::time::sleep(1ms);
          }
        }
        kept.push_back(std::move(*c));
      }
      CHECK(open_fds() - before <= 2);  // was 40
      // Later waits still answer with the status.
      auto again = co_await kept[0].wait();
      REQUIRE(again.has_value());
      CHECK(again->success());
    }());
  }
}

// Dropped running children go to the reaper, which watched each with a pidfd: a burst of
// 300 held 300 descriptors (with the default limit, spawns failed). Past 64 the reaper
// watches them through SIGCHLD, and every one is still reaped.
TEST_CASE("process: the reaper holds a bounded number of descriptors for dropped children") {
  nt::Watchdog wd("process orphan fds");
  auto rt = pt::runtime(1);
  std::vector<int> pids;
  const int before = open_fds();
  rt.block_on([](std::vector<int>* pids) -> Task<> {
    for (int i = 0; i < 300; ++i) {
      Command c("sleep");
      c.arg("0.5");
      auto child = c.spawn();
      REQUIRE(child.has_value());
      pids->push_back(static_cast<int>(child->id().value()));
    }  // each dropped while running
    co_return;
  }(&pids));
  // The reaper's 64 pidfds, and what it and the signal registry may open on first use
  // (epoll, eventfd, a dup of the self-pipe, the self-pipe): was 300.
  CHECK(open_fds() - before <= 64 + 8);
  for (int pid : pids) {
    CAPTURE(pid);
    CHECK(test::eventually([&] { return pt::reaped(pid); }, 20s));
  }
}

constexpr const char* kSigchldIgnEnv = "TOKIO_TEST_SIGCHLD_IGN_CHILD";
constexpr const char* kSigchldIgnCase =
    "process: SIGCHLD ignored by the program: wait still gets the status (in a child process)";

// SIGCHLD set to SIG_IGN (by the program, or inherited from whoever started it) has the
// kernel reap children itself: every wait, try_wait, status and output failed with ECHILD
// and the output read was lost. Tokio installs its SIGCHLD handler at each spawn; so does
// a spawn now when it finds SIGCHLD ignored, also after our handler was replaced.
TEST_CASE(kSigchldIgnCase) {
  if (test::in_child(kSigchldIgnEnv)) {
    auto rt = pt::runtime(0);
    int failures = rt.block_on([]() -> Task<int> {
      int bad = 0;
      for (int round = 0; round < 2; ++round) {
        ::signal(SIGCHLD, SIG_IGN);  // the second round: after our handler was installed
        Command c("sh");
        c.arg("-c").arg("echo hi; exit 3");
        auto out = co_await c.output();
        if (!out || out->status.code() != 3 || out->stdout != "hi\n") ++bad;
        auto st = co_await Command("false").status();
        if (!st || st->code() != 1) ++bad;
      }
      co_return bad;
    }());
    test::report_and_exit(failures);
  }
  test::check_child_passes(kSigchldIgnCase, kSigchldIgnEnv);
}

constexpr const char* kFdLimitEnv = "TOKIO_TEST_SPAWN_FD_LIMIT_CHILD";
constexpr const char* kFdLimitCase =
    "process: a spawn needs no descriptor for its error report (in a child process)";

// The exec failure report went through a pipe: two descriptors per spawn, so a process
// with one descriptor left (for the pidfd) could not spawn at all. The child now stores
// its report in the memory it shares with the parent until it execs.
TEST_CASE(kFdLimitCase) {
  if (test::in_child(kFdLimitEnv)) {
    auto rt = pt::runtime(0);
    int failures = rt.block_on([]() -> Task<int> {
      int bad = 0;
      // The exec failure's message is made once and kept (process/detail/spawn_error.cpp):
      // made here first, as UBSan's check of a virtual class's constructor needs a free
      // descriptor (it tests the memory through a pipe) and, with none, reports an invalid
      // vptr that is not there (a program without tokio.hpp shows the same).
      (void)Command("/nonexistent/program").spawn();
      // Fill the table under a soft limit, all but what a spawn needs, then spawn.
      struct rlimit rl;
      ::getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = 256;
      ::setrlimit(RLIMIT_NOFILE, &rl);
      std::vector<int> fill;
      for (;;) {
        int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) break;
        fill.push_back(fd);
      }
      // One descriptor left: the pidfd. Under ThreadSanitizer vfork is fork and the report
      // goes through a pipe (process/detail/spawn.hpp): two more there.
#if defined(TOKIO_TSAN)
      constexpr int kLeft = 3;
#else
      constexpr int kLeft = 1;
#endif
      for (int i = 0; i < kLeft; ++i) {
        ::close(fill.back());
        fill.pop_back();
      }
      auto ok = Command("true").spawn();
      bool exited = false;
      if (ok) {
        auto st = co_await ok->wait();
        exited = st && st->success();
      }
      // An exec failure is still reported as such, with the table full again.
      auto missing = Command("/nonexistent/program").spawn();
      // Errors are looked at only with descriptors free again (the same UBSan check).
      for (int fd : fill) ::close(fd);
      if (!ok) std::fprintf(stderr, "spawn: %s\n", ok.error().message().c_str());
      if (!ok || !exited) ++bad;
      if (missing || missing.error() != std::errc::no_such_file_or_directory) ++bad;
      co_return bad;
    }());
    test::report_and_exit(failures);
  }
  test::check_child_passes(kFdLimitCase, kFdLimitEnv);
}

// Each running Child held a pidfd (Tokio holds none: it waits on SIGCHLD): under the
// default soft limit of 1,024, 1,100 children at once failed 83 spawns ("could not be
// watched") and the program could not open a socket until some exited. Past three
// quarters of the table a child is watched by SIGCHLD instead.
constexpr const char* kManyChildrenCase =
    "process: many running children leave the program its descriptors (in a child process)";
constexpr const char* kManyChildrenEnv = "TOKIO_TEST_MANY_CHILDREN_CHILD";

TEST_CASE(kManyChildrenCase) {
  if (test::in_child(kManyChildrenEnv)) {
    struct rlimit rl;
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 112;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    // The watching mode does not depend on the runtime's flavour: one is enough.
    auto rt = pt::runtime(1);
    int failures = rt.block_on([]() -> Task<int> {
      int bad = 0;
      std::vector<Child> kids;
      for (int i = 0; i < 110; ++i) {
        auto c = Command("sleep").arg("1").spawn();
        if (!c) {
          if (bad++ == 0) std::fprintf(stderr, "spawn %d: %s\n", i, c.error().message().c_str());
          continue;
        }
        kids.push_back(std::move(*c));
      }
      // While they all run: most of the table is free for the program's own use.
      if (open_fds() > 112 - 112 / 4 + 8) {
        std::fprintf(stderr, "%d descriptors open with 110 children running\n", open_fds());
        ++bad;
      }
      auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
      if (!l) {
        std::fprintf(stderr, "bind: %s\n", l.error().message().c_str());
        ++bad;
      }
      for (auto& k : kids) {
        auto st = co_await k.wait();
        if (!st || !st->success()) ++bad;
      }
      co_return bad;
    }());
    test::report_and_exit(failures);
  }
  test::check_child_passes(kManyChildrenCase, kManyChildrenEnv);
}

// Rust's std resets SIGPIPE to SIG_DFL in the child: a program that ignores SIGPIPE (as
// servers do) must not hand that to `yes | head`, where yes would then print "Broken
// pipe" and exit 1 instead of dying quietly of the signal.
TEST_CASE("process: the child starts with SIGPIPE at its default even when we ignore it") {
  nt::Watchdog wd("process sigpipe default");
  struct sigaction old {};
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  REQUIRE(::sigaction(SIGPIPE, &ign, &old) == 0);
  auto rt = pt::runtime(1);
  auto [ignored_mask, yes_signal] = rt.block_on([]() -> Task<std::pair<std::string, int>> {
    Command grep("grep");
    grep.arg("SigIgn").arg("/proc/self/status");
    auto out = co_await grep.output();
    REQUIRE(out.has_value());
    Command yes("yes");
    yes.stdout(tokio::process::Stdio::piped());
    auto y = yes.spawn();
    REQUIRE(y.has_value());
    y->stdout.reset();  // yes writes into a pipe nobody reads: SIGPIPE
    auto st = co_await y->wait();
    REQUIRE(st.has_value());
    co_return std::pair{out->stdout, st->signal().value_or(0)};
  }());
  REQUIRE(::sigaction(SIGPIPE, &old, nullptr) == 0);
  // SIGPIPE (13) is bit 12 of the mask; other bits may be set by whoever started the
  // tests (nohup ignores SIGHUP).
  REQUIRE(ignored_mask.rfind("SigIgn:\t", 0) == 0);
  unsigned long long mask = std::stoull(ignored_mask.substr(8), nullptr, 16);
  CHECK((mask & (1ull << (SIGPIPE - 1))) == 0);
  CHECK(yes_signal == SIGPIPE);
}

// The PATH search is execvp's in the child, as Rust's std: the child's PATH (none after
// env_remove or env_clear: execvp's default /bin:/usr/bin), relative entries from the
// child's working directory, and a directory of the program's name is EACCES.
TEST_CASE("process: the PATH search is the child's: env_remove, env_clear, relative, directory") {
  nt::Watchdog wd("process path search");
  ProgDir d;
  auto rt = pt::runtime(1);
  rt.block_on([](std::string root) -> Task<> {
    const char* old = std::getenv("PATH");
    std::string saved = old ? old : "";
    ::setenv("PATH", (root + "/bin:" + saved).c_str(), 1);
    {
      auto found = co_await Command("myprog").output();  // the parent's PATH has it
      REQUIRE(found.has_value());
      CHECK(found->stdout == "myprog-ran\n");
      Command removed("myprog");
      removed.env_remove("PATH");
      auto r = removed.spawn();
      CHECK((!r && r.error() == std::errc::no_such_file_or_directory));
      Command cleared("myprog");
      cleared.env_clear();
      auto c = cleared.spawn();
      CHECK((!c && c.error() == std::errc::no_such_file_or_directory));
      Command sh("sh");  // execvp's default path still finds /bin/sh
      sh.env_clear().arg("-c").arg("exit 4");
      auto s = co_await sh.status();
      REQUIRE(s.has_value());
      CHECK(s->code() == 4);
    }
    ::setenv("PATH", saved.c_str(), 1);
    // A relative entry, from the child's working directory.
    Command rel("myprog");
    rel.env("PATH", "bin").current_dir(root);
    auto out = co_await rel.output();
    REQUIRE(out.has_value());
    CHECK(out->stdout == "myprog-ran\n");
    // A directory named like the program, and nothing else: EACCES, as execvp.
    Command dir("myprog");
    dir.env("PATH", root + "/bin2");
    auto e = dir.spawn();
    CHECK((!e && e.error() == std::errc::permission_denied));
    // ... but a later entry with the program wins.
    Command later("myprog");
    later.env("PATH", root + "/bin2:" + root + "/bin");
    auto l = co_await later.output();
    REQUIRE(l.has_value());
    CHECK(l->stdout == "myprog-ran\n");
  }(d.root));
}

// The PATH candidates are tried in the child after its chdir, setpgid and setuid, as
// execvp in Rust's std's child: a bad current_dir or process_group is the error even when
// no candidate would run, and a candidate the new uid may not run passes to the next.
TEST_CASE("process: PATH candidates are tried after current_dir, process_group and uid") {
  nt::Watchdog wd("process path order");
  pt::TempDir d;
  REQUIRE(::chmod(d.path.c_str(), 0755) == 0);  // (mkdtemp's 0700: nobody must reach b)
  std::string bin_a = d.path + "/a", bin_b = d.path + "/b";
  REQUIRE(::mkdir(bin_a.c_str(), 0755) == 0);
  REQUIRE(::mkdir(bin_b.c_str(), 0755) == 0);
  d.write("a/tokio-pathprog", "#!/bin/sh\necho a\n", 0644);  // not executable
  d.write("b/tokio-pathprog", "#!/bin/sh\necho b\n", 0755);
  auto file = d.write("file", "", 0644);
  auto rt = pt::runtime(1);
  rt.block_on([](std::string a, std::string b, std::string root, std::string file) -> Task<> {
    Command bad_cwd("tokio-pathprog");  // only a refused candidate, and no such directory
    bad_cwd.env("PATH", a).current_dir(root + "/missing");
    auto r1 = bad_cwd.spawn();
    REQUIRE_FALSE(r1.has_value());
    CHECK(r1.error() == std::errc::no_such_file_or_directory);
    CHECK(r1.error().message().find("current_dir") != std::string::npos);
    Command file_cwd("tokio-no-such-program");  // no candidate, and the directory is a file
    file_cwd.current_dir(file);
    auto r2 = file_cwd.spawn();
    CHECK((!r2 && r2.error() == std::errc::not_a_directory));
    Command refused("tokio-pathprog");  // refused only: EACCES, named as the PATH's
    refused.env("PATH", a);
    auto r3 = refused.spawn();
    REQUIRE_FALSE(r3.has_value());
    CHECK(r3.error() == std::errc::permission_denied);
    CHECK(r3.error().message().find("found in PATH but not executable") != std::string::npos);
    Command later("tokio-pathprog");  // refused, then one that runs
    later.env("PATH", a + ":" + b);
    auto out = co_await later.output();
    REQUIRE(out.has_value());
    CHECK(out->stdout == "b\n");
    if (::getuid() == 0) {
      // A directory only root may search: as nobody the candidate there is refused
      // (root would run it), so the next entry's runs.
      REQUIRE(::chmod(a.c_str(), 0700) == 0);
      REQUIRE(::chmod((a + "/tokio-pathprog").c_str(), 0755) == 0);
      Command as_nobody("tokio-pathprog");
      as_nobody.env("PATH", a + ":" + b).uid(65534).gid(65534);
      auto n = co_await as_nobody.output();
      CAPTURE((n ? std::string() : n.error().message()));
      REQUIRE(n.has_value());
      CHECK(n->stdout == "b\n");
    }
  }(bin_a, bin_b, d.path, file));
}
