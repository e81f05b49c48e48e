// net::unix::pipe: anonymous pipes (EOF when the sender goes, broken_pipe without SIGPIPE
// when the receiver goes, back-pressure on a full pipe), FIFOs through OpenOptions (ENXIO
// without a reader, read_write, the FIFO check and unchecked), from_owned_fd checks and
// the fds handed back.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "net_test_util.hpp"

using tokio::Task;
namespace upipe = tokio::net::unix::pipe;

static_assert(tokio::io::AsyncWrite<upipe::Sender> && tokio::io::AsyncRead<upipe::Receiver>);

namespace {
struct FifoDir {
  std::string dir;
  FifoDir() {
    char tmpl[] = "/tmp/tokio-pipe-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~FifoDir() { std::filesystem::remove_all(dir); }
  std::string fifo(const char* name) const {
    std::string p = dir + "/" + name;
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
    return p;
  }
};
}  // namespace

TEST_CASE("unix pipe: round trip, EOF after the sender, broken_pipe after the receiver") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("unix pipe basic");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto ends = upipe::pipe();
      REQUIRE(ends.has_value());
      auto [tx, rx] = std::move(*ends);
      char buf[16];
      CHECK(tokio::io::is_would_block(rx.try_read(buf).error()));
      REQUIRE((co_await tx.write_all("hello")).has_value());
      REQUIRE((co_await rx.read_exact({buf, 5})).has_value());
      CHECK(std::string(buf, 5) == "hello");
      // A reader waiting in another task is woken by the write.
      auto reader = tokio::spawn(
          [](upipe::Receiver r) -> Task<std::string> {
            std::string all;
            (void)co_await tokio::io::read_to_string(r, all);
            co_return all;
          },
          std::move(rx));
      REQUIRE((co_await tx.write_all(" world")).has_value());
      tx = {};  // closed: the reader sees end of file
      CHECK(co_await reader == " world");
      CHECK(tx.try_write("x").error() == std::errc::bad_file_descriptor);

      auto again = upipe::pipe();
      REQUIRE(again.has_value());
      auto [tx2, rx2] = std::move(*again);
      rx2 = {};
      CHECK((co_await tx2.write("x")).error() == std::errc::broken_pipe);  // no SIGPIPE
    }());
  }
}

TEST_CASE("unix pipe: a full pipe holds the writer until the reader drains it") {
  nt::Watchdog wd("unix pipe full");
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = std::move(*upipe::pipe());
    std::string chunk(64 * 1024, 'z');
    std::size_t queued = 0;
    REQUIRE((co_await tx.writable()).has_value());  // readiness is known after an event
    for (;;) {
      auto n = tx.try_write(chunk);
      if (!n) {
        CHECK(tokio::io::is_would_block(n.error()));
        break;
      }
      queued += *n;
    }
    CHECK(queued > 0);
    auto writer = tokio::spawn(
        [](upipe::Sender t, std::string c) -> Task<bool> {
          bool ok = (co_await t.write_all(c)).has_value();  // waits for room
          co_return ok;
        },
        std::move(tx), chunk);
    std::string all;
    REQUIRE((co_await tokio::io::read_to_string(rx, all)).has_value());
    CHECK(all.size() == queued + chunk.size());
    CHECK(co_await writer);
  }());
}

TEST_CASE("unix pipe: FIFOs through OpenOptions; from_owned_fd checks; fds handed back") {
  nt::Watchdog wd("unix pipe fifo");
  auto rt = nt::io_runtime(0);
  rt.block_on([]() -> Task<> {
    FifoDir d;
    std::string path = d.fifo("f");
    // No reader yet: a write-only open fails as open(2) does; read_write opens anyway.
    CHECK(upipe::OpenOptions().open_sender(path).error() == std::errc::no_such_device_or_address);
    auto rw = upipe::OpenOptions::new_().read_write(true).open_sender(path);
    REQUIRE(rw.has_value());
    auto rx = upipe::OpenOptions().open_receiver(std::filesystem::path(path));
    REQUIRE(rx.has_value());
    auto tx = upipe::OpenOptions().open_sender(path);  // a reader exists now
    REQUIRE(tx.has_value());
    REQUIRE((co_await tx->write_all("fifo")).has_value());
    char buf[8];
    REQUIRE((co_await rx->read_exact({buf, 4})).has_value());
    CHECK(std::string(buf, 4) == "fifo");

    // Not a FIFO: refused unless unchecked; a NUL in the path; a missing path.
    std::string file = d.dir + "/plain";
    {
      FILE* f = std::fopen(file.c_str(), "w");
      REQUIRE(f);
      std::fclose(f);
    }
    CHECK(upipe::OpenOptions().open_receiver(file).error() == std::errc::invalid_argument);
    // Unchecked, a regular file gets as far as the reactor, which cannot watch one.
    CHECK(upipe::OpenOptions().unchecked(true).open_receiver(file).error() ==
          std::errc::operation_not_permitted);
    CHECK(upipe::OpenOptions().open_receiver(std::string("a\0b", 3)).error() ==
          std::errc::invalid_argument);
    CHECK(upipe::OpenOptions().open_receiver(d.dir + "/none").error() ==
          std::errc::no_such_file_or_directory);

    // from_owned_fd: the direction and the kind are checked (and the fd closed on failure).
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    CHECK(upipe::Sender::from_owned_fd(fds[0]).error() == std::errc::invalid_argument);
    CHECK(::fcntl(fds[0], F_GETFD) < 0);  // closed
    auto s = upipe::Sender::from_owned_fd(fds[1]);
    REQUIRE(s.has_value());
    CHECK((::fcntl(s->as_raw_fd(), F_GETFL) & O_NONBLOCK) != 0);
    int back = std::move(*s).into_blocking_fd().value();
    CHECK((::fcntl(back, F_GETFL) & O_NONBLOCK) == 0);
    ::close(back);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(upipe::Receiver::from_owned_fd(sv[0]).error() == std::errc::invalid_argument);
    auto any = upipe::Receiver::from_owned_fd_unchecked(sv[1]);
    REQUIRE(any.has_value());
    int nb = std::move(*any).into_nonblocking_fd().value();
    CHECK((::fcntl(nb, F_GETFL) & O_NONBLOCK) != 0);
    ::close(nb);
    upipe::Receiver empty;
    CHECK((co_await empty.read(buf)).error() == std::errc::bad_file_descriptor);
  }());
}

namespace {
bool sigpipe_blocked_here() {
  sigset_t m;
  REQUIRE(::pthread_sigmask(SIG_BLOCK, nullptr, &m) == 0);
  return sigismember(&m, SIGPIPE) == 1;
}
bool sigpipe_pending_here() {
  sigset_t p;
  REQUIRE(::sigpending(&p) == 0);
  return sigismember(&p, SIGPIPE) == 1;
}
// A raw write(2) to a pipe whose read end is closed: -1 and its errno (or 0 if it wrote).
int raw_write_to_broken_pipe() {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  ::close(p[0]);
  int e = ::write(p[1], "x", 1) < 0 ? errno : 0;
  ::close(p[1]);
  return e;
}
}  // namespace

// runtime/detail/sigpipe.hpp: the runtime's own threads keep SIGPIPE blocked for their life
// (no mask changes per write, and a user's raw write gets EPIPE as under Tokio); any other
// thread gets its mask back after each of our writes; no SIGPIPE is ever left pending by
// them; children start with nothing blocked.
TEST_CASE("unix pipe: SIGPIPE blocked for life on runtime threads, per write elsewhere") {
  nt::Watchdog wd("unix pipe sigpipe threads");
  REQUIRE_FALSE(sigpipe_blocked_here());  // the test thread: a user's thread
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    auto main_id = std::this_thread::get_id();
    // On a worker: blocked already; a raw write's SIGPIPE stays pending (harmless, it is
    // blocked), and our next EPIPE takes what is pending.
    co_await tokio::spawn([main_id]() -> Task<> {
      CHECK(std::this_thread::get_id() != main_id);
      CHECK(sigpipe_blocked_here());
      CHECK(raw_write_to_broken_pipe() == EPIPE);
      CHECK(sigpipe_pending_here());
      auto [tx, rx] = std::move(*upipe::pipe());
      rx = {};
      CHECK((co_await tx.write("x")).error() == std::errc::broken_pipe);
      CHECK_FALSE(sigpipe_pending_here());
      CHECK(sigpipe_blocked_here());
    });
    // A blocking-pool thread: the same.
    int e = co_await tokio::task::spawn_blocking([] {
      CHECK(sigpipe_blocked_here());
      return raw_write_to_broken_pipe();
    });
    CHECK(e == EPIPE);
    // block_on's thread is the user's: blocked only around our write, and given back.
    CHECK(std::this_thread::get_id() == main_id);
    auto [tx, rx] = std::move(*upipe::pipe());
    rx = {};
    CHECK((co_await tx.write("x")).error() == std::errc::broken_pipe);
    CHECK_FALSE(sigpipe_blocked_here());
    CHECK_FALSE(sigpipe_pending_here());
    // A child spawned from a worker starts with an empty signal mask.
    auto blk = co_await tokio::spawn([]() -> Task<std::string> {
      tokio::process::Command cmd("grep");
      cmd.arg("SigBlk").arg("/proc/self/status");
      auto out = co_await cmd.output();
      REQUIRE(out.has_value());
      co_return out->stdout;
    });
    CHECK(blk == "SigBlk:\t0000000000000000\n");
  }());
  CHECK_FALSE(sigpipe_blocked_here());
}
