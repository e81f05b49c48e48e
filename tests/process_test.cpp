// tokio::process: Command options (args, env, cwd, arg0, process group, uid/gid, stdio),
// status/output, exit statuses (codes, signals), spawn errors naming the program and the
// cause, Child (wait/try_wait/kill/start_kill/wait_with_output), cancellation of wait and
// of pipe reads, kill_on_drop, dropped children reaped, pipes with the io utilities,
// SIGPIPE, descriptor leaks. On both runtime flavours where it matters.
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

using tokio::Task;
using tokio::process::Child;
using tokio::process::Command;
using tokio::process::ExitStatus;
using tokio::process::Output;
using tokio::process::Stdio;
namespace io = tokio::io;

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

Output run_output(Command& cmd, int flavour = 1) {
  auto rt = pt::runtime(flavour);
  auto out = rt.block_on(
      [](Command* c) -> Task<tokio::io::Result<Output>> { co_return co_await c->output(); }(&cmd));
  REQUIRE_MESSAGE(out.has_value(), out.error().message());
  return std::move(*out);
}

}  // namespace

TEST_CASE("process: status and output, on both flavours") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process status");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto t = co_await Command("true").status();
      REQUIRE(t.has_value());
      CHECK(t->success());
      CHECK(t->code() == 0);
      CHECK(t->to_string() == "exit status: 0");
      auto f = co_await Command("false").status();
      REQUIRE(f.has_value());
      CHECK_FALSE(f->success());
      CHECK(f->code() == 1);
      CHECK_FALSE(f->signal().has_value());
      CHECK(f->to_string() == "exit status: 1");
      std::ostringstream shown;
      shown << *f;  // Rust's Display
      CHECK(shown.str() == "exit status: 1");
      // Every string setter takes a std::string_view as well as a std::string.
      std::string_view prog = "sh", dash_c = "-c", body = "printf %s \"$V\"; pwd", key = "V",
                       value = "from-view", dir = "/tmp", gone = "NOT_SET_HERE";
      Command viewed(prog);
      viewed.arg(dash_c).arg(body).arg0(prog).env(key, value).env_remove(gone).current_dir(dir);
      viewed.env(key, std::string("from-mixed")).env(std::string("V"), value);
      auto vo = co_await viewed.output();
      REQUIRE(vo.has_value());
      CHECK(vo->stdout == "from-view/tmp\n");
      Command sh("sh");
      sh.arg("-c").arg("printf out; printf err >&2; exit 7");
      auto o = co_await sh.output();
      REQUIRE(o.has_value());
      CHECK(o->stdout == "out");
      CHECK(o->stderr == "err");
      CHECK(o->status.code() == 7);
      // output() gives the child /dev/null as stdin: a reader sees EOF at once.
      auto c = co_await Command("cat").output();
      REQUIRE(c.has_value());
      CHECK(c->stdout.empty());
      CHECK(c->status.success());
      // The same Command spawns again.
      auto o2 = co_await sh.output();
      REQUIRE(o2.has_value());
      CHECK(o2->stdout == "out");
    }());
  }
}

TEST_CASE("process: args, arg0, env, env_remove, env_clear, current_dir") {
  nt::Watchdog wd("process options");
  pt::TempDir dir;
  ::setenv("TOKIO_TEST_INHERITED", "from-parent", 1);
  {
    Command c("sh");
    c.args(std::vector<std::string>{
               "-c", "printf '%s|' \"$0\" \"$1\" \"$2\" \"$FOO\" \"$TOKIO_TEST_INHERITED\"; pwd"})
        .arg("one two")
        .arg("")
        .env("FOO", "bar baz")
        .current_dir(dir.path);
    CHECK(c.get_program() == "sh");
    CHECK(c.get_args().size() == 4);
    CHECK(c.get_current_dir() == dir.path);
    auto out = run_output(c);
    // (sh -c SCRIPT A B: $0 is A, $1 is B.)
    CHECK(out.stdout == "one two|||bar baz|from-parent|" + dir.path + "\n");
  }
  {
    Command c("sh");
    c.arg0("custom-name").arg("-c").arg("printf '%s|%s' \"$0\" \"${TOKIO_TEST_INHERITED-unset}\"");
    c.env_remove("TOKIO_TEST_INHERITED");
    CHECK(run_output(c).stdout == "custom-name|unset");
  }
  {
    // env_clear: only what we set; PATH is not inherited either (so give the full path).
    Command c("/usr/bin/env");
    c.env_clear().env("ONLY", "this");
    CHECK(run_output(c).stdout == "ONLY=this\n");
  }
  {
    // The PATH given to the child is the one searched.
    pt::TempDir bin;
    bin.write("tokio-test-prog", "#!/bin/sh\necho found-in-custom-path\n", 0755);
    Command c("tokio-test-prog");
    c.env("PATH", bin.path + ":/usr/bin:/bin");
    CHECK(run_output(c).stdout == "found-in-custom-path\n");
  }
  {
    std::map<std::string, std::string> vars{{"A", "1"}, {"B", "2"}};
    Command c("sh");
    c.arg("-c").arg("printf $A$B").envs(vars);
    CHECK(run_output(c).stdout == "12");
  }
  ::unsetenv("TOKIO_TEST_INHERITED");
}

TEST_CASE("process: spawn errors name the program and the cause; no child is left") {
  nt::Watchdog wd("process errors");
  pt::TempDir dir;
  std::string not_exec = dir.write("not-exec", "#!/bin/sh\necho hi\n", 0644);
  std::string no_interp = dir.write("no-interp", "#!/nonexistent/tokio-sh\necho hi\n", 0755);
  std::string garbage = dir.write("garbage",
                                  "\x7f"
                                  "ELF not really",
                                  0755);
  auto rt = pt::runtime(1);
  rt.block_on([](std::string dir, std::string not_exec, std::string garbage,
                 std::string no_interp) -> Task<> {
    auto zombies_before = pt::zombie_children().size();
    struct Case {
      Command cmd;
      std::errc errc;
      std::vector<std::string> words;  // expected in the message
    };
    std::vector<Case> cases;
    cases.push_back({Command("tokio-no-such-program"),
                     std::errc::no_such_file_or_directory,
                     {"tokio-no-such-program", "not found in PATH"}});
    cases.push_back({Command("/nonexistent/prog"),
                     std::errc::no_such_file_or_directory,
                     {"/nonexistent/prog", "not found"}});
    cases.push_back(
        {Command(not_exec), std::errc::permission_denied, {not_exec, "not executable"}});
    cases.push_back({Command(dir), std::errc::permission_denied, {dir}});  // a directory
    cases.push_back({Command(no_interp),
                     std::errc::no_such_file_or_directory,
                     {no_interp, "the program exists", "#! line"}});
    {
      // A relative program is looked for in the child's directory.
      Command c("./no-interp");
      c.current_dir(dir);
      cases.push_back({std::move(c), std::errc::no_such_file_or_directory, {"the program exists"}});
      Command d("./no-interp");
      d.current_dir("/");
      cases.push_back({std::move(d), std::errc::no_such_file_or_directory, {"program not found"}});
    }
    cases.push_back(
        {Command(garbage), std::errc::executable_format_error, {garbage, "executable format"}});
    {
      Command c("ls");
      c.current_dir(dir + "/missing");
      cases.push_back({std::move(c),
                       std::errc::no_such_file_or_directory,
                       {"'ls'", "current_dir", dir + "/missing"}});
    }
    {
      Command c("ls");
      c.current_dir(not_exec);  // a file, not a directory
      cases.push_back({std::move(c), std::errc::not_a_directory, {"current_dir", not_exec}});
    }
    {
      Command c("true");
      c.arg(std::string("nul\0inside", 10));
      cases.push_back({std::move(c), std::errc::invalid_argument, {"NUL"}});
    }
    {
      Command c(std::string("ec\0ho", 5));  // a NUL in the program: shown as \0
      cases.push_back({std::move(c), std::errc::invalid_argument, {"'ec\\0ho'", "NUL"}});
    }
    cases.push_back({Command(""), std::errc::no_such_file_or_directory, {"empty program name"}});
    {
      Command c("true");
      c.stdin(Stdio::from_fd(-1));
      cases.push_back({std::move(c), std::errc::bad_file_descriptor, {"stdin"}});
    }
    for (auto& c : cases) {
      auto r = c.cmd.spawn();
      REQUIRE_FALSE(r.has_value());
      std::string msg = r.error().message();
      CAPTURE(msg);
      CHECK(r.error() == c.errc);
      CHECK(std::string(r.error().category().name()) == "tokio.process");
      for (const auto& w : c.words) CHECK_MESSAGE(msg.find(w) != std::string::npos, w);
      // status() and output() report the same error through their Task.
      auto s = co_await c.cmd.status();
      CHECK_FALSE(s.has_value());
      CHECK(s.error() == c.errc);
    }
    // Failed children were reaped at once.
    CHECK(pt::zombie_children().size() == zombies_before);
  }(dir.path, not_exec, garbage, no_interp));
}

TEST_CASE("process: an exec failure is reported when the parent has stdin and stderr closed") {
  // A daemon closes 0..2: the spawn's error pipe then gets those numbers, and a child's
  // stderr redirect (dup3 onto 2) once replaced the pipe's write end: the exec failure was
  // written into the user's file and the spawn looked successful.
  nt::Watchdog wd("process closed stdio");
  pt::TempDir dir;
  std::string log_path = dir.write("log", "", 0644);
  auto rt = pt::runtime(0);
  rt.block_on([](std::string log_path) -> Task<> {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(log >= 0);
    int saved0 = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    int saved2 = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
    REQUIRE((saved0 >= 0 && saved2 >= 0));
    ::close(0);
    ::close(2);  // the two lowest free descriptors are now 0 and 2
    auto r = Command("/nonexistent/tokio-prog").stderr(Stdio::from_fd(log)).spawn();
    ::dup2(saved0, 0);
    ::dup2(saved2, 2);
    ::close(saved0);
    ::close(saved2);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == std::errc::no_such_file_or_directory);
    struct stat st {};
    REQUIRE(::stat(log_path.c_str(), &st) == 0);
    CHECK(st.st_size == 0);  // nothing of the failure report went into the user's file
    co_return;
  }(log_path));
}

TEST_CASE("process: misuse outside a runtime, or without the I/O driver, throws") {
  Command c("true");
  CHECK_THROWS_AS((void)c.spawn(), std::logic_error);
  auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
  bool threw = rt.block_on([](Command* c) -> Task<bool> {
    try {
      (void)c->spawn();
    } catch (const std::logic_error& e) {
      co_return std::string(e.what()).find("enable_io") != std::string::npos;
    }
    co_return false;
  }(&c));
  CHECK(threw);
  CHECK(pt::zombie_children().empty());
}

TEST_CASE("process: a child killed by a signal; kill, start_kill, try_wait, id") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process kill");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto child = Command("sleep").arg("30").spawn();
      REQUIRE(child.has_value());
      auto pid = child->id();
      REQUIRE(pid.has_value());
      auto tw = child->try_wait();
      REQUIRE(tw.has_value());
      CHECK_FALSE(tw->has_value());  // still running
      REQUIRE(child->start_kill().has_value());
      auto st = co_await child->wait();
      REQUIRE(st.has_value());
      CHECK_FALSE(st->success());
      CHECK_FALSE(st->code().has_value());
      CHECK(st->signal() == SIGKILL);
      CHECK(st->to_string() == "signal: 9 (SIGKILL)");
      CHECK_FALSE(child->id().has_value());  // reaped
      CHECK(pt::reaped(static_cast<int>(*pid)));
      // The status is kept: wait and try_wait again.
      auto again = co_await child->wait();
      REQUIRE(again.has_value());
      CHECK(*again == *st);
      auto tw2 = child->try_wait();
      REQUIRE((tw2.has_value() && tw2->has_value()));
      CHECK(**tw2 == *st);
      // Killing a reaped child is an error.
      auto k = child->start_kill();
      REQUIRE_FALSE(k.has_value());
      CHECK(k.error() == std::errc::invalid_argument);
      // A child that kills itself with SIGTERM; the status names it.
      Command self_term("sh");
      self_term.arg("-c").arg("kill -TERM $$");
      auto t = co_await self_term.status();
      REQUIRE(t.has_value());
      CHECK(t->signal() == SIGTERM);
      CHECK(t->to_string() == "signal: 15 (SIGTERM)");
      // kill() = start_kill + wait.
      auto c2 = Command("sleep").arg("30").spawn();
      REQUIRE(c2.has_value());
      auto kr = co_await c2->kill();
      CHECK(kr.has_value());
      CHECK_FALSE(c2->id().has_value());
      // ExitStatus raw round trip.
      CHECK(ExitStatus::from_raw(st->into_raw()) == *st);
      CHECK(ExitStatus().success());
    }());
  }
}

TEST_CASE("process: wait() is cancel-safe (timeout, select, abort)") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process wait cancel");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto child = Command("sleep").arg("30").spawn();
      REQUIRE(child.has_value());
      for (int i = 0; i < 5; ++i) {
        auto r = co_await tokio::time::timeout(2ms, child->wait());
        CHECK_FALSE(r.has_value());  // timed out: the wait was destroyed
      }
      auto v = co_await tokio::select(child->wait(), tokio::time::sleep(2ms));
      CHECK(v.index() == 1);
      // An aborted task that was waiting.
      auto h = tokio::spawn([](Child* c) -> Task<> { (void)co_await c->wait(); }, &*child);
      co_await tokio::time::sleep(2ms);
      h.abort();
      (void)co_await h.result();
      // The child dies while no wait is in flight; nothing was lost: the next wait has it.
      REQUIRE(child->start_kill().has_value());
      co_await tokio::time::sleep(20ms);
      auto st = co_await tokio::time::timeout(5000ms, child->wait());
      REQUIRE(st.has_value());
      REQUIRE(st->has_value());
      CHECK((*st)->signal() == SIGKILL);
    }());
  }
}

TEST_CASE(
    "process: select asks wait() without registering it; an exited child is reaped when asked") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    nt::Watchdog wd("process wait asked");
    auto rt = pt::runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto child = Command("sleep").arg("30").spawn();
      REQUIRE(child.has_value());
      auto [tx, rx] = tokio::sync::mpsc::channel<int>(64);
      for (int round = 0; round < 16; ++round) {
        CAPTURE(round);
        REQUIRE(tx.try_send(round).has_value());
        auto sel = test::polled(tokio::select(child->wait(), rx.recv()));
        REQUIRE(sel.poll());
        CHECK(sel.waker().outstanding() == 0);  // neither the pidfd nor SIGCHLD registered
        CHECK(sel.take().index() == 1);
      }
      // Killed, and seen exited (without reaping): asked, the wait reaps it and wins.
      const pid_t pid = static_cast<pid_t>(child->id().value());
      REQUIRE(child->start_kill().has_value());
      bool exited = false;
      for (int i = 0; i < 5000 && !exited; ++i) {
        siginfo_t info{};
        exited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0 &&
                 info.si_pid == pid;
        if (!exited) co_await tokio::time::sleep(1ms);
      }
      REQUIRE(exited);
      REQUIRE(tx.try_send(-1).has_value());
      auto sel = test::polled(tokio::select_biased(child->wait(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 0);
      REQUIRE(std::get<0>(r).has_value());
      CHECK(std::get<0>(r)->signal() == SIGKILL);
      CHECK_FALSE(child->id().has_value());  // reaped
    }());
  }
}

TEST_CASE("process: asked, a wait parked on a shut-down reactor answers as its poll does") {
  // Found by review: the question ignored the dead reactor, so a ready sibling won where
  // poll completes the wait with the reactor's error.
  nt::Watchdog wd("process wait asked after shutdown");
  std::optional<Child> child;
  {
    auto a = pt::runtime(0);
    a.block_on([](std::optional<Child>& c) -> Task<> {
      auto spawned = Command("sleep").arg("30").spawn();
      REQUIRE(spawned.has_value());
      c.emplace(std::move(*spawned));
      co_return;
    }(child));
  }  // runtime A (the child's pidfd registration) is gone
  auto ready_now = []() -> Task<int> { co_return 1; };
  {
    // No I/O driver here: the wait stays on A's reactor, shut down.
    auto b = tokio::runtime::Builder::new_current_thread().enable_time().build();
    b.block_on([](Child& c, auto ready) -> Task<> {
      // In SIGCHLD mode (TOKIO_PROCESS_NO_PIDFD, or no pidfd) the wait has no reactor to
      // lose: its poll waits, and the sibling wins.
      const bool pidfd = c.wait().state()->pidfd.is_open();
      auto ev = co_await tokio::select_biased(c.wait(), ready());
      if (pidfd) {
        REQUIRE(ev.index() == 0);
        REQUIRE_FALSE(std::get<0>(ev).has_value());
        CHECK(std::get<0>(ev).error() == tokio::io::ReactorErrc::shutdown);
      } else {
        CHECK(ev.index() == 1);
      }
    }(*child, ready_now));
  }
  {
    // With an I/O driver the wait moves here and waits: the ready sibling wins, and the
    // wait then sees the kill.
    auto c = pt::runtime(1);
    c.block_on([](Child& ch, auto ready) -> Task<> {
      auto ev = co_await tokio::select_biased(ch.wait(), ready());
      CHECK(ev.index() == 1);
      REQUIRE(ch.start_kill().has_value());
      auto st = co_await tokio::time::timeout(5000ms, ch.wait());
      REQUIRE(st.has_value());
      REQUIRE(st->has_value());
      CHECK((*st)->signal() == SIGKILL);
    }(*child, ready_now));
  }
}

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
