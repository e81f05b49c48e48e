// io::duplex (in-memory pipe) and io::split / unsplit.
#include <array>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "io_mock.hpp"

using tokio::Task;
namespace io = tokio::io;

TEST_CASE("duplex: both directions, partial writes at capacity, EOF after shutdown") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(8);
    CHECK(*co_await io::write(a, "0123456789") == 8);  // only the capacity fits
    CHECK(*co_await io::write(b, "xy") == 2);
    std::array<std::byte, 16> buf{};
    CHECK(*co_await b.read(buf) == 8);
    CHECK(iotest::str(std::span(buf).first(8)) == "01234567");
    CHECK(*co_await a.read(buf) == 2);

    CHECK(*co_await io::write(a, "tail") == 4);
    CHECK((co_await a.shutdown()).has_value());
    CHECK((co_await a.shutdown()).has_value());  // idempotent
    CHECK((co_await io::write(a, "more")).error() == std::errc::broken_pipe);
    CHECK(*co_await b.read(buf) == 4);  // buffered data survives the shutdown
    CHECK(*co_await b.read(buf) == 0);
    CHECK(*co_await b.read(buf) == 0);
    // The other direction still works after a's shutdown.
    CHECK(*co_await io::write(b, "back") == 4);
    CHECK(*co_await a.read(buf) == 4);
    CHECK(*co_await b.read(std::span<std::byte>()) == 0);
    CHECK(*co_await io::write(b, std::span<const std::byte>()) == 0);
    CHECK((co_await b.flush()).has_value());
  }());
}

TEST_CASE("duplex: dropping one end gives EOF to reads and broken_pipe to writes") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    (void)co_await io::write_all(a, "last words");
    { auto gone = std::move(a); }
    std::string s;
    CHECK(*co_await io::read_to_string(b, s) == 10);
    CHECK(s == "last words");
    CHECK((co_await io::write(b, "x")).error() == std::errc::broken_pipe);
    CHECK_FALSE(a.valid());
    std::array<std::byte, 4> buf{};
    CHECK_THROWS_AS((void)a.read(buf), std::logic_error);
    CHECK_THROWS_AS(io::duplex(0), std::invalid_argument);
  }());
}

TEST_CASE("duplex: a waiting reader and a waiting writer are woken by the other end's drop") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(4);
    auto reader = tokio::spawn(
        [](io::DuplexStream s) -> Task<std::size_t> {
          std::array<std::byte, 8> buf{};
          co_return (co_await s.read(buf)).value();
        },
        std::move(a));
    // b's write fills the pipe then blocks; dropping the reader end unblocks it.
    auto [c, d] = io::duplex(4);
    auto writer = tokio::spawn(
        [](io::DuplexStream s) -> Task<std::error_code> {
          auto r = co_await io::write_all(s, "0123456789");
          co_return r.error();
        },
        std::move(c));
    for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    { auto gone = std::move(b); }
    { auto gone = std::move(d); }
    CHECK(co_await reader == 0);
    CHECK(co_await writer == std::errc::broken_pipe);
  }());
}

TEST_CASE("duplex: backpressure holds a writer until the reader makes room") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(5);
    // write_all cannot finish while nobody reads: it loses the race against a ready branch.
    auto r =
        co_await tokio::select_biased(io::write_all(a, "0123456789"), tokio::task::yield_now());
    CHECK(r.index() == 1);
    std::array<std::byte, 5> got{};
    CHECK(*co_await io::read_exact(b, got) == 5);
    CHECK(iotest::str(got) == "01234");  // what the cancelled write_all got in
    // A plain write to a full pipe is cancel-safe: nothing of it is written.
    CHECK(*co_await io::write(a, "abcde") == 5);
    auto r2 = co_await tokio::select_biased(io::write(a, "LOST"), tokio::task::yield_now());
    CHECK(r2.index() == 1);
    std::string rest;
    (void)co_await a.shutdown();
    CHECK(*co_await io::read_to_string(b, rest) == 5);
    CHECK(rest == "abcde");
  }());
}

TEST_CASE("duplex: cancelled reads lose nothing and unregister their waker") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(16);
    std::array<std::byte, 16> buf{};
    for (int i = 0; i < 100; ++i) {
      auto r = co_await tokio::select_biased(b.read(buf), tokio::task::yield_now());
      CHECK(r.index() == 1);
    }
    (void)co_await io::write_all(a, "hello");
    CHECK(*co_await b.read(buf) == 5);
    // read_exact cancelled after a partial read: the bytes it consumed are gone, the rest
    // is still in the pipe (documented: read_exact is not cancel-safe).
    (void)co_await io::write_all(a, "abc");
    auto r = co_await tokio::select_biased(io::read_exact(b, buf), tokio::task::yield_now());
    CHECK(r.index() == 1);
    (void)co_await io::write_all(a, "def");
    CHECK(*co_await b.read(buf) == 3);
    CHECK(iotest::str(std::span(buf).first(3)) == "def");
  }());
}

// The pipe keeps its bytes in linked segments (a quarter of the capacity each, at least
// 256 bytes): writes and reads of every size against a model, at capacities below, at and
// across a segment, so copies split at segment ends and segments are recycled.
TEST_CASE("duplex: random write and read sizes against a model, across segment boundaries") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    auto next = [&rng](std::size_t bound) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      return static_cast<std::size_t>(rng % bound);
    };
    for (std::size_t cap : {std::size_t{1}, std::size_t{3}, std::size_t{255}, std::size_t{257},
                            std::size_t{1000}, std::size_t{4099}, std::size_t{70000}}) {
      auto [a, b] = io::duplex(cap);
      std::vector<std::byte> src(3 * cap + 5000), got;
      uint64_t st = cap;
      iotest::fill_pattern(src, st);
      std::size_t sent = 0, buffered = 0;
      std::vector<std::byte> buf;
      while (got.size() < src.size()) {
        // Write what fits of a random chunk (never waiting: the model knows the room).
        if (sent < src.size() && buffered < cap) {
          std::size_t want = 1 + next(std::min<std::size_t>(src.size() - sent, 2 * cap + 10));
          auto n = co_await a.write(std::span<const std::byte>(src).subspan(sent, want));
          REQUIRE(n.has_value());
          REQUIRE(*n == std::min(want, cap - buffered));
          sent += *n;
          buffered += *n;
        }
        if (sent == src.size()) (void)co_await a.shutdown();
        if (buffered == 0) continue;
        // Read a random amount: exactly what is buffered, up to the buffer's size.
        buf.resize(1 + next(2 * cap + 10));
        auto n = co_await b.read(buf);
        REQUIRE(n.has_value());
        REQUIRE(*n == std::min(buf.size(), buffered));
        got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        buffered -= *n;
      }
      CHECK(got == src);
      buf.resize(8);
      CHECK(*co_await b.read(buf) == 0);  // end of stream after everything
    }
  }());
}

// The pipe's segments are its only aligned nothrow allocations: this replacement fails the
// n-th one made on the calling thread from when duplex_fail_alloc_in is set to n (0: off).
namespace {
thread_local int duplex_fail_alloc_in = 0;
}  // namespace

void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  if (duplex_fail_alloc_in > 0 && --duplex_fail_alloc_in == 0) return nullptr;
  try {
    return ::operator new(size, al);
  } catch (...) {
    return nullptr;
  }
}

// Out of memory for a segment: a write that could copy nothing fails with ENOMEM and
// publishes nothing; one that filled a segment first reports just those bytes; once memory
// is back the pipe carries on, and the reader gets exactly the bytes reported written.
TEST_CASE("duplex: out of memory for a segment fails the write or shortens it, losing nothing") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(1024);  // 256-byte segments
    std::vector<std::byte> src(1024);
    uint64_t st = 7;
    iotest::fill_pattern(src, st);
    auto part = [&](std::size_t off, std::size_t n) {
      return std::span<const std::byte>(src).subspan(off, n);
    };

    duplex_fail_alloc_in = 1;  // the first segment
    auto r = co_await a.write(part(0, 600));
    CHECK(duplex_fail_alloc_in == 0);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == std::errc::not_enough_memory);

    duplex_fail_alloc_in = 2;  // the second segment: the first 256 bytes are in
    r = co_await a.write(part(0, 600));
    CHECK(duplex_fail_alloc_in == 0);
    REQUIRE(r.has_value());
    CHECK(*r == 256);

    CHECK((co_await io::write_all(a, part(256, src.size() - 256))).has_value());
    (void)co_await a.shutdown();
    std::vector<std::byte> got(2048);
    std::size_t n = 0;
    for (;;) {
      auto k = co_await b.read(std::span<std::byte>(got).subspan(n));
      REQUIRE(k.has_value());
      if (*k == 0) break;
      n += *k;
    }
    got.resize(n);
    CHECK(got == src);
  }());
}

// Two reads of one end waiting in one task, polled by hand so the order is fixed: both
// register the task's waker; the first is destroyed while the second still waits, and the
// second is not polled again until something wakes the task. The destroyed one must leave
// the waker registered (the registration is the second's now), or the task hangs until the
// timeout's timer wakes it.
TEST_CASE("duplex: a cancelled wait leaves the waker a later wait of the same task registered") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(16);
    std::array<std::byte, 8> first{}, second{};
    auto op_b = b.read(second);
    {
      auto op_a = b.read(first);
      co_await tokio::task::poll_fn([&](tokio::task::Context& cx) -> std::optional<int> {
        CHECK_FALSE(op_a.poll(cx));  // nothing buffered: both wait
        CHECK_FALSE(op_b.poll(cx));
        return 0;
      });
    }  // op_a is destroyed here
    tokio::spawn([](io::DuplexStream* a) -> Task<> { (void)co_await io::write_all(*a, "ping"); },
                 &a);
    auto start = std::chrono::steady_clock::now();
    bool first_poll = true;
    auto n = co_await tokio::time::timeout(
        std::chrono::seconds(3),
        tokio::task::poll_fn([&](tokio::task::Context& cx) -> std::optional<std::size_t> {
          if (std::exchange(first_poll, false)) return std::nullopt;  // wait for a wake
          if (!op_b.poll(cx)) return std::nullopt;
          return *op_b.await_resume();
        }));
    REQUIRE(n.has_value());
    CHECK(*n == 4);
    CHECK(iotest::str(std::span(second).first(4)) == "ping");
    // Woken by the write, not by the timeout's timer.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }());
}

TEST_CASE("duplex: ping-pong across worker threads (wake/suspend races)") {
  auto rt = test::multi_thread(2);
  const int rounds = static_cast<int>(test::scaled(20000));
  rt.block_on([](int rounds) -> Task<> {
    auto [a, b] = io::duplex(16);
    auto echo = tokio::spawn(
        [](io::DuplexStream s) -> Task<int> {
          std::array<std::byte, 4> v{};
          int n = 0;
          for (;;) {
            auto r = co_await io::read_exact(s, v);
            if (!r) break;
            (void)co_await io::write_all(s, v);
            ++n;
          }
          co_return n;
        },
        std::move(b));
    for (int i = 0; i < rounds; ++i) {
      REQUIRE((co_await io::write_u32(a, static_cast<uint32_t>(i))).has_value());
      auto v = co_await io::read_u32(a);
      REQUIRE(v.has_value());
      REQUIRE(*v == static_cast<uint32_t>(i));
    }
    (void)co_await a.shutdown();
    CHECK(co_await echo == rounds);
  }(rounds));
}

TEST_CASE("duplex ends used from plain threads' runtimes at once (one end per runtime)") {
  auto rt1 = test::current_thread();
  auto rt2 = test::current_thread();
  auto ends = io::duplex(1000);  // (no structured binding: clang < 16 cannot capture one)
  io::DuplexStream& a = ends.first;
  io::DuplexStream& b = ends.second;
  const std::size_t total = test::scaled(4u << 20);
  uint64_t sent_sum = 0, got_sum = 0;
  std::thread t([&] {
    sent_sum = rt1.block_on([](io::DuplexStream& a, std::size_t total) -> Task<uint64_t> {
      std::vector<std::byte> chunk(777);
      iotest::Fnv f;
      uint64_t st = 1;
      for (std::size_t sent = 0; sent < total;) {
        std::size_t n = std::min(chunk.size(), total - sent);
        iotest::fill_pattern(std::span(chunk).first(n), st);
        f.add(std::span(chunk).first(n));
        (void)co_await io::write_all(a, std::span<const std::byte>(chunk).first(n));
        sent += n;
      }
      (void)co_await a.shutdown();
      co_return f.h;
    }(a, total));
  });
  got_sum = rt2.block_on([](io::DuplexStream& b) -> Task<uint64_t> {
    std::vector<std::byte> all;
    (void)co_await io::read_to_end(b, all);
    iotest::Fnv f;
    f.add(all);
    co_return f.h;
  }(b));
  t.join();
  CHECK(sent_sum == got_sum);
}

// --- split -----------------------------------------------------------------------------------

TEST_CASE("simplex: halves carry bytes one way; EOF after shutdown; backpressure; unsplit") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [rd, wr] = io::simplex(4);
    CHECK(*co_await io::write(wr, "abcdef") == 4);  // only the capacity fits
    std::array<std::byte, 16> buf{};
    CHECK(*co_await rd.read(buf) == 4);
    CHECK(iotest::str(std::span(buf).first(4)) == "abcd");
    // A writer blocked on a full buffer is released by a read on another worker.
    auto writer = tokio::spawn(
        [](io::WriteHalf<io::SimplexStream> w) -> Task<io::WriteHalf<io::SimplexStream>> {
          REQUIRE((co_await io::write_all(w, "0123456789")).has_value());
          REQUIRE((co_await w.shutdown()).has_value());
          co_return w;
        },
        std::move(wr));
    std::string got;
    CHECK(*co_await io::read_to_string(rd, got) == 10);  // ends at the shutdown
    CHECK(got == "0123456789");
    auto w = co_await writer;
    CHECK((co_await io::write(w, "x")).error() == std::errc::broken_pipe);
    // The unsplit form reads back what it wrote.
    auto one = io::unsplit(std::move(rd), std::move(w));
    CHECK(one.valid());
    auto same = io::SimplexStream::new_unsplit(8);
    CHECK(*co_await io::write(same, "loop") == 4);
    CHECK(*co_await same.read(buf) == 4);
    CHECK(iotest::str(std::span(buf).first(4)) == "loop");
    // A read with nothing written waits (no EOF before shutdown), and is cancel-safe.
    auto r = co_await tokio::time::timeout(std::chrono::milliseconds(10), same.read(buf));
    CHECK_FALSE(r.has_value());
    CHECK(*co_await io::write(same, "z") == 1);
    CHECK(*co_await same.read(buf) == 1);
    CHECK_THROWS_AS(io::simplex(0), std::invalid_argument);
    io::SimplexStream empty;
    CHECK_THROWS_AS((void)empty.read(buf), std::logic_error);
  }());
}

TEST_CASE("io::split: halves used by two tasks on two workers, then unsplit") {
  auto rt = test::multi_thread(2);
  const int n = static_cast<int>(test::scaled(5000));
  rt.block_on([](int n) -> Task<> {
    auto [a, b] = io::duplex(64);
    auto [rd, wr] = io::split(std::move(a));
    static_assert(io::AsyncRead<decltype(rd)> && io::AsyncWrite<decltype(wr)>);
    // The peer echoes everything back.
    auto echo = tokio::spawn(
        [](io::DuplexStream s) -> Task<> {
          auto [r, w] = io::split(s);  // borrowed
          (void)co_await io::copy(r, w);
          (void)co_await w.shutdown();
        },
        std::move(b));
    auto writer = tokio::spawn(
        [](io::WriteHalf<io::DuplexStream> w, int n) -> Task<io::WriteHalf<io::DuplexStream>> {
          for (int i = 0; i < n; ++i) (void)co_await io::write_u32(w, static_cast<uint32_t>(i));
          co_return w;
        },
        std::move(wr), n);
    auto reader = tokio::spawn(
        [](io::ReadHalf<io::DuplexStream> r, int n) -> Task<io::ReadHalf<io::DuplexStream>> {
          for (int i = 0; i < n; ++i) {
            auto v = co_await io::read_u32(r);
            if (!v || *v != static_cast<uint32_t>(i)) {
              FAIL("echo mismatch at " << i);
              break;
            }
          }
          co_return r;
        },
        std::move(rd), n);
    auto w = co_await writer;
    auto r = co_await reader;
    CHECK(r.is_pair_of(w));
    io::DuplexStream whole = io::unsplit(std::move(r), std::move(w));
    (void)co_await whole.shutdown();
    std::string rest;
    CHECK(*co_await io::read_to_string(whole, rest) == 0);
    co_await echo;
  }(n));
}

TEST_CASE("io::split: unsplit of foreign halves throws; a cancelled half op releases the lock") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(8);
    auto [c, d] = io::duplex(8);
    auto [ra, wa] = io::split(std::move(a));
    auto [rc, wc] = io::split(std::move(c));
    CHECK_FALSE(ra.is_pair_of(wc));
    CHECK_THROWS_AS((void)io::unsplit(std::move(ra), std::move(wc)), std::invalid_argument);

    // A read on a half waits; cancel it, then both halves still work.
    std::array<std::byte, 8> buf{};
    auto r = co_await tokio::select_biased(rc.read(buf), tokio::task::yield_now());
    CHECK(r.index() == 1);
    CHECK(*co_await io::write(wa, "hi") == 2);
    CHECK(*co_await b.read(buf) == 2);
    (void)co_await io::write_all(d, "ok");
    CHECK(*co_await rc.read(buf) == 2);
  }());
}

TEST_CASE("io::split of a BufStream: a read waiting for data does not block writes") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(256);
    auto [rd, wr] = io::split(io::BufStream(std::move(a)));
    auto pending_line = tokio::spawn(
        [](io::ReadHalf<io::BufStream<io::DuplexStream>> r) -> Task<std::string> {
          std::array<std::byte, 64> buf{};
          auto n = co_await r.read(buf);
          co_return iotest::str(std::span(buf).first(n.value()));
        },
        std::move(rd));
    for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
    (void)co_await io::write_all(wr, "request");
    (void)co_await wr.flush();
    std::array<std::byte, 7> got{};
    (void)co_await io::read_exact(b, got);
    CHECK(iotest::str(got) == "request");
    (void)co_await io::write_all(b, "response");
    CHECK(co_await pending_line == "response");
  }());
}
