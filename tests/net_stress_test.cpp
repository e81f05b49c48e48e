// Load: 10,000 loopback connections open and echoing at once (the clients run in the
// echo_client example process: this machine's hard RLIMIT_NOFILE of 20,000 does not fit
// both ends of 10,000 connections in one process), and a few thousand with both ends
// in-process on each runtime flavour.
#include <atomic>
#include <string>
#include <vector>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpSocket;
using tokio::net::TcpStream;

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
  char buf[1024];
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n || *n == 0) break;
    c->bytes.fetch_add(static_cast<long>(*n));
    if (!co_await s.write_all({buf, *n})) break;
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

Task<> accept_loop(TcpListener* l, Counts* c) {
  for (;;) {
    auto conn = co_await l->accept();
    REQUIRE(conn.has_value());
    c->accepted.fetch_add(1);
    tokio::spawn(counted_echo, std::move(conn->first), c);
  }
}

}  // namespace

TEST_CASE("stress: 10,000 concurrent loopback connections open and echoing at once") {
  const int n = static_cast<int>(test::scaled(10000));
  const int rounds = 2;
  nt::Watchdog wd("10k connections", std::chrono::seconds(300));
  REQUIRE_MESSAGE(nt::nofile_hard() >= rlim_t(n) + 64,
                  "the hard RLIMIT_NOFILE (" << nt::nofile_hard() << ") is too low for " << n
                                             << " connections");
  rlim_t prev = nt::set_nofile(nt::nofile_hard());
  std::string client = nt::example("echo_client");
  Counts counts;
  auto rt = nt::io_multi(2);
  auto [status, out] = rt.block_on(
      [](Counts* c, std::string client, int n, int rounds) -> Task<std::pair<int, std::string>> {
        auto l = co_await big_backlog_listener();
        std::string addr = l.local_addr().value().to_string();
        auto acceptor = tokio::spawn(accept_loop, &l, c);
        auto child = std::make_shared<nt::Child>("exec " + client + " " + addr + " " +
                                                 std::to_string(n) + " " + std::to_string(rounds));
        // (A named closure: GCC 12 mishandles a capturing lambda temporary inside co_await.)
        auto wait_child = [child] { return child->wait(std::chrono::seconds(240)); };
        auto waiting = tokio::task::spawn_blocking(std::move(wait_child));
        int st = co_await waiting;
        std::string line = child->read_line(std::chrono::milliseconds(1000));
        acceptor.abort();
        co_return std::pair<int, std::string>(st, line);
      }(&counts, client, n, rounds));
  nt::set_nofile(prev);
  CHECK(status == 0);
  CHECK(out == std::to_string(n) + " connections x " + std::to_string(rounds) + " round trips ok");
  CHECK(counts.accepted.load() == n);
  CHECK(counts.peak.load() == n);  // every connection was open at the same moment
  CHECK(counts.bytes.load() == long(n) * rounds * 64);
}

TEST_CASE("stress: thousands of connections with both ends in-process, each runtime flavour") {
  const int n = static_cast<int>(test::scaled(2000));
  rlim_t prev = nt::set_nofile(nt::nofile_hard());
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("in-process connections", std::chrono::seconds(120));
    Counts counts;
    auto rt = nt::io_runtime(flavour);
    int ok = rt.block_on([](Counts* c, int n) -> Task<int> {
      auto l = co_await big_backlog_listener();
      SocketAddr addr = l.local_addr().value();
      auto acceptor = tokio::spawn(accept_loop, &l, c);
      std::vector<tokio::JoinHandle<tokio::io::Result<TcpStream>>> connecting;
      for (int i = 0; i < n; ++i) connecting.push_back(tokio::spawn(TcpStream::connect(addr)));
      std::vector<TcpStream> conns;
      for (auto& h : connecting) {
        auto s = co_await h;
        REQUIRE(s.has_value());
        conns.push_back(std::move(*s));
      }
      std::vector<tokio::JoinHandle<bool>> echo;
      for (auto& s : conns) {
        echo.push_back(tokio::spawn(
            [](TcpStream* s) -> Task<bool> {
              std::string msg(100, 'e');
              for (int r = 0; r < 3; ++r) {
                if (!co_await s->write_all(msg)) co_return false;
                if (co_await nt::read_n(*s, msg.size()) != msg) co_return false;
              }
              co_return true;
            },
            &s));
      }
      int ok = 0;
      for (auto& h : echo) ok += co_await h ? 1 : 0;
      conns.clear();
      acceptor.abort();
      co_return ok;
    }(&counts, n));
    CHECK(ok == n);
    CHECK(counts.peak.load() == n);
  }
  nt::set_nofile(prev);
}
