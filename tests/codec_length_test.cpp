// LengthDelimitedCodec against a model: random field widths (1..8), offsets, length
// adjustments, num_skip and byte orders; wires built by hand, split at every byte
// boundary; oversize frames reported and skipped (the next frame decodes); invalid
// lengths end a FramedRead; a partial frame at the end is an error; encode round trips
// and its errors.
#include <array>
#include <limits>
#include <string>
#include <vector>

#include "io_mock.hpp"

namespace codec = tokio::codec;
using codec::BytesMut;
using codec::LengthDelimitedCodec;
using test::Rng;
using tokio::Task;

namespace {

struct Params {
  std::size_t offset = 0, width = 4, max = 8 * 1024 * 1024;
  std::ptrdiff_t adjust = 0;
  std::optional<std::size_t> skip;
  bool big = true;
  std::size_t num_skip() const { return skip ? *skip : offset + width; }
  std::size_t head_len() const { return std::max(offset + width, num_skip()); }
  LengthDelimitedCodec make() const {
    auto b = LengthDelimitedCodec::builder();
    b.length_field_offset(offset)
        .length_field_length(width)
        .length_adjustment(adjust)
        .max_frame_length(max);
    if (skip) b.num_skip(*skip);
    if (big) b.big_endian();
    else b.little_endian();
    return b.new_codec();
  }
};

void put_field(std::string& s, std::size_t at, uint64_t v, std::size_t w, bool big) {
  for (std::size_t i = 0; i < w; ++i) {
    std::size_t shift = 8 * (big ? w - 1 - i : i);
    s[at + i] = static_cast<char>(static_cast<uint8_t>(v >> shift));
  }
}

// One frame on the wire and what the decoder must yield for it ("" + error flag).
struct WireFrame {
  std::string wire;
  std::string frame;
  bool too_large = false;
};

std::optional<WireFrame> make_frame(const Params& p, Rng& r) {
  std::size_t head = p.head_len();
  std::string h(head, '\0');
  for (auto& c : h) c = static_cast<char>('A' + r.below(26));
  std::size_t tail = r.below(40);
  std::size_t n = head - p.num_skip() + tail;
  long long field = static_cast<long long>(n) - static_cast<long long>(p.adjust);
  if (field < 0) return std::nullopt;
  if (p.width < 8 && (static_cast<uint64_t>(field) >> (8 * p.width)) != 0) return std::nullopt;
  put_field(h, p.offset, static_cast<uint64_t>(field), p.width, p.big);
  std::string t(tail, '\0');
  for (auto& c : t) c = static_cast<char>('a' + r.below(26));
  WireFrame f;
  f.wire = h + t;
  f.frame = f.wire.substr(p.num_skip());
  f.too_large = static_cast<uint64_t>(field) > p.max;  // the field as sent, as tokio-util
  return f;
}

Params random_params(Rng& r) {
  Params p;
  p.width = 1 + r.below(8);
  p.offset = r.below(4);
  if (r.chance(40)) p.skip = r.below(p.offset + p.width + 3);
  switch (r.below(4)) {
    case 0: p.adjust = 0; break;
    case 1: p.adjust = -static_cast<std::ptrdiff_t>(p.offset + p.width); break;
    case 2: p.adjust = -2; break;
    default: p.adjust = 3; break;
  }
  p.big = r.chance(50);
  if (r.chance(50)) p.max = 10 + r.below(30);
  return p;
}

}  // namespace

TEST_CASE(
    "LengthDelimitedCodec matches its model for random layouts, split at every byte boundary") {
  Rng rng(31);
  const std::size_t rounds = test::scaled(200);
  std::size_t frames_checked = 0, oversize_checked = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    Params p = random_params(rng);
    std::string wire;
    std::vector<WireFrame> frames;
    for (std::size_t i = rng.below(6); i > 0; --i) {
      auto f = make_frame(p, rng);
      if (!f) continue;
      wire += f->wire;
      frames.push_back(*f);
    }
    for (std::size_t k = 0; k <= wire.size(); ++k) {
      auto c = p.make();
      BytesMut buf;
      std::vector<std::string> got;  // frame text, or "!" for frame_too_large
      auto drain = [&] {
        for (;;) {
          auto r = c.decode(buf);
          if (!r) {
            REQUIRE(r.error() == codec::Errc::frame_too_large);
            got.push_back("!");
            continue;
          }
          if (!*r) return;
          got.push_back((*r)->to_string());
        }
      };
      buf.put(std::string_view(wire).substr(0, k));
      drain();
      buf.put(std::string_view(wire).substr(k));
      drain();
      auto eof = codec::decode_eof(c, buf);
      REQUIRE(eof.has_value());
      CHECK(!eof->has_value());
      REQUIRE(got.size() == frames.size());
      for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(got[i] == (frames[i].too_large ? std::string("!") : frames[i].frame));
        ++(frames[i].too_large ? oversize_checked : frames_checked);
      }
    }
  }
  CHECK(frames_checked > 1000);
  CHECK(oversize_checked > 100);
}

TEST_CASE(
    "LengthDelimitedCodec through FramedRead, one byte per read: oversize skipped, partial frame "
    "at EOF is an error") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    // Default codec (4-byte big-endian, no adjustment); max 8 bytes.
    auto c = LengthDelimitedCodec::builder().max_frame_length(8).new_codec();
    std::string wire;
    auto frame = [&](std::string_view payload) {
      std::string h(4, '\0');
      put_field(h, 0, payload.size(), 4, true);
      wire += h;
      wire += payload;
    };
    frame("hello");
    frame("this one is too long");
    frame("");
    frame("world");
    wire += std::string("\0\0\0\x05wo", 6);  // cut short
    iotest::MockReader r(1);
    r.pending_between();
    r.data(wire);
    codec::FramedRead fr(r, c);
    // The oversized frame: its error, the pause (one nullopt), then next() goes on.
    auto got = co_await iotest::collect_frames(fr, [](const BytesMut& b) { return b.to_string(); });
    std::vector<std::string> want{"hello", "<frame size too big>",        "(pause)", "",
                                  "world", "<bytes remaining on stream>", "(end)"};
    CHECK(got == want);

    // A negative length (field + adjustment < 0) cannot be resynchronised: the FramedRead
    // reports it and ends.
    auto neg =
        LengthDelimitedCodec::builder().length_field_length(1).length_adjustment(-5).new_codec();
    iotest::MockReader r2;
    r2.data(std::string("\x02xx\x07yyy", 7));
    codec::FramedRead fr2(r2, neg);
    auto e = co_await fr2.next();
    REQUIRE(e.has_value());
    CHECK(e->error() == codec::Errc::invalid_frame_length);
    CHECK(!(co_await fr2.next()).has_value());
    CHECK(!(co_await fr2.next()).has_value());  // not a pause: it stays ended
  }());
}

TEST_CASE(
    "LengthDelimitedCodec encode: round trips every width and byte order; refuses what does not "
    "fit") {
  Rng rng(37);
  for (std::size_t width = 1; width <= 8; ++width) {
    for (bool big : {true, false}) {
      for (std::ptrdiff_t adjust :
           {std::ptrdiff_t(0), -static_cast<std::ptrdiff_t>(width), std::ptrdiff_t(2)}) {
        Params p;
        p.width = width;
        p.big = big;
        p.adjust = adjust;
        auto c = p.make();
        BytesMut buf;
        std::vector<std::string> sent;
        for (int i = 0; i < 20; ++i) {
          std::string payload(2 + rng.below(199), 'p');  // fits even a 1-byte field (+ adjustment)
          auto r = c.encode(payload, buf);
          REQUIRE(r.has_value());
          sent.push_back(payload);
        }
        auto d = p.make();
        for (auto& s : sent) {
          auto f = d.decode(buf);
          REQUIRE(f.has_value());
          REQUIRE(f->has_value());
          CHECK((*f)->to_string() == s);
        }
        CHECK(buf.is_empty());
      }
    }
  }
  auto one = LengthDelimitedCodec::builder().length_field_length(1).new_codec();
  BytesMut b;
  CHECK(one.encode(std::string(255, 'x'), b).has_value());
  CHECK(one.encode(std::string(256, 'x'), b).error() ==
        codec::Errc::frame_too_large);  // does not fit one byte
  auto small = LengthDelimitedCodec::builder().max_frame_length(3).new_codec();
  CHECK(small.encode("abcd", b).error() == codec::Errc::frame_too_large);
  auto adj = LengthDelimitedCodec::builder().length_adjustment(10).new_codec();
  CHECK(adj.encode("abc", b).error() == codec::Errc::invalid_frame_length);  // 3 - 10 < 0
  CHECK_THROWS_AS(LengthDelimitedCodec::builder().length_field_length(9).new_codec(),
                  std::invalid_argument);
  CHECK_THROWS_AS(LengthDelimitedCodec::builder().length_field_length(0).new_codec(),
                  std::invalid_argument);
  LengthDelimitedCodec def;
  CHECK(def.max_frame_length() == 8u * 1024 * 1024);
  // As current tokio-util, new_codec clips the maximum to what the field can announce,
  // adjusted: a u16 field with adjustment -2 cannot describe more than 65533 bytes. That
  // bounds the encoder; the decoder keeps the maximum as set (as tokio-util 0.7.3), so it
  // takes every frame the encoder writes (a 0xFFFF field is the 65533-byte frame the
  // encoder writes for such a payload: it used to be refused as too big, helper-86).
  CHECK(LengthDelimitedCodec::builder().length_field_length(1).new_codec().max_frame_length() ==
        255);
  CHECK(LengthDelimitedCodec::builder()
            .length_field_length(2)
            .length_adjustment(10)
            .new_codec()
            .max_frame_length() == 65545);
  auto clipped =
      LengthDelimitedCodec::builder().length_field_length(2).length_adjustment(-2).new_codec();
  CHECK(clipped.max_frame_length() == 65533);
  BytesMut ff(std::string_view("\xff\xff", 2));
  auto waits = clipped.decode(ff);
  REQUIRE(waits.has_value());
  CHECK_FALSE(waits->has_value());  // a 65533-byte frame, not yet here
  for (auto wa : {std::pair{1, -1}, std::pair{1, -2}, std::pair{2, -2}}) {
    const int width = wa.first;  // (no structured binding: clang 14's CAPTURE rejects one)
    const int adjust = wa.second;
    CAPTURE(width);
    CAPTURE(adjust);
    auto c = LengthDelimitedCodec::builder()
                 .length_field_length(static_cast<std::size_t>(width))
                 .length_adjustment(adjust)
                 .num_skip(static_cast<std::size_t>(width))
                 .new_codec();
    const std::string payload(c.max_frame_length(), 'p');  // the largest it encodes
    BytesMut wire;
    REQUIRE(c.encode(payload, wire).has_value());
    auto back = c.decode(wire);
    REQUIRE(back.has_value());
    REQUIRE(back->has_value());
    CHECK(std::string_view(**back) == payload);
    CHECK(c.encode(payload + "p", wire).error() == codec::Errc::frame_too_large);
  }
  // An offset that wraps around with the field's length is refused when the codec is made
  // (it read the bytes in front of the buffer).
  CHECK_THROWS_AS(LengthDelimitedCodec::builder()
                      .length_field_offset(std::numeric_limits<std::size_t>::max() - 3)
                      .length_field_length(8)
                      .new_codec(),
                  std::invalid_argument);
  // length_field_type<T>(): the width of T (Rust's length_field_type::<u16>()).
  auto typed = LengthDelimitedCodec::builder().length_field_type<uint16_t>().new_codec();
  BytesMut t;
  REQUIRE(typed.encode("hi", t).has_value());
  CHECK(t == std::string_view("\0\2hi", 4));
  CHECK(typed.encode(std::string(65536, 'x'), t).error() == codec::Errc::frame_too_large);
}

TEST_CASE(
    "LengthDelimitedCodec: max_frame_length bounds the length field as sent, before the "
    "adjustment, as in tokio-util; encode bounds the payload") {
  // The field excludes a 3-byte trailer the frame carries: a field of 8 (frame of 11
  // bytes) is within max 8, a field of 9 is not.
  auto plus = LengthDelimitedCodec::builder().length_adjustment(3).max_frame_length(8).new_codec();
  BytesMut in;
  in.put(
      std::string_view("\0\0\0\x08"
                       "abcdefghijk"
                       "\0\0\0\x09"
                       "abcdefghijkl"
                       "\0\0\0\x00"
                       "xyz",
                       4 + 11 + 4 + 12 + 4 + 3));
  auto a = plus.decode(in);
  REQUIRE((a && *a));
  CHECK((*a)->to_string() == "abcdefghijk");
  auto b = plus.decode(in);
  REQUIRE(!b);
  CHECK(b.error() == codec::Errc::frame_too_large);  // its 12 bytes skipped
  auto c = plus.decode(in);
  REQUIRE((c && *c));
  CHECK((*c)->to_string() == "xyz");
  // The field counts the 4-byte header: max 8 admits a field of 8 (4 payload bytes);
  // encode checks the payload (6 <= 8) and writes a field of 10, which decode refuses,
  // exactly as tokio-util's pair does.
  auto hdr = LengthDelimitedCodec::builder().length_adjustment(-4).max_frame_length(8).new_codec();
  BytesMut wire;
  REQUIRE(hdr.encode("abcd", wire).has_value());
  REQUIRE(hdr.encode("abcdef", wire).has_value());
  CHECK(wire.to_string() == std::string("\0\0\0\x08"
                                        "abcd"
                                        "\0\0\0\x0a"
                                        "abcdef",
                                        4 + 4 + 4 + 6));
  CHECK(hdr.encode("abcdefghi", wire).error() == codec::Errc::frame_too_large);  // 9 > 8
  auto d = LengthDelimitedCodec::builder().length_adjustment(-4).max_frame_length(8).new_codec();
  auto e = d.decode(wire);
  REQUIRE((e && *e));
  CHECK((*e)->to_string() == "abcd");
  auto f = d.decode(wire);
  REQUIRE(!f);
  CHECK(f.error() == codec::Errc::frame_too_large);
  CHECK(wire.is_empty());
}

TEST_CASE(
    "LengthDelimitedCodec regressions found by fuzz/codec.cpp: a frame cut short right after its "
    "header, an empty frame with num_skip 0, an invalid header right after a skipped frame") {
  {
    // The header is consumed before the frame's bytes arrive: at the end of the input the
    // buffer is empty, yet a frame is missing.
    auto c = LengthDelimitedCodec();
    BytesMut buf(std::string_view("\0\0\0\x05", 4));
    auto r = c.decode(buf);
    REQUIRE(r.has_value());
    CHECK(!r->has_value());
    CHECK(buf.is_empty());
    auto eof = codec::decode_eof(c, buf);
    REQUIRE(!eof.has_value());
    CHECK(eof.error() == codec::Errc::bytes_remaining_on_stream);
  }
  {
    // num_skip 0 and a length of 0: a frame that consumes nothing would repeat for ever.
    auto c = LengthDelimitedCodec::builder()
                 .length_field_length(2)
                 .length_adjustment(-2)
                 .num_skip(0)
                 .new_codec();
    BytesMut buf(std::string_view("\0\x02", 2));
    auto r = c.decode(buf);
    REQUIRE(!r.has_value());
    CHECK(r.error() == codec::Errc::empty_frame_consumes_nothing);
    CHECK(r.error().message() == "zero-length frame with num_skip 0 would consume no input");
    CHECK(buf.len() == 2);  // nothing consumed: a FramedRead ends
  }
  {
    // tokio-util checks the field against max_frame_length before adjusting it: a field
    // both too large and negative once adjusted is "frame size too big" (and, since its
    // length is unknown, nothing is consumed: a FramedRead ends).
    auto c = LengthDelimitedCodec::builder()
                 .length_field_length(2)
                 .length_adjustment(-3)
                 .max_frame_length(1)
                 .new_codec();
    BytesMut buf(std::string_view("\0\x02xy", 4));
    auto r = c.decode(buf);
    REQUIRE(!r.has_value());
    CHECK(r.error() == codec::Errc::frame_too_large);
    CHECK(buf.len() == 4);
  }
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    // The tail of an oversized frame and an invalid header in one read: the error comes
    // once (it consumes nothing), then the stream ends.
    auto c = LengthDelimitedCodec::builder()
                 .length_field_length(1)
                 .length_adjustment(-1)
                 .max_frame_length(2)
                 .new_codec();
    iotest::MockReader r;
    r.data(
         "\x05"
         "ab")
        .data(std::string_view("cd\0", 3));
    codec::FramedRead fr(r, c);
    auto got = co_await iotest::collect_frames(fr, [](const BytesMut& b) { return b.to_string(); });
    std::vector<std::string> want{"<frame size too big>", "(pause)",
                                  "<provided length would overflow after adjustment>", "(end)"};
    CHECK(got == want);
  }());
}

TEST_CASE(
    "LengthDelimitedCodec in a FramedRead: an oversized frame then a cut-short one yield the same "
    "items wherever the reads split the input") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    // A frame over the maximum (skipped), then a header announcing 1 byte that never
    // comes, then the end of the input.
    const std::string wire =
        std::string("\0\x10", 2) + std::string(16, 'Z') + std::string("\0\1", 2);
    const std::vector<std::string> want{"<frame size too big>", "(pause)",
                                        "<bytes remaining on stream>", "(end)"};
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      CAPTURE(cut);
      iotest::MockReader r;
      if (cut > 0) r.data(std::string_view(wire).substr(0, cut));
      if (cut < wire.size()) r.data(std::string_view(wire).substr(cut));
      codec::FramedRead fr(
          r,
          LengthDelimitedCodec::builder().length_field_length(2).max_frame_length(8).new_codec());
      auto got =
          co_await iotest::collect_frames(fr, [](const BytesMut& b) { return b.to_string(); });
      CHECK(got == want);
    }
    // The codec alone: the partial frame goes with the error, and the input then ends
    // cleanly.
    auto c = LengthDelimitedCodec::builder().length_field_length(2).new_codec();
    BytesMut buf(std::string_view("\0\3ab", 4));
    auto eof = codec::decode_eof(c, buf);
    REQUIRE(!eof.has_value());
    CHECK(eof.error() == codec::Errc::bytes_remaining_on_stream);
    CHECK(buf.is_empty());
    auto after = codec::decode_eof(c, buf);
    REQUIRE(after.has_value());
    CHECK_FALSE(after->has_value());
  }());
}

TEST_CASE(
    "LengthDelimitedCodec: a header announcing a huge frame reserves a bounded amount, not the "
    "announced length") {
  // max_frame_length raised as far as it goes: a header announcing 2^40 bytes used to make
  // decode() reserve them all (std::bad_alloc; ASan: allocation-size-too-big), and with
  // the default limit every 4-byte header made the connection allocate 8 MiB at once.
  auto c =
      LengthDelimitedCodec::builder().length_field_length(8).max_frame_length(SIZE_MAX).new_codec();
  BytesMut buf(std::string_view("\0\0\1\0\0\0\0\0abc", 11));  // 2^40, then 3 bytes
  auto r = c.decode(buf);
  REQUIRE(r.has_value());
  CHECK_FALSE(r->has_value());  // waiting for the rest
  CHECK(buf.capacity() <= (std::size_t{1} << 21));
  auto d = LengthDelimitedCodec::new_();                  // default: 4-byte field, 8 MiB at most
  BytesMut small(std::string_view("\0\x7f\xff\xff", 4));  // 8 MiB - 1
  auto r2 = d.decode(small);
  REQUIRE(r2.has_value());
  CHECK_FALSE(r2->has_value());
  CHECK(small.capacity() <= (std::size_t{1} << 21));
  // A frame of 3 MiB still arrives whole, the buffer growing as its bytes come.
  auto e = LengthDelimitedCodec::new_();
  const std::size_t n = 3u << 20;
  BytesMut big(std::string_view("\0\x30\0\0", 4));
  std::optional<BytesMut> frame;
  for (std::size_t sent = 0; sent < n; sent += 4096) {
    auto step = e.decode(big);
    REQUIRE(step.has_value());
    REQUIRE_FALSE(step->has_value());
    big.extend_from_slice(std::string(4096, 'x'));
  }
  auto last = e.decode(big);
  REQUIRE(last.has_value());
  REQUIRE(last->has_value());
  CHECK((*last)->len() == n);
  // A num_skip past any memory: the header never completes (tokio-util: Ok(None)); no
  // reserve of it (it threw std::length_error out of decode).
  auto huge = LengthDelimitedCodec::builder().num_skip(SIZE_MAX).length_field_length(2).new_codec();
  BytesMut some(std::string_view("\0\3abc", 5));
  auto h = huge.decode(some);
  REQUIRE(h.has_value());
  CHECK_FALSE(h->has_value());
  CHECK(some.capacity() <= (std::size_t{1} << 21));
}

TEST_CASE("LengthDelimitedCodec::Builder: new_write, new_read and new_framed over a duplex pipe") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tokio::io::duplex(64);
    auto builder = LengthDelimitedCodec::builder().length_field_length(2).little_endian();
    // new_write borrows an lvalue; new_read takes an rvalue over.
    auto w = builder.new_write(a);
    auto r = builder.new_read(std::move(b));
    REQUIRE((co_await w.send(codec::Bytes::from(std::string_view("one")))).has_value());
    REQUIRE((co_await w.send(codec::Bytes::from(std::string_view("two!")))).has_value());
    auto f1 = co_await r.next();
    REQUIRE((f1 && *f1));
    CHECK((*f1)->to_string() == "one");
    auto f2 = co_await r.next();
    REQUIRE((f2 && *f2));
    CHECK((*f2)->to_string() == "two!");
    // new_framed: both directions over one end, the same settings at the other.
    auto [c, d] = tokio::io::duplex(64);
    auto fc = builder.new_framed(std::move(c));
    auto fd = builder.max_frame_length(4).new_framed(std::move(d));  // (builder: max 4 now)
    REQUIRE((co_await fc.send(codec::Bytes::from(std::string_view("ping")))).has_value());
    auto got = co_await fd.next();
    REQUIRE((got && *got));
    CHECK((*got)->to_string() == "ping");
    REQUIRE((co_await fc.send(codec::Bytes::from(std::string_view("toolong")))).has_value());
    auto big = co_await fd.next();  // over fd's 4-byte maximum
    REQUIRE(big.has_value());
    CHECK(big->error() == codec::Errc::frame_too_large);
    // On the wire: a 2-byte little-endian length, then the payload.
    auto [e, f] = tokio::io::duplex(64);
    auto we = builder.new_write(std::move(e));
    REQUIRE((co_await we.send(codec::Bytes::from(std::string_view("xyz")))).has_value());
    std::array<char, 5> raw{};
    REQUIRE((co_await tokio::io::read_exact(f, std::span<char>(raw))).has_value());
    CHECK(std::string(raw.data(), 5) == std::string("\x03\x00xyz", 5));
  }());
}
