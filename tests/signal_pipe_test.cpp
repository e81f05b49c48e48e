// A SIGPIPE listener hears of every broken-pipe write, as Tokio's does: on the block_on
// thread, in tasks on either runtime's threads, in spawn_blocking closures, and from the
// library's own pipe writes (ChildStdin), while each write still fails with EPIPE. The
// runtime's threads block SIGPIPE for their life and the library's writes take the
// SIGPIPE they raise (runtime/detail/sigpipe.hpp); both stop once a listener catches it.
// Runs in a child process: the handler stays installed for the life of the process, which
// would change what the other SIGPIPE cases of this binary see.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "child_process.hpp"
#include "net_test_util.hpp"

using tokio::Task;
using tokio::signal::unix::SignalKind;
using namespace std::chrono_literals;

namespace {

constexpr const char* kEnv = "TOKIO_TEST_SIGPIPE_LISTENER_CHILD";
constexpr const char* kCase =
    "signal: a SIGPIPE listener hears of broken-pipe writes on every thread (in a child "
    "process)";

// A raw write(2) to a pipe whose reader is gone: its errno (0 if it wrote).
int raw_broken_write() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  ::close(p[0]);
  int e = ::write(p[1], "x", 1) < 0 ? errno : 0;
  ::close(p[1]);
  return e;
}

// Each way of writing to a broken pipe: the write fails with EPIPE and the listener hears
// of it within the timeout. Returns the number of ways that failed either.
Task<int> every_way() {
  auto sig = tokio::signal::unix::signal(SignalKind::pipe());
  if (!sig) co_return 100;
  int bad = 0;
  auto heard = [&]() -> Task<bool> {
    auto r = co_await tokio::time::timeout(5s, sig->recv());
    co_return r.has_value() && *r;
  };
  auto report = [&](const char* way, int err, bool got) {
    if (err != EPIPE || !got) {
      std::fprintf(stderr, "%s: errno %d, heard %d\n", way, err, int(got));
      ++bad;
    }
  };
  int e = raw_broken_write();  // block_on's thread
  report("block_on thread", e, co_await heard());
  e = co_await tokio::spawn([]() -> Task<int> { co_return raw_broken_write(); });
  report("task", e, co_await heard());
  e = co_await tokio::task::spawn_blocking([] { return raw_broken_write(); });
  report("spawn_blocking", e, co_await heard());
  // The library's own write: a child that closed its stdin.
  tokio::process::Command cmd("sh");
  cmd.arg("-c").arg("exec 0<&-; sleep 0.05").stdin(tokio::process::Stdio::piped());
  auto child = cmd.spawn();
  if (!child) co_return bad + 1;
  auto in = std::move(*child->stdin);
  child->stdin.reset();
  (void)co_await child->wait();
  std::string big(1 << 16, 'x');
  auto w = co_await tokio::io::write_all(in, std::string_view(big));
  report("ChildStdin", w ? 0 : w.error().value(), co_await heard());
  co_return bad;
}

}  // namespace

TEST_CASE(kCase) {
  if (test::in_child(kEnv)) {
    int bad = 0;
    // The multi-thread runtime first: its workers start (and block SIGPIPE) before the
    // listener installs the handler, so they must unblock it at their next park.
    for (int flavour : {1, 0}) {
      auto rt =
          flavour == 0
              ? tokio::runtime::Builder::new_current_thread().enable_all().build()
              : tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
      bad += rt.block_on(every_way());
    }
    test::report_and_exit(bad);
  }
  test::check_child_passes(kCase, kEnv);
}
