// tokio::process children's ends: kill_on_drop, dropped children and zombies, the orphan
// reaper, process groups and ids, descriptor leaks, waits from several runtimes and
// threads (spawning, status, output and waits: process_test.cpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <sstream>
#include <string>
#include <vector>

#include "internals.hpp"  // detail::reaper_orphans
#include "process_test_util.hpp"
#include "sync_test_util.hpp"

namespace {

// The descriptors open in /proc/WHO/fd.
std::vector<int> fds_of(const std::string& who) {
  std::vector<int> out;
  std::string list = nt::sh("ls /proc/" + who + "/fd");
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t nl = list.find('\n', pos);
    if (nl == std::string::npos) nl = list.size();
    if (nl > pos) out.push_back(std::stoi(list.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("process: kill_on_drop kills and reaps; a dropped child runs on and is reaped later") {
  nt::Watchdog wd("process drop");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    int killed_pid, running_pid;
    {
      Command c("sleep");
      c.arg("30").kill_on_drop(true);
      CHECK(c.get_kill_on_drop());
      auto child = c.spawn();
      REQUIRE(child.has_value());
      killed_pid = static_cast<int>(*child->id());
    }
    CHECK(test::eventually([&] { return pt::reaped(killed_pid); }));
    {
      auto child = Command("sleep").arg("30").spawn();
      REQUIRE(child.has_value());
      running_pid = static_cast<int>(*child->id());
    }
    // Not killed: still running after the drop.
    co_await tokio::time::sleep(50ms);
    auto st = pt::proc_stat(running_pid);
    CHECK((st.state != 0 && st.state != 'Z'));
    // When it exits, the background reaper reaps it.
    ::kill(running_pid, SIGKILL);
    CHECK(test::eventually([&] { return pt::reaped(running_pid); }));
    CHECK(test::eventually([] { return tokio::detail::reaper_orphans() == 0; }));
  }());
}

TEST_CASE("process: children dropped without a wait never linger as zombies") {
  nt::Watchdog wd("process orphans");
  std::vector<int> pids;
  {
    auto rt = pt::runtime(0);
    rt.block_on([](std::vector<int>* pids) -> Task<> {
      for (int i = 0; i < 50; ++i) {
        auto c = Command("true").spawn();
        REQUIRE(c.has_value());
        pids->push_back(static_cast<int>(*c->id()));
      }  // each dropped at once, most still running
      co_return;
    }(&pids));
  }  // and the runtime is gone too
  CHECK(test::eventually([&] {
    for (int p : pids) {
      if (!pt::reaped(p)) return false;
    }
    return true;
  }));
  CHECK(pt::zombie_children().empty());
}

// The reaper's thread could not start (EMFILE) when the first Child was dropped: it must
// try again when the next Child is let go of and then reap both, pidfd-mode orphans
// included (a failure once disabled it for the life of the process). Two ways: the next
// Child is dropped still running (adopted: round 1), or after its own wait reaped it
// (round 2; the retry once waited for an adopt only, and a child that exited before its
// drop left the first a zombie: 1 run in 6). Each round runs in a fresh process, where the
// reaper has not started yet: the test re-runs its own case in a child of the test binary.
TEST_CASE("process: the orphan reaper starts after a failed start and reaps what it missed") {
  nt::Watchdog wd("process reaper retry");
  const char* round = std::getenv("TOKIO_TEST_REAPER_FRESH");
  if (!round) {
    char exe[4096];
    ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    REQUIRE(n > 0);
    exe[n] = 0;
    for (const char* r : {"1", "2"}) {
      CAPTURE(r);
      std::string cmd = std::string("TOKIO_TEST_REAPER_FRESH=") + r + " '" + exe +
                        "' --no-version --no-intro -tc='process: the orphan reaper starts*' "
                        ">/dev/null 2>&1";
      CHECK(std::system(cmd.c_str()) == 0);
    }
    return;
  }
  const bool wait_second = std::string(round) == "2";
  REQUIRE(tokio::detail::reaper_orphans() == 0);
  std::vector<int> pids;
  struct rlimit old_lim {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old_lim) == 0);
  auto rt = pt::runtime(0);
  rt.block_on([](std::vector<int>* pids, rlimit old_lim, bool wait_second) -> Task<> {
    auto c1 = Command("sleep").arg("0.3").spawn();
    REQUIRE(c1.has_value());
    pids->push_back(static_cast<int>(*c1->id()));
    // No descriptor left: the reaper cannot make its epoll set or eventfd.
    struct rlimit low = old_lim;
    low.rlim_cur = 256;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    std::vector<int> fillers;
    for (int i = 0; i < 256; ++i) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers.push_back(fd);
    }
    CHECK(::open("/dev/null", O_RDONLY | O_CLOEXEC) < 0);
    c1 = tokio::unexpected(std::error_code());  // dropped: adopted, thread start fails
    CHECK(tokio::detail::reaper_orphans() == 1);
    for (int fd : fillers) ::close(fd);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &old_lim) == 0);
    // Round 1: still running when dropped (sleep). Round 2: reaped by its wait first.
    auto c2 = wait_second ? Command("true").spawn() : Command("sleep").arg("0.2").spawn();
    REQUIRE(c2.has_value());
    pids->push_back(static_cast<int>(*c2->id()));
    if (wait_second) {
      auto st = co_await c2->wait();
      CHECK(st.has_value());
      CHECK(tokio::detail::reaper_orphans() == 1);  // c1 still waits for the reaper
    }
    co_return;
  }(&pids, old_lim, wait_second));  // c2 let go of: the reaper's thread starts now
  CHECK(test::eventually([&] {
    for (int p : pids) {
      if (!pt::reaped(p)) return false;
    }
    return true;
  }));
  CHECK(tokio::detail::reaper_orphans() == 0);
  CHECK(pt::zombie_children().empty());
}

TEST_CASE("process: process_group, and uid/gid") {
  nt::Watchdog wd("process group uid");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    Command c("sleep");
    c.arg("30").process_group(0).kill_on_drop(true);
    auto child = c.spawn();
    REQUIRE(child.has_value());
    int pid = static_cast<int>(*child->id());
    CHECK(pt::proc_stat(pid).pgrp == pid);  // leads a new group
    CHECK(::getpgid(0) != pid);
    (void)child->start_kill();
    (void)co_await child->wait();
    if (::getuid() == 0) {
      Command u("sh");
      u.arg("-c").arg("id -u; id -g").uid(65534).gid(65534);
      auto o = co_await u.output();
      REQUIRE(o.has_value());
      CHECK(o->stdout == "65534\n65534\n");
    } else {
      Command u("true");
      u.uid(0);
      auto r = u.spawn();
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error() == std::errc::operation_not_permitted);
      CHECK(r.error().message().find("uid(0)") != std::string::npos);
    }
  }());
}

TEST_CASE("process: no descriptor leaks, into children or in the parent") {
  nt::Watchdog wd("process fds");
  auto rt = pt::runtime(1);
  int before = nt::open_fds();
  rt.block_on([]() -> Task<> {
    // The child holds 0, 1, 2 and only what the test process itself left inheritable
    // (descriptors it inherited from whoever started it): none of ours.
    Command cat("cat");
    cat.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    auto c = cat.spawn();
    REQUIRE(c.has_value());
    std::set<int> inheritable{0, 1, 2};
    for (int fd : fds_of(std::to_string(::getpid()))) {
      int fl = ::fcntl(fd, F_GETFD);
      if (fd > 2 && fl >= 0 && !(fl & FD_CLOEXEC)) inheritable.insert(fd);
    }
    auto in_child = fds_of(std::to_string(*c->id()));
    CHECK(std::set<int>(in_child.begin(), in_child.end()) == inheritable);
    (void)co_await std::move(*c).wait_with_output();
    for (int i = 0; i < 20; ++i) {
      Command c("cat");
      c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
      auto child = c.spawn();
      REQUIRE(child.has_value());
      (void)co_await std::move(*child).wait_with_output();
    }
    (void)co_await Command("tokio-no-such-program").status();
  }());
  CHECK(nt::open_fds() <= before + 2);  // (the runtime's own, if any are cached)
}

namespace {

Task<Child> spawn_sleeper(std::string secs) {
  auto c = Command("sleep").arg(secs).spawn();
  REQUIRE(c.has_value());
  co_return std::move(*c);
}

// A timeout polls its inner operation once more when it fires, which would find an exit
// whose wake-up was lost: so the wait must also end well before the timeout.
Task<io::Result<ExitStatus>> wait_bounded(Child* c) {
  auto start = std::chrono::steady_clock::now();
  auto r = co_await tokio::time::timeout(std::chrono::seconds(10), c->wait());
  REQUIRE(r.has_value());  // not stuck on the idle spawning runtime
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  co_return std::move(*r);
}

}  // namespace

TEST_CASE("process: a Child waits on the runtime that awaits it: its spawner idle or dropped") {
  // Tokio's wait completes on any runtime. Here a child spawned on runtime A is waited on
  // runtime B while A sits idle, then (a second child) after A is gone; with pidfds and
  // with the SIGCHLD fallback.
  for (bool sigchld : {false, true}) {
    CAPTURE(sigchld);
    pt::ForceSigchld mode(sigchld);
    nt::Watchdog wd("child across runtimes", std::chrono::seconds(60));
    std::optional<Child> second;
    auto b = pt::runtime(1);
    {
      auto a = pt::runtime(0);
      Child first = a.block_on(spawn_sleeper("0.1"));
      second.emplace(a.block_on(spawn_sleeper("0.1")));
      auto st = b.block_on(wait_bounded(&first));
      REQUIRE(st.has_value());
      CHECK(st->success());
    }
    auto st2 = b.block_on(wait_bounded(&*second));
    REQUIRE(st2.has_value());  // not "the runtime's I/O driver has shut down"
    CHECK(st2->success());
    // kill() after the spawner is gone: the child is killed and reaped.
    auto a2 = std::make_unique<tokio::runtime::Runtime>(pt::runtime(0));
    Child third = a2->block_on(spawn_sleeper("30"));
    a2.reset();
    b.block_on([](Child* c) -> Task<> {
      auto k = co_await tokio::time::timeout(std::chrono::seconds(10), c->kill());
      REQUIRE(k.has_value());
      CHECK(k->has_value());
      auto again = c->try_wait();
      REQUIRE(again.has_value());
      REQUIRE(again->has_value());
      CHECK((*again)->signal() == SIGKILL);
    }(&third));
  }
}

// Waits pending at once on one Child: two tasks on a 2-worker runtime (polled on either
// worker) and one on another runtime's thread, with try_wait and id polled meanwhile from
// the test thread; each wait completes with the one status, with pidfds and with SIGCHLD.
TEST_CASE("process: several waits on one Child at once, across runtimes and threads") {
  for (bool sigchld : {false, true}) {
    CAPTURE(sigchld);
    pt::ForceSigchld mode(sigchld);
    nt::Watchdog wd("several waits on one Child", std::chrono::seconds(60));
    auto a = pt::runtime(1);
    auto b = pt::runtime(0);
    for (int round = 0; round < 5; ++round) {
      CAPTURE(round);
      Child child = a.block_on(spawn_sleeper("0.2"));
      const auto pid = child.id();
      REQUIRE(pid.has_value());
      auto wait_on = [](Child* c) -> Task<int> {
        auto st = co_await wait_bounded(c);
        REQUIRE(st.has_value());
        co_return st->code().value_or(-1);
      };
      auto w1 = a.spawn(wait_on(&child));
      auto w2 = a.spawn(wait_on(&child));
      std::thread other([&] { CHECK(b.block_on(wait_on(&child)) == 0); });
      // Meanwhile on this thread: try_wait and id, until the child is reaped.
      for (int i = 0; i < 1000; ++i) {
        auto t = child.try_wait();
        REQUIRE(t.has_value());
        if (t->has_value()) break;
        // A wait on another thread may reap it right after try_wait: then id() is empty.
        auto id = child.id();
        CHECK((!id || *id == *pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      CHECK(a.block_on(std::move(w1)) == 0);
      CHECK(a.block_on(std::move(w2)) == 0);
      other.join();
      CHECK_FALSE(child.id().has_value());  // reaped
      auto again = child.try_wait();
      REQUIRE(again.has_value());
      REQUIRE(again->has_value());
      CHECK((*again)->success());
    }
  }
}

TEST_CASE("process: status() and output() start the child when called, as Tokio's") {
  nt::Watchdog wd("eager status");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    char tmpl[] = "/tmp/tokio-eager-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string mark = std::string(tmpl) + "/ran";
    {
      Command c("sh");
      c.arg("-c").arg("touch " + mark);
      auto never_awaited = c.status();  // dropped below without a co_await
    }
    bool ran = false;
    for (int i = 0; i < 500 && !ran; ++i) {
      ran = ::access(mark.c_str(), F_OK) == 0;
      if (!ran) co_await tokio::time::sleep(std::chrono::milliseconds(10));
    }
    CHECK(ran);
    (void)!std::system(("rm -rf " + std::string(tmpl)).c_str());
  }());
}

TEST_CASE(
    "process: status() and output() start at once with the blocking pool busy, even for a "
    "blocking closure that waits for the child") {
  nt::Watchdog wd("status busy pool");
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    auto rt = flavour == 0 ? tokio::runtime::Builder::new_current_thread()
                                 .max_blocking_threads(1)
                                 .enable_all()
                                 .build()
                           : tokio::runtime::Builder::new_multi_thread()
                                 .worker_threads(2)
                                 .max_blocking_threads(1)
                                 .enable_all()
                                 .build();
    rt.block_on([]() -> Task<> {
      char tmpl[] = "/tmp/tokio-busy-XXXXXX";
      REQUIRE(::mkdtemp(tmpl) != nullptr);
      const std::string mark = std::string(tmpl) + "/ran";
      // The only blocking thread is held until the checks below are done.
      std::atomic<bool> release{false};
      auto busy = tokio::task::spawn_blocking([&release] {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      });
      co_await tokio::time::sleep(std::chrono::milliseconds(10));
      {
        Command c("sh");
        c.arg("-c").arg("touch " + mark);
        auto dropped = c.status();  // never awaited: the child ran anyway, now
      }
      bool ran = false;
      for (int i = 0; i < 500 && !ran; ++i) {
        ran = ::access(mark.c_str(), F_OK) == 0;
        if (!ran) co_await tokio::time::sleep(std::chrono::milliseconds(10));
      }
      CHECK(ran);
      auto st = co_await tokio::time::timeout(std::chrono::seconds(10), Command("true").status());
      REQUIRE(st.has_value());  // not queued behind the busy thread
      CHECK((*st && (*st)->success()));
      release = true;
      co_await busy;
      // A blocking closure that waits for output(): the child is not queued behind it.
      auto out = co_await tokio::task::spawn_blocking([] {
        return tokio::runtime::Handle::current().block_on([]() -> Task<std::string> {
          Command c("echo");
          c.arg("hi");
          auto o = co_await tokio::time::timeout(std::chrono::seconds(10), c.output());
          if (!o) co_return "timed out";
          co_return *o ? (*o)->stdout : o->error().message();
        }());
      });
      CHECK(out == "hi\n");
      (void)!std::system(("rm -rf " + std::string(tmpl)).c_str());
    }());
  }
}
