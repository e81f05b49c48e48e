// io::BufReader, io::BufWriter, io::BufStream, read_until / read_line / lines / split.
#include <array>
#include <string>
#include <vector>

#include "io_mock.hpp"

using tokio::Task;
namespace io = tokio::io;
using iotest::MockReader;
using iotest::MockStream;
using iotest::MockWriter;

namespace {
// Every line up to the end of the stream (each next_line must succeed).
template <class Lines>
Task<std::vector<std::string>> all_lines(Lines& ls) {
  std::vector<std::string> got;
  for (;;) {
    auto l = co_await ls.next_line();
    REQUIRE(l.has_value());
    if (!*l) break;
    got.push_back(**l);
  }
  co_return got;
}
}  // namespace

TEST_CASE("BufReader batches small reads and bypasses the buffer for large ones") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader inner;
    inner.data(std::string(100, 'a')).data(std::string(100, 'b'));
    io::BufReader<MockReader&> br(inner, 16);
    std::array<std::byte, 4> small{};
    CHECK(*co_await br.read(small) == 4);
    CHECK(inner.reads == 1);
    CHECK(br.buffer().size() == 12);
    CHECK(*co_await br.read(small) == 4);
    CHECK(inner.reads == 1);  // served from the buffer

    // Large read while the buffer holds data: only the buffered bytes come back.
    std::array<std::byte, 64> large{};
    CHECK(*co_await br.read(large) == 8);
    CHECK(br.buffer().empty());
    // Large read, empty buffer: straight into the caller's memory.
    CHECK(*co_await br.read(large) == 64);
    CHECK(inner.reads == 2);
    CHECK(br.buffer().empty());

    // fill_buf / consume
    auto fb = co_await br.fill_buf();
    REQUIRE(fb.has_value());
    CHECK(fb->size() == 16);
    CHECK(std::to_integer<char>((*fb)[0]) == 'a');
    br.consume(10);
    CHECK(br.buffer().size() == 6);
    br.consume(100);  // clamped
    CHECK(br.buffer().empty());

    // An empty read returns 0 without touching the inner reader.
    std::size_t before = inner.reads;
    CHECK(*co_await br.read(std::span<std::byte>()) == 0);
    CHECK(inner.reads == before);
    CHECK_THROWS_WITH_AS(io::BufReader<MockReader&>(inner, 0),
                         "io::BufReader: capacity must be > 0 (leave it out for 8 KiB)",
                         std::invalid_argument);
    MockWriter sink;
    CHECK_THROWS_WITH_AS(io::BufWriter<MockWriter&>(sink, 0),
                         "io::BufWriter: capacity must be > 0 (leave it out for 8 KiB)",
                         std::invalid_argument);
  }());
}

TEST_CASE("BufReader passes errors through and keeps its state") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader inner(3);
    inner.data("abc").error(std::errc::connection_reset).data("def");
    io::BufReader<MockReader&> br(inner, 8);
    std::string s;
    auto e = co_await io::read_to_string(br, s);
    CHECK(e.error() == std::errc::connection_reset);
    CHECK(s.empty());  // read_to_string leaves the string as it was on failure
    std::string rest;
    CHECK(*co_await io::read_to_string(br, rest) == 3);
    CHECK(rest == "def");
  }());
}

TEST_CASE("read_until / read_line across buffer refills, at EOF, and with bad UTF-8") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader inner(5);
    inner.data("alpha;beta;;gamma-without-end").pending_between();
    io::BufReader br(std::move(inner), 4);
    std::vector<std::byte> v;
    CHECK(*co_await io::read_until(br, ';', v) == 6);
    CHECK(iotest::str(v) == "alpha;");
    CHECK(*co_await io::read_until(br, ';', v) == 5);
    CHECK(iotest::str(v) == "alpha;beta;");
    v.clear();
    CHECK(*co_await io::read_until(br, ';', v) == 1);
    CHECK(*co_await io::read_until(br, ';', v) == 17);
    CHECK(iotest::str(v) == ";gamma-without-end");
    CHECK(*co_await io::read_until(br, ';', v) == 0);  // EOF

    io::SliceReader sr(std::string_view("line one\r\nline two\nno newline"));
    std::string line;
    CHECK(*co_await io::read_line(sr, line) == 10);
    CHECK(line == "line one\r\n");
    CHECK(*co_await io::read_line(sr, line) == 9);
    CHECK(line == "line one\r\nline two\n");
    line.clear();
    CHECK(*co_await io::read_line(sr, line) == 10);
    CHECK(line == "no newline");
    CHECK(*co_await io::read_line(sr, line) == 0);

    io::SliceReader bad(std::string_view("ok\n\xFF\xFE\nafter\n"));
    std::string l2 = "x";
    CHECK(*co_await io::read_line(bad, l2) == 3);
    auto e = co_await io::read_line(bad, l2);
    CHECK(e.error() == std::errc::illegal_byte_sequence);
    CHECK(e.error().message() == "stream did not contain valid UTF-8");
    CHECK(l2 == "xok\n");                          // left as it was
    CHECK(*co_await io::read_line(bad, l2) == 6);  // the stream continues after the bad line
    CHECK(l2 == "xok\nafter\n");

    MockReader er(2);
    er.data("par").error(std::errc::io_error);
    io::BufReader ebr(std::move(er), 2);
    std::string l3;
    auto e3 = co_await io::read_line(ebr, l3);
    CHECK(e3.error() == std::errc::io_error);
    CHECK(l3 == "par");  // valid data read before the error is kept (as Tokio)
  }());
}

TEST_CASE("lines() and split() streams: CRLF, last line without newline, empty lines") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader inner(3);
    inner.data("a\r\n\nbb\nccc");
    auto ls = io::lines(io::BufReader(std::move(inner), 2));
    auto got = co_await all_lines(ls);
    CHECK(got == std::vector<std::string>{"a", "", "bb", "ccc"});
    auto again = co_await ls.next_line();
    CHECK_FALSE(again->has_value());

    io::SliceReader sr(std::string_view("x,,yz,"));
    auto sp = io::split(sr, ',');
    std::vector<std::string> segs;
    for (;;) {
      auto s = co_await sp.next_segment();
      REQUIRE(s.has_value());
      if (!*s) break;
      segs.push_back(iotest::str(**s));
    }
    CHECK(segs == std::vector<std::string>{"x", "", "yz"});

    io::SliceReader bad(std::string_view("good\n\xC3\x28\nnext\n"));
    auto bl = io::lines(bad);
    CHECK(**co_await bl.next_line() == "good");
    CHECK((co_await bl.next_line()).error() == std::errc::illegal_byte_sequence);
    CHECK(**co_await bl.next_line() == "next");

    // An I/O error inside a line: the part read before it is kept and the next call
    // completes the line (README, Tokio -> tokio.hpp: Tokio 1.24.2 yields only "c" here).
    MockReader el(2);
    el.data("ab").error(std::errc::io_error).data("c\nd\n");
    auto ell = io::lines(io::BufReader(std::move(el), 4));
    CHECK((co_await ell.next_line()).error() == std::errc::io_error);
    CHECK(**co_await ell.next_line() == "abc");
    CHECK(**co_await ell.next_line() == "d");
  }());
}

TEST_CASE("lines() over BufReaders of every small size, reads of every small size, match a model") {
  // Lines shorter and longer than the buffer, so a line is taken from the buffer directly
  // (no refill) or assembled across refills, some of them "not ready" first.
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    test::Rng rng(11);
    for (int round = 0; round < 60; ++round) {
      std::string text;
      std::vector<std::string> want;
      std::size_t nlines = 1 + rng.below(30);
      for (std::size_t i = 0; i < nlines; ++i) {
        std::string line;
        std::size_t len = rng.below(4) == 0 ? rng.below(40) : rng.below(6);
        for (std::size_t j = 0; j < len; ++j) line += static_cast<char>('a' + rng.below(26));
        want.push_back(line);
        text += line + (rng.below(3) == 0 ? "\r\n" : "\n");
      }
      std::size_t cap = 1 + rng.below(12), chunk = 1 + rng.below(9);
      CAPTURE(round);
      CAPTURE(cap);
      CAPTURE(chunk);
      MockReader inner(chunk);
      inner.pending_between(rng.below(2) == 0);
      inner.data(text);
      auto ls = io::lines(io::BufReader(std::move(inner), cap));
      auto got = co_await all_lines(ls);
      CHECK(got == want);
    }
  }());
}

TEST_CASE("next_line is cancel-safe: a line interrupted by a select is completed later") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    auto ls = io::lines(io::BufReader(std::move(b)));
    (void)co_await io::write_all(a, "hel");
    // next_line gets the partial line, then loses a race against a ready branch.
    for (int i = 0; i < 3; ++i) {
      auto r = co_await tokio::select_biased(ls.next_line(), tokio::task::yield_now());
      CHECK(r.index() == 1);
    }
    (void)co_await io::write_all(a, "lo\nworld\n");
    CHECK(**co_await ls.next_line() == "hello");
    CHECK(**co_await ls.next_line() == "world");
  }());
}

TEST_CASE("BufWriter collects small writes, writes large ones through, flushes on demand") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockWriter inner;
    io::BufWriter<MockWriter&> bw(inner, 8);
    CHECK(*co_await io::write(bw, "abc") == 3);
    CHECK(*co_await io::write(bw, "def") == 3);
    CHECK(inner.writes == 0);
    CHECK(iotest::str(bw.buffer()) == "abcdef");
    CHECK(*co_await io::write(bw, "ghi") == 3);  // does not fit: buffer written first
    CHECK(inner.text() == "abcdef");
    CHECK(iotest::str(bw.buffer()) == "ghi");
    CHECK(*co_await io::write(bw, "0123456789") == 10);  // >= capacity: written through
    CHECK(inner.text() == "abcdefghi0123456789");
    CHECK(bw.buffer().empty());
    CHECK(*co_await io::write(bw, "tail") == 4);
    CHECK((co_await bw.flush()).has_value());
    CHECK(inner.text() == "abcdefghi0123456789tail");
    CHECK(inner.flushes == 1);
    CHECK(*co_await io::write(bw, "end") == 3);
    CHECK((co_await bw.shutdown()).has_value());
    CHECK(inner.text() == "abcdefghi0123456789tailend");
    CHECK(inner.shutdowns == 1);
  }());
}

TEST_CASE("BufWriter over a slow, partial, failing writer loses and duplicates nothing") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockWriter inner(3, 2);
    io::BufWriter<MockWriter&> bw(inner, 16);
    std::string expect;
    for (int i = 0; i < 200; ++i) {
      std::string piece = std::to_string(i) + ",";
      expect += piece;
      REQUIRE((co_await io::write_all(bw, piece)).has_value());
    }
    REQUIRE((co_await bw.flush()).has_value());
    CHECK(inner.text() == expect);

    MockWriter f(4);
    f.fail_after = 10;
    io::BufWriter<MockWriter&> fw(f, 8);
    CHECK(*co_await io::write(fw, "0123456") == 7);
    CHECK(*co_await io::write(fw, "789") == 3);     // buffer written out first
    CHECK(*co_await io::write(fw, "abcdef") == 6);  // "789" written: the writer is at its limit
    auto e2 = co_await fw.flush();
    CHECK(e2.error() == std::errc::connection_reset);
    CHECK(f.text() == "0123456789");
    CHECK(iotest::str(fw.buffer()) == "abcdef");  // what was not written stays buffered

    MockWriter z;
    z.zero_writes = true;
    io::BufWriter<MockWriter&> zw(z, 4);
    CHECK(*co_await io::write(zw, "ab") == 2);
    CHECK((co_await zw.flush()).error() == io::Errc::write_zero);

    MockWriter ff;
    ff.fail_flush = true;
    io::BufWriter<MockWriter&> fb(ff, 4);
    CHECK((co_await fb.flush()).error() == std::errc::io_error);
  }());
}

TEST_CASE("BufWriter: a write that must make room writes the whole buffer out, pending or not") {
  // As Tokio's: the fit is judged once; an inner write pending half-way through the buffer
  // does not turn into "now it fits" (found by the differential run against Tokio 1.24.2).
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockWriter inner(2, 2);  // 2 bytes a write, "not ready" before every second operation
    io::BufWriter<MockWriter&> bw(inner, 8);
    CHECK(*co_await io::write(bw, "abcdef") == 6);
    CHECK(*co_await io::write(bw, "ghi") == 3);  // 3 > 2 free: "abcdef" goes out first
    CHECK(inner.pendings > 0);
    CHECK(inner.text() == "abcdef");
    CHECK(iotest::str(bw.buffer()) == "ghi");
    std::string jk = "jk", big = "0123456";
    io::IoSlice s[] = {io::IoSlice(big), io::IoSlice(jk)};  // 7 > 5 free: the same
    CHECK(*co_await io::write_vectored(bw, s) == 7);
    CHECK(inner.text() == "abcdefghi");
    CHECK(iotest::str(bw.buffer()) == "0123456");
  }());
}

TEST_CASE("BufWriter: a cancelled flush keeps the unwritten rest and never repeats bytes") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(5);
    io::BufWriter<io::DuplexStream&> bw(a, 64);
    (void)co_await io::write_all(bw, "0123456789abcdef");
    // The duplex takes 5 bytes, then the flush blocks; cancel it there.
    auto r = co_await tokio::select_biased(bw.flush(), tokio::task::yield_now());
    CHECK(r.index() == 1);
    CHECK(iotest::str(bw.buffer()) == "56789abcdef");
    std::array<std::byte, 5> got{};
    REQUIRE(*co_await io::read_exact(b, got) == 5);
    CHECK(iotest::str(got) == "01234");
    auto [done, n] = co_await tokio::join(bw.flush(), [](io::DuplexStream& b) -> Task<std::string> {
      std::array<std::byte, 11> rest{};
      (void)co_await io::read_exact(b, rest);
      co_return iotest::str(rest);
    }(b));
    CHECK(done.has_value());
    CHECK(n == "56789abcdef");
  }());
}

TEST_CASE("BufWriter write_vectored buffers slices that fit and passes big ones through") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::vector<std::byte> out;
    io::VecWriter vw(out);
    io::BufWriter<io::VecWriter<std::vector<std::byte>>&> bw(vw, 8);
    std::string a = "ab", b = "cd";
    io::IoSlice s1[] = {io::IoSlice(a), io::IoSlice(b)};
    CHECK(*co_await io::write_vectored(bw, s1) == 4);
    CHECK(out.empty());
    std::string big = "0123456789";
    io::IoSlice s2[] = {io::IoSlice(big), io::IoSlice(a)};
    CHECK(*co_await io::write_vectored(bw, s2) == 12);
    CHECK(iotest::str(out) == "abcd0123456789ab");
  }());
}

TEST_CASE("BufWriter write_vectored over a writer that cannot gather buffers slice by slice") {
  // Tokio's rule for an inner writer without vectored writes: the slices are buffered in
  // order as far as each fits; only a first slice as large as the buffer bypasses it. (Found
  // by the differential run against Tokio 1.24.2: a gather larger than the buffer used to
  // send its small first slice straight to the inner writer.)
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockWriter inner;  // no write_vectored
    static_assert(!io::AsyncWriteVectored<MockWriter>);
    io::BufWriter<MockWriter&> bw(inner, 8);
    std::string e, abc = "abc", defg = "defg", hi = "hi", big = "0123456789", x = "x";
    io::IoSlice s1[] = {io::IoSlice(e), io::IoSlice(abc), io::IoSlice(defg), io::IoSlice(hi)};
    CHECK(*co_await io::write_vectored(bw, s1) == 7);  // "hi" does not fit beside the rest
    CHECK(inner.writes == 0);
    CHECK(iotest::str(bw.buffer()) == "abcdefg");
    io::IoSlice s2[] = {io::IoSlice(hi), io::IoSlice(big)};
    CHECK(*co_await io::write_vectored(bw, s2) == 2);  // buffer written out, "hi" buffered
    CHECK(inner.text() == "abcdefg");
    CHECK(iotest::str(bw.buffer()) == "hi");
    io::IoSlice s3[] = {io::IoSlice(big), io::IoSlice(x)};
    CHECK(*co_await io::write_vectored(bw, s3) == 10);  // as large as the buffer: through
    CHECK(inner.text() == "abcdefghi0123456789");
    CHECK(bw.buffer().empty());
    io::IoSlice s4[] = {io::IoSlice(e), io::IoSlice(e)};
    CHECK(*co_await io::write_vectored(bw, s4) == 0);
    CHECK((co_await bw.flush()).has_value());
    CHECK(inner.text() == "abcdefghi0123456789");
  }());
}

TEST_CASE("BufStream: request/response through both buffers") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [client, server] = io::duplex(1024);
    auto srv = tokio::spawn(
        [](io::DuplexStream s) -> Task<int> {
          io::BufStream bs(std::move(s));
          int served = 0;
          std::string line;
          for (;;) {
            line.clear();
            auto n = co_await io::read_line(bs, line);
            if (!n || *n == 0) break;
            (void)co_await io::write_all(bs, "echo: " + line);
            (void)co_await bs.flush();
            ++served;
          }
          (void)co_await bs.shutdown();
          co_return served;
        },
        std::move(server));
    io::BufStream cs(std::move(client), 32, 32);
    for (int i = 0; i < 50; ++i) {
      (void)co_await io::write_all(cs, "msg " + std::to_string(i) + "\n");
      (void)co_await cs.flush();
      std::string reply;
      REQUIRE(*co_await io::read_line(cs, reply) > 0);
      CHECK(reply == "echo: msg " + std::to_string(i) + "\n");
    }
    (void)co_await cs.shutdown();
    std::string tail;
    CHECK(*co_await io::read_to_string(cs, tail) == 0);
    CHECK(co_await srv == 50);
  }());
}

namespace {
// Rust's str rules, decoded the plain way: each sequence to its code point, then the
// ranges checked (no overlong form, no surrogate, nothing above U+10FFFF).
bool utf8_reference(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80         ? 1
                      : (b >> 5) == 6  ? 2
                      : (b >> 4) == 14 ? 3
                      : (b >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}
}  // namespace

TEST_CASE("utf8_valid agrees with a reference decoder: mostly-ASCII text, every length and place") {
  // The fast paths read 16 and 8 bytes at a time and the last 8 bytes as one word: put
  // multi-byte and broken sequences at every offset of strings of every length up to 40.
  test::Rng rng(7);
  const std::vector<std::string> pieces = {
      "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\x9F\xBF",  // valid
      "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",     "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
      "\x80",     "\xC3",         "\xE2\x82",  // invalid
      "\xFF"};
  std::size_t checked = 0, valid = 0;
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t at = 0; at <= len; ++at) {
      for (std::size_t k = 0; k < pieces.size(); ++k) {
        std::string s;
        for (std::size_t j = 0; j < len; ++j) s += static_cast<char>('a' + rng.below(26));
        s.insert(at, pieces[k]);
        if (rng.below(4) == 0) s.insert(rng.below(s.size() + 1), pieces[rng.below(4)]);
        bool want = utf8_reference(s);
        bool got =
            tokio::detail::utf8_valid(reinterpret_cast<const unsigned char*>(s.data()), s.size());
        CAPTURE(len);
        CAPTURE(at);
        CAPTURE(k);
        REQUIRE(got == want);
        ++checked;
        valid += want;
      }
    }
    std::string ascii(len, 'x');
    REQUIRE(tokio::detail::utf8_valid(reinterpret_cast<const unsigned char*>(ascii.data()), len));
  }
  CHECK(valid > checked / 5);  // both outcomes well covered
  CHECK(valid < checked * 4 / 5);
}

TEST_CASE("BufWriter / BufReader: a second operation pending at once is refused, not corrupting") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(16);
    io::BufWriter w(std::move(a), 8);
    REQUIRE(*co_await io::write(w.get_mut(), std::string(16, 'f')) == 16);  // the pipe is full
    REQUIRE((co_await io::write_all(w, std::string(4, 'x'))).has_value());  // buffered
    // The first must flush the buffer into the full pipe and waits; the second would
    // write into the buffer under that flush.
    bool writer_refused = false;
    try {
      // (Without the check both would wait on the full pipe for ever: the timeout.)
      (void)co_await tokio::time::timeout(
          std::chrono::seconds(2),
          tokio::select(io::write_all(w, std::string(40, 'y')), w.flush()));
    } catch (const std::logic_error& e) {
      writer_refused = std::string(e.what()).find("io::BufWriter") != std::string::npos;
    }
    CHECK(writer_refused);
    // Nothing was lost or repeated: the pipe's bytes, then the buffered ones.
    std::array<char, 32> buf{};
    REQUIRE((co_await io::read_exact(b, std::span(buf.data(), 16))).has_value());
    REQUIRE((co_await w.flush()).has_value());
    REQUIRE(*co_await b.read(buf) == 4);
    CHECK(std::string(buf.data(), 4) == std::string(4, 'x'));

    auto [c, d] = io::duplex(16);
    io::BufReader r(std::move(d), 8);
    std::array<char, 4> x{}, y{};
    bool reader_refused = false;
    try {
      // Nothing to read yet: both would wait.
      (void)co_await tokio::time::timeout(std::chrono::seconds(2),
                                          tokio::select(r.read(x), r.read(y)));
    } catch (const std::logic_error& e) {
      reader_refused = std::string(e.what()).find("io::BufReader") != std::string::npos;
    }
    CHECK(reader_refused);
    REQUIRE((co_await io::write_all(c, std::string("hello"))).has_value());
    REQUIRE(*co_await r.read(x) == 4);
    CHECK(std::string(x.data(), 4) == "hell");
    REQUIRE(*co_await r.read(x) == 1);
  }());
}

TEST_CASE("BufReader / BufWriter into_inner hand the stream back, buffered bytes dropped") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    io::BufWriter<io::DuplexStream> bw(std::move(a), 16);
    REQUIRE((co_await bw.write(std::string_view("kept"))).has_value());
    REQUIRE((co_await bw.flush()).has_value());
    REQUIRE((co_await bw.write(std::string_view("lost"))).has_value());
    CHECK(bw.buffer().size() == 4);  // not flushed: into_inner drops it, as Tokio's does
    io::DuplexStream a2 = std::move(bw).into_inner();
    REQUIRE((co_await io::write_all(a2, std::string_view("tail"))).has_value());
    a2 = io::DuplexStream();  // the writer side goes: b reads to its end

    io::BufReader<io::DuplexStream> br(std::move(b), 4);
    std::array<char, 2> two{};
    CHECK(*co_await br.read(std::span<char>(two)) == 2);  // "ke", and "ep" buffered
    CHECK(br.buffer().size() == 2);
    io::DuplexStream b2 = std::move(br).into_inner();
    std::string rest;
    REQUIRE((co_await io::read_to_string(b2, rest)).has_value());
    CHECK(rest == "tail");  // "ep" was in the reader's buffer; "lost" never left the writer
  }());
}

TEST_CASE("BufReader / BufWriter / BufStream::with_capacity: Tokio's spelling of the capacity") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    auto bw = io::BufWriter<io::DuplexStream>::with_capacity(3, std::move(a));
    CHECK(bw.capacity() == 3);
    REQUIRE((co_await bw.write(std::string_view("ab"))).has_value());
    CHECK(bw.buffer().size() == 2);  // buffered: fits in 3
    REQUIRE((co_await bw.flush()).has_value());
    auto br = io::BufReader<io::DuplexStream>::with_capacity(5, std::move(b));
    CHECK(br.capacity() == 5);
    std::array<char, 1> one{};
    CHECK(*co_await br.read(std::span<char>(one)) == 1);
    CHECK(br.buffer().size() == 1);  // "b" stayed buffered
    CHECK_THROWS_AS(io::BufReader<io::DuplexStream>::with_capacity(0, io::DuplexStream()),
                    std::invalid_argument);
    auto [c, d] = io::duplex(64);
    auto bs = io::BufStream<io::DuplexStream>::with_capacity(7, 9, std::move(c));
    REQUIRE((co_await bs.write(std::string_view("hi"))).has_value());
    CHECK(bs.write_buffer().size() == 2);
    (void)d;
  }());
}

// BufWriter at its exact capacity edges, as Tokio's poll_write: a write that exactly fills
// the free room is buffered (no write first); a write of capacity() bytes or more into an
// empty buffer goes straight to the inner writer.
TEST_CASE(
    "BufWriter: a write that exactly fills the room is buffered; one of capacity() goes through") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockWriter inner;
    io::BufWriter<MockWriter&> bw(inner, 8);
    CHECK(*co_await io::write(bw, "abcd") == 4);
    CHECK(*co_await io::write(bw, "efgh") == 4);  // 4 bytes of room left: fits exactly
    CHECK(inner.writes == 0);
    CHECK(iotest::str(bw.buffer()) == "abcdefgh");
    CHECK(*co_await io::write(bw, "i") == 1);  // now full: the buffer goes out first
    CHECK(inner.writes == 1);
    CHECK(inner.text() == "abcdefgh");
    CHECK(iotest::str(bw.buffer()) == "i");
    CHECK((co_await bw.flush()).has_value());
    CHECK(inner.text() == "abcdefghi");

    MockWriter inner2;
    io::BufWriter<MockWriter&> bw2(inner2, 8);
    CHECK(*co_await io::write(bw2, "01234567") == 8);
    CHECK(inner2.writes == 1);
    CHECK(inner2.text() == "01234567");
    CHECK(bw2.buffer().empty());
    CHECK(*co_await io::write(bw2, "abcdefg") == 7);  // one byte less stays buffered
    CHECK(inner2.writes == 1);
    CHECK(iotest::str(bw2.buffer()) == "abcdefg");
  }());
}

TEST_CASE("io::read_line: an I/O error after invalid UTF-8 reports the I/O error") {
  // As Tokio's finish_string_read: the read's error wins over InvalidData, and the string
  // is left as it was either way.
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader r;
    r.data("ok\n").data(std::string("\xff\xfe", 2)).error(std::errc::connection_reset);
    io::BufReader<MockReader&> br(r, 16);
    std::string line = "kept:";
    auto first = co_await io::read_line(br, line);
    REQUIRE(first.has_value());
    CHECK(*first == 3);
    CHECK(line == "kept:ok\n");
    auto second = co_await io::read_line(br, line);
    REQUIRE_FALSE(second.has_value());
    CHECK(second.error() == std::errc::connection_reset);
    CHECK(line == "kept:ok\n");
    // Without the error (the stream ends), the same bytes are invalid data.
    MockReader r2;
    r2.data(std::string("\xff\xfe", 2));
    io::BufReader<MockReader&> br2(r2, 16);
    std::string s2;
    auto eof = co_await io::read_line(br2, s2);
    REQUIRE_FALSE(eof.has_value());
    CHECK(eof.error() == std::errc::illegal_byte_sequence);
    CHECK(s2.empty());
  }());
}
