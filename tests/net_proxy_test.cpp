// examples/proxy, driven end to end: the proxy runs as a child process between in-test
// tokio peers (and curl). 1 GiB through it checksummed, curl to an HTTP/1.1 responder,
// half-close forwarded both ways, a refused upstream closing the client while the proxy
// keeps serving, many connections at once (echo_client through the proxy to echo_server),
// and the accept back-off at EMFILE.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpSocket;
using tokio::net::TcpStream;

namespace {

// The proxy example, its stderr merged into the captured stdout so the tests can read its
// per-connection report lines.
struct Proxy {
  nt::Child child;
  std::string port;
  explicit Proxy(const std::string& upstream, const std::string& prefix = "")
      : child(prefix + "exec " + nt::example("proxy") + " 127.0.0.1:0 " + upstream + " 2>&1") {
    std::string line = child.read_line();
    REQUIRE_MESSAGE(line.rfind("listening on ", 0) == 0, "proxy said: '" << line << "'");
    port = nt::port_of(line);
  }
  std::string addr() const { return "127.0.0.1:" + port; }
};

// A streaming 64-bit checksum over a byte sequence, independent of how the sequence is cut
// into reads (bytes are packed into little-endian words before mixing), and sensitive to
// order, value and length.
class Checksum {
 public:
  void update(const std::byte* p, std::size_t len) {
    n_ += len;
    while (len > 0 && fill_ != 0) push(*p++), --len;
    while (len >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
      mix(w);
      p += 8;
      len -= 8;
    }
    while (len > 0) push(*p++), --len;
  }
  uint64_t digest() const {
    Checksum c = *this;
    c.mix(c.acc_ ^ (uint64_t(c.fill_) << 56));
    return c.h_ ^ c.n_;
  }
  uint64_t count() const { return n_; }

 private:
  void push(std::byte b) {
    acc_ |= uint64_t(b) << (8 * fill_);
    if (++fill_ == 8) {
      mix(acc_);
      acc_ = 0;
      fill_ = 0;
    }
  }
  void mix(uint64_t w) {
    h_ = (h_ ^ w) * 0x9E3779B97F4A7C15ULL;
    h_ ^= h_ >> 29;
  }
  uint64_t h_ = 0x243F6A8885A308D3ULL;
  uint64_t n_ = 0;
  uint64_t acc_ = 0;
  unsigned fill_ = 0;
};

// Deterministic pseudo-random bytes (splitmix64), generated block by block.
inline uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct Sent {
  uint64_t count = 0;
  uint64_t digest = 0;
};

// Writes `total` pseudo-random bytes (stream `seed`), then shuts the write direction down.
template <class W>
Task<Sent> send_stream(W w, uint64_t total, uint64_t seed) {
  constexpr std::size_t kBlock = 64 * 1024;
  auto block = std::make_unique<uint64_t[]>(kBlock / 8);
  Checksum sum;
  uint64_t ctr = seed << 40;
  for (uint64_t done = 0; done < total;) {
    for (std::size_t i = 0; i < kBlock / 8; ++i) block[i] = splitmix(ctr++);
    std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(kBlock, total - done));
    auto bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(block.get()), n);
    auto r = co_await w.write_all(bytes);
    if (!r) FAIL("write failed after " << done << " bytes: " << r.error().message());
    sum.update(bytes.data(), n);
    done += n;
  }
  auto shut = co_await w.shutdown();
  REQUIRE(shut.has_value());
  co_return Sent{sum.count(), sum.digest()};
}

// Reads to end of stream, checksumming.
template <class R>
Task<Sent> receive_stream(R& r) {
  std::vector<std::byte> buf(64 * 1024);
  Checksum sum;
  for (;;) {
    auto n = co_await r.read(std::span<std::byte>(buf));
    if (!n) FAIL("read failed after " << sum.count() << " bytes: " << n.error().message());
    if (*n == 0) break;
    sum.update(buf.data(), *n);
  }
  co_return Sent{sum.count(), sum.digest()};
}

struct Flows {
  Sent up_sent, up_received, down_sent, down_received;
};

// One connection through the proxy: `up` bytes client -> upstream and, at the same time,
// `down` bytes upstream -> client, each side reading and writing from two tasks (owned
// halves), each direction ended by a half-close.
Task<Flows> transfer(TcpListener& upstream, std::string proxy_addr, uint64_t up, uint64_t down) {
  auto client = co_await TcpStream::connect(proxy_addr);
  REQUIRE(client.has_value());
  auto accepted = co_await upstream.accept();
  REQUIRE(accepted.has_value());
  auto [crd, cwr] = std::move(*client).into_split();
  auto [srd, swr] = std::move(accepted->first).into_split();
  auto client_send =
      tokio::spawn(send_stream<tokio::net::tcp::OwnedWriteHalf>, std::move(cwr), up, 1);
  auto server_send =
      tokio::spawn(send_stream<tokio::net::tcp::OwnedWriteHalf>, std::move(swr), down, 2);
  auto server_recv = tokio::spawn(
      [](tokio::net::tcp::OwnedReadHalf r) -> Task<Sent> { co_return co_await receive_stream(r); },
      std::move(srd));
  Flows f;
  f.down_received = co_await receive_stream(crd);
  f.up_received = co_await server_recv;
  f.up_sent = co_await client_send;
  f.down_sent = co_await server_send;
  co_return f;
}

// A minimal HTTP/1.1 responder with keep-alive: GET /hello answers a line naming the path,
// GET /big 1 MiB of a pattern, anything else 404. Counts the connections it accepted.
std::string big_body() {
  std::string s;
  for (int i = 0; s.size() < 1024 * 1024; ++i)
    s += "line " + std::to_string(i) + " of the big body\n";
  s.resize(1024 * 1024);
  return s;
}

Task<> http_conn(TcpStream s) {
  std::string in;
  char buf[4096];
  for (;;) {
    auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) {
      auto n = co_await s.read(buf);
      if (!n || *n == 0) co_return;
      in.append(buf, *n);
      continue;
    }
    std::string head = in.substr(0, end);
    in.erase(0, end + 4);
    auto sp1 = head.find(' ');
    auto sp2 = head.find(' ', sp1 + 1);
    std::string method = head.substr(0, sp1), path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string status = "200 OK", body;
    if (method == "GET" && path == "/hello")
      body = "hello via the proxy, you asked for " + path + "\n";
    else if (method == "GET" && path == "/big") body = big_body();
    else status = "404 Not Found", body = "no such thing\n";
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!co_await s.write_all(resp)) co_return;
  }
}

Task<> http_server(TcpListener l, std::shared_ptr<std::atomic<int>> conns) {
  for (;;) {
    auto c = co_await l.accept();
    if (!c) continue;
    conns->fetch_add(1);
    tokio::spawn(http_conn, std::move(c->first));
  }
}

// Runs a shell command on the blocking pool (the runtime keeps serving meanwhile).
// (The closure is a named local: GCC 12 destroys a capturing lambda temporary that appears
// inside a co_await expression twice, a double free of the captured string.)
Task<std::string> sh_async(std::string cmd, int timeout_s = 30) {
  auto job = [cmd = std::move(cmd), timeout_s] { return nt::sh(cmd, timeout_s); };
  auto h = tokio::task::spawn_blocking(std::move(job));
  co_return co_await h;
}

}  // namespace

TEST_CASE("proxy test helper: the checksum ignores read boundaries, sees every byte") {
  std::vector<std::byte> data(1000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(splitmix(i) & 0xff);
  Checksum whole, pieces;
  whole.update(data.data(), data.size());
  for (std::size_t at = 0, step = 1; at < data.size(); at += step, step = step % 13 + 1) {
    pieces.update(data.data() + at, std::min(step, data.size() - at));
  }
  CHECK(whole.digest() == pieces.digest());
  CHECK(whole.count() == 1000);
  for (std::size_t pos : {0, 7, 8, 500, 999}) {
    auto bad = data;
    bad[pos] ^= std::byte{1};
    Checksum c;
    c.update(bad.data(), bad.size());
    CHECK_MESSAGE(c.digest() != whole.digest(), pos);
  }
  auto swapped = data;
  std::swap_ranges(swapped.begin(), swapped.begin() + 8, swapped.begin() + 8);
  Checksum s, shorter;
  s.update(swapped.data(), swapped.size());
  shorter.update(data.data(), data.size() - 1);
  CHECK(s.digest() != whole.digest());
  CHECK(shorter.digest() != whole.digest());
}

TEST_CASE("examples: proxy carries 1 GiB up and 64 MiB down at once, intact") {
  nt::Watchdog wd("proxy 1 GiB", std::chrono::seconds(240));
  auto rt = nt::io_multi(2);
  auto upstream = rt.block_on(TcpListener::bind("127.0.0.1:0"));
  REQUIRE(upstream.has_value());
  Proxy px(upstream->local_addr()->to_string());
  // Full size everywhere but under ThreadSanitizer (test::scaled: 1/20th, about 51 MiB),
  // whose slowdown of both this process and the proxy would take minutes on 2 cores.
  const uint64_t up = test::scaled(uint64_t(1) << 30);
  const uint64_t down = test::scaled(uint64_t(64) << 20);
  Flows f = rt.block_on(transfer(*upstream, px.addr(), up, down));
  CHECK(f.up_sent.count == up);
  CHECK(f.up_received.count == up);
  CHECK(f.up_received.digest == f.up_sent.digest);
  CHECK(f.down_sent.count == down);
  CHECK(f.down_received.count == down);
  CHECK(f.down_received.digest == f.down_sent.digest);
  // The proxy's own account of the connection.
  std::string line = px.child.read_line();
  CHECK_MESSAGE(line.find(": closed, " + std::to_string(up) + " bytes up, " + std::to_string(down) +
                          " bytes down") != std::string::npos,
                line);
}

TEST_CASE("examples: curl through the proxy to an HTTP/1.1 responder, one kept-alive connection") {
  nt::Watchdog wd("proxy curl", std::chrono::seconds(120));
  auto rt = nt::io_multi(2);
  auto conns = std::make_shared<std::atomic<int>>(0);
  auto l = rt.block_on(TcpListener::bind("127.0.0.1:0"));
  REQUIRE(l.has_value());
  std::string upstream = l->local_addr()->to_string();
  rt.block_on([](TcpListener l, std::shared_ptr<std::atomic<int>> c) -> Task<> {
    tokio::spawn(http_server, std::move(l), std::move(c));
    co_return;
  }(std::move(*l), conns));
  Proxy px(upstream);
  std::string base = "http://" + px.addr();
  // Two requests in one curl run reuse the connection (the responder keeps it alive).
  std::string out =
      rt.block_on(sh_async("curl -sS --max-time 20 " + base + "/hello " + base + "/hello"));
  CHECK(out ==
        "hello via the proxy, you asked for /hello\nhello via the proxy, you asked for /hello\n");
  CHECK(conns->load() == 1);
  // A 1 MiB body, and the status code of a miss.
  std::string big = rt.block_on(sh_async("curl -sS --max-time 20 " + base + "/big"));
  CHECK(big.size() == 1024 * 1024);
  CHECK(big == big_body());
  CHECK(rt.block_on(sh_async("curl -s -o /dev/null -w \"%{http_code}\" --max-time 20 " + base +
                             "/nope")) == "404");
  CHECK(conns->load() == 3);
}

TEST_CASE("examples: proxy forwards a half-close in both directions") {
  nt::Watchdog wd("proxy half-close", std::chrono::seconds(60));
  auto rt = nt::io_multi(2);
  auto l = rt.block_on(TcpListener::bind("127.0.0.1:0"));
  REQUIRE(l.has_value());
  Proxy px(l->local_addr()->to_string());
  rt.block_on([](TcpListener& l, std::string addr) -> Task<> {
    // Client first: it sends and shuts down; the upstream reads the request to end of
    // stream, and only then answers; the answer still reaches the client.
    {
      auto c = co_await TcpStream::connect(addr);
      REQUIRE(c.has_value());
      auto s = co_await l.accept();
      REQUIRE(s.has_value());
      TcpStream& up = s->first;
      REQUIRE((co_await c->write_all("request")).has_value());
      REQUIRE((co_await c->shutdown()).has_value());
      CHECK(co_await nt::read_to_eof(up) == "request");
      REQUIRE((co_await up.write_all("reply after eof")).has_value());
      REQUIRE((co_await up.shutdown()).has_value());
      CHECK(co_await nt::read_to_eof(*c) == "reply after eof");
    }
    // Upstream first: it sends a banner and shuts down; the client sees end of stream,
    // then still sends, and the upstream receives it.
    {
      auto c = co_await TcpStream::connect(addr);
      REQUIRE(c.has_value());
      auto s = co_await l.accept();
      REQUIRE(s.has_value());
      TcpStream& up = s->first;
      REQUIRE((co_await up.write_all("banner")).has_value());
      REQUIRE((co_await up.shutdown()).has_value());
      CHECK(co_await nt::read_to_eof(*c) == "banner");
      REQUIRE((co_await c->write_all("late data")).has_value());
      REQUIRE((co_await c->shutdown()).has_value());
      CHECK(co_await nt::read_to_eof(up) == "late data");
    }
  }(*l, px.addr()));
  // Both connections ended cleanly, with these byte counts (the relays report in
  // whichever order their threads get there).
  std::string both = px.child.read_line() + "\n" + px.child.read_line();
  CHECK_MESSAGE(both.find("closed, 7 bytes up, 15 bytes down") != std::string::npos, both);
  CHECK_MESSAGE(both.find("closed, 9 bytes up, 6 bytes down") != std::string::npos, both);
}

TEST_CASE("examples: proxy closes the client when the upstream refuses, and keeps serving") {
  nt::Watchdog wd("proxy refused", std::chrono::seconds(60));
  auto rt = nt::io_multi(2);
  // Bound but not listening: connects to it are refused, until listen() below.
  auto sock = TcpSocket::new_v4().value();
  REQUIRE(sock.bind("127.0.0.1:0").has_value());
  std::string upstream = sock.local_addr()->to_string();
  Proxy px(upstream);
  rt.block_on([](std::string addr) -> Task<> {
    for (int i = 0; i < 3; ++i) {
      auto c = co_await TcpStream::connect(addr);
      REQUIRE(c.has_value());  // the proxy accepts...
      (void)co_await c->write_all("lost");
      // ...then closes the connection: end of stream (or a reset, had the data arrived
      // before the close), never a hang.
      char buf[16];
      auto n = co_await c->read(buf);
      CHECK((!n.has_value() || *n == 0));
    }
  }(px.addr()));
  for (int i = 0; i < 3; ++i) {
    std::string line = px.child.read_line();
    CHECK_MESSAGE(line.find("upstream " + upstream + ": Connection refused") != std::string::npos,
                  line);
  }
  // The upstream comes up: the same proxy now relays.
  auto guard = rt.enter();
  auto l = std::move(sock).listen(16);
  REQUIRE(l.has_value());
  rt.block_on([](TcpListener& l, std::string addr) -> Task<> {
    auto c = co_await TcpStream::connect(addr);
    REQUIRE(c.has_value());
    auto s = co_await l.accept();
    REQUIRE(s.has_value());
    REQUIRE((co_await c->write_all("now it works")).has_value());
    CHECK(co_await nt::read_n(s->first, 12) == "now it works");
    REQUIRE((co_await s->first.write_all("yes")).has_value());
    CHECK(co_await nt::read_n(*c, 3) == "yes");
  }(*l, px.addr()));
}

TEST_CASE("examples: echo_client through the proxy to echo_server, 100 connections at once") {
  nt::Watchdog wd("proxy load", std::chrono::seconds(120));
  nt::Child srv("exec " + nt::example("echo_server") + " 127.0.0.1:0");
  std::string line = srv.read_line();
  REQUIRE(line.rfind("listening on ", 0) == 0);
  Proxy px("127.0.0.1:" + nt::port_of(line));
  CHECK(nt::sh("printf \"through\\nthe proxy\\n\" | nc -N 127.0.0.1 " + px.port) ==
        "through\nthe proxy\n");
  CHECK(nt::sh(nt::example("echo_client") + " " + px.addr() + " 100 20", 60) ==
        "100 connections x 20 round trips ok\n");
}

TEST_CASE("examples: proxy out of file descriptors pauses, does not spin, and recovers") {
  nt::Watchdog wd("proxy emfile", std::chrono::seconds(60));
  nt::Child srv("exec " + nt::example("echo_server") + " 127.0.0.1:0");
  std::string line = srv.read_line();
  REQUIRE(line.rfind("listening on ", 0) == 0);
  // 32 descriptors: each relayed connection takes two, so about a dozen fit. Which of the
  // queued connections get relayed and which are closed (their upstream connect failing
  // with EMFILE) depends on timing; what must hold is that the proxy does not spin and
  // serves again once descriptors are free.
  Proxy px("127.0.0.1:" + nt::port_of(line), "ulimit -n 32; ");
  std::vector<int> clients;
  for (int i = 0; i < 40; ++i)
    clients.push_back(nt::blocking_client(px.port));  // queued in the backlog
  bool hit = false;
  for (std::string l = px.child.read_line(); !l.empty() && !hit; l = px.child.read_line()) {
    hit = l.find("Too many open files") != std::string::npos;
  }
  CHECK(hit);
  std::this_thread::sleep_for(300ms);
  long t0 = px.child.cpu_ticks();
  std::this_thread::sleep_for(1000ms);
  long t1 = px.child.cpu_ticks();
  REQUIRE(t0 >= 0);
  CHECK_MESSAGE(t1 - t0 < 25, "the proxy used " << (t1 - t0) << " ticks of CPU in 1 s at EMFILE");
  for (int fd : clients) ::close(fd);
  // Descriptors come back as the relays see their clients go: fresh connections, one
  // after the other (more than fit at once), are relayed.
  // (A connection arriving while the proxy still holds the old ones may be closed; the
  // client then tries again, as a real one would, within a generous deadline.)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int relayed = 0;
  while (relayed < 20 && std::chrono::steady_clock::now() < deadline) {
    int fresh = nt::blocking_client(px.port);
    if (nt::echoes(fresh, "fresh " + std::to_string(relayed))) ++relayed;
    else std::this_thread::sleep_for(50ms);
    ::close(fresh);
  }
  CHECK(relayed == 20);
}
