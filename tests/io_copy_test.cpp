// io::copy, io::copy_buf, io::copy_bidirectional.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "io_mock.hpp"

using tokio::Task;
namespace io = tokio::io;
using iotest::MockReader;
using iotest::MockStream;
using iotest::MockWriter;

// Readers that know how much is coming say so (io::SizeHint), and io::copy reserves that
// much in a growable writer once: the vector ends with exactly the capacity it needed.
TEST_CASE("io::copy reserves the reader's size hint in a VecWriter") {
  using H = io::SizeHint;
  auto eq = [](H a, H b) { return a.lower == b.lower && a.upper == b.upper; };
  CHECK(eq(io::repeat(std::byte{1}).size_hint(), H{UINT64_MAX, std::nullopt}));
  CHECK(eq(io::take(io::repeat(std::byte{1}), 300).size_hint(), H{300, 300}));
  io::SliceReader five(std::string_view("hello"));
  CHECK(eq(five.size_hint(), H{5, 5}));
  CHECK(eq(io::take(five, 3).size_hint(), H{3, 3}));
  CHECK(eq(io::take(io::SliceReader(std::string_view("hi")), 10).size_hint(), H{2, 2}));
  CHECK(eq(
      io::chain(io::SliceReader(std::string_view("ab")), io::SliceReader(std::string_view("cde")))
          .size_hint(),
      H{5, 5}));
  CHECK(eq(io::chain(io::SliceReader(std::string_view("ab")), io::repeat(std::byte{0})).size_hint(),
           H{UINT64_MAX, std::nullopt}));
  CHECK(eq(io::empty().size_hint(), H{0, 0}));
  // A reader that knows nothing still gets its limit as the upper bound.
  MockReader mock;
  mock.data("abc");
  CHECK(eq(io::take(mock, 7).size_hint(), H{0, 7}));
  static_assert(!io::HasSizeHint<MockReader>);

  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    constexpr std::size_t kSize = 100'003;  // not a power of two: doubling would overshoot
    auto source = io::take(io::repeat(std::byte{7}), kSize);
    std::vector<std::byte> dest;
    io::VecWriter w(dest);
    auto n = co_await io::copy(source, w);
    REQUIRE(n);
    CHECK(*n == kSize);
    CHECK(dest.size() == kSize);
    CHECK(dest.capacity() == kSize);  // one reservation, no growth
    CHECK(dest.front() == std::byte{7});
    CHECK(dest.back() == std::byte{7});
    // Appending to a vector that holds data already reserves on top of it.
    io::SliceReader more(std::string_view("xyz"));
    n = co_await io::copy(more, w);
    CHECK(dest.size() == kSize + 3);
    CHECK(dest.capacity() == kSize + 3);
    // An endless reader reserves nothing ahead (its copy is bounded by the take above).
    std::string text;
    io::VecWriter tw(text);
    auto endless =
        io::take(io::chain(io::SliceReader(std::string_view("ab")), io::repeat(std::byte{'c'})), 6);
    n = co_await io::copy(endless, tw);
    CHECK(text == "abcccc");
  }());
}

TEST_CASE("io::copy through tiny pieces, pending reads and writes, then flushes") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::string data;
    for (int i = 0; i < 5000; ++i) data += std::to_string(i) + " ";
    MockReader r(7);
    r.data(data).pending_between();
    MockWriter w(5, 3);
    auto n = co_await io::copy(r, w);
    REQUIRE(n.has_value());
    CHECK(*n == data.size());
    CHECK(w.text() == data);
    CHECK(w.flushes >= 1);

    MockReader empty;
    MockWriter w2;
    CHECK(*co_await io::copy(empty, w2) == 0);
    CHECK(w2.flushes == 1);
  }());
}

TEST_CASE("io::copy reports reader errors, writer errors and a writer stuck at zero") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader r;
    r.data("abc").error(std::errc::connection_reset);
    MockWriter w;
    CHECK((co_await io::copy(r, w)).error() == std::errc::connection_reset);
    CHECK(w.text() == "abc");

    MockReader r2;
    r2.data(std::string(100, 'x'));
    MockWriter w2(10);
    w2.fail_after = 30;
    w2.fail_with = std::errc::broken_pipe;
    CHECK((co_await io::copy(r2, w2)).error() == std::errc::broken_pipe);
    CHECK(w2.out.size() == 30);

    MockReader r3;
    r3.data("x");
    MockWriter w3;
    w3.zero_writes = true;
    CHECK((co_await io::copy(r3, w3)).error() == io::Errc::write_zero);

    MockReader r4;
    r4.data("x");
    MockWriter w4;
    w4.fail_flush = true;
    CHECK((co_await io::copy(r4, w4)).error() == std::errc::io_error);
  }());
}

TEST_CASE("io::copy flushes a buffered writer while the reader waits (no deadlock)") {
  // The peer sends a line and waits for it to come back before sending the next one. The
  // copy goes into a BufWriter: unless copy flushes when its reader has nothing to give,
  // the line stays buffered forever.
  auto rt = test::multi_thread(2);
  std::atomic<bool> done{false};
  auto h = rt.spawn(
      [](std::atomic<bool>* done) -> Task<> {
        auto [peer_in, copy_in] = io::duplex(1024);
        auto [copy_out, peer_out] = io::duplex(1024);
        auto cp = tokio::spawn(
            [](io::DuplexStream in, io::DuplexStream out) -> Task<uint64_t> {
              io::BufWriter bw(std::move(out));
              auto n = co_await io::copy(in, bw);
              co_return n.value();
            },
            std::move(copy_in), std::move(copy_out));
        io::BufReader back(std::move(peer_out));
        for (int i = 0; i < 5; ++i) {
          std::string msg = "round " + std::to_string(i) + "\n";
          (void)co_await io::write_all(peer_in, msg);
          std::string line;
          (void)co_await io::read_line(back, line);
          CHECK(line == msg);
        }
        (void)co_await peer_in.shutdown();
        CHECK(co_await cp == 40);
        done->store(true);
      },
      &done);
  bool ok = test::eventually([&] { return done.load(); }, 10000ms);
  CHECK(ok);
  if (!ok) h.abort();
}

TEST_CASE("io::copy_buf writes straight from the reader's buffer") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader r(50);
    std::string data(10000, 'k');
    r.data(data).pending_between();
    io::BufReader br(std::move(r), 64);
    MockWriter w(13, 2);
    auto n = co_await io::copy_buf(br, w);
    REQUIRE(n.has_value());
    CHECK(*n == data.size());
    CHECK(w.text() == data);
    CHECK(w.flushes == 1);

    MockReader r2;
    r2.data("ab").error(std::errc::not_connected);
    io::BufReader br2(std::move(r2));
    MockWriter w2;
    CHECK((co_await io::copy_buf(br2, w2)).error() == std::errc::not_connected);
  }());
}

// From a reader with a buffer of its own (an AsyncBufRead), io::copy writes from that
// buffer: no bytes pass through a buffer of copy's, the errors are copy's, and bytes not
// yet written when a copy is cancelled stay in the reader.
TEST_CASE("io::copy from an AsyncBufRead writes from its buffer; errors; cancel keeps bytes") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    // Tiny reads behind a 64-byte BufReader, a writer taking 13 bytes at a time with
    // pending polls: every write is at most what the BufReader lent.
    MockReader r(50);
    std::string data;
    for (int i = 0; i < 2000; ++i) data += std::to_string(i) + ",";
    r.data(data).pending_between();
    io::BufReader br(std::move(r), 64);
    MockWriter w(13, 2);
    auto n = co_await io::copy(br, w);
    REQUIRE(n);
    CHECK(*n == data.size());
    CHECK(w.text() == data);
    CHECK(w.flushes >= 1);

    MockReader r2;
    r2.data("abc").error(std::errc::connection_reset);
    io::BufReader br2(std::move(r2));
    MockWriter w2;
    CHECK((co_await io::copy(br2, w2)).error() == std::errc::connection_reset);
    CHECK(w2.text() == "abc");

    io::SliceReader s3(std::string_view("x"));
    MockWriter w3;
    w3.zero_writes = true;
    CHECK((co_await io::copy(s3, w3)).error() == io::Errc::write_zero);

    io::SliceReader s4(std::string_view("x"));
    MockWriter w4;
    w4.fail_flush = true;
    CHECK((co_await io::copy(s4, w4)).error() == std::errc::io_error);

    io::SliceReader s5{std::string_view(data)};
    MockWriter w5(10);
    w5.fail_after = 30;
    w5.fail_with = std::errc::broken_pipe;
    CHECK((co_await io::copy(s5, w5)).error() == std::errc::broken_pipe);
    CHECK(w5.out.size() == 30);

    // Cancelled while its write waits: what was not written is still in the reader.
    io::SliceReader s6{std::string_view("0123456789")};
    MockWriter stuck;
    stuck.block_forever = true;
    auto c = co_await tokio::select_biased(io::copy(s6, stuck), tokio::task::yield_now());
    CHECK(c.index() == 1);
    std::array<std::byte, 10> got{};
    CHECK(*co_await io::read_exact(s6, got) == 10);
    CHECK(iotest::str(got) == "0123456789");
    // Everything the slice lends goes out in one write (through an 8 KiB buffer of its
    // own, copy would take two for these 8.9 KB).
    REQUIRE(data.size() > io::kDefaultBufSize);
    io::SliceReader s7{std::string_view(data)};
    MockWriter w7;
    CHECK(*co_await io::copy(s7, w7) == data.size());
    CHECK(w7.text() == data);
    CHECK(w7.writes == 1);
  }());
}

namespace {
// A client -> proxy -> server chain over duplex pipes.
struct ProxyRig {
  io::DuplexStream client, proxy_a, proxy_b, server;
  static ProxyRig make(std::size_t cap) {
    auto [c, pa] = io::duplex(cap);
    auto [pb, s] = io::duplex(cap);
    return ProxyRig{std::move(c), std::move(pa), std::move(pb), std::move(s)};
  }
};

Task<io::Result<std::pair<uint64_t, uint64_t>>> run_proxy(io::DuplexStream a, io::DuplexStream b) {
  co_return co_await io::copy_bidirectional(a, b);
}
}  // namespace

TEST_CASE("copy_bidirectional forwards a half-close from either side and counts both ways") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    for (int client_first = 0; client_first < 2; ++client_first) {
      auto rig = ProxyRig::make(100);
      auto proxy = tokio::spawn(run_proxy(std::move(rig.proxy_a), std::move(rig.proxy_b)));
      std::string request(3000, 'q'), response(5000, 'r');
      if (client_first) {
        // Client sends and half-closes; the server sees EOF, then answers and closes.
        auto cl = tokio::spawn([](io::DuplexStream& c, std::string& req) -> Task<> {
          (void)co_await io::write_all(c, req);
          (void)co_await c.shutdown();
        }(rig.client, request));
        std::string got;
        CHECK(*co_await io::read_to_string(rig.server, got) == request.size());
        co_await cl;
        (void)co_await io::write_all(rig.server, response);
        (void)co_await rig.server.shutdown();
        std::string back;
        CHECK(*co_await io::read_to_string(rig.client, back) == response.size());
      } else {
        // The server speaks first and closes its side while the client keeps sending.
        auto srv = tokio::spawn(
            [](io::DuplexStream s, std::string resp) -> Task<std::string> {
              (void)co_await io::write_all(s, resp);
              (void)co_await s.shutdown();
              std::string got;
              (void)co_await io::read_to_string(s, got);
              co_return got;
            },
            std::move(rig.server), response);
        std::string back;
        CHECK(*co_await io::read_to_string(rig.client, back) == response.size());
        (void)co_await io::write_all(rig.client, request);
        (void)co_await rig.client.shutdown();
        CHECK((co_await srv).size() == request.size());
      }
      auto counts = co_await proxy;
      REQUIRE(counts.has_value());
      CHECK(counts->first == request.size());
      CHECK(counts->second == response.size());
    }
  }());
}

TEST_CASE("copy_bidirectional ends with the first error of either direction") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockStream a, b;
    a.r.data("to b").error(std::errc::connection_reset);
    b.r.data("to a").pending(10);
    auto r = co_await io::copy_bidirectional(a, b);
    CHECK(r.error() == std::errc::connection_reset);
    CHECK(b.w.text() == "to b");

    MockStream c, d;
    c.r.data("x");
    d.r.data("y");
    d.w.fail_after = 0;  // writing to d fails
    auto r2 = co_await io::copy_bidirectional_with_sizes(c, d, 16, 16);
    CHECK(r2.error() == std::errc::connection_reset);
    CHECK_THROWS_AS((void)io::copy_bidirectional_with_sizes(c, d, 0, 16), std::invalid_argument);

    MockStream e, f;
    e.r.data("hello");
    f.r.data("world!");
    auto ok = co_await io::copy_bidirectional(e, f);
    REQUIRE(ok.has_value());
    CHECK(*ok == std::pair<uint64_t, uint64_t>(5, 6));
    CHECK(e.w.text() == "world!");
    CHECK(f.w.text() == "hello");
    CHECK(e.w.shutdowns == 1);
    CHECK(f.w.shutdowns == 1);
  }());
}

TEST_CASE("100 MiB through io::copy between two duplex pipes arrives intact") {
  auto rt = test::multi_thread(2);
  const std::size_t total = test::scaled(100u << 20);
  rt.block_on([](std::size_t total) -> Task<> {
    auto [src_w, src_r] = io::duplex(64 * 1024);
    auto [dst_w, dst_r] = io::duplex(64 * 1024);
    auto producer = tokio::spawn(
        [](io::DuplexStream w, std::size_t total) -> Task<uint64_t> {
          std::vector<std::byte> chunk(48 * 1024 + 7);
          iotest::Fnv sum;
          uint64_t state = 0x9E3779B97F4A7C15ULL;
          std::size_t sent = 0;
          while (sent < total) {
            std::size_t n = std::min(chunk.size(), total - sent);
            iotest::fill_pattern(std::span(chunk).first(n), state);
            sum.add(std::span(chunk).first(n));
            (void)co_await io::write_all(w, std::span<const std::byte>(chunk).first(n));
            sent += n;
          }
          (void)co_await w.shutdown();
          co_return sum.h;
        },
        std::move(src_w), total);
    auto consumer = tokio::spawn(
        [](io::DuplexStream r) -> Task<std::pair<uint64_t, std::size_t>> {
          std::vector<std::byte> buf(13 * 1024);
          iotest::Fnv sum;
          std::size_t got = 0;
          for (;;) {
            auto n = co_await r.read(buf);
            if (!n || *n == 0) break;
            sum.add(std::span(buf).first(*n));
            got += *n;
          }
          co_return std::pair<uint64_t, std::size_t>(sum.h, got);
        },
        std::move(dst_r));
    auto copied = co_await io::copy(src_r, dst_w);
    (void)co_await dst_w.shutdown();
    REQUIRE(copied.has_value());
    CHECK(*copied == total);
    uint64_t sent_sum = co_await producer;
    auto [got_sum, got] = co_await consumer;
    CHECK(got == total);
    CHECK(got_sum == sent_sum);
  }(total));
}

TEST_CASE("aborting a copy mid-transfer leaves both streams usable") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(16);
    auto [c, d] = io::duplex(16);
    auto h = tokio::spawn([](io::DuplexStream& b, io::DuplexStream& c) -> Task<> {
      (void)co_await io::copy(b, c);
    }(b, c));
    (void)co_await io::write_all(a, "0123456789");
    std::array<std::byte, 10> got{};
    (void)co_await io::read_exact(d, got);
    CHECK(iotest::str(got) == "0123456789");
    h.abort();
    auto r = co_await h.result();
    CHECK(r.error().is_cancelled());
    // The streams still work after the cancelled copy.
    (void)co_await io::write_all(a, "after");
    std::array<std::byte, 5> got2{};
    CHECK(*co_await io::read_exact(b, got2) == 5);
    CHECK(iotest::str(got2) == "after");
    (void)co_await io::write_all(c, "xyz");
    std::array<std::byte, 3> got3{};
    CHECK(*co_await io::read_exact(d, got3) == 3);
  }());
}
