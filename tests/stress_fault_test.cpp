// Fault injection (issue 11 §2): EMFILE on accept, connection resets, half-close, SIGPIPE,
// and EINTR storms from a signal-sending thread during I/O, timers and blocking waits.
// Sizes: stress::size(full, ci); `make stress` runs them at full size.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <memory>
#include <numeric>
#include <vector>

#include "stress_util.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpStream;
using tokio::net::UnixStream;
namespace ts = tokio::sync;
namespace io = tokio::io;

namespace {

bool is_reset_or_pipe(const std::error_code& e) {
  return e == std::errc::connection_reset || e == std::errc::broken_pipe;
}

// Reads until `n` bytes came or the stream ended; returns them.
Task<std::string> read_exactly(TcpStream& s, std::size_t n) { co_return co_await nt::read_n(s, n); }

// --- EMFILE on accept ------------------------------------------------------------------------
struct AcceptCounts {
  std::atomic<long> accepted{0};
  std::atomic<long> emfile{0};
  std::atomic<long> other_errors{0};
  std::atomic<long> served{0};
  // Each round the test connects its clients first (they wait in the backlog), takes every
  // free descriptor, and only then lets the acceptor start the round: so accept() meets
  // EMFILE with connections pending, whatever the scheduling.
  tokio::sync::Notify go;
  long per_round = 0;
};

Task<> echo_once(TcpStream s, AcceptCounts* c) {
  char buf[64];
  auto n = co_await s.read(buf);
  if (n && *n > 0 && co_await s.write_all({buf, *n})) c->served.fetch_add(1);
}

// What echo_server does: on EMFILE/ENFILE back off a millisecond and try again.
Task<> backing_off_acceptor(TcpListener* l, AcceptCounts* c) {
  for (long in_round = c->per_round;;) {
    if (in_round == c->per_round) {
      co_await c->go.notified();
      in_round = 0;
    }
    auto conn = co_await l->accept();
    if (!conn) {
      if (conn.error() == std::errc::too_many_files_open ||
          conn.error() == std::errc::too_many_files_open_in_system) {
        c->emfile.fetch_add(1);
      } else {
        c->other_errors.fetch_add(1);
      }
      co_await tokio::time::sleep(std::chrono::milliseconds(1));
      continue;
    }
    c->accepted.fetch_add(1);
    ++in_round;
    tokio::spawn(echo_once, std::move(conn->first), c);
  }
}

// Fills the descriptor table (dup of /dev/null until EMFILE); releases on destruction.
class FdFiller {
 public:
  FdFiller() {
    int base = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(base >= 0);
    fds_.push_back(base);
    for (;;) {
      int fd = ::fcntl(base, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) break;
      fds_.push_back(fd);
    }
  }
  ~FdFiller() {
    for (int fd : fds_) ::close(fd);
  }
  std::size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

}  // namespace

TEST_CASE(
    "stress: accept under repeated EMFILE: the server backs off, recovers and serves every "
    "connection") {
  const int rounds = static_cast<int>(stress::size(200, 4));
  const int per_round = 32;
  nt::Watchdog wd("EMFILE storm", std::chrono::seconds(600));
  // UBSan checks the dynamic type of the error_category behind `conn.error() == errc` the
  // first time it meets that type, and that check opens /proc/self/maps: with every
  // descriptor taken it fails and reports a valid libstdc++ category as an "invalid
  // vptr". Meet both categories once while descriptors are free.
  for (const std::error_category* cat : {&std::system_category(), &std::generic_category()}) {
    CHECK(std::error_code(EMFILE, *cat) == std::errc::too_many_files_open);
    CHECK(std::error_code(ENFILE, *cat) == std::errc::too_many_files_open_in_system);
  }
  for (int flavour = 0; flavour < 2; ++flavour) {
    INFO(stress::flavour_name(flavour));
    stress::Stopwatch sw;
    AcceptCounts c;
    c.per_round = per_round;
    int fds0 = stress::open_fds();
    {
      auto rt = stress::runtime(flavour);
      rt.block_on([](AcceptCounts* c, int rounds, int per_round) -> Task<> {
        auto l = co_await TcpListener::bind("127.0.0.1:0");
        REQUIRE(l.has_value());
        SocketAddr addr = l->local_addr().value();
        auto acceptor = tokio::spawn(backing_off_acceptor, &*l, c);
        // A low soft limit keeps the filler small: what is open now plus room for a round.
        rlim_t prev = nt::set_nofile(static_cast<rlim_t>(stress::open_fds() + per_round + 64));
        for (int r = 0; r < rounds; ++r) {
          // Connect a round of clients (the kernel completes the handshakes; they wait in
          // the backlog), then take every descriptor left so accept() fails with EMFILE.
          std::vector<TcpStream> clients;
          for (int i = 0; i < per_round; ++i) {
            auto s = co_await TcpStream::connect(addr);
            REQUIRE(s.has_value());
            clients.push_back(std::move(*s));
          }
          long emfile_before = c->emfile.load();
          long accepted_before = c->accepted.load();
          {
            FdFiller filler;
            c->go.notify_one();
            for (int i = 0; i < 200 && c->emfile.load() < emfile_before + 2; ++i) {
              co_await tokio::time::sleep(std::chrono::milliseconds(1));
            }
            CHECK(c->emfile.load() >= emfile_before + 2);  // the acceptor met EMFILE ...
          }
          // ... and, with descriptors free again, accepts and serves the whole round.
          std::vector<tokio::task::JoinHandle<bool>> echoes;
          for (auto& s : clients) {
            echoes.push_back(tokio::spawn(
                [](TcpStream* s) -> Task<bool> {
                  if (!co_await s->write_all("ping")) co_return false;
                  co_return co_await read_exactly(*s, 4) == "ping";
                },
                &s));
          }
          int ok = 0;
          for (auto& h : echoes) ok += co_await h ? 1 : 0;
          CHECK(ok == per_round);
          CHECK(c->accepted.load() == accepted_before + per_round);
        }
        nt::set_nofile(prev);
        acceptor.abort();
        (void)co_await acceptor.result();
      }(&c, rounds, per_round));
    }
    CHECK(c.served.load() == static_cast<long>(rounds) * per_round);
    CHECK(c.other_errors.load() == 0);
    // Backing off 1 ms per failure: no busy loop while the table is full.
    CHECK(c.emfile.load() < static_cast<long>(rounds) * 400);
    CHECK(stress::fds_back_to(fds0));
    stress::figure("EMFILE storm (%s): %d rounds x %d connections, %ld EMFILE accepts, %.0f ms",
                   stress::flavour_name(flavour), rounds, per_round, c.emfile.load(), sw.ms());
  }
}

// --- resets, half-close ------------------------------------------------------------------------
namespace {

struct ResetCounts {
  std::atomic<long> eof{0};
  std::atomic<long> reset{0};  // ECONNRESET / EPIPE, as expected after an RST
  std::atomic<long> other{0};  // any other error: a failure
  std::atomic<long> half_close_ok{0};
  std::atomic<long> server_done{0};
};

// Echoes in large pieces until end of stream or an error; records which.
Task<> resilient_echo(TcpStream s, ResetCounts* c) {
  std::vector<char> buf(32768);
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n) {
      (is_reset_or_pipe(n.error()) ? c->reset : c->other).fetch_add(1);
      break;
    }
    if (*n == 0) {
      c->eof.fetch_add(1);
      // Half-close from the client: the reply direction still works; end it cleanly.
      (void)co_await s.shutdown();
      break;
    }
    auto w = co_await s.write_all({buf.data(), *n});
    if (!w) {
      (is_reset_or_pipe(w.error()) ? c->reset : c->other).fetch_add(1);
      break;
    }
  }
  c->server_done.fetch_add(1);
}

Task<> reset_acceptor(TcpListener* l, ResetCounts* c) {
  for (;;) {
    auto conn = co_await l->accept();
    if (!conn) continue;  // a connection reset before accept may surface here
    tokio::spawn(resilient_echo, std::move(conn->first), c);
  }
}

// One client misbehaving in the way `kind` names.
Task<> misbehaving_client(SocketAddr addr, int kind, uint64_t seed, ResetCounts* c) {
  stress::Rng rng(seed);
  auto s = co_await TcpStream::connect(addr);
  if (!s) co_return;
  std::string msg(1 + rng() % 100000, 'm');
  for (std::size_t i = 0; i < msg.size(); ++i)
    msg[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  switch (kind) {
    case 0:  // RST at once
      (void)s->set_linger(std::chrono::seconds(0));
      co_return;
    case 1: {  // RST while the server is writing the echo back
      (void)co_await s->write_all(msg);
      for (uint32_t y = rng() % 8; y > 0; --y) co_await tokio::task::yield_now();
      (void)s->set_linger(std::chrono::seconds(0));
      co_return;
    }
    case 2: {  // never reads: the server's write blocks, then the RST must wake it
      std::string big(4 << 20, 'b');
      auto w = co_await tokio::time::timeout(std::chrono::milliseconds(20), s->write_all(big));
      (void)w;
      (void)s->set_linger(std::chrono::seconds(0));
      co_return;
    }
    case 3: {  // half-close: send, shut down writing, read the full echo, then EOF
      auto sender = [](TcpStream* s, const std::string* msg) -> Task<bool> {
        if (!co_await s->write_all(*msg)) co_return false;
        co_return (co_await s->shutdown()).has_value();
      };
      auto wh = tokio::spawn(sender, &*s, &msg);
      std::string back = co_await nt::read_to_eof(*s);
      bool sent = co_await wh;
      if (sent && back == msg) c->half_close_ok.fetch_add(1);
      co_return;
    }
    default: {  // an orderly close after one echo
      (void)co_await s->write_all("hello");
      (void)co_await read_exactly(*s, 5);
      co_return;
    }
  }
}

}  // namespace

TEST_CASE(
    "stress: connection resets and half-closes at every stage: errors are resets, never hangs or "
    "leaks") {
  const int n = static_cast<int>(stress::size(20000, 250));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("resets", std::chrono::seconds(600));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    stress::Stopwatch sw;
    ResetCounts c;
    int fds0 = stress::open_fds();
    int half_closes = 0;
    {
      auto rt = stress::runtime(flavour);
      half_closes = rt.block_on([](ResetCounts* c, int n) -> Task<int> {
        auto l = co_await TcpListener::bind("127.0.0.1:0");
        REQUIRE(l.has_value());
        SocketAddr addr = l->local_addr().value();
        auto acceptor = tokio::spawn(reset_acceptor, &*l, c);
        int half = 0;
        const int wave = 64;
        for (int base = 0; base < n; base += wave) {
          std::vector<tokio::task::JoinHandle<void>> hs;
          for (int i = base; i < std::min(n, base + wave); ++i) {
            int kind = static_cast<int>((stress::seed() + static_cast<uint64_t>(i)) % 5);
            half += kind == 3;
            hs.push_back(tokio::spawn(misbehaving_client, addr, kind,
                                      stress::seed() + static_cast<uint64_t>(i), c));
          }
          for (auto& h : hs) co_await h;
        }
        // Every server task ends (EOF or reset), none hangs on a dead peer.
        for (int i = 0;
             i < 20000 && c->server_done.load() < c->eof.load() + c->reset.load() + c->other.load();
             ++i) {
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
        }
        for (int i = 0;
             i < 10000 && tokio::runtime::Handle::current().metrics().num_alive_tasks() > 1; ++i) {
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
        }
        CHECK(tokio::runtime::Handle::current().metrics().num_alive_tasks() == 1);  // the acceptor
        acceptor.abort();
        co_return half;
      }(&c, n));
    }
    CHECK(c.other.load() == 0);
    CHECK(c.half_close_ok.load() == half_closes);
    CHECK(c.reset.load() > 0);
    CHECK(stress::fds_back_to(fds0));
    stress::figure(
        "resets (%s): %d connections: %ld EOF, %ld reset/EPIPE, %ld half-close echoes exact, %.0f "
        "ms",
        stress::flavour_name(flavour), n, c.eof.load(), c.reset.load(), c.half_close_ok.load(),
        sw.ms());
  }
}

// --- SIGPIPE ------------------------------------------------------------------------------------
namespace {

std::atomic<int> g_sigpipes{0};
void count_sigpipe(int) { g_sigpipes.fetch_add(1); }

// A connected TCP pair whose client end was reset (RST) by its peer: every write to
// `victim` now fails.
struct DeadPeer {
  TcpStream victim;
};

Task<TcpStream> reset_by_peer(TcpListener& l) {
  auto c = co_await TcpStream::connect(l.local_addr().value());
  REQUIRE(c.has_value());
  auto a = co_await l.accept();
  REQUIRE(a.has_value());
  REQUIRE(a->first.set_linger(std::chrono::seconds(0)).has_value());
  { auto drop = std::move(a->first); }  // RST
  // Wait until the RST has arrived (the first write after it raises EPIPE).
  char b;
  auto r = co_await c->read(std::span<char>(&b, 1));
  CHECK_FALSE(r.has_value());
  co_return std::move(*c);
}

template <class W>
Task<int> write_forms_fail(W& w) {
  int failed = 0;
  std::string data(100000, 'p');
  for (int i = 0; i < 3; ++i) {
    auto r = co_await w.write(data);
    failed += !r.has_value() && is_reset_or_pipe(r.error());
  }
  auto r2 = co_await io::write_all(w, data);
  failed += !r2.has_value() && is_reset_or_pipe(r2.error());
  io::IoSlice slices[2] = {io::IoSlice(std::string_view(data)),
                           io::IoSlice(std::string_view(data))};
  auto r3 = co_await io::write_vectored(w, std::span<const io::IoSlice>(slices));
  failed += !r3.has_value() && is_reset_or_pipe(r3.error());
  co_return failed;
}

}  // namespace

TEST_CASE(
    "stress: SIGPIPE never reaches the process: every write form to a reset peer returns "
    "EPIPE/ECONNRESET") {
  const int rounds = static_cast<int>(stress::size(2000, 20));
  struct sigaction sa {
  }, old{};
  sa.sa_handler = &count_sigpipe;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGPIPE, &sa, &old);  // counted instead of fatal, so a failure is reported
  g_sigpipes.store(0);
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("SIGPIPE", std::chrono::seconds(300));
    INFO(stress::flavour_name(flavour));
    auto rt = stress::runtime(flavour);
    int failures = rt.block_on([](int rounds) -> Task<int> {
      auto l = co_await TcpListener::bind("127.0.0.1:0");
      REQUIRE(l.has_value());
      int failed = 0;
      for (int r = 0; r < rounds; ++r) {
        {
          auto s = co_await reset_by_peer(*l);
          failed += co_await write_forms_fail(s);
          auto t = s.try_write(std::string_view("x"));
          failed += !t.has_value() && is_reset_or_pipe(t.error());
        }
        {
          auto s = co_await reset_by_peer(*l);
          auto [rh, wh] = std::move(s).into_split();
          failed += co_await write_forms_fail(wh);
        }
        {
          auto s = co_await reset_by_peer(*l);
          io::BufWriter<TcpStream&> bw(s);
          std::string data(100000, 'q');
          auto w = co_await io::write_all(bw, data);
          auto f = co_await bw.flush();
          failed += (!w.has_value() && is_reset_or_pipe(w.error())) ||
                    (!f.has_value() && is_reset_or_pipe(f.error()));
        }
        {
          // A Unix stream whose peer is gone: EPIPE.
          auto [a, b] = UnixStream::pair().value();
          { auto drop = std::move(b); }
          failed += co_await write_forms_fail(a);
        }
      }
      co_return failed;
    }(rounds));
    // Per round: 5 + 1 (TCP), 5 (owned write half), 1 (BufWriter), 5 (Unix).
    CHECK(failures == rounds * 17);
  }
  CHECK(g_sigpipes.load() == 0);
  ::sigaction(SIGPIPE, &old, nullptr);
}

// --- EINTR storms -----------------------------------------------------------------------------
namespace {

struct StormCounts {
  std::atomic<long> bytes{0};
  std::atomic<long> early_sleeps{0};
  std::atomic<long> sleeps{0};
  std::atomic<long> blocking_jobs{0};
  std::atomic<long> channel_values{0};
  std::atomic<long> connections{0};
};

Task<> echo_all(TcpStream s) {
  std::vector<char> buf(16384);
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n || *n == 0) break;
    if (!co_await s.write_all({buf.data(), *n})) break;
  }
}

Task<> echo_acceptor(TcpListener* l, StormCounts* c) {
  for (;;) {
    auto conn = co_await l->accept();
    REQUIRE(conn.has_value());  // EINTR is retried inside, never surfaced
    c->connections.fetch_add(1);
    tokio::spawn(echo_all, std::move(conn->first));
  }
}

// Sends `total` patterned bytes through an echo connection and checks every byte back.
Task<bool> checked_transfer(SocketAddr addr, std::size_t total, uint64_t seed, StormCounts* c) {
  auto s = co_await TcpStream::connect(addr);
  REQUIRE(s.has_value());
  std::string data(total, '\0');
  for (std::size_t i = 0; i < total; ++i) data[i] = static_cast<char>((i * 131 + seed) & 0xff);
  auto [rh, wh] = std::move(*s).into_split();
  auto writer = tokio::spawn(
      [](tokio::net::tcp::OwnedWriteHalf w, const std::string* d) -> Task<bool> {
        if (!co_await w.write_all(*d)) co_return false;
        co_return (co_await w.shutdown()).has_value();
      },
      std::move(wh), &data);
  std::string back;
  back.reserve(total);
  std::vector<char> buf(7919);
  for (;;) {
    auto n = co_await rh.read(std::span<char>(buf));
    REQUIRE(n.has_value());
    if (*n == 0) break;
    back.append(buf.data(), *n);
  }
  bool wrote = co_await writer;
  c->bytes.fetch_add(static_cast<long>(back.size()));
  co_return wrote&& back == data;
}

Task<> precise_sleeper(StormCounts* c, int count, uint64_t seed) {
  stress::Rng rng(seed);
  for (int i = 0; i < count; ++i) {
    auto d = std::chrono::milliseconds(rng() % 4);
    auto t0 = tokio::time::Instant::now();
    co_await tokio::time::sleep(d);
    if (tokio::time::Instant::now() - t0 < d) c->early_sleeps.fetch_add(1);
    c->sleeps.fetch_add(1);
  }
}

}  // namespace

TEST_CASE(
    "stress: EINTR storm: signals to every thread during I/O, timers, blocking jobs and channel "
    "waits") {
  const std::size_t per_conn = stress::size(16 << 20, 256 << 10);
  const int conns = 8;
  const long min_signals = static_cast<long>(stress::size(10000, 200));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("EINTR storm", std::chrono::seconds(600));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    stress::Stopwatch sw;
    StormCounts c;
    long sent = 0, handled0 = stress::SignalStorm::handled();
    {
      auto rt = stress::runtime(flavour);
      stress::SignalStorm storm;
      bool ok = rt.block_on([](StormCounts* c, std::size_t per_conn, int conns, long min_signals,
                               stress::SignalStorm* storm) -> Task<bool> {
        auto l = co_await TcpListener::bind("127.0.0.1:0");
        REQUIRE(l.has_value());
        SocketAddr addr = l->local_addr().value();
        auto acceptor = tokio::spawn(echo_acceptor, &*l, c);
        // A plain thread blocked in blocking_recv (a futex wait) fed by a task.
        auto [tx, rx] = ts::mpsc::channel<int>(4);
        std::thread consumer(
            [](ts::mpsc::Receiver<int> rx, StormCounts* c) {
              while (rx.blocking_recv()) c->channel_values.fetch_add(1);
            },
            std::move(rx), c);
        auto feeder = tokio::spawn(
            [](ts::mpsc::Sender<int> tx, long min_signals, stress::SignalStorm* storm) -> Task<> {
              for (int i = 0; i < 2000 || storm->sent() < min_signals / 2; ++i) {
                if (!co_await tx.send(i)) co_return;
                if (i % 8 == 0) co_await tokio::time::sleep(std::chrono::milliseconds(1));
              }
            },
            std::move(tx), min_signals, storm);
        auto sleeper = tokio::spawn(precise_sleeper, c, 300, stress::seed());
        std::vector<tokio::task::JoinHandle<bool>> transfers;
        for (int i = 0; i < conns; ++i) {
          transfers.push_back(tokio::spawn(checked_transfer, addr, per_conn,
                                           stress::seed() + static_cast<uint64_t>(i), c));
        }
        std::vector<tokio::task::JoinHandle<void>> blocking;
        for (int i = 0; i < 8; ++i) {
          auto job = [](StormCounts* c) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(2));  // nanosleep, EINTR-restarted
            c->blocking_jobs.fetch_add(1);
          };
          blocking.push_back(tokio::task::spawn_blocking(job, c));
        }
        bool all = true;
        for (auto& t : transfers) all = co_await t && all;
        for (auto& b : blocking) co_await b;
        co_await sleeper;
        co_await feeder;
        consumer.join();
        // Keep the storm going until it delivered its share (a quiet runtime parks in
        // epoll_wait, the storm's favourite target).
        for (int i = 0; i < 60000 && storm->sent() < min_signals; ++i) {
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
        }
        acceptor.abort();
        co_return all;
      }(&c, per_conn, conns, min_signals, &storm));
      sent = storm.stop();
      CHECK(ok);
    }
    CHECK(sent >= min_signals);
    CHECK(stress::SignalStorm::handled() > handled0);
    CHECK(c.bytes.load() == static_cast<long>(per_conn) * conns);
    CHECK(c.early_sleeps.load() == 0);
    CHECK(c.blocking_jobs.load() == 8);
    CHECK(c.connections.load() == conns);
    stress::figure(
        "EINTR storm (%s): %ld signals sent, %ld handled, %ld MiB echoed, %ld sleeps, %ld channel "
        "values, %.0f ms",
        stress::flavour_name(flavour), sent, stress::SignalStorm::handled() - handled0,
        c.bytes.load() >> 20, c.sleeps.load(), c.channel_values.load(), sw.ms());
  }
}
