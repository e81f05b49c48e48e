// Connection scale (issue 11 §2): 10,000 concurrent loopback TCP connections.
//   - server side in the runtime, client side in a child process (this test binary again,
//     started with TOKIO_STRESS_CLIENT set: plain blocking sockets and poll), so 10,000
//     connections fit even where the hard RLIMIT_NOFILE cannot hold both ends in one
//     process; after the echo rounds the runtime is dropped with every connection in
//     flight, and the child checks that each of them sees the end of the stream.
//   - both ends in this process, on each runtime flavour, scaled down (with a message) to
//     what the hard RLIMIT_NOFILE allows.
// Sizes: stress::size(full, ci); `make stress` runs them at full size.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <memory>
#include <vector>

#include "stress_util.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpSocket;
using tokio::net::TcpStream;

// --- the child: plain sockets, no runtime ------------------------------------------------------
namespace stress_conn_child {

void fill(char* msg, int conn, int round) {
  std::snprintf(msg, 65, "%031d:%031d", conn, round);
  msg[63] = '\n';
}

// Opens n connections to 127.0.0.1:port, runs `rounds` echo round trips of 64 bytes on
// each (all connections in lockstep, driven by poll), prints "echoed N", then waits for
// the server to go away and prints "closed K" (K connections saw EOF or a reset).
int client_main(const char* spec) {
  unsigned port = 0;
  int n = 0, rounds = 0;
  if (std::sscanf(spec, "%u %d %d", &port, &n, &rounds) != 3) return 2;
  rlimit rl;
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::printf("error connect %d: %s\n", i, std::strerror(errno));
      std::fflush(stdout);
      return 1;
    }
    fds.push_back(fd);
  }
  std::vector<pollfd> pfds(fds.size());
  std::vector<int> got(fds.size());
  char msg[65], back[64];
  for (int r = 0; r < rounds; ++r) {
    for (int i = 0; i < n; ++i) {
      fill(msg, i, r);
      if (::send(fds[i], msg, 64, MSG_NOSIGNAL) != 64) {
        std::printf("error send %d\n", i);
        std::fflush(stdout);
        return 1;
      }
      got[i] = 0;
    }
    int done = 0;
    while (done < n) {
      int k = 0;
      for (int i = 0; i < n; ++i) {
        if (got[i] < 64) pfds[k++] = pollfd{fds[i], POLLIN, 0};
      }
      if (::poll(pfds.data(), static_cast<nfds_t>(k), 60000) <= 0) {
        std::printf("error poll timeout in round %d (%d/%d echoed)\n", r, done, n);
        std::fflush(stdout);
        return 1;
      }
      for (int j = 0; j < k; ++j) {
        if (!pfds[j].revents) continue;
        int i = static_cast<int>(std::find(fds.begin(), fds.end(), pfds[j].fd) - fds.begin());
        ssize_t m = ::recv(fds[i], back + got[i], static_cast<std::size_t>(64 - got[i]), 0);
        if (m <= 0) {
          std::printf("error recv %d\n", i);
          std::fflush(stdout);
          return 1;
        }
        got[i] += static_cast<int>(m);
        if (got[i] == 64) {
          fill(msg, i, r);
          if (std::memcmp(back, msg, 64) != 0) {
            std::printf("error mismatch %d\n", i);
            std::fflush(stdout);
            return 1;
          }
          ++done;
        }
      }
    }
  }
  std::printf("echoed %d\n", n);
  std::fflush(stdout);
  // Hold everything open until the server's runtime is dropped: each connection must end.
  std::vector<char> ended(fds.size(), 0);
  int closed = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (closed < n && std::chrono::steady_clock::now() < deadline) {
    int k = 0;
    for (int i = 0; i < n; ++i) {
      if (!ended[i]) pfds[k++] = pollfd{fds[i], POLLIN, 0};
    }
    if (::poll(pfds.data(), static_cast<nfds_t>(k), 1000) <= 0) continue;
    for (int j = 0; j < k; ++j) {
      if (!pfds[j].revents) continue;
      char b[64];
      ssize_t m = ::recv(pfds[j].fd, b, sizeof b, 0);
      if (m <= 0) {
        int i = static_cast<int>(std::find(fds.begin(), fds.end(), pfds[j].fd) - fds.begin());
        ended[i] = 1;
        ++closed;
      }
    }
  }
  std::printf("closed %d\n", closed);
  std::fflush(stdout);
  return 0;
}

// Runs before doctest's main when this binary was started as the client.
[[maybe_unused]] const int kClientRan = [] {
  if (const char* spec = std::getenv("TOKIO_STRESS_CLIENT")) ::_exit(client_main(spec));
  return 0;
}();

}  // namespace stress_conn_child

namespace {

struct Counts {
  std::atomic<int> open{0};
  std::atomic<int> peak{0};
  std::atomic<int> accepted{0};
  std::atomic<long> bytes{0};
};

Task<> counted_echo(TcpStream s, Counts* c) {
  int now = c->open.fetch_add(1) + 1;
  int prev = c->peak.load();
  while (now > prev && !c->peak.compare_exchange_weak(prev, now)) {
  }
  std::vector<char> buf(16384);
  for (;;) {
    auto n = co_await s.read(std::span<char>(buf));
    if (!n || *n == 0) break;
    c->bytes.fetch_add(static_cast<long>(*n), std::memory_order_relaxed);
    if (!co_await s.write_all({buf.data(), *n})) break;
  }
  c->open.fetch_sub(1);
}

Task<TcpListener> big_backlog_listener() {
  auto sock = TcpSocket::new_v4().value();
  REQUIRE(sock.bind("127.0.0.1:0").has_value());
  auto l = std::move(sock).listen(4096);
  REQUIRE(l.has_value());
  co_return std::move(*l);
}

Task<> accept_loop(TcpListener l, Counts* c) {
  for (;;) {
    auto conn = co_await l.accept();
    if (!conn) {
      co_await tokio::time::sleep(std::chrono::milliseconds(1));
      continue;
    }
    c->accepted.fetch_add(1);
    tokio::spawn(counted_echo, std::move(conn->first), c);
  }
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE(
    "stress: 10,000 connections (clients in a child process), then the runtime is dropped with all "
    "in flight") {
  const int n = static_cast<int>(stress::size(10000, 400));
  const int rounds = 3;
  nt::Watchdog wd("10k connections + drop", std::chrono::seconds(600));
  stress::NofileRaise nofile;
  if (nofile.headroom() < n + 64) {
    FAIL("the hard RLIMIT_NOFILE (" << nt::nofile_hard() << ") cannot hold " << n
                                    << " server-side connections");
  }
  int fds0 = stress::open_fds();
  Counts counts;
  stress::Stopwatch sw;
  std::unique_ptr<nt::Child> child;
  double drop_ms = 0;
  long rss = 0;
  {
    auto rt = stress::runtime(1);
    uint16_t port = rt.block_on([](Counts* c) -> Task<uint16_t> {
      auto l = co_await big_backlog_listener();
      uint16_t port = l.local_addr().value().port();
      tokio::spawn(accept_loop, std::move(l), c);
      co_return port;
    }(&counts));
    // The workers serve the connections; this thread only talks to the child.
    child = std::make_unique<nt::Child>("TOKIO_STRESS_CLIENT='" + std::to_string(port) + " " +
                                        std::to_string(n) + " " + std::to_string(rounds) +
                                        "' exec " + self_exe());
    std::string line = child->read_line(std::chrono::milliseconds(300000));
    REQUIRE(line == "echoed " + std::to_string(n));
    CHECK(counts.accepted.load() == n);
    CHECK(counts.peak.load() == n);  // every connection was open at the same moment
    CHECK(counts.open.load() == n);
    CHECK(counts.bytes.load() == long(n) * rounds * 64);
    CHECK(test::eventually([&] { return rt.metrics().num_alive_tasks() == std::size_t(n) + 1; }));
    rss = stress::rss_kib();
    stress::Stopwatch drop;
    {
      auto gone = std::move(rt);  // n connection tasks blocked in read, the acceptor in accept
    }
    drop_ms = drop.ms();
  }
  CHECK(counts.open.load() == n);  // destroyed, not completed: the loop never ran to its end
  std::string line = child->read_line(std::chrono::milliseconds(300000));
  CHECK(line == "closed " + std::to_string(n));  // every client saw its connection end
  CHECK(child->wait() == 0);
  child.reset();  // its stdout pipe is ours until then
  CHECK(stress::fds_back_to(fds0));
  stress::figure(
      "10k connections: %d connections x %d round trips, RSS %ld KiB with all open, drop %.0f ms, "
      "%.0f ms total",
      n, rounds, rss, drop_ms, sw.ms());
}

TEST_CASE(
    "stress: connection scale with both ends in-process, each flavour (scaled to the descriptor "
    "limit)") {
  const int wanted = static_cast<int>(stress::size(10000, 300));
  stress::NofileRaise nofile;
  // Two descriptors per connection, and room for the runtime and the test's own.
  int fit = static_cast<int>((nofile.headroom() - 256) / 2);
  int n = std::min(wanted, fit);
  if (n < wanted) {
    stress::note(
        "connection scale: the hard RLIMIT_NOFILE (%llu) holds both ends of %d connections, not "
        "%d: running %d",
        static_cast<unsigned long long>(nt::nofile_hard()), fit, wanted, n);
  }
  REQUIRE(n > 0);
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("in-process connection scale", std::chrono::seconds(600));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    stress::Stopwatch sw;
    Counts counts;
    int fds0 = stress::open_fds();
    {
      auto rt = stress::runtime(flavour);
      int ok = rt.block_on([](Counts* c, int n) -> Task<int> {
        auto l = co_await big_backlog_listener();
        SocketAddr addr = l.local_addr().value();
        auto acceptor = tokio::spawn(accept_loop, std::move(l), c);
        std::vector<tokio::task::JoinHandle<tokio::io::Result<TcpStream>>> connecting;
        for (int i = 0; i < n; ++i) connecting.push_back(tokio::spawn(TcpStream::connect(addr)));
        std::vector<TcpStream> conns;
        for (auto& h : connecting) {
          auto s = co_await h;
          REQUIRE(s.has_value());
          conns.push_back(std::move(*s));
        }
        // Every connection at once: three round trips of a random size (1 B .. 16 KiB).
        std::vector<tokio::task::JoinHandle<bool>> echo;
        for (std::size_t i = 0; i < conns.size(); ++i) {
          echo.push_back(tokio::spawn(
              [](TcpStream* s, uint64_t seed) -> Task<bool> {
                stress::Rng rng(seed);
                for (int r = 0; r < 3; ++r) {
                  std::string msg(1 + rng() % 16384, '\0');
                  for (auto& ch : msg) ch = static_cast<char>(rng());
                  auto [rh, wh] = s->split();
                  auto reader = nt::read_n(rh, msg.size());
                  auto both = co_await tokio::join(wh.write_all(msg), std::move(reader));
                  if (!std::get<0>(both) || std::get<1>(both) != msg) co_return false;
                }
                co_return true;
              },
              &conns[i], stress::seed() + i));
        }
        int ok = 0;
        for (auto& h : echo) ok += co_await h ? 1 : 0;
        CHECK(c->peak.load() == n);
        // Clients close; every server task sees end of stream and finishes.
        conns.clear();
        for (int i = 0; i < 30000 && c->open.load() > 0; ++i)
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
        CHECK(c->open.load() == 0);
        acceptor.abort();
        co_return ok;
      }(&counts, n));
      CHECK(ok == n);
    }
    CHECK(counts.accepted.load() == n);
    CHECK(stress::fds_back_to(fds0));
    stress::figure("in-process connection scale (%s): %d connections, %ld bytes echoed, %.0f ms",
                   stress::flavour_name(flavour), n, counts.bytes.load(), sw.ms());
  }
}
