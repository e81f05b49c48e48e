// tokio::process pipes: the child's stdin, stdout and stderr with the io utilities,
// cancelled reads, pipes moved out and closed, chained children, broken pipes (spawning,
// status, output and waits: process_test.cpp).
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

TEST_CASE("process: pipes: stdin/stdout/stderr with io utilities, and cancelled reads") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process pipes");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto child = pt::spawn_piped_cat();
      REQUIRE(child.has_value());
      REQUIRE(child->stdin.has_value());
      REQUIRE(child->stdout.has_value());
      CHECK_FALSE(child->stderr.has_value());
      // A read cancelled before data arrives loses nothing.
      char buf[64];
      for (int i = 0; i < 3; ++i) {
        auto v = co_await tokio::select_biased(tokio::time::sleep(2ms),
                                               child->stdout->read(std::span<char>(buf)));
        CHECK(v.index() == 0);
      }
      auto w = co_await io::write_all(*child->stdin, std::string_view("line one\nline two\n"));
      REQUIRE(w.has_value());
      io::BufReader reader(std::move(*child->stdout));
      child->stdout.reset();
      std::string line;
      auto n = co_await io::read_line(reader, line);
      REQUIRE(n.has_value());
      CHECK(line == "line one\n");
      // shutdown() closes the pipe: cat sees EOF and exits.
      REQUIRE((co_await child->stdin->shutdown()).has_value());
      std::string rest;
      auto r = co_await io::read_to_string(reader, rest);
      REQUIRE(r.has_value());
      CHECK(rest == "line two\n");
      auto st = co_await child->wait();
      REQUIRE(st.has_value());
      CHECK(st->success());
      // stderr piped alone, through io::copy into memory.
      Command err("sh");
      err.arg("-c").arg("echo to-stderr >&2").stderr(Stdio::piped());
      auto e = err.spawn();
      REQUIRE(e.has_value());
      std::vector<char> sink;
      io::VecWriter vw(sink);
      auto copied = co_await io::copy(*e->stderr, vw);
      REQUIRE(copied.has_value());
      CHECK(std::string(sink.begin(), sink.end()) == "to-stderr\n");
      (void)co_await e->wait();
    }());
  }
}

namespace {
// Tokio's way to feed a child while collecting its output: the ChildStdin is a parameter,
// dropped (the pipe closed) when the body ends.
Task<> feed(tokio::process::ChildStdin in, std::string data) {
  (void)co_await io::write_all(in, std::string_view(data));
}
}  // namespace

TEST_CASE(
    "process: join(feed(stdin), wait_with_output()) ends: the finished feeder's stdin "
    "closes at once, on both flavours") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process join feed");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto child = pt::spawn_piped_cat();
      REQUIRE(child.has_value());
      tokio::process::ChildStdin in = std::move(*child->stdin);
      child->stdin.reset();
      std::string data(200000, 'x');
      auto [fed, out] =
          co_await tokio::join(feed(std::move(in), data), std::move(*child).wait_with_output());
      (void)fed;
      REQUIRE(out.has_value());
      CHECK(out->status.success());
      CHECK(out->stdout.size() == data.size());
    }());
  }
}

TEST_CASE("process: a pipe moved out of Child and assigned {} is closed; an empty one fails") {
  nt::Watchdog wd("process pipe reset");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    auto child = pt::spawn_piped_cat();
    REQUIRE(child.has_value());
    // Rust's `child.stdin.take().unwrap()`, then `drop(stdin)`.
    tokio::process::ChildStdin in = std::move(*child->stdin);
    child->stdin.reset();
    REQUIRE((co_await io::write_all(in, std::string_view("once\n"))).has_value());
    in = {};  // closes the pipe: cat reads EOF, writes what it had and exits
    CHECK(in.as_raw_fd() == -1);
    auto out = co_await std::move(*child).wait_with_output();
    REQUIRE(out.has_value());
    CHECK(out->status.success());
    CHECK(std::string(out->stdout.begin(), out->stdout.end()) == "once\n");
    // Empty ends (default-constructed) fail with EBADF, as after shutdown().
    auto w = co_await in.write(std::string_view("late"));
    REQUIRE_FALSE(w.has_value());
    CHECK(w.error() == std::errc::bad_file_descriptor);
    tokio::process::ChildStdout none;
    char buf[8];
    auto r = co_await none.read(std::span<char>(buf));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == std::errc::bad_file_descriptor);
  }());
}

TEST_CASE("process: chaining children with Stdio::from(ChildStdout)") {
  nt::Watchdog wd("process chain");
  auto rt = pt::runtime(1);
  rt.block_on([]() -> Task<> {
    Command first("printf");
    first.arg("b\\na\\nc\\n").stdout(Stdio::piped());
    auto a = first.spawn();
    REQUIRE(a.has_value());
    auto s = Stdio::from(std::move(*a->stdout));
    a->stdout.reset();
    REQUIRE(s.has_value());
    Command second("sort");
    second.stdin(std::move(*s)).stdout(Stdio::piped());
    auto b = second.spawn();
    REQUIRE(b.has_value());
    auto out = co_await std::move(*b).wait_with_output();
    REQUIRE(out.has_value());
    CHECK(out->stdout == "a\nb\nc\n");
    auto st = co_await a->wait();
    CHECK((st.has_value() && st->success()));
  }());
}

TEST_CASE("process: writing to a child that closed its stdin is broken_pipe, never SIGPIPE") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process sigpipe");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      Command cmd("true");
      cmd.stdin(Stdio::piped());
      auto child = cmd.spawn();
      REQUIRE(child.has_value());
      auto in = std::move(*child->stdin);
      child->stdin.reset();
      auto st = co_await child->wait();
      REQUIRE(st.has_value());
      std::string big(1 << 20, 'x');
      auto w = co_await io::write_all(in, std::string_view(big));
      REQUIRE_FALSE(w.has_value());
      CHECK(w.error() == std::errc::broken_pipe);
      // No SIGPIPE is left pending in this thread either.
      sigset_t pending;
      sigpending(&pending);
      CHECK_FALSE(sigismember(&pending, SIGPIPE));
    }());
  }
}
