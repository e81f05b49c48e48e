// fs cancellation, shutdown and capacity on both engines: reads and writes cancelled in
// flight (the buffers the kernel holds stay alive: ASan), Files dropped mid-read, aborted
// tasks at every suspension point, runtime shutdown with operations in flight (no leak,
// no hang, accepted writes reach the file), and more operations and open files than the
// ring has entries.
#include "test_util.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fs_test_util.hpp"
#include "internals.hpp"

using tokio::Task;
namespace fs = tokio::fs;
namespace io = tokio::io;
using fst::Engine;
using namespace std::chrono_literals;

namespace {

void write_fd(int fd, std::string_view s) {
  REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
}

// A File read blocked on an empty FIFO, cancelled by a timeout; the data written later is
// returned by the next read (read is cancel-safe: the read in flight keeps its buffer in
// the File and its bytes for the next call).
Task<> cancel_file_read(std::string fifo, int writer) {
  auto f = co_await fs::OpenOptions().read(true).write(true).open(fifo);  // O_RDWR: no wait
  REQUIRE(f.has_value());
  char buf[64];
  auto t = co_await tokio::time::timeout(30ms, f->read(buf));
  CHECK_FALSE(t.has_value());  // elapsed: the read is still in flight inside the File
  write_fd(writer, "late data");
  auto n = co_await tokio::time::timeout(10s, f->read(buf));
  REQUIRE(n.has_value());
  REQUIRE(n->has_value());
  CHECK(std::string(buf, **n) == "late data");
}

// A File dropped while its read is blocked in the kernel: io_uring cancels it
// (IORING_OP_ASYNC_CANCEL); the blocking engine's thread stays in read(2) until data
// arrives. Either way the buffer outlives the kernel's use of it.
Task<> drop_file_mid_read(std::string fifo) {
  for (int i = 0; i < 20; ++i) {
    auto f = co_await fs::OpenOptions().read(true).write(true).open(fifo);
    REQUIRE(f.has_value());
    char buf[16];
    auto t = co_await tokio::time::timeout(1ms, f->read(buf));
    CHECK_FALSE(t.has_value());
  }  // each File dropped with a read in flight
}

// fs::write into a FIFO nobody reads: the open blocks (in io_uring's worker or a blocking
// thread). Cancelled by a timeout; the test then opens a reader to release a blocked
// blocking-pool thread. Same for fs::read of another FIFO nobody writes.
Task<> cancel_fs_write(std::string fifo_w, std::string fifo_r) {
  auto t = co_await tokio::time::timeout(30ms, fs::write(fifo_w, "never read"));
  CHECK_FALSE(t.has_value());
  auto r = co_await tokio::time::timeout(30ms, fs::read(fifo_r));
  CHECK_FALSE(r.has_value());
}

Task<> wait_accepted(std::shared_ptr<std::atomic<std::size_t>> accepted) {
  for (int i = 0; i < 5000 && accepted->load() == 0; ++i) co_await tokio::time::sleep(1ms);
  co_await tokio::time::sleep(5ms);  // let the other tasks get going
}

Task<> busy_loop(std::string dir, int id) {
  std::string p = dir + "/w" + std::to_string(id % 16);
  for (int i = 0;; ++i) {
    switch (i % 5) {
      case 0:
        (void)co_await fs::write(p, fst::pattern(3000 + static_cast<std::size_t>(i % 7) * 10000));
        break;
      case 1: (void)co_await fs::read(p); break;
      case 2: (void)co_await fs::metadata(p); break;
      case 3: {
        auto f = co_await fs::File::open(p);
        if (f) {
          char b[100];
          (void)co_await f->read(b);
        }
        break;
      }
      default: {
        auto rd = co_await fs::read_dir(dir);
        if (rd) (void)co_await rd->next_entry();
        break;
      }
    }
  }
}

// Tasks doing every kind of fs operation, aborted at random points (after 0..N polls),
// many times over.
Task<> abort_storm(std::string dir, std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    std::vector<tokio::task::JoinHandle<void>> hs;
    for (int t = 0; t < 24; ++t) hs.push_back(tokio::spawn(busy_loop(dir, t)));
    for (std::size_t k = 0; k < (r % 5); ++k) co_await tokio::task::yield_now();
    if (r % 3 == 0) co_await tokio::time::sleep(std::chrono::microseconds(300 * (r % 7)));
    for (auto& h : hs) h.abort();
    for (auto& h : hs) (void)co_await h.result();
  }
}

Task<> hold_open_read(std::string path, std::shared_ptr<std::atomic<int>> opened, int total,
                      std::shared_ptr<std::atomic<int>> ok) {
  auto f = co_await fs::File::open(path);
  REQUIRE(f.has_value());
  opened->fetch_add(1);
  // Every File stays open until all are: more open files than ring entries.
  while (opened->load() < total) co_await tokio::time::sleep(1ms);
  char b[16];
  auto n = co_await f->read(b);
  if (n && *n == 5) ok->fetch_add(1);
}

Task<std::string> read_one(std::string path) {
  auto v = co_await fs::read(path);
  if (!v) co_return v.error().message();
  co_return fst::as_string(*v);
}

Task<> beyond_ring(std::string dir) {
  std::string p = dir + "/f";
  fst::put(p, "hello");
  // 400 Files open at the same time, each with a read.
  const int files = 400;
  auto opened = std::make_shared<std::atomic<int>>(0);
  auto ok = std::make_shared<std::atomic<int>>(0);
  std::vector<tokio::task::JoinHandle<void>> hs;
  for (int i = 0; i < files; ++i) hs.push_back(tokio::spawn(hold_open_read(p, opened, files, ok)));
  for (auto& h : hs) co_await h;
  CHECK(ok->load() == files);
  // 2,000 fs::read at once: most wait in the ring's backlog.
  std::vector<tokio::task::JoinHandle<std::string>> rs;
  for (int i = 0; i < 2000; ++i) rs.push_back(tokio::spawn(read_one(p)));
  int good = 0;
  for (auto& h : rs) {
    std::string got = co_await h;
    if (got == "hello") ++good;
    else CHECK(got == "hello");
  }
  CHECK(good == 2000);
}

// A task that writes through a File and then waits forever: the runtime is dropped
// under it.
Task<> write_and_hang(std::string path, std::shared_ptr<std::atomic<std::size_t>> accepted,
                      tokio::sync::oneshot::Receiver<int> never) {
  auto f = co_await fs::File::create(path);
  REQUIRE(f.has_value());
  std::string data = fst::pattern(1 << 20);
  auto n = co_await f->write(std::string_view(data));
  REQUIRE(n.has_value());
  accepted->store(*n);
  (void)co_await std::move(never);
}

// Writes to a pipe or FIFO whose reader left fail with EPIPE; SIGPIPE (whose default
// action kills the process) is never raised in a thread that would deliver it.
Task<> broken_pipes(std::string fifo) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  ::close(p[0]);
  fs::File f = fs::File::from_std(p[1]);
  REQUIRE((co_await f.write(std::string_view("nobody reads"))).has_value());
  auto fl = co_await f.flush();
  CHECK((!fl && fl.error() == std::errc::broken_pipe));
  // fs::write of 1 MiB into a FIFO whose reader goes away after the first bytes: the
  // write blocks on the full pipe, then fails.
  int r = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(r >= 0);
  std::thread closer([r] {
    // Close once the writer is connected and has filled the pipe.
    int queued = 0;
    for (int i = 0; i < 20000 && queued < 65536; ++i) {
      std::this_thread::sleep_for(1ms);
      if (::ioctl(r, FIONREAD, &queued) != 0) break;
    }
    ::close(r);
  });
  auto w = co_await fs::write(fifo, std::string(1 << 20, 'p'));
  closer.join();
  CHECK((!w && w.error() == std::errc::broken_pipe && fst::names(w.error(), fifo)));
}

// The other end of a FIFO, in a thread, already waiting in its own open(2) when the
// File opens: it must stay paired with the File (io_uring opens without waiting; the
// engine used to close that fd and open again, so a waiting writer got EPIPE and a
// waiting reader an early end of file, and the second open could wait forever).
struct FifoPeer {
  std::string got;  // what a reader peer read
  long wrote = -1;  // what a writer peer wrote
  int err = 0;
};
void fifo_writer_peer(std::string fifo, FifoPeer* p) {
  sigset_t pipe_sig;  // EPIPE instead of the process dying (SIGPIPE goes to this thread)
  sigemptyset(&pipe_sig);
  sigaddset(&pipe_sig, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_sig, nullptr);
  int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // waits for the File
  if (fd < 0) {
    p->err = errno;
    return;
  }
  std::this_thread::sleep_for(5ms);  // the File's open has returned by now
  p->wrote = ::write(fd, "hello", 5);
  if (p->wrote < 0) p->err = errno;
  // Still connected for a while: a writer that leaves between the File's check for one and
  // its second open is missed (a window path_ops.cpp's wait_for_writer documents).
  std::this_thread::sleep_for(20ms);
  ::close(fd);
}
void fifo_reader_peer(std::string fifo, FifoPeer* p) {
  int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);  // waits for the File
  if (fd < 0) {
    p->err = errno;
    return;
  }
  char buf[64];
  for (ssize_t k; (k = ::read(fd, buf, sizeof buf)) > 0;) p->got.append(buf, k);
  ::close(fd);
}

Task<> open_fifo_with_peer_waiting(std::string fifo) {
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    FifoPeer w;
    std::thread writer(fifo_writer_peer, fifo, &w);
    std::this_thread::sleep_for(30ms);  // the writer is in open(2) (or soon: same result)
    auto read = co_await tokio::time::timeout(10s, [](std::string path) -> Task<std::string> {
      auto f = co_await fs::File::open(path);
      REQUIRE(f.has_value());
      std::string s;
      REQUIRE((co_await tokio::io::read_to_string(*f, s)).has_value());
      co_return s;
    }(fifo));
    writer.join();
    CHECK(w.err == 0);
    CHECK(w.wrote == 5);
    REQUIRE(read.has_value());
    CHECK(*read == "hello");

    FifoPeer r;
    std::thread reader(fifo_reader_peer, fifo, &r);
    std::this_thread::sleep_for(30ms);
    auto wrote = co_await tokio::time::timeout(10s, [](std::string path) -> Task<bool> {
      auto f = co_await fs::OpenOptions().write(true).open(path);
      REQUIRE(f.has_value());
      bool ok = (co_await tokio::io::write_all(*f, "hello\n")).has_value();
      co_return ok && (co_await f->flush()).has_value();
    }(fifo));
    reader.join();
    CHECK(r.err == 0);
    REQUIRE(wrote.has_value());
    CHECK(*wrote);
    CHECK(r.got == "hello\n");
  }
}

}  // namespace

TEST_CASE("fs: EPIPE instead of SIGPIPE for pipes and FIFOs whose reader left") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs broken pipes", 60s);
    fst::TempDir dir;
    std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto rt = fst::runtime(e);
    rt.block_on(broken_pipes(fifo));
  }
}

TEST_CASE("fs: File::open of a FIFO whose other end already waits in open(2) pairs with it") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs FIFO peer waiting", 90s);
    fst::TempDir dir;
    std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto rt = fst::runtime(e);
    rt.block_on(open_fifo_with_peer_waiting(fifo));
  }
}

TEST_CASE("fs cancel: a File read cancelled in flight keeps its data for the next read") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs cancel read", 60s);
    fst::TempDir dir;
    std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(writer >= 0);
    {
      auto rt = fst::runtime(e);
      rt.block_on(cancel_file_read(fifo, writer));
    }
    ::close(writer);
  }
}

// A read retried in a loop that never suspends (a select against an always-ready branch,
// Rust's `select! { biased; r = f.read(..) => .., _ = async {} => .. }`): the io_uring
// engine deferred its submission to the end of the worker's run of tasks and left its
// completion to the reactor, neither of which came while the task kept running, so on a
// current-thread runtime it spun for ever (helper-89: 500 million polls in 20 s; Tokio's
// read completes on the blocking pool meanwhile). A re-poll now pushes the ring out.
TEST_CASE("fs cancel: a File read retried without suspending completes (no endless spin)") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    for (int flavour : {0, 1}) {
      CAPTURE(std::string(fst::name(e)));
      CAPTURE(flavour);
      nt::Watchdog wd("fs read retried", 60s);
      fst::TempDir dir;
      std::string path = dir / "a";
      auto rt = fst::runtime(e, flavour);
      long spins = rt.block_on([](std::string path) -> Task<long> {
        REQUIRE((co_await fs::write(path, "hello")).has_value());
        auto f = std::move(*(co_await fs::File::open(path)));
        char b[8];
        long spins = 0;
        auto always_ready = []() -> Task<> { co_return; };
        for (; spins < 5'000'000; ++spins) {
          auto w = co_await tokio::select_biased(f.read(io::MutableBuffer(b, 8)), always_ready());
          if (w.index() == 0) {
            CHECK(std::get<0>(w).value() == 5);
            break;
          }
        }
        co_return spins;
      }(path));
      CHECK(spins < 1'000'000);
    }
  }
}

TEST_CASE("fs cancel: Files dropped with a read in flight; fs::write / fs::read cancelled") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs drop mid-read", 60s);
    fst::TempDir dir;
    std::string fifo = dir / "fifo";
    std::string fifo2 = dir / "fifo2";
    std::string fifo3 = dir / "fifo3";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    REQUIRE(::mkfifo(fifo2.c_str(), 0600) == 0);
    REQUIRE(::mkfifo(fifo3.c_str(), 0600) == 0);
    {
      auto rt = fst::runtime(e);
      rt.block_on(drop_file_mid_read(fifo));
      rt.block_on(cancel_fs_write(fifo2, fifo3));
      // Release what the blocking engine's threads are still blocked in (open(2) waiting
      // for the other end, read(2) waiting for data): a reader and a writer that
      // connect, write and go away, until the runtime can shut down. The releaser never
      // reads: its own read would take the bytes before the blocked read(2) wakes, and
      // shutdown would wait out its whole timeout.
      std::atomic<bool> stop{false};
      std::thread releaser([&] {
        while (!stop.load()) {
          for (const std::string* f : {&fifo, &fifo2, &fifo3}) {
            int r = ::open(f->c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            int w = ::open(f->c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (w >= 0) {
              (void)!::write(w, "xxxxxxxxxxxxxxxx", 16);
              ::close(w);
            }
            if (r >= 0) ::close(r);
          }
          std::this_thread::sleep_for(1ms);
        }
      });
      const auto began = std::chrono::steady_clock::now();
      rt.shutdown_timeout(10s);
      stop.store(true);
      releaser.join();
      // Every blocked call was released: shutdown did not wait out its timeout.
      CHECK(std::chrono::steady_clock::now() - began < 5s);
    }
  }
}

// fs::read of a FIFO nobody writes to, abandoned (a timeout, or the task dropped by the
// shutdown itself), must not hold the runtime's shutdown. On io_uring the open succeeds at
// once and the read waits in the kernel; the end-of-file probe read hard-linked behind it
// is issued only after the first read is cancelled, out of reach of its own cancellation,
// so it must not wait (before, the engine waited out its 2 s grace for it:
// shutdown_timeout(100 ms) took 2 s).
// The blocking engine's thread stays in open(2) (as Tokio's would), so only io_uring here.
TEST_CASE("fs cancel: an abandoned fs::read of a FIFO does not hold the io_uring shutdown") {
  if (!fst::uring_available()) return;
  nt::Watchdog wd("fs fifo shutdown", 60s);
  fst::TempDir dir;
  std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (int how = 0; how < 6; ++how) {
    CAPTURE(how);
    const bool by_timeout = how < 3;
    auto rt = fst::runtime(Engine::Uring);
    rt.block_on([](std::string fifo, bool by_timeout) -> Task<> {
      if (by_timeout) {
        auto r = co_await tokio::time::timeout(30ms, fs::read(fifo));
        CHECK_FALSE(r.has_value());
      } else {
        tokio::spawn([](std::string fifo) -> Task<> { (void)co_await fs::read(fifo); }, fifo);
        co_await tokio::time::sleep(30ms);
      }
    }(fifo, by_timeout));
    const auto began = std::chrono::steady_clock::now();
    switch (how % 3) {
      case 0: rt.shutdown_timeout(100ms); break;
      case 1: rt.shutdown_background(); break;
      default: {
        auto gone = std::move(rt);
      } break;
    }
    CHECK(std::chrono::steady_clock::now() - began < 1500ms);
  }
}

// The same abandoned read while the runtime goes on: nothing of it may stay in the kernel.
// The FIFO then has no reader left, so a non-blocking open for writing fails with ENXIO;
// a reader still there (the probe read waiting for data) would let it succeed. Checked
// once per round, after a pause that lets the reactor reap the cancellations: a second
// open would connect a writer, whose close ends any waiting read and hides the leak.
TEST_CASE("fs cancel: an abandoned fs::read of a FIFO leaves nothing in the kernel") {
  if (!fst::uring_available()) return;
  nt::Watchdog wd("fs fifo abandoned", 60s);
  fst::TempDir dir;
  std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto rt = fst::runtime(Engine::Uring);
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    int open_errno = rt.block_on([](std::string fifo) -> Task<int> {
      auto r = co_await tokio::time::timeout(30ms, fs::read(fifo));
      CHECK_FALSE(r.has_value());
      co_await tokio::time::sleep(300ms);
      int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (w < 0) co_return errno;
      ::close(w);
      co_return 0;
    }(fifo));
    CHECK(open_errno == ENXIO);
  }
}

// A File adopted with from_std on a terminal: its description may be shared, but a
// terminal has no position that could race, so its reads stay on io_uring, where a read
// given up by a timeout is cancelled in the kernel. (It went to the blocking pool: the
// abandoned read(2) held a thread past the runtime's drop and took the bytes that came
// next, out of reach of every reader.)
TEST_CASE(
    "fs::File from_std on a pty: a read given up is cancelled, later bytes stay for the next "
    "reader") {
  if (!fst::uring_available()) return;
  for (int flavour : {0, 1}) {
    CAPTURE(flavour);
    nt::Watchdog wd("fs pty read", std::chrono::seconds(30));
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    int pty = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(pty >= 0);
    struct termios raw;
    REQUIRE(::tcgetattr(pty, &raw) == 0);
    ::cfmakeraw(&raw);
    REQUIRE(::tcsetattr(pty, TCSANOW, &raw) == 0);
    int adopted = ::fcntl(master, F_DUPFD_CLOEXEC, 0);
    REQUIRE(adopted >= 0);
    {
      auto rt = fst::runtime(Engine::Uring, flavour);
      rt.block_on([](int fd) -> Task<> {
        auto f = fs::File::from_std(fd);
        char buf[16];
        auto t = co_await tokio::time::timeout(30ms, f.read(buf));
        CHECK_FALSE(t.has_value());
      }(adopted));
    }  // the File and its runtime are gone
    write_fd(pty, "after");
    struct pollfd p {
      master, POLLIN, 0
    };
    REQUIRE(::poll(&p, 1, 5000) == 1);
    char got[16];
    ssize_t n = ::read(master, got, sizeof got);
    CHECK(std::string(got, static_cast<std::size_t>(std::max<ssize_t>(n, 0))) == "after");
    ::close(pty);
    ::close(master);
  }
}

TEST_CASE("fs cancel: tasks aborted at every point of every kind of operation") {
  fst::each_engine("fs abort storm", [](Engine e, int flavour, fst::TempDir& dir) {
    auto rt = fst::runtime(e, flavour);
    rt.block_on(abort_storm(dir.path(), test::scaled(60)));
  });
}

TEST_CASE("fs shutdown: runtime dropped with operations in flight; accepted writes land") {
  fst::each_engine("fs shutdown", [](Engine e, int flavour, fst::TempDir& dir) {
    auto accepted = std::make_shared<std::atomic<std::size_t>>(0);
    std::optional<tokio::sync::oneshot::Sender<int>> keep;
    {
      auto rt = fst::runtime(e, flavour);
      auto [tx, rx] = tokio::sync::oneshot::channel<int>();
      keep.emplace(std::move(tx));
      rt.spawn(write_and_hang(dir / "written", accepted, std::move(rx)));
      for (int t = 0; t < 32; ++t) rt.spawn(busy_loop(dir.path(), t));
      rt.block_on(wait_accepted(accepted));  // (a current-thread runtime runs in block_on)
      REQUIRE(accepted->load() != 0);
    }  // dropped: tasks cancelled, kernel operations cancelled or finished, no hang
    // The write accepted by File::write reached the file (Tokio's mandatory write).
    CHECK(fst::get(dir / "written").size() == accepted->load());
  });
}

// Reads `p` until an error, then counts it: at a runtime's drop such a task must be
// cancelled at its await, never resumed with a failed call.
tokio::Task<> read_until_error(std::string p, std::shared_ptr<std::atomic<int>> errors,
                               std::shared_ptr<std::atomic<int>> reads) {
  for (;;) {
    auto r = co_await tokio::fs::read(p);
    if (!r) {
      errors->fetch_add(1);
      co_return;
    }
    reads->fetch_add(1);
  }
}

TEST_CASE("fs shutdown: tasks waiting in fs calls are cancelled at the drop, not failed") {
  // The blocking pool used to cancel its queued jobs before the workers stopped: the fs
  // calls behind them failed with ECANCELED, and the workers polled their tasks, which
  // saw the error (a task retrying on error spun until its worker stopped). Files of 4 KiB
  // and of 2 MiB (which the io_uring engine reads on the blocking pool too).
  fst::each_engine("fs shutdown errors", [](Engine e, int flavour, fst::TempDir& dir) {
    fst::put(dir / "small", std::string(4096, 's'));
    fst::put(dir / "big", std::string(2u << 20, 'b'));
    for (int round = 0; round < 5; ++round) {
      auto errors = std::make_shared<std::atomic<int>>(0);
      auto reads = std::make_shared<std::atomic<int>>(0);
      {
        auto rt = fst::runtime(e, flavour);
        for (int k = 0; k < 8; ++k) {
          rt.spawn(read_until_error(dir / (k % 2 ? "big" : "small"), errors, reads));
        }
        rt.block_on([](std::shared_ptr<std::atomic<int>> n) -> tokio::Task<> {
          while (n->load() < 16) co_await tokio::time::sleep(1ms);
        }(reads));
      }
      CHECK(errors->load() == 0);
    }
  });
}

TEST_CASE("fs capacity: 400 open Files and 2,000 reads in flight on tiny rings") {
  tokio::detail::fs_set_uring_entries(8);  // 8 submission entries per ring
  struct Reset {
    ~Reset() { tokio::detail::fs_set_uring_entries(0); }
  } reset;
  struct rlimit rl;
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  if (rl.rlim_cur < 2048 && rl.rlim_max >= 2048) {
    rl.rlim_cur = 2048;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  fst::each_engine("fs capacity", [](Engine e, int flavour, fst::TempDir& dir) {
    auto rt = fst::runtime(e, flavour);
    fst::check_engine(rt, e);
    rt.block_on(beyond_ring(dir.path()));
  });
}

namespace {

// Reads `rounds` times, alternating a small file (one linked open -> read -> probe step)
// and one bigger than the first read (a second step on the same direct slot); counts
// every read that does not return the exact contents.
Task<> read_loop(std::string small, std::string big, std::string big_data, int rounds,
                 std::shared_ptr<std::atomic<int>> bad) {
  for (int i = 0; i < rounds; ++i) {
    bool want_small = i % 2 == 0;
    auto v = co_await fs::read(want_small ? small : big);
    if (!v || fst::as_string(*v) != (want_small ? std::string("hello") : big_data)) {
      if (bad->fetch_add(1) == 0) MESSAGE((v ? "wrong contents" : v.error().message()));
    }
  }
}

// For its scope, runtimes built get one io_uring ring of 8 entries (6 operations in flight).
struct OneSmallRing {
  OneSmallRing() {
    tokio::detail::fs_set_uring_entries(8);
    ::setenv("TOKIO_FS_URING_RINGS", "1", 1);
  }
  ~OneSmallRing() {
    tokio::detail::fs_set_uring_entries(0);
    ::unsetenv("TOKIO_FS_URING_RINGS");
  }
  OneSmallRing(const OneSmallRing&) = delete;
  OneSmallRing& operator=(const OneSmallRing&) = delete;
};

}  // namespace

TEST_CASE("fs capacity: linked steps from many submitting threads on one ring stay linked") {
  // One small ring that the two workers and three block_on threads all submit to. Each
  // submitter enters the kernel on its own; an enter must never push out only part of a
  // linked step another thread published (its tail would run unlinked: EBADF or a read of
  // the wrong file).
  if (!fst::uring_available()) return;
  OneSmallRing ring;
  nt::Watchdog wd("fs linked steps", 60s);
  fst::TempDir dir;
  std::string small = dir.path() + "/small", big = dir.path() + "/big";
  std::string big_data = fst::pattern(100 * 1024, 7);
  fst::put(small, "hello");
  fst::put(big, big_data);
  auto rt = fst::runtime(Engine::Uring, 1);
  fst::check_engine(rt, Engine::Uring);
  auto bad = std::make_shared<std::atomic<int>>(0);
  const int rounds = static_cast<int>(test::scaled(400));
  auto h = rt.handle();
  std::vector<std::thread> outside;
  for (int t = 0; t < 3; ++t) {
    outside.emplace_back([&, h] { h.block_on(read_loop(small, big, big_data, rounds, bad)); });
  }
  rt.block_on([&]() -> Task<> {
    std::vector<tokio::task::JoinHandle<void>> hs;
    for (int t = 0; t < 8; ++t) {
      hs.push_back(tokio::spawn(read_loop(small, big, big_data, rounds, bad)));
    }
    for (auto& jh : hs) co_await jh;
  }());
  for (auto& t : outside) t.join();
  CHECK(bad->load() == 0);
}

TEST_CASE("fs capacity: File writes still in a full ring's backlog at shutdown reach their files") {
  // A ring of 8 entries holds 6 operations; the rest of 64 write-behinds wait in its
  // backlog when the runtime is dropped. Accepted File writes always reach the file: the
  // shutdown submits the backlog instead of failing it (it once lost 58 of these 64).
  if (!fst::uring_available()) return;
  OneSmallRing ring;
  for (int flavour : {0, 1}) {
    CAPTURE(flavour);
    nt::Watchdog wd("fs backlog at shutdown", 60s);
    fst::TempDir dir;
    const int files = 64;
    std::string data = fst::pattern(256 * 1024, 3);
    {
      auto rt = fst::runtime(Engine::Uring, flavour);
      fst::check_engine(rt, Engine::Uring);
      rt.block_on([](std::string dir, std::string data, int files) -> Task<> {
        std::vector<fs::File> open;
        for (int i = 0; i < files; ++i) {
          auto f = co_await fs::File::create(dir + "/f" + std::to_string(i));
          REQUIRE(f.has_value());
          open.push_back(std::move(*f));
        }
        // Back to back: most of them queue behind the ring's six entries.
        for (auto& f : open) REQUIRE((co_await f.write(data)).has_value());  // accepted
      }(dir.path(), data, files));  // the Files are dropped with their writes in flight
    }                               // and the runtime with them
    int incomplete = 0;
    for (int i = 0; i < files; ++i) {
      if (fst::get(dir.path() + "/f" + std::to_string(i)) != data) ++incomplete;
    }
    CHECK(incomplete == 0);
  }
}

// A paused clock jumps to the next timer only while nothing runs in real time: Tokio's fs
// calls run on the blocking pool, which holds it back. Ours did not (io_uring operations,
// and the blocking engine's File writes, went uncounted): a timeout around a FIFO read
// whose writer comes 100 ms later (real time) elapsed at once, and an hour-long sleep of
// another task fired meanwhile. Both engines, reads and write-behind flushes.
TEST_CASE("fs: a paused clock does not jump while a file operation runs") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs paused clock", std::chrono::seconds(30));
    fst::TempDir dir;
    std::string fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto b = tokio::runtime::Builder::new_current_thread();
    b.enable_all().start_paused(true);
    if (e == Engine::Blocking) b.disable_io_uring();
    auto rt = b.build();
    rt.block_on([](std::string fifo) -> Task<> {
      auto t0 = tokio::time::Instant::now();
      std::atomic<bool> slept{false};
      auto sleeper = tokio::spawn([](std::atomic<bool>* s) -> Task<> {
        co_await tokio::time::sleep(std::chrono::hours(1));
        s->store(true);
      }(&slept));
      auto f = co_await fs::OpenOptions().read(true).write(true).open(fifo);  // O_RDWR: no wait
      REQUIRE(f.has_value());
      int other = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
      REQUIRE(other >= 0);
      // A read whose bytes come 100 ms later, real time.
      std::thread writer([other] {
        std::this_thread::sleep_for(100ms);
        write_fd(other, "late!");
      });
      char buf[16];
      auto r = co_await tokio::time::timeout(1s, f->read(buf));
      writer.join();
      REQUIRE(r.has_value());  // not Elapsed
      REQUIRE(r->has_value());
      CHECK(std::string(buf, **r) == "late!");
      // A flush of more than the pipe holds, drained 100 ms later, real time.
      std::string big(256 * 1024, 'x');
      REQUIRE((co_await io::write_all(*f, std::string_view(big))).has_value());
      std::thread reader([other, n = big.size()] {
        std::this_thread::sleep_for(100ms);
        std::vector<char> sink(65536);
        std::size_t got = 0;
        while (got < n) {
          ssize_t k = ::read(other, sink.data(), sink.size());
          if (k <= 0) break;
          got += static_cast<std::size_t>(k);
        }
      });
      auto fl = co_await tokio::time::timeout(1s, f->flush());
      reader.join();
      CHECK(fl.has_value());
      CHECK(tokio::time::Instant::now() - t0 < 1s);  // the clock stood still meanwhile
      CHECK_FALSE(slept.load());
      sleeper.abort();
      ::close(other);
    }(fifo));
  }
}

// A File read cancelled in flight leaves its bytes in the File for the next read (read is
// cancel-safe), so what looks at the position must count them as unread: seek(current)
// reports the logical position, and set_len drops them. Blocking engine only: there the
// read runs on a pool thread and the first poll finds it pending; io_uring reads of a
// regular file complete on their first poll, so nothing would be cancelled.
TEST_CASE(
    "fs::File: after a cancelled read, seek(current) counts its kept bytes unread and set_len "
    "drops them") {
  nt::Watchdog wd("fs File after a cancelled read", 60s);
  fst::TempDir dir;
  const std::string path = dir / "f";
  auto rt = fst::runtime(Engine::Blocking);
  fst::check_engine(rt, Engine::Blocking);
  for (bool cut : {false, true}) {
    CAPTURE(cut);
    fst::put(path, "hello world");
    rt.block_on([](std::string path, bool cut) -> Task<> {
      std::optional<fs::File> f;
      for (int attempt = 0; attempt < 200 && !f; ++attempt) {
        auto g = co_await fs::OpenOptions().read(true).write(true).open(path);
        REQUIRE(g.has_value());
        char b[64];
        // A biased select drops the read after its first poll when it is pending there.
        auto w = co_await tokio::select_biased(g->read(io::MutableBuffer(b, sizeof b)),
                                               test::ready_value(0));
        if (w.index() == 1) f.emplace(std::move(*g));  // the read is still in flight
      }
      REQUIRE(f.has_value());
      if (cut) {
        auto r = co_await tokio::time::timeout(10s, f->set_len(5));
        REQUIRE((r.has_value() && r->has_value()));
      } else {
        auto pos = co_await tokio::time::timeout(10s, f->seek(io::SeekFrom::current(0)));
        REQUIRE((pos.has_value() && pos->has_value()));
        CHECK(**pos == 0);
      }
      std::string all;
      auto n = co_await tokio::time::timeout(10s, io::read_to_end(*f, all));
      REQUIRE((n.has_value() && n->has_value()));
      CHECK(all == (cut ? "hello" : "hello world"));
    }(path, cut));
  }
}
