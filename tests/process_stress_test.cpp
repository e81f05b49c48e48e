// tokio::process under load: 1,000 children at once (all reaped, /proc checked), 100 MiB
// through `cat` in both directions at once, and the SIGCHLD fallback (no pidfd) doing the
// same jobs. Sizes shrink under ThreadSanitizer (test::scaled).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "internals.hpp"  // detail::process_force_sigchld, detail::reaper_orphans
#include "process_test_util.hpp"

using tokio::Task;
using tokio::process::Child;
using tokio::process::Command;
using tokio::process::Stdio;
namespace io = tokio::io;

namespace {

// Runs `n` children of `cat` that all read one shared pipe, so they are all alive at
// once; closing the pipe's write end ends them all. Returns their pids once all were
// waited for.
Task<std::vector<int>> many_children(std::size_t n) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  Command cat("cat");
  cat.stdin(Stdio::from_fd(p[0])).stdout(Stdio::null());
  std::vector<Child> children;
  std::vector<int> pids;
  children.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = cat.spawn();
    REQUIRE_MESSAGE(c.has_value(), c.error().message());
    pids.push_back(static_cast<int>(*c->id()));
    children.push_back(std::move(*c));
  }
  // All alive together.
  std::size_t alive = 0;
  for (int pid : pids) alive += pt::proc_stat(pid).state != 0;
  CHECK(alive == n);
  ::close(p[1]);  // EOF for every cat
  tokio::task::JoinSet<bool> set;
  for (auto& c : children) {
    set.spawn(
        [](Child* c) -> Task<bool> {
          auto st = co_await c->wait();
          co_return st.has_value() && st->success();
        },
        &c);
  }
  std::size_t ok = 0;
  for (;;) {
    auto r = co_await set.join_next();
    if (!r) break;
    ok += (r->has_value() && **r);
  }
  CHECK(ok == n);
  co_return pids;
}

uint64_t fnv(uint64_t h, const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
  return h;
}

// `total` bytes into cat's stdin while reading its stdout, concurrently.
Task<> through_cat(std::size_t total) {
  Command cmd("cat");
  cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
  auto child = cmd.spawn();
  REQUIRE(child.has_value());
  auto writer = [](tokio::process::ChildStdin in, std::size_t total) -> Task<uint64_t> {
    std::string chunk(256 * 1024, '\0');
    uint64_t h = 1469598103934665603ull;
    std::size_t sent = 0, k = 0;
    while (sent < total) {
      std::size_t n = std::min(chunk.size(), total - sent);
      for (std::size_t i = 0; i < n; i += 4096) chunk[i] = char('a' + (k++ % 26));
      h = fnv(h, chunk.data(), n);
      auto w = co_await io::write_all(in, std::string_view(chunk.data(), n));
      REQUIRE(w.has_value());
      sent += n;
    }
    // Close the pipe now: `in` lives as long as this coroutine's frame, which the join
    // keeps until both sides are done; cat must read EOF before that.
    REQUIRE((co_await in.shutdown()).has_value());
    co_return h;
  };
  auto reader = [](tokio::process::ChildStdout out) -> Task<std::pair<std::size_t, uint64_t>> {
    std::vector<char> buf(128 * 1024);
    std::size_t got = 0;
    uint64_t h = 1469598103934665603ull;
    for (;;) {
      auto n = co_await out.read(std::span<char>(buf));
      REQUIRE(n.has_value());
      if (*n == 0) break;
      h = fnv(h, buf.data(), *n);
      got += *n;
    }
    co_return std::make_pair(got, h);
  };
  auto wt = writer(std::move(*child->stdin), total);
  auto rd = reader(std::move(*child->stdout));
  child->stdin.reset();
  child->stdout.reset();
  auto [sent_hash, got] = co_await tokio::join(std::move(wt), std::move(rd));
  CHECK(got.first == total);
  CHECK(got.second == sent_hash);
  auto st = co_await child->wait();
  REQUIRE(st.has_value());
  CHECK(st->success());
}

}  // namespace

TEST_CASE("process stress: 1,000 children at once, all waited for and reaped") {
  nt::Watchdog wd("1000 children", std::chrono::seconds(120));
  std::size_t n = test::scaled(1000);
  rlim_t prev = nt::set_nofile(n + 512);  // a pidfd per child
  auto rt = pt::runtime(1);
  auto pids = rt.block_on(many_children(n));
  nt::set_nofile(prev);
  REQUIRE(pids.size() == n);
  std::size_t lingering = 0;
  for (int pid : pids) lingering += !pt::reaped(pid);
  CHECK(lingering == 0);
  CHECK(pt::zombie_children().empty());
}

TEST_CASE("process stress: 100 MiB through cat, stdin and stdout at once, on both flavours") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("100 MiB cat", std::chrono::seconds(120));
    auto rt = pt::runtime(flavour);
    rt.block_on(through_cat(test::scaled(100) << 20));
  }
}

TEST_CASE("process stress: output() of a child writing large stdout and stderr at once") {
  nt::Watchdog wd("large output");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    // Both far beyond a pipe's 64 KiB: reading one after the other would deadlock.
    Command c("sh");
    c.arg("-c").arg("head -c 3000000 /dev/zero & head -c 2000000 /dev/zero >&2; wait");
    auto out = co_await c.output();
    REQUIRE(out.has_value());
    CHECK(out->stdout.size() == 3000000);
    CHECK(out->stderr.size() == 2000000);
    CHECK(out->status.success());
  }());
}

TEST_CASE("process stress: the SIGCHLD fallback (no pidfd) waits, kills, cancels and reaps") {
  nt::Watchdog wd("sigchld fallback", std::chrono::seconds(120));
  pt::ForceSigchld mode(true);
  CHECK_FALSE(tokio::detail::process_uses_pidfd());
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto t = co_await Command("true").status();
      REQUIRE(t.has_value());
      CHECK(t->success());
      Command sh("sh");
      sh.arg("-c").arg("printf fallback; exit 4");
      auto o = co_await sh.output();
      REQUIRE(o.has_value());
      CHECK(o->stdout == "fallback");
      CHECK(o->status.code() == 4);
      // Cancelled waits, then a kill.
      auto c = Command("sleep").arg("30").spawn();
      REQUIRE(c.has_value());
      for (int i = 0; i < 3; ++i) {
        auto r = co_await tokio::time::timeout(3ms, c->wait());
        CHECK_FALSE(r.has_value());
      }
      REQUIRE(c->start_kill().has_value());
      auto st = co_await tokio::time::timeout(5000ms, c->wait());
      REQUIRE(st.has_value());
      REQUIRE(st->has_value());
      CHECK((*st)->signal() == SIGKILL);
      // Many at once: every SIGCHLD re-checks every waiting child.
      auto pids = co_await many_children(test::scaled(100));
      for (int pid : pids) CHECK(pt::reaped(pid));
    }());
  }
  // Dropped children are reaped by the background reaper on SIGCHLD, runtime gone or not.
  std::vector<int> pids;
  {
    auto rt = pt::runtime(0);
    rt.block_on([](std::vector<int>* pids) -> Task<> {
      for (int i = 0; i < 20; ++i) {
        Command c("sh");
        c.arg("-c").arg("sleep 0.05");
        auto child = c.spawn();
        REQUIRE(child.has_value());
        pids->push_back(static_cast<int>(*child->id()));
      }
      Command k("sleep");
      k.arg("30").kill_on_drop(true);
      auto killed = k.spawn();
      REQUIRE(killed.has_value());
      pids->push_back(static_cast<int>(*killed->id()));
      co_return;
    }(&pids));
  }
  CHECK(test::eventually([&] {
    for (int p : pids) {
      if (!pt::reaped(p)) return false;
    }
    return true;
  }));
  CHECK(test::eventually([] { return tokio::detail::reaper_orphans() == 0; }));
  CHECK(pt::zombie_children().empty());
}
