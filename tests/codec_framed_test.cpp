// FramedRead / FramedWrite / Framed over in-memory pipes, scripted readers and writers and
// TCP: round trips, a next() cancelled with a frame cut at every byte boundary, back-
// pressure against a peer that does not read, end of stream (clean, partial, after an
// I/O error), next_buffered, moving a FramedRead with a read in flight, write errors, a
// BytesCodec echo over TCP, and the vectored write of TcpStream / UnixStream (one call
// sends every slice).
#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "io_mock.hpp"
#include "net_test_util.hpp"

namespace codec = tokio::codec;
namespace tio = tokio::io;
namespace ttime = tokio::time;
using codec::Bytes;
using codec::BytesMut;
using codec::LengthDelimitedCodec;
using codec::LinesCodec;
using std::chrono::milliseconds;
using tokio::Task;
using tokio::net::TcpListener;
using tokio::net::TcpStream;

namespace {

tokio::runtime::Runtime rt_paused() {
  return tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
}

std::string ld_frame(std::string_view payload) {
  std::string h(4, '\0');
  uint32_t n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) h[static_cast<std::size_t>(i)] = static_cast<char>(n >> (24 - 8 * i));
  return h + std::string(payload);
}

}  // namespace

static_assert(tokio::stream::Stream<codec::FramedRead<TcpStream, LinesCodec>>);
static_assert(tokio::stream::Stream<codec::Framed<tio::DuplexStream&, LengthDelimitedCodec>>);
static_assert(tio::AsyncWriteVectored<TcpStream>);
static_assert(tio::AsyncWriteVectored<tokio::net::UnixStream>);
static_assert(tio::AsyncWriteVectored<tokio::net::tcp::OwnedWriteHalf>);
static_assert(tio::AsyncWriteVectored<tokio::net::unix::WriteHalf>);

TEST_CASE("Framed: lines both ways over a duplex; a next() and a send() in flight together") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(256);
    codec::Framed fa(std::move(a), LinesCodec::new_with_max_length(100));
    codec::Framed fb(std::move(b), LinesCodec::new_with_max_length(100));
    CHECK((co_await fa.send(std::string("ping"))).has_value());
    auto got = co_await fb.next();
    REQUIRE(got.has_value());
    CHECK(**got == "ping");
    // fb waits for a line while sending one; the peer answers the one with the other.
    auto peer = [](codec::Framed<tio::DuplexStream, LinesCodec>& fa) -> Task<> {
      auto l = co_await fa.next();
      REQUIRE(l.has_value());
      CHECK(**l == "pong");
      CHECK((co_await fa.send(std::string("late"))).has_value());
    };
    auto both = co_await tokio::join(fb.next(), fb.send(std::string("pong")), peer(fa));
    auto& first = std::get<0>(both);
    REQUIRE(first.has_value());
    CHECK(**first == "late");
    CHECK(std::get<1>(both).has_value());
    CHECK((co_await fa.close()).has_value());
    CHECK(!(co_await fb.next()).has_value());  // clean end
    CHECK(!(co_await fb.next()).has_value());  // and it stays ended
  }());
}

TEST_CASE("Framed::into_parts / from_parts: a codec switch keeps read-ahead and unwritten bytes") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(256);
    // The peer's greeting line and its first length-delimited frame arrive in one write.
    std::string wire = "hello\n" + ld_frame("framed payload");
    REQUIRE((co_await tio::write_all(b, wire)).has_value());
    codec::Framed lines(std::move(a), LinesCodec());
    auto hello = co_await lines.next();
    REQUIRE(hello.has_value());
    CHECK(**hello == "hello");
    CHECK(lines.read_buffer().len() == wire.size() - 6);                // the frame was read ahead
    REQUIRE((co_await lines.feed(std::string("queued"))).has_value());  // not flushed yet
    auto parts = std::move(lines).into_parts();
    CHECK(parts.read_buf.len() == wire.size() - 6);
    CHECK(parts.write_buf.len() == 7);
    auto framed = codec::Framed<tio::DuplexStream, LengthDelimitedCodec>::from_parts(
        codec::FramedParts(std::move(parts.io), LengthDelimitedCodec(), std::move(parts.read_buf),
                           std::move(parts.write_buf)));
    // Decoded from the carried-over buffer: no read needed (next_buffered does no I/O).
    auto f = framed.next_buffered();
    REQUIRE(f.has_value());
    REQUIRE(f->has_value());
    CHECK(std::string_view(**f) == "framed payload");
    // The line encoded before the switch goes out with the next flush.
    REQUIRE((co_await framed.flush()).has_value());
    std::array<char, 7> got{};
    REQUIRE((co_await tio::read_exact(b, got)).has_value());
    CHECK(std::string_view(got.data(), got.size()) == "queued\n");
    // And the new codec works on fresh input.
    std::string next = ld_frame("second");
    REQUIRE((co_await tio::write_all(b, next)).has_value());
    auto g = co_await framed.next();
    REQUIRE(g.has_value());
    REQUIRE(g->has_value());
    CHECK(std::string_view(**g) == "second");
  }());
}

TEST_CASE("FramedRead: a next() cancelled mid-frame, at every byte boundary, loses nothing") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    const std::string payload = "0123456789abcdef";
    const std::string wire = ld_frame(payload) + ld_frame("second");
    for (std::size_t k = 0; k < wire.size(); ++k) {
      auto [w, r] = tio::duplex(1024);
      codec::FramedRead fr(std::move(r), LengthDelimitedCodec());
      (void)co_await tio::write_all(w, std::string_view(wire).substr(0, k));
      if (k < 4 + payload.size()) {
        auto t = co_await ttime::timeout(milliseconds(1), fr.next());  // mid-frame: cancelled
        CHECK(!t.has_value());
      }
      (void)co_await tio::write_all(w, std::string_view(wire).substr(k));
      auto f = co_await fr.next();
      REQUIRE(f.has_value());
      REQUIRE(f->has_value());
      CHECK((*f)->to_string() == payload);
      auto g = co_await fr.next();
      REQUIRE(g.has_value());
      CHECK((*g)->to_string() == "second");
    }
  }());
}

TEST_CASE("FramedWrite: feed waits for a peer that does not read (bounded buffer), then resumes") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [w, r] = tio::duplex(4096);
    codec::FramedWrite fw(std::move(w), LinesCodec());
    const std::string item(1000, 'x');
    int fed = 0;
    for (;;) {
      auto t = co_await ttime::timeout(milliseconds(5), fw.feed(item));
      if (!t.has_value()) break;  // blocked: back-pressure
      REQUIRE(t->has_value());
      ++fed;
      REQUIRE(fed < 100);
    }
    // 4 KiB in the pipe + the 8 KiB boundary (+ one item) in the buffer, no more.
    CHECK(fed <= 14);
    CHECK(fw.write_buffer().len() <= fw.backpressure_boundary() + item.size() + 1);
    // The reader drains everything: the writer gets going again and nothing is lost.
    auto reader = tokio::spawn(
        [](tio::DuplexStream r) -> Task<std::size_t> {
          codec::FramedRead fr(std::move(r), LinesCodec());
          std::size_t n = 0;
          for (;;) {
            auto l = co_await fr.next();
            if (!l) break;
            REQUIRE(l->has_value());
            CHECK((*l)->size() == 1000);
            ++n;
          }
          co_return n;
        },
        std::move(r));
    for (int i = 0; i < 20; ++i) CHECK((co_await fw.feed(item)).has_value());
    CHECK((co_await fw.close()).has_value());
    auto n = co_await reader;
    // The item whose feed was cancelled while waiting for room was never encoded.
    CHECK(n == static_cast<std::size_t>(fed + 20));
  }());
}

namespace {
// Reads lines until the end and reports each as "<count of 'a'>a<count of 'b'>b".
Task<std::vector<std::string>> line_shapes(tio::DuplexStream r) {
  co_await ttime::sleep(milliseconds(50));
  codec::FramedRead fr(std::move(r), LinesCodec());
  std::vector<std::string> out;
  for (;;) {
    auto l = co_await fr.next();
    if (!l) break;
    REQUIRE(l->has_value());
    const std::string& s = **l;
    auto na = std::count(s.begin(), s.end(), 'a'), nb = std::count(s.begin(), s.end(), 'b');
    out.push_back(std::to_string(na) + "a" + std::to_string(nb) + "b");
  }
  co_return out;
}
}  // namespace

TEST_CASE("FramedWrite: send re-polled mid back-pressure flush finishes that write first") {
  // A partial write takes the buffer below the boundary; a wake from the other branch of
  // the join re-polls send(), which used to encode over the bytes a write still in flight
  // was sending (the wrong bytes went out, or freed memory was read).
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(1024);
    codec::FramedWrite fw(std::move(a), LinesCodec());
    fw.set_backpressure_boundary(1500);
    REQUIRE((co_await fw.feed(std::string(1999, 'a'))).has_value());
    auto reader = tokio::spawn(line_shapes, std::move(b));
    auto [r, slept] =
        co_await tokio::join(fw.send(std::string(6999, 'b')), ttime::sleep(milliseconds(10)));
    (void)slept;
    CHECK(r.has_value());
    REQUIRE((co_await fw.close()).has_value());
    auto lines = co_await reader;
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "1999a0b");
    CHECK(lines[1] == "0a6999b");
  }());
  // The same through Framed, a next() in flight beside the send (both directions in use).
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(1024);
    codec::Framed conn(std::move(a), LinesCodec());
    for (int i = 0; i < 9; ++i) REQUIRE((co_await conn.feed(std::string(999, 'a'))).has_value());
    auto peer = tokio::spawn(
        [](tio::DuplexStream b) -> Task<std::vector<std::string>> {
          REQUIRE((co_await tio::write_all(b, std::string("hi\n"))).has_value());
          co_return co_await line_shapes(std::move(b));
        },
        std::move(b));
    auto [sent, got] = co_await tokio::join(conn.send(std::string(100000, 'b')), conn.next());
    CHECK(sent.has_value());
    REQUIRE(got.has_value());
    CHECK(got->value() == "hi");
    REQUIRE((co_await conn.close()).has_value());
    auto lines = co_await peer;
    REQUIRE(lines.size() == 10);
    for (int i = 0; i < 9; ++i) CHECK(lines[std::size_t(i)] == "999a0b");
    CHECK(lines[9] == "0a100000b");
  }());
}

TEST_CASE("FramedWrite: feed stops its back-pressure flush at the first poll that finds room") {
  // tokio-util's poll_ready checks the boundary again at every poll: once the writer was
  // pending with the buffer below it, the item is encoded without writing the rest or
  // flushing the writer (the flush used to run to the end: a feed waited for the whole
  // buffer and flushed the writer, and a write error after that point surfaced in this
  // feed instead of a later send; differential run against tokio-util 0.7.3).
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    // 8,200 bytes buffered; the first write takes 100 (8,100 left), the second is pending.
    iotest::MockWriter w(100, 2);
    codec::FramedWrite fw(w, LinesCodec());
    REQUIRE((co_await fw.feed(std::string(8199, 'a'))).has_value());
    CHECK(w.writes == 0);
    REQUIRE((co_await fw.feed("b")).has_value());
    CHECK(w.out.size() == 100);
    CHECK(w.flushes == 0);
    CHECK(fw.write_buffer().len() == 8100 + 2);
    REQUIRE((co_await fw.flush()).has_value());
    CHECK(w.text() == std::string(8199, 'a') + "\nb\n");
    // Everything written, the writer's flush pending: the next poll finds an empty buffer
    // and encodes, leaving that flush undone (tokio-util's poll_ready does the same).
    iotest::MockWriter w2(SIZE_MAX, 2);
    codec::FramedWrite fw2(w2, LinesCodec());
    REQUIRE((co_await fw2.feed(std::string(8199, 'a'))).has_value());
    REQUIRE((co_await fw2.feed("b")).has_value());
    CHECK(w2.out.size() == 8200);
    CHECK(w2.flushes == 0);
    CHECK(fw2.write_buffer().len() == 2);
  }());
}

TEST_CASE("FramedWrite: two sends pending at once on one sink is refused with a clear error") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(16);
    codec::FramedWrite fw(std::move(a), LinesCodec());
    auto reader = tokio::spawn(line_shapes, std::move(b));
    bool threw = false;
    try {
      (void)co_await tokio::join(fw.send(std::string(100, 'a')), fw.send(std::string(5, 'b')));
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("await them one after the other") != std::string::npos;
    }
    CHECK(threw);
    // The sink is usable again afterwards: the first send's line went out whole.
    REQUIRE((co_await fw.send(std::string(3, 'b'))).has_value());
    REQUIRE((co_await fw.close()).has_value());
    auto lines = co_await reader;
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.front() == "100a0b");
    CHECK(lines.back() == "0a3b");
  }());
}

// Two next() on one FramedRead (or a Framed's stream side) pending at once, from two
// tasks: the read left in flight is the object's, and the second poll took the first
// one's waker, so one task waited for ever (helper-86) while the sink side already refused
// a second send. The second now throws; the first goes on and gets its line.
TEST_CASE("FramedRead / Framed: a second next() pending at once is refused, the first goes on") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    for (int kind = 0; kind < 2; ++kind) {
      CAPTURE(kind);
      auto [a, b] = tio::duplex(64);
      auto second_of = [](auto& f) -> Task<std::string> {
        auto [x, y] = co_await tokio::join(f.next(), [](auto& f2) -> Task<bool> {
          try {
            (void)co_await f2.next();
          } catch (const std::logic_error& e) {
            co_return std::string(e.what()).find("await them one after the other") !=
                std::string::npos;
          }
          co_return false;
        }(f));
        CHECK(y);
        REQUIRE(x.has_value());
        co_return std::string(x->value());
      };
      auto writer = tokio::spawn(
          [](tio::DuplexStream w) -> Task<> {
            co_await tokio::time::sleep(std::chrono::milliseconds(5));
            REQUIRE((co_await tio::write_all(w, std::string("a\nb\n"))).has_value());
          },
          std::move(b));
      std::string first;
      if (kind == 0) {
        codec::FramedRead fr(std::move(a), LinesCodec());
        first = co_await second_of(fr);
        CHECK((*co_await fr.next()).value() == "b");  // usable again
      } else {
        codec::Framed fr(std::move(a), LinesCodec());
        first = co_await second_of(fr);
        CHECK((*co_await fr.next()).value() == "b");
      }
      CHECK(first == "a");
      co_await writer;
    }
  }());
}

TEST_CASE("FramedRead: end of stream, I/O errors, next_buffered") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    {
      iotest::MockReader r(3);
      r.data("a\nb\nc");
      r.error(std::errc::connection_reset);
      codec::FramedRead fr(r, codec::AnyDelimiterCodec("\n", "\n"));
      CHECK((*co_await fr.next())->as_string_view() == "a");
      CHECK((*co_await fr.next())->as_string_view() == "b");
      auto e = co_await fr.next();
      REQUIRE(e.has_value());
      CHECK(e->error() == std::errc::connection_reset);
      CHECK(!(co_await fr.next()).has_value());  // ended after the I/O error
    }
    {
      // Leftovers at the end (a partial header) are an error.
      iotest::MockReader r;
      r.data(ld_frame("x") + std::string("\0\0", 2));
      codec::FramedRead fr(r, LengthDelimitedCodec());
      CHECK((*co_await fr.next())->to_string() == "x");
      auto e = co_await fr.next();
      CHECK(e->error() == codec::Errc::bytes_remaining_on_stream);
      CHECK(!(co_await fr.next()).has_value());
    }
    {
      // Pipelined frames all in one read: next_buffered hands them out without I/O.
      iotest::MockReader r;
      r.data(ld_frame("1") + ld_frame("22") + ld_frame("333") + std::string("\0\0\0", 3));
      codec::FramedRead fr(r, LengthDelimitedCodec());
      CHECK(!fr.next_buffered().has_value());  // nothing read yet
      CHECK((*co_await fr.next())->to_string() == "1");
      std::size_t reads = r.reads;
      auto b1 = fr.next_buffered();
      auto b2 = fr.next_buffered();
      REQUIRE(b1.has_value());
      REQUIRE(b2.has_value());
      CHECK((*b1)->to_string() == "22");
      CHECK((*b2)->to_string() == "333");
      CHECK(!fr.next_buffered().has_value());  // only a partial header left
      CHECK(r.reads == reads);
      auto e = co_await fr.next();  // reads: the end, with bytes left over
      CHECK(e->error() == codec::Errc::bytes_remaining_on_stream);
    }
  }());
}

namespace {

// Yields each byte as a frame, except 'X': an error that consumes nothing (it could not get
// past it), and 'S': an error that skips the byte.
struct StuckCodec {
  tio::Result<std::optional<char>> decode(BytesMut& src) {
    if (src.is_empty()) return std::optional<char>();
    const char c = static_cast<char>(src[0]);
    if (c == 'X') return tokio::unexpected(std::make_error_code(std::errc::bad_message));
    src.advance(1);
    if (c == 'S') return tokio::unexpected(std::make_error_code(std::errc::bad_message));
    return std::optional<char>(c);
  }
};

}  // namespace

TEST_CASE(
    "FramedRead: a decode error that consumed input pauses (one nullopt) and next() resumes; "
    "one that consumed nothing ends the stream for good") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto show = [](char c) { return std::string(1, c); };
    const std::string bad = "<" + std::make_error_code(std::errc::bad_message).message() + ">";
    {
      iotest::MockReader r(2);
      r.data("aSbXcd");
      codec::FramedRead fr(r, StuckCodec{});
      auto got = co_await iotest::collect_frames(fr, show);
      CHECK(got == std::vector<std::string>{"a", bad, "(pause)", "b", bad, "(end)"});
      const std::size_t reads = r.reads;
      CHECK(!(co_await fr.next()).has_value());  // ended: no more reads, no more errors
      CHECK(!fr.next_buffered().has_value());
      CHECK(r.reads == reads);
    }
  }());
}

// The same bytes yield the same items whether the end of the input was seen before a
// decode error or after it: an error from decode_eof that consumed input pauses too, and
// decode_eof then goes on with the rest (the second over-long line below used to end the
// stream when the whole input came in one read, losing "B").
TEST_CASE("FramedRead: a decode error after the end of the input pauses, then decoding goes on") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto show = [](const std::string& line) { return "[" + line + "]"; };
    for (std::size_t chunk : {SIZE_MAX, std::size_t{5}, std::size_t{1}}) {
      CAPTURE(chunk);
      iotest::MockReader r(chunk);
      r.data("0123456789\nA\n0123456789\nB\n");
      codec::FramedRead fr(r, codec::LinesCodec::new_with_max_length(8));
      auto got = co_await iotest::collect_frames(fr, show);
      for (auto& g : got) {
        if (g.front() == '<') g = "ERR";
      }
      CHECK(got == std::vector<std::string>{"ERR", "(pause)", "[A]", "ERR", "(pause)", "[B]"});
      CHECK(!(co_await fr.next()).has_value());
    }
  }());
}

TEST_CASE(
    "Framed + LinesCodec after a decode error: next_buffered leaves the pause to next(); the "
    "resumed next() decodes what is buffered before it reads, and cancelled there loses nothing") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    const std::string_view first = "toolong\nok\n";
    {
      auto [a, b] = tio::duplex(256);
      codec::Framed f(std::move(b), LinesCodec::new_with_max_length(4));
      (void)co_await tio::write_all(a, first);
      auto e = co_await f.next();
      REQUIRE(e.has_value());
      CHECK(e->error() == codec::Errc::max_line_length_exceeded);
      CHECK(!f.next_buffered().has_value());  // the pause is next()'s to yield
      // (bounded waits: a wrong engine fails instead of hanging)
      auto pause = co_await ttime::timeout(milliseconds(1000), f.next());
      CHECK((pause && !pause->has_value()));
      // Resumed: "ok", buffered behind the bad line, comes without more input (a client
      // that pipelined it waits for its answer; tokio-util reads first, so it would wait
      // for the client to send more; the paused clock's auto-advance ends the timeout
      // at once if next() waits). Then it reads: a next() cancelled there loses nothing.
      auto l1 = co_await ttime::timeout(milliseconds(1000), f.next());
      REQUIRE((l1 && *l1 && **l1));
      CHECK(***l1 == "ok");
      auto t = co_await ttime::timeout(milliseconds(5), f.next());
      CHECK(!t.has_value());
      (void)co_await tio::write_all(a, std::string_view("more\n"));
      auto l2 = co_await ttime::timeout(milliseconds(1000), f.next());
      REQUIRE((l2 && *l2 && **l2));
      CHECK(***l2 == "more");
      // The sink side never paused.
      REQUIRE((co_await f.send("reply")).has_value());
      std::array<char, 6> raw{};
      REQUIRE((co_await tio::read_exact(a, std::span<char>(raw))).has_value());
      CHECK(std::string(raw.data(), raw.size()) == "reply\n");
    }
    {
      // After the pause, next_buffered hands out what is buffered without reading.
      auto [a, b] = tio::duplex(256);
      codec::Framed f(std::move(b), LinesCodec::new_with_max_length(4));
      (void)co_await tio::write_all(a, first);
      CHECK(!(*co_await f.next()).has_value());  // the error
      auto pause = co_await ttime::timeout(milliseconds(1000), f.next());
      CHECK((pause && !pause->has_value()));
      auto ok = f.next_buffered();
      REQUIRE((ok && *ok));
      CHECK(**ok == "ok");
      CHECK(!f.next_buffered().has_value());
    }
  }());
}

TEST_CASE("FramedWrite: write errors, zero-length writes, send flushes, flush flushes the writer") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    iotest::MockWriter w(5);
    codec::FramedWrite fw(w, LinesCodec());
    CHECK((co_await fw.feed("abc")).has_value());
    CHECK(w.out.empty());  // only buffered
    CHECK((co_await fw.send("defgh")).has_value());
    CHECK(w.text() == "abc\ndefgh\n");
    CHECK(w.flushes == 1);
    CHECK((co_await fw.flush()).has_value());
    CHECK(w.flushes == 2);
    w.fail_after = w.out.size();
    auto e = co_await fw.send("x");
    CHECK(e.error() == std::errc::connection_reset);
    iotest::MockWriter z;
    z.zero_writes = true;
    codec::FramedWrite fz(z, LinesCodec());
    CHECK((co_await fz.send("y")).error() == tio::Errc::write_zero);
  }());
}

TEST_CASE("Framed over TCP: a BytesCodec echo of 1 MiB; a FramedRead moved with a read in flight") {
  nt::Watchdog wd("framed tcp");
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  rt.block_on([]() -> Task<> {
    auto l = co_await TcpListener::bind("127.0.0.1:0");
    REQUIRE(l.has_value());
    auto addr = l->local_addr().value();
    auto server = tokio::spawn(
        [](TcpListener l) -> Task<> {
          auto c = co_await l.accept();
          REQUIRE(c.has_value());
          codec::Framed f(std::move(c->first), codec::BytesCodec());
          for (;;) {
            auto chunk = co_await f.next();
            if (!chunk || !*chunk) break;
            auto r = co_await f.send(std::move(**chunk));
            if (!r) break;
          }
          (void)co_await f.close();
        },
        std::move(*l));
    auto c = co_await TcpStream::connect(addr.to_string());
    REQUIRE(c.has_value());
    auto [rd, wr] = std::move(*c).into_split();
    const std::size_t total = 1 << 20;
    auto writer = tokio::spawn(
        [](tokio::net::tcp::OwnedWriteHalf wr, std::size_t total) -> Task<> {
          codec::FramedWrite fw(std::move(wr), codec::BytesCodec());
          std::string block(4096, '\0');
          for (std::size_t off = 0; off < total; off += block.size()) {
            for (std::size_t i = 0; i < block.size(); ++i)
              block[i] = static_cast<char>((off + i) * 7);
            REQUIRE((co_await fw.feed(std::string_view(block))).has_value());
          }
          REQUIRE((co_await fw.close()).has_value());
        },
        std::move(wr), total);
    codec::FramedRead fr(std::move(rd), codec::BytesCodec());
    std::size_t got = 0;
    bool ok = true;
    for (;;) {
      auto chunk = co_await fr.next();
      if (!chunk) break;
      REQUIRE(chunk->has_value());
      for (std::byte b : **chunk) {
        ok = ok && b == static_cast<std::byte>(static_cast<char>(got * 7));
        ++got;
      }
    }
    CHECK(ok);
    CHECK(got == total);
    co_await writer;
    co_await server;

    // Moving a FramedRead while its read waits: the move cancels the read (reads are
    // cancel-safe) and the moved one reads what arrives.
    auto l2 = co_await TcpListener::bind("127.0.0.1:0");
    auto c2 = co_await TcpStream::connect(l2->local_addr().value().to_string());
    auto s2 = co_await l2->accept();
    codec::FramedRead a(std::move(s2->first), LinesCodec());
    auto t = co_await ttime::timeout(milliseconds(10), a.next());
    CHECK(!t.has_value());
    auto b = std::move(a);
    REQUIRE((co_await c2->write_all(std::string_view("after the move\n"))).has_value());
    auto line = co_await b.next();
    CHECK(**line == "after the move");
  }());
}

TEST_CASE("TcpStream / UnixStream write_vectored sends every slice in one call") {
  nt::Watchdog wd("writev");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    auto p = co_await nt::tcp_pair();
    std::string header = "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n";
    std::string body(5000, 'b');
    tio::IoSlice slices[] = {tio::IoSlice(header), tio::IoSlice(std::string_view()),
                             tio::IoSlice(body)};
    auto n = co_await tio::write_vectored(p.client, std::span<const tio::IoSlice>(slices));
    REQUIRE(n.has_value());
    CHECK(*n == header.size() + body.size());  // not just the first slice
    auto got = co_await nt::read_n(p.server, header.size() + body.size());
    CHECK(got == header + body);
    // The owned write half, and write_all_vectored.
    auto [rd, wr] = std::move(p.client).into_split();
    tio::IoSlice more[] = {tio::IoSlice(std::string_view("ab")),
                           tio::IoSlice(std::string_view("cd"))};
    auto w2 = co_await wr.write_vectored(std::span<const tio::IoSlice>(more));
    CHECK(*w2 == 4);
    auto got2 = co_await nt::read_n(p.server, 4);
    CHECK(got2 == "abcd");

    // Slices made from any contiguous bytes, implicitly, as Rust's IoSlice::new(&buf).
    static_assert(tio::is_write_vectored(p.server));
    std::vector<uint8_t> vb{'v', 'e', 'c'};
    std::array<char, 2> ab{'-', '>'};
    std::string sb = "str";
    tio::IoSlice mixed[] = {vb, ab, sb};
    auto w3 = co_await tio::write_vectored(p.server, std::span<const tio::IoSlice>(mixed));
    CHECK(*w3 == 8);
    auto got4 = co_await nt::read_n(rd, 8);
    CHECK(got4 == "vec->str");

    auto [ua, ub] = tokio::net::UnixStream::pair().value();
    tio::IoSlice us[] = {tio::IoSlice(std::string_view("unix ")),
                         tio::IoSlice(std::string_view("writev"))};
    std::span<tio::IoSlice> uspan(us);
    REQUIRE((co_await tio::write_all_vectored(ua, uspan)).has_value());
    auto got3 = co_await nt::read_n(ub, 11);
    CHECK(got3 == "unix writev");
  }());
}

TEST_CASE(
    "FramedWrite::poll_flush: the poll form, combined with a deadline; feed after a cancelled "
    "poll_flush loses nothing") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    iotest::MockWriter w(4, 2);  // 4 bytes per write, "not ready" every 2nd op
    codec::FramedWrite fw(w, LinesCodec());
    for (int i = 0; i < 10; ++i)
      REQUIRE((co_await fw.feed("line " + std::to_string(i))).has_value());
    // Poll it once by hand and give up: part of the buffer may be written, the rest stays.
    tio::Result<void> out;
    auto once = [&](tokio::task::Context& cx) -> std::optional<bool> {
      return fw.poll_flush(cx, out);
    };
    (void)co_await tokio::task::poll_fn(once);  // ready at once or pending once: either way
    // A feed now cancels any write left in progress, then appends.
    REQUIRE((co_await fw.feed("last")).has_value());
    auto sleep = ttime::sleep(milliseconds(50));
    auto flush_or_deadline = [&](tokio::task::Context& cx) -> std::optional<bool> {
      if (fw.poll_flush(cx, out)) return true;
      if (sleep.poll(cx)) return false;
      return std::nullopt;
    };
    CHECK(co_await tokio::task::poll_fn(flush_or_deadline));
    CHECK(out.has_value());
    std::string want;
    for (int i = 0; i < 10; ++i) want += "line " + std::to_string(i) + "\n";
    want += "last\n";
    CHECK(w.text() == want);
    CHECK(fw.write_buffer().is_empty());
    // A writer that never accepts: the deadline wins.
    iotest::MockWriter stuck;
    stuck.block_forever = true;
    codec::FramedWrite fs(stuck, LinesCodec());
    REQUIRE((co_await fs.feed("x")).has_value());
    auto deadline = ttime::sleep(milliseconds(20));
    auto stuck_or_deadline = [&](tokio::task::Context& cx) -> std::optional<bool> {
      if (fs.poll_flush(cx, out)) return true;
      if (deadline.poll(cx)) return false;
      return std::nullopt;
    };
    CHECK(!co_await tokio::task::poll_fn(stuck_or_deadline));
    CHECK(fs.write_buffer().len() == 2);  // still buffered
  }());
}

TEST_CASE("Framed, FramedRead and FramedWrite are replaced by assignment (a reconnect)") {
  static_assert(std::is_move_assignable_v<codec::FramedWrite<TcpStream, LinesCodec>>);
  static_assert(std::is_move_assignable_v<codec::FramedRead<TcpStream, LinesCodec>>);
  static_assert(std::is_move_assignable_v<codec::Framed<TcpStream, LinesCodec>>);
  // Over a borrowed stream the old object's reference cannot be re-seated.
  static_assert(!std::is_move_assignable_v<codec::FramedWrite<TcpStream&, LinesCodec>>);
  nt::Watchdog wd("framed assign");
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto p1 = co_await nt::tcp_pair();
    auto p2 = co_await nt::tcp_pair();
    // A writer held in a variable, replaced with one over a second connection. Its
    // unflushed frame goes with it (Rust's assignment drops the old value).
    codec::FramedWrite out(std::move(p1.client), LinesCodec());
    REQUIRE((co_await out.send(std::string("first"))).has_value());
    REQUIRE((co_await out.feed(std::string("never flushed"))).has_value());
    out = codec::FramedWrite(std::move(p2.client), LinesCodec());
    REQUIRE((co_await out.send(std::string("second"))).has_value());
    codec::FramedRead in1(std::move(p1.server), LinesCodec());
    auto l1 = co_await in1.next();
    REQUIRE(l1.has_value());
    CHECK(**l1 == "first");
    // The old connection was closed by the assignment: after "first", the end.
    auto end1 = co_await in1.next();
    CHECK(!end1.has_value());
    // A reader replaced while a read is pending on it (cancelled by a timeout first) and
    // with bytes buffered: the new one reads its own connection only.
    codec::FramedRead in(std::move(p2.server), LinesCodec());
    auto l2 = co_await in.next();
    REQUIRE(l2.has_value());
    CHECK(**l2 == "second");
    auto t = co_await ttime::timeout(milliseconds(5), in.next());
    CHECK(!t.has_value());
    auto p3 = co_await nt::tcp_pair();
    REQUIRE((co_await p3.client.write_all(std::string_view("third\nfourth\n"))).has_value());
    in = codec::FramedRead(std::move(p3.server), LinesCodec());
    auto l3 = co_await in.next();
    REQUIRE(l3.has_value());
    CHECK(**l3 == "third");
    // Framed, both sides.
    auto p4 = co_await nt::tcp_pair();
    auto p5 = co_await nt::tcp_pair();
    codec::Framed f(std::move(p4.client), LinesCodec());
    f = codec::Framed(std::move(p5.client), LinesCodec());
    REQUIRE((co_await f.send(std::string("to five"))).has_value());
    REQUIRE((co_await p5.server.write_all(std::string_view("from five\n"))).has_value());
    auto got = co_await f.next();
    REQUIRE(got.has_value());
    CHECK(**got == "from five");
    codec::FramedRead in5(std::move(p5.server), LinesCodec());
    auto l5 = co_await in5.next();
    REQUIRE(l5.has_value());
    CHECK(**l5 == "to five");
  }());
}

// A cap of 0 bytes per read would make every read return 0, the end of the input: the
// stream ended with the peer's bytes unread (found by a new-user hunt). It is refused,
// as ReaderStream's capacity of 0 is.
TEST_CASE("FramedRead::set_max_read(0) is refused; a cap of 1 reads everything") {
  auto rt = rt_paused();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(64);
    codec::FramedRead fr(std::move(b), LinesCodec());
    CHECK_THROWS_AS(fr.set_max_read(0), std::invalid_argument);
    fr.set_max_read(1);
    (void)co_await tio::write_all(a, std::string_view("hello\n"));
    auto l = co_await ttime::timeout(milliseconds(1000), fr.next());
    REQUIRE((l && *l && **l));
    CHECK(***l == "hello");
  }());
}

TEST_CASE(
    "FramedWrite: a buffer of exactly the back-pressure boundary is written before the next feed") {
  // tokio-util's poll_ready: buffer.len() >= backpressure_boundary (inclusive).
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    iotest::MockWriter w;
    codec::FramedWrite fw(w, LinesCodec());
    fw.set_backpressure_boundary(4);
    REQUIRE((co_await fw.feed(std::string("abc"))).has_value());  // "abc\n": exactly 4
    CHECK(w.writes == 0);
    REQUIRE((co_await fw.feed(std::string("x"))).has_value());  // 4 >= 4: written first
    CHECK(w.text() == "abc\n");
    CHECK(w.flushes == 1);
    CHECK(fw.write_buffer().len() == 2);
  }());
}
