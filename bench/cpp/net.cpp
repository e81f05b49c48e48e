// Networking benchmarks over loopback, client and server in one process on the
// multi-thread runtime (`workers` worker threads). The Rust twin is
// bench/tokio-rs/src/bin/net.rs; both take the same arguments.
//
//   echo        50 connections x 2,000 round trips of 64 bytes (write_all, then read the
//               64 bytes back); the server echoes. `iters` repeats the whole workload.
//   throughput  one connection, the client writes 1 GiB in 64 KiB write_all calls, the
//               server reads (64 KiB buffer) and discards; `iters` GiB.
//   churn       `iters` sequential connections: connect, shut down writing, read to end
//               of stream; the server accepts, reads to end of stream, closes.
//   echo+obs    echo with the observability of issue 15 on: every connection task named
//               (task::Builder, "conn <peer>" / "client"), a stall detector (100 ms). The
//               Tokio twin runs plain echo.
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpStream;

namespace {

constexpr int kConnections = 50;
constexpr int kRoundTrips = 2000;
constexpr std::size_t kMsg = 64;
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kGiB = std::size_t(1) << 30;

bool g_obs = false;

tokio::runtime::Runtime multi(std::size_t workers) {
  auto b = tokio::runtime::Builder::new_multi_thread();
  b.worker_threads(workers).enable_all();
  if (g_obs) b.stall_threshold(std::chrono::milliseconds(100));
  return b.build();
}

[[noreturn]] void die(const char* what, const std::error_code& e) {
  std::fprintf(stderr, "%s: %s\n", what, e.message().c_str());
  std::exit(1);
}

Task<TcpListener> listen() {
  auto l = co_await TcpListener::bind("127.0.0.1:0");
  if (!l) die("bind", l.error());
  co_return std::move(*l);
}

Task<TcpStream> connect(SocketAddr a) {
  auto s = co_await TcpStream::connect(a);
  if (!s) die("connect", s.error());
  (void)s->set_nodelay(true);
  co_return std::move(*s);
}

// --- echo ---------------------------------------------------------------------------------
Task<> echo_serve(TcpStream s) {
  (void)s.set_nodelay(true);
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n || *n == 0) co_return;
    if (!co_await s.write_all({buf, *n})) co_return;
  }
}

Task<> echo_client(SocketAddr a) {
  TcpStream s = co_await connect(a);
  char msg[kMsg], back[kMsg];
  std::memset(msg, 'e', sizeof msg);
  for (int r = 0; r < kRoundTrips; ++r) {
    auto w = co_await s.write_all({msg, kMsg});
    if (!w) die("write", w.error());
    for (std::size_t got = 0; got < kMsg;) {
      auto n = co_await s.read(std::span<char>(back + got, kMsg - got));
      if (!n) die("read", n.error());
      if (*n == 0) die("read", std::make_error_code(std::errc::connection_reset));
      got += *n;
    }
  }
}

Task<> echo_once() {
  TcpListener l = co_await listen();
  SocketAddr a = l.local_addr().value();
  auto server = tokio::spawn(
      [](TcpListener l) -> Task<> {
        for (int i = 0; i < kConnections; ++i) {
          auto c = co_await l.accept();
          if (!c) die("accept", c.error());
          if (g_obs) {
            tokio::task::Builder()
                .name("conn " + c->second.to_string())
                .spawn(echo_serve, std::move(c->first))
                .detach();
          } else {
            tokio::spawn(echo_serve, std::move(c->first));
          }
        }
      },
      std::move(l));
  std::vector<tokio::JoinHandle<void>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(g_obs ? tokio::task::Builder().name("client").spawn(echo_client(a))
                            : tokio::spawn(echo_client(a)));
  }
  for (auto& c : clients) co_await c;
  co_await server;
}

// --- throughput ---------------------------------------------------------------------------
Task<> throughput_once() {
  TcpListener l = co_await listen();
  SocketAddr a = l.local_addr().value();
  auto server = tokio::spawn(
      [](TcpListener l) -> Task<std::size_t> {
        auto c = co_await l.accept();
        if (!c) die("accept", c.error());
        std::vector<char> buf(kChunk);
        std::size_t total = 0;
        for (;;) {
          auto n = co_await c->first.read(std::span<char>(buf));
          if (!n) die("read", n.error());
          if (*n == 0) co_return total;
          total += *n;
        }
      },
      std::move(l));
  {
    TcpStream s = co_await connect(a);
    std::vector<char> chunk(kChunk, 't');
    for (std::size_t sent = 0; sent < kGiB; sent += kChunk) {
      auto w = co_await s.write_all(std::string_view(chunk.data(), chunk.size()));
      if (!w) die("write", w.error());
    }
  }
  std::size_t got = co_await server;
  if (got != kGiB) die("throughput", std::make_error_code(std::errc::message_size));
}

// --- churn --------------------------------------------------------------------------------
Task<> churn(std::size_t n) {
  TcpListener l = co_await listen();
  SocketAddr a = l.local_addr().value();
  auto server = tokio::spawn(
      [](TcpListener l, std::size_t n) -> Task<> {
        char buf[64];
        for (std::size_t i = 0; i < n; ++i) {
          auto c = co_await l.accept();
          if (!c) die("accept", c.error());
          for (;;) {  // read to end of stream, then close
            auto r = co_await c->first.read(buf);
            if (!r || *r == 0) break;
          }
        }
      },
      std::move(l), n);
  char buf[64];
  for (std::size_t i = 0; i < n; ++i) {
    auto s = co_await TcpStream::connect(a);
    if (!s) die("connect", s.error());
    auto sd = co_await s->shutdown();
    if (!sd) die("shutdown", sd.error());
    for (;;) {
      auto r = co_await s->read(buf);
      if (!r || *r == 0) break;
    }
  }
  co_await server;
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parse(argc, argv);
  if (a.name == "echo+obs") {
    g_obs = true;
    a.name = "echo";
  }
  auto rt = multi(a.workers);
  if (a.name == "echo") {
    for (std::size_t i = 0; i < a.iters; ++i) rt.block_on(echo_once());
  } else if (a.name == "throughput") {
    for (std::size_t i = 0; i < a.iters; ++i) rt.block_on(throughput_once());
  } else if (a.name == "churn") {
    rt.block_on(churn(a.iters));
  } else {
    bench::unknown(a);
  }
  return 0;
}
