// examples/pipeline: stages connected like a shell pipeline, fed from its stdin, output
// streamed back, statuses reported; a missing program, a stage killed by a signal, an
// early-exiting stage (no SIGPIPE death), Ctrl-C (children killed and reaped), the SIGCHLD
// fallback selected with TOKIO_PROCESS_NO_PIDFD=1.
#include <signal.h>
#include <unistd.h>

#include <string>

#include "process_test_util.hpp"

namespace {

std::string pipeline() { return nt::example("pipeline"); }

}  // namespace

TEST_CASE("examples: pipeline sorts its input and reports the status") {
  nt::Watchdog wd("pipeline sort", std::chrono::seconds(60));
  CHECK(nt::sh("printf \"b\\na\\nc\\n\" | " + pipeline() + " 2>/dev/null") == "a\nb\nc\n");
  CHECK(nt::sh("printf \"b\\na\\n\" | " + pipeline() + " sort 2>&1 >/dev/null; echo rc=$?") ==
        "sort: exit status: 0\nrc=0\n");
  // Two stages connected directly.
  CHECK(nt::sh("printf \"b\\na\\nb\\n\" | " + pipeline() + " sort \"|\" uniq -c 2>/dev/null") ==
        "      1 a\n      2 b\n");
  // The same through the SIGCHLD fallback (no pidfd).
  CHECK(nt::sh("printf \"b\\na\\nb\\n\" | TOKIO_PROCESS_NO_PIDFD=1 " + pipeline() +
               " sort \"|\" uniq -c 2>&1") ==
        "      1 a\n      2 b\nsort: exit status: 0\nuniq: exit status: 0\n");
}

TEST_CASE("examples: pipeline streams binary data unchanged and survives an early-exiting stage") {
  nt::Watchdog wd("pipeline data", std::chrono::seconds(60));
  std::string file = "/tmp/tokio-pipeline-" + std::to_string(::getpid()) + ".bin";
  std::string size = std::to_string(test::scaled(4000000));
  // (Built with append: g++ 12 -O2 reports a false -Warray-bounds on a long operator+ chain.)
  std::string make = "head -c ";
  make.append(size).append(" /dev/urandom > ").append(file).append(" && sha256sum < ").append(file);
  std::string in = nt::sh(make);
  std::string out =
      nt::sh(pipeline() + " cat < " + file + " 2>/dev/null | sha256sum; rm -f " + file);
  CHECK(in.size() > 64);
  CHECK(in == out);
  // head exits after 3 lines while we still feed it: our writes fail with EPIPE, and the
  // pipeline neither dies of SIGPIPE nor hangs.
  CHECK(nt::sh("seq 1 200000 | " + pipeline() + " head -3 2>&1; echo rc=$?") ==
        "1\n2\n3\nhead: exit status: 0\nrc=0\n");
}

TEST_CASE("examples: pipeline reports a missing program and a stage killed by a signal") {
  nt::Watchdog wd("pipeline errors", std::chrono::seconds(60));
  std::string missing = nt::sh(pipeline() + " tokio-no-such-program < /dev/null 2>&1; echo rc=$?");
  CHECK(missing ==
        "pipeline: failed to spawn 'tokio-no-such-program': program not found in PATH: No such "
        "file or directory\nrc=127\n");
  CHECK(nt::sh(pipeline() + " sh -c \"kill -KILL \\$\\$\" < /dev/null 2>&1; echo rc=$?") ==
        "sh: signal: 9 (SIGKILL)\nrc=1\n");
}

TEST_CASE("examples: pipeline on SIGINT kills and reaps its children, exits 130") {
  nt::Watchdog wd("pipeline interrupt", std::chrono::seconds(60));
  nt::Child p("exec " + pipeline() + " sleep 30 < /dev/null 2>/dev/null");
  int child = 0;
  REQUIRE(test::eventually([&] {
    std::string c = nt::sh("pgrep -P " + std::to_string(p.pid()) + " sleep");
    child = std::atoi(c.c_str());
    return child > 0;
  }));
  REQUIRE(::kill(p.pid(), SIGINT) == 0);
  CHECK(p.wait() == 130);
  // The pipeline waited for it: the sleep is gone entirely (not running, not a zombie).
  CHECK(::access(("/proc/" + std::to_string(child)).c_str(), F_OK) != 0);
}
