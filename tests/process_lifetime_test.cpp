// process::Child lifetimes: a wait() outlives its Child. Dropping the Child (which kills
// the process when kill_on_drop is set) leaves the pending waits to complete with the exit
// status; a wait cancelled after its Child was dropped hands the process to the reaper (no
// zombie). In pidfd and SIGCHLD modes, on both runtime flavours.
#include <signal.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "internals.hpp"  // detail::process_force_sigchld (pt::ForceSigchld)
#include "process_test_util.hpp"

using tokio::Task;
using tokio::process::Child;
using tokio::process::Command;
namespace io = tokio::io;
using namespace std::chrono_literals;

namespace {

Child spawn_for_lifetime(std::string script, bool kill_on_drop) {
  Command c("sh");
  c.arg("-c").arg(std::move(script)).kill_on_drop(kill_on_drop);
  auto child = c.spawn();
  REQUIRE(child.has_value());
  return std::move(*child);
}

// A task that owns only the wait: the Child stays with the caller.
template <class W>
Task<io::Result<tokio::process::ExitStatus>> await_wait(W w) {
  auto r = co_await tokio::time::timeout(10s, std::move(w));
  REQUIRE(r.has_value());  // completed, not lost with the Child
  co_return std::move(*r);
}

// Runs `body` (a coroutine function) on each runtime flavour, in pidfd and SIGCHLD modes.
template <class F>
void in_every_mode(const char* what, F body) {
  for (bool sigchld : {false, true}) {
    for (int flavour = 0; flavour < 2; ++flavour) {
      CAPTURE(sigchld);
      CAPTURE(flavour);
      pt::ForceSigchld mode(sigchld);
      nt::Watchdog wd(what, 60s);
      auto rt = pt::runtime(flavour);
      rt.block_on(body());
    }
  }
}

}  // namespace

TEST_CASE("process: a wait outlives its Child, which kill_on_drop kills") {
  in_every_mode("wait outlives Child", []() -> Task<> {
    // Dropped while the wait is parked: the wait still gets the exit code.
    std::optional<Child> child(spawn_for_lifetime("sleep 0.1; exit 3", false));
    auto h = tokio::spawn(await_wait(child->wait()));
    co_await tokio::time::sleep(20ms);  // the wait is parked by now
    child.reset();
    auto st = co_await h;
    REQUIRE(st.has_value());
    CHECK(st->code() == 3);

    // kill_on_drop: the drop kills it, and the pending wait reports SIGKILL.
    child.emplace(spawn_for_lifetime("sleep 30", true));
    auto h2 = tokio::spawn(await_wait(child->wait()));
    co_await tokio::time::sleep(20ms);
    auto t0 = std::chrono::steady_clock::now();
    child.reset();
    auto st2 = co_await h2;
    REQUIRE(st2.has_value());
    CHECK(st2->signal() == SIGKILL);
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);

    // Dropped before the wait was ever polled: it completes too.
    child.emplace(spawn_for_lifetime("exit 4", false));
    auto w = child->wait();
    child.reset();
    auto st3 = co_await await_wait(std::move(w));
    REQUIRE(st3.has_value());
    CHECK(st3->code() == 4);
  });
}

TEST_CASE("process: a wait cancelled after its Child was dropped leaves no zombie") {
  for (bool sigchld : {false, true}) {
    CAPTURE(sigchld);
    pt::ForceSigchld mode(sigchld);
    nt::Watchdog wd("wait cancelled after drop", 60s);
    auto rt = pt::runtime(1);
    int pid = rt.block_on([]() -> Task<int> {
      std::optional<Child> child(spawn_for_lifetime("sleep 0.2", false));
      int id = static_cast<int>(*child->id());
      auto w = child->wait();
      child.reset();  // the wait is the last owner now
      // The wait parks, then is dropped when the sleep wins: it hands the child over.
      auto r = co_await tokio::select(std::move(w), tokio::time::sleep(20ms));
      CHECK(r.index() == 1);
      co_return id;
    }());
    CHECK(test::eventually([&] { return pt::reaped(pid); }));
    CHECK(test::eventually([] { return tokio::detail::reaper_orphans() == 0; }));
  }
}

TEST_CASE("process: a kill() Task outlives its Child, moved or dropped before it runs") {
  in_every_mode("kill outlives Child", []() -> Task<> {
    // Dropped before the Task ran: the Task kills and reaps the process itself.
    std::optional<Child> child(spawn_for_lifetime("sleep 30", false));
    auto pid = child->id();
    REQUIRE(pid.has_value());
    auto k = child->kill();  // lazy: nothing sent yet
    child.reset();           // no kill_on_drop: the process is still running
    CHECK(::kill(static_cast<pid_t>(*pid), 0) == 0);
    auto t0 = std::chrono::steady_clock::now();
    auto r = co_await tokio::time::timeout(10s, std::move(k));
    REQUIRE(r.has_value());
    CHECK(r->has_value());
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(pt::reaped(static_cast<pid_t>(*pid)));

    // Moved into another Child (the old object then destroyed) while the kill waits.
    std::optional<Child> first(spawn_for_lifetime("sleep 30", false));
    auto h = tokio::spawn(first->kill());
    co_await tokio::time::sleep(20ms);  // the kill has been sent and its wait parked
    Child second = std::move(*first);
    first.reset();
    auto r2 = co_await tokio::time::timeout(10s, std::move(h));
    REQUIRE(r2.has_value());
    CHECK(r2->has_value());
    auto st = second.try_wait();  // the moved-to Child sees the status the kill reaped
    REQUIRE(st.has_value());
    REQUIRE(st->has_value());
    CHECK((*st)->signal() == SIGKILL);

    // A moved-from Child's kill() is an error, not a crash.
    auto r3 = co_await first.emplace(std::move(second)).kill();
    CHECK(!r3.has_value());  // already reaped: "can't kill an exited process"
    auto r4 = co_await second.kill();
    REQUIRE_FALSE(r4.has_value());
    CHECK(r4.error() == std::errc::invalid_argument);
    // Every operation of the moved-from Child says what happened (a bare "Invalid
    // argument" before).
    const std::string moved = "used after it was moved from";
    CHECK(r4.error().message().find(moved) != std::string::npos);
    auto w = co_await second.wait();
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error().message().find(moved) != std::string::npos);
    auto t = second.try_wait();
    REQUIRE_FALSE(t.has_value());
    CHECK(t.error().message().find(moved) != std::string::npos);
    auto sk = second.start_kill();
    REQUIRE_FALSE(sk.has_value());
    CHECK(sk.error() == std::errc::invalid_argument);
    CHECK(sk.error().message().find(moved) != std::string::npos);
  });
}

// Two waits on one Child from two runtimes: A's wait parks and A is left idle (a
// current_thread runtime nobody drives), then B waits. B's wait must complete (it once
// parked on A's reactor in pidfd mode and hung), and A's wait, cancelled while the child
// runs and again after it exited, must unlink from where it parked. A second child keeps
// A's watcher alive. What this case catches is the pidfd-mode hang; its SIGCHLD rounds
// check the same shape ends cleanly but did not reproduce that mode's use after free
// (A's node removed from the wrong reactor entry), which the next case does.
TEST_CASE("process: waits on one Child from an idle runtime and a busy one both end cleanly") {
  for (bool sigchld : {false, true}) {
    for (bool cancel_early : {false, true}) {
      CAPTURE(sigchld);
      CAPTURE(cancel_early);
      pt::ForceSigchld mode(sigchld);
      nt::Watchdog wd("waits across an idle runtime", 60s);
      auto a = std::make_unique<tokio::runtime::Runtime>(pt::runtime(0));
      auto b = pt::runtime(1);
      std::optional<std::pair<Child, Child>> kids =
          a->block_on([]() -> Task<std::pair<Child, Child>> {
            Child c1 = spawn_for_lifetime("sleep 0.4", false);
            Child c2 = spawn_for_lifetime("sleep 1", true);
            co_return std::pair<Child, Child>(std::move(c1), std::move(c2));
          }());
      Child* c1 = &kids->first;
      Child* c2 = &kids->second;
      // A: one wait on each child, parked; then A is idle.
      auto parked = a->block_on(
          [](Child* c1,
             Child* c2) -> Task<std::pair<tokio::JoinHandle<void>, tokio::JoinHandle<void>>> {
            auto w1 = tokio::spawn([](Child* c) -> Task<> { (void)co_await c->wait(); }, c1);
            auto w2 = tokio::spawn([](Child* c) -> Task<> { (void)co_await c->wait(); }, c2);
            co_await tokio::time::sleep(30ms);
            co_return std::pair(std::move(w1), std::move(w2));
          }(c1, c2));
      if (cancel_early) {
        // B's wait parks first (and, before the fix, took the listener over), then A's
        // wait on c1 is cancelled while c1 still runs.
        auto bw = b.spawn(
            [](Child* c) -> Task<io::Result<tokio::process::ExitStatus>> {
              co_return co_await c->wait();
            },
            c1);
        std::this_thread::sleep_for(50ms);
        parked.first.abort();
        a->block_on(tokio::time::sleep(10ms));  // A runs the abort: the wait's node goes
        auto st = b.block_on(std::move(bw));
        REQUIRE(st.has_value());
        CHECK(st->success());
      } else {
        auto st = b.block_on([](Child* c) -> Task<io::Result<tokio::process::ExitStatus>> {
          auto r = co_await tokio::time::timeout(10s, c->wait());
          REQUIRE(r.has_value());  // not parked on A's idle reactor
          co_return std::move(*r);
        }(c1));
        REQUIRE(st.has_value());
        CHECK(st->success());
      }
      // c1 has exited (its SIGCHLD or pidfd edge reached A's reactor too); A runs again.
      a->block_on(tokio::time::sleep(20ms));
      kids = {};  // c2 killed on drop
      a.reset();  // A's parked waits are cancelled with it
      CHECK(c1 != c2);
    }
  }
}

// Both runtimes busy: a wait on A times out (its node is cancelled) after a wait on B took
// part in the same Child's watching, then the child exits while A's reactor runs. A's
// cancelled node must be gone from A's reactor entry (it was once removed from B's instead,
// and A's reactor then woke freed memory: ASan's heap-use-after-free).
TEST_CASE(
    "process: a wait cancelled on one runtime while another runtime waits leaves nothing behind") {
  for (bool sigchld : {false, true}) {
    CAPTURE(sigchld);
    pt::ForceSigchld mode(sigchld);
    nt::Watchdog wd("wait cancelled across runtimes", 60s);
    auto a = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
    auto b = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
    std::optional<std::pair<Child, Child>> kids = a.block_on([]() -> Task<std::pair<Child, Child>> {
      // c2 keeps A's watching alive after c1's wait moved on.
      Child c1 = spawn_for_lifetime("sleep 0.4", false);
      Child c2 = spawn_for_lifetime("sleep 2", true);
      co_return std::pair<Child, Child>(std::move(c1), std::move(c2));
    }());
    Child* c1 = &kids->first;
    auto timed_out = a.spawn(
        [](Child* c) -> Task<bool> {
          auto r = co_await tokio::time::timeout(150ms, c->wait());
          co_return !r.has_value();
        },
        c1);
    std::this_thread::sleep_for(50ms);  // A's wait is parked
    auto bw = b.spawn(
        [](Child* c) -> Task<io::Result<tokio::process::ExitStatus>> {
          co_return co_await c->wait();
        },
        c1);
    CHECK(a.block_on(std::move(timed_out)));  // cancelled while c1 still runs
    auto st = b.block_on(std::move(bw));      // c1 exits: both reactors see it
    REQUIRE(st.has_value());
    CHECK(st->success());
    std::this_thread::sleep_for(100ms);  // A's reactor turns over what c1's exit left
    kids.reset();
  }
}

// ExitStatus's text is Rust std's Display (what Tokio's ExitStatus shows): std names only
// the classic signals (SIGHUP..SIGSYS, SIGSTKFLT, SIGPWR), so a real-time or unnamed one is
// the bare number; an unrecognised status adds its hex; success() is a raw status of 0.
TEST_CASE("process: ExitStatus's text and success() follow std's, for any raw status") {
  using tokio::process::ExitStatus;
  CHECK(ExitStatus::from_raw(SIGKILL).to_string() == "signal: 9 (SIGKILL)");
  CHECK(ExitStatus::from_raw(SIGSEGV | 0x80).to_string() == "signal: 11 (SIGSEGV) (core dumped)");
  CHECK(ExitStatus::from_raw(30).to_string() == "signal: 30 (SIGPWR)");
  CHECK(ExitStatus::from_raw(34).to_string() == "signal: 34");
  CHECK(ExitStatus::from_raw(34 | 0x80).to_string() == "signal: 34 (core dumped)");
  CHECK(ExitStatus::from_raw(64).to_string() == "signal: 64");
  CHECK(ExitStatus::from_raw(32).to_string() == "signal: 32");
  CHECK(ExitStatus::from_raw(0x7e).to_string() == "signal: 126");
  CHECK(ExitStatus::from_raw(0x137f).to_string() ==
        "stopped (not terminated) by signal: 19 (SIGSTOP)");
  CHECK(ExitStatus::from_raw((34 << 8) | 0x7f).to_string() ==
        "stopped (not terminated) by signal: 34");
  CHECK(ExitStatus::from_raw(0xffff).to_string() == "continued (WIFCONTINUED)");
  CHECK(ExitStatus::from_raw(0xff).to_string() == "unrecognised wait status: 255 0xff");
  CHECK(ExitStatus::from_raw(0x100).to_string() == "exit status: 1");
  CHECK(ExitStatus::from_raw(0).success());
  // Bits above the 16 a wait status uses: exit code 0, yet not a success (std: raw == 0).
  CHECK(ExitStatus::from_raw(0x10000).code() == 0);
  CHECK_FALSE(ExitStatus::from_raw(0x10000).success());
}
