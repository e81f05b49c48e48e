// io::stdin / stdout / stderr: blocking-pool backed streams, exercised over pipes.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "io_mock.hpp"

using tokio::Task;
namespace io = tokio::io;

namespace {
struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    close_r();
    close_w();
  }
  void close_r() {
    if (r >= 0) ::close(std::exchange(r, -1));
  }
  void close_w() {
    if (w >= 0) ::close(std::exchange(w, -1));
  }
};

std::string drain(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}
}  // namespace

TEST_CASE("stdout over a pipe: large writes in 16 KiB jobs arrive whole and in order") {
  Pipe p;
  std::string got;
  std::thread reader([&] { got = drain(p.r); });
  std::string expect;
  for (int i = 0; i < 20000; ++i) expect += std::to_string(i) + "\n";
  auto rt = test::multi_thread(2);
  rt.block_on([](int fd, const std::string& data) -> Task<> {
    auto out = tokio::detail::stdout_from_fd(fd);
    static_assert(io::AsyncWrite<io::Stdout>);
    // One big write_all (several jobs) and many small writes.
    REQUIRE((co_await io::write_all(out, std::string_view(data).substr(0, 50000))).has_value());
    for (std::size_t off = 50000; off < data.size(); off += 1000) {
      REQUIRE((co_await io::write_all(out, std::string_view(data).substr(off, 1000))).has_value());
    }
    REQUIRE((co_await out.flush()).has_value());
    REQUIRE((co_await out.shutdown()).has_value());
  }(p.w, expect));
  p.close_w();
  reader.join();
  CHECK(got.size() == expect.size());
  CHECK(got == expect);
}

TEST_CASE("stdout to a closed pipe reports broken_pipe instead of raising SIGPIPE") {
  Pipe p;
  p.close_r();
  auto rt = test::current_thread();
  auto err = rt.block_on([](int fd) -> Task<std::error_code> {
    auto out = tokio::detail::stdout_from_fd(fd);
    (void)co_await io::write(out, "nobody listens");  // write-behind: accepted
    auto f = co_await out.flush();                    // the job's error surfaces here
    co_return f.error();
  }(p.w));
  CHECK(err == std::errc::broken_pipe);
  // The SIGPIPE was consumed, not left pending for the process.
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE) == 0);
}

TEST_CASE("stdout to a write-sealed memfd reports EPERM, not write_zero") {
  // write(2) fails with EPERM (-errno == -1): not to be mistaken for "accepted nothing".
  int mfd = ::memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(mfd >= 0);
  REQUIRE(::fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
  auto rt = test::current_thread();
  auto err = rt.block_on([](int fd) -> Task<std::error_code> {
    auto out = tokio::detail::stdout_from_fd(fd);
    (void)co_await io::write(out, "sealed");  // write-behind: accepted
    co_return (co_await out.flush()).error();
  }(mfd));
  CHECK(err == std::errc::operation_not_permitted);
  ::close(mfd);
}

TEST_CASE("stdin over a pipe: data, EOF, and a cancelled read that loses nothing") {
  Pipe p;
  auto rt = test::multi_thread(2);
  rt.block_on([](Pipe* p) -> Task<> {
    auto in = tokio::detail::stdin_from_fd(p->r);
    static_assert(io::AsyncRead<io::Stdin>);
    std::array<std::byte, 64> buf{};
    // Nothing written yet: the blocking job waits; cancel the read meanwhile.
    auto r = co_await tokio::select_biased(in.read(buf), tokio::task::yield_now());
    CHECK(r.index() == 1);
    REQUIRE(::write(p->w, "first chunk", 11) == 11);
    // The job started by the cancelled read delivers its data to the next read.
    auto n = co_await in.read(buf);
    REQUIRE(n.has_value());
    CHECK(iotest::str(std::span(buf).first(*n)) == "first chunk");
    REQUIRE(::write(p->w, "0123456789", 10) == 10);
    std::array<std::byte, 4> small{};
    CHECK(*co_await io::read_exact(in, small) == 4);  // the rest stays buffered
    CHECK(iotest::str(small) == "0123");
    p->close_w();
    std::string rest;
    CHECK(*co_await io::read_to_string(in, rest) == 6);
    CHECK(rest == "456789");
    CHECK(*co_await in.read(buf) == 0);
  }(&p));
}

TEST_CASE("io::stdin() reads file descriptor 0") {
  Pipe p;
  int saved = ::dup(0);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(p.r, 0) == 0);
  REQUIRE(::write(p.w, "from fd 0\n", 10) == 10);
  p.close_w();
  auto rt = test::current_thread();
  std::string line = rt.block_on([]() -> Task<std::string> {
    auto ls = io::lines(io::BufReader(io::stdin()));
    auto l = co_await ls.next_line();
    co_return l.value().value_or("<eof>");
  }());
  ::dup2(saved, 0);
  ::close(saved);
  CHECK(line == "from fd 0");
}

TEST_CASE("stdio over a bad descriptor gives EBADF, not a crash") {
  auto out = tokio::detail::stdout_from_fd(-1);
  auto rt = test::current_thread();
  // A bad descriptor is an error result, not a crash.
  auto e = rt.block_on([](io::Stdout& out) -> Task<std::error_code> {
    (void)co_await io::write(out, "x");
    co_return (co_await out.flush()).error();
  }(out));
  CHECK(e == std::errc::bad_file_descriptor);
}

TEST_CASE("io::stdout / io::stderr: flush and shutdown with nothing written complete at once") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto out = io::stdout();
    auto err = io::stderr();
    CHECK((co_await out.flush()).has_value());
    CHECK((co_await err.shutdown()).has_value());
    CHECK(*co_await io::write(err, std::string_view()) == 0);
  }());
}

// --- a program started with standard fds closed ------------------------------------------
// The case re-runs this test binary (a fresh process: the runtime reopens closed standard
// fds once per process, and this one built runtimes long ago) with fds 0 and 1 closed and
// only this case selected; the child reports through its exit status.
namespace {
constexpr const char* kClosedStdioCase =
    "a program started with fd 0 and 1 closed: stdin reads EOF and stdout writes succeed";
constexpr const char* kClosedStdioEnv = "TOKIO_TEST_CLOSED_STDIO_CHILD";

// The child's side: 0 when fds 0 and 1 behave as /dev/null, else which check failed.
int closed_stdio_child() noexcept {
  try {
    auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build();
    int rc = rt.block_on([]() -> Task<int> {
      auto in = io::stdin();
      std::array<char, 64> buf{};
      auto n = co_await in.read(buf);
      if (!n) co_return 2;  // read the runtime's epoll or eventfd: EINVAL
      if (*n != 0) co_return 3;
      auto out = io::stdout();
      if (!co_await io::write_all(out, std::string_view("to /dev/null\n"))) co_return 4;
      if (!co_await out.flush()) co_return 5;  // stdout writes behind: errors show here
      co_return 0;
    }());
    if (rc != 0) return rc;
    struct stat null_st {
    }, fd_st{};
    if (::stat("/dev/null", &null_st) != 0) return 6;
    for (int fd = 0; fd <= 1; ++fd) {
      if (::fstat(fd, &fd_st) != 0 || fd_st.st_rdev != null_st.st_rdev) return 7;
    }
    return 0;
  } catch (...) {
    return 8;
  }
}

}  // namespace

TEST_CASE(kClosedStdioCase) {
  if (test::in_child(kClosedStdioEnv)) ::_exit(closed_stdio_child());
  auto child = test::run_self_as_child(kClosedStdioCase, kClosedStdioEnv, {0, 1});
  REQUIRE(WIFEXITED(child.status));
  // 2: stdin's read failed, 3: it returned data, 4/5: stdout's write or flush failed,
  // 7: fd 0 or 1 is not /dev/null, 8: an exception.
  int code = WEXITSTATUS(child.status);
  CHECK(code == 0);
}

TEST_CASE(
    "stdout/stderr: a write not flushed before the runtime drops still reaches the fd "
    "(as Tokio's), on both runtimes") {
  // The write is handed to the blocking pool and reported done at once; the runtime's
  // shutdown used to cancel the job if no thread had taken it yet, losing the line (22-83%
  // of runs in a user's program piped into `cat`).
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    int lost = 0;
    for (int i = 0; i < 40; ++i) {
      Pipe p;
      {
        auto rt = test::either_flavour_all(multi);
        rt.block_on([](int fd) -> Task<> {
          auto out = tokio::detail::stdout_from_fd(fd);
          REQUIRE((co_await io::write_all(out, std::string_view("last line\n"))).has_value());
        }(p.w));
      }
      p.close_w();
      if (drain(p.r) != "last line\n") ++lost;
    }
    CHECK(lost == 0);
  }
}

TEST_CASE("stdout: a write accepted while the runtime shuts down still reaches the fd") {
  // A task still inside its poll when the runtime is dropped (or shut down) writes a line:
  // the write returns n, so the bytes must arrive, although the blocking pool already
  // refuses new spawn_blocking closures (found by review: the job was cancelled).
  for (bool drop : {true, false}) {
    CAPTURE(drop);
    Pipe p;
    std::atomic<bool> started{false}, go{false};
    std::atomic<long> written{-1};
    {
      auto rt = test::multi_thread(2);
      rt.spawn([](int fd, std::atomic<bool>* started, std::atomic<bool>* go,
                  std::atomic<long>* written) -> Task<> {
        *started = true;
        while (!*go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the shutdown began
        auto out = tokio::detail::stdout_from_fd(fd);
        auto r = co_await out.write(std::string_view("written during shutdown\n"));
        *written = r ? static_cast<long>(*r) : -2;
        (void)co_await out.flush();
      }(p.w, &started, &go, &written));
      while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      go = true;
      if (!drop) rt.shutdown_timeout(std::chrono::seconds(5));
    }
    p.close_w();
    std::string got = drain(p.r);
    REQUIRE(written.load() == 24);
    CHECK(got == "written during shutdown\n");
  }
}
