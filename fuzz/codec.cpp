// Fuzzes the tokio::codec decoders (LinesCodec, AnyDelimiterCodec, LengthDelimitedCodec,
// BytesCodec) over arbitrary bytes delivered in arbitrary pieces, and the encode -> decode
// round trip of LengthDelimitedCodec and LinesCodec.
//
// The input chooses the codec and its settings (maximum line/chunk/frame length; for
// LengthDelimitedCodec the field offset, width, byte order, adjustment and num_skip), the
// bytes, and the piece sizes. The driver feeds the codec as a FramedRead resumed after
// every decode error's pause would: append a piece, call decode until it yields nothing
// (an error that consumed nothing ends the stream), and at the end call decode_eof the
// same way until it yields nothing or fails without consuming. What comes out must equal a
// reference computed from the whole input at once, written from the codecs' documented
// contracts (the comments at the top of src/tokio/codec/*.hpp), so the split points cannot
// matter: the same frames and errors in the same order, overlong lines/chunks skipped
// through their delimiter, oversized frames skipped, a partial frame at the end reported.
// Memory: whenever decode yields nothing, the buffer holds no more than the codec's limit
// allows (max length, or the larger of header and max frame length), and its capacity
// stays within a small multiple of that: a peer cannot make a limited codec buffer more.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_util.hpp"

namespace codec = tokio::codec;
using codec::BytesMut;

namespace {

constexpr std::size_t kUnlimited = static_cast<std::size_t>(-1);

// One outcome: a frame's bytes or an error.
using Item = std::variant<std::string, std::error_code>;

std::string show_items(const std::vector<Item>& v) {
  std::string out = "[";
  for (auto& it : v) {
    if (auto* s = std::get_if<std::string>(&it)) out += fuzz::show(*s);
    else out += "error(" + std::get<std::error_code>(it).message() + ")";
    out += ", ";
  }
  return out + "]";
}

std::string frame_bytes(const std::string& s) { return s; }
std::string frame_bytes(const codec::Bytes& b) { return b.to_string(); }
std::string frame_bytes(const BytesMut& b) { return b.to_string(); }

std::error_code err(codec::Errc e) { return make_error_code(e); }
// Invalid UTF-8 is the library's own EILSEQ code (its message names UTF-8).
std::error_code err(std::errc e) {
  if (e == std::errc::illegal_byte_sequence) return tokio::detail::invalid_utf8();
  return std::make_error_code(e);
}

// Feeds `data` to `d` piece by piece as a FramedRead (resumed after each pause) would. `bound`: the most the buffer may
// hold whenever decode yields nothing (kUnlimited: no check).
template <class D>
std::vector<Item> drive(D& d, std::string_view data, const std::vector<std::size_t>& pieces,
                        std::size_t bound) {
  std::vector<Item> out;
  // Every frame or error consumes at least one byte, except the last one at the end.
  auto check_progress = [&] {
    FUZZ_CHECK(out.size() <= data.size() + 1,
               "decoder yields without consuming input: " + show_items(out));
  };
  BytesMut buf;
  fuzz::Pieces in(data, pieces);
  while (!in.done()) {
    buf.put(in.next());
    for (;;) {
      const std::size_t before = buf.len();
      auto r = d.decode(buf);
      if (!r) {
        out.push_back(r.error());
        check_progress();
        if (buf.len() == before) return out;  // stuck: FramedRead ends the stream
        continue;
      }
      if (!*r) break;
      out.push_back(frame_bytes(**r));
      check_progress();
    }
    if (bound != kUnlimited) {
      FUZZ_CHECK(buf.len() <= bound, "buffered " + std::to_string(buf.len()) + " bytes, limit " +
                                         std::to_string(bound));
      // BytesMut at most doubles a block; what it holds is bounded, so is its capacity.
      const std::size_t cap_bound = 4 * (bound + in.max_piece()) + 128;
      FUZZ_CHECK(buf.capacity() <= cap_bound, "buffer capacity " + std::to_string(buf.capacity()) +
                                                  " for a limit of " + std::to_string(bound));
    }
  }
  for (;;) {
    const std::size_t before = buf.len();
    auto r = codec::decode_eof(d, buf);
    if (!r) {
      out.push_back(r.error());
      check_progress();
      // As FramedRead: an error that consumed input pauses, and the resume (its read
      // returns 0 again) calls decode_eof on what is left; one that consumed nothing ends.
      if (buf.len() == before) break;
      continue;
    }
    if (!*r) break;
    out.push_back(frame_bytes(**r));
    check_progress();
  }
  return out;
}

// --- LinesCodec and AnyDelimiterCodec --------------------------------------------------------

// The documented contract, over the whole input: segments end at a delimiter; one longer
// than `max` bytes (counting a '\r' before the '\n') is an error and is dropped through
// its delimiter; the bytes after the last delimiter are one more segment at the end
// (unless too long: that error came when max + 1 of them had arrived).
template <class Accept>
std::vector<Item> delimited_reference(std::string_view data, auto is_delim, std::size_t max,
                                      std::error_code too_long, Accept accept) {
  std::vector<Item> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t e = pos;
    while (e < data.size() && !is_delim(static_cast<unsigned char>(data[e]))) ++e;
    std::string_view seg = data.substr(pos, e - pos);
    if (seg.size() > max) out.push_back(too_long);
    else accept(seg, e < data.size(), out);
    pos = e + 1;
  }
  return out;
}

std::vector<Item> lines_reference(std::string_view data, std::size_t max) {
  return delimited_reference(
      data, [](unsigned char c) { return c == '\n'; }, max,
      err(codec::Errc::max_line_length_exceeded),
      [](std::string_view seg, bool complete, std::vector<Item>& out) {
        if (!complete && seg == "\r") return;  // (tokio-util: a lone "\r" at the end is nothing)
        if (!seg.empty() && seg.back() == '\r') seg.remove_suffix(1);
        if (fuzz::utf8_reference(seg)) out.push_back(std::string(seg));
        else out.push_back(err(std::errc::illegal_byte_sequence));
      });
}

void fuzz_lines(std::size_t max, const std::vector<std::size_t>& pieces, std::string_view data) {
  auto c = max == kUnlimited ? codec::LinesCodec() : codec::LinesCodec::new_with_max_length(max);
  const auto expected = lines_reference(data, max);
  const auto got = drive(c, data, pieces, max);
  FUZZ_CHECK(got == expected, "LinesCodec max " + std::to_string(max) + "\n  data " +
                                  fuzz::show(data) + "\n  expected " + show_items(expected) +
                                  "\n  got      " + show_items(got));
}

void fuzz_any_delimiter(std::size_t max, const std::vector<std::size_t>& pieces,
                        std::string_view data, std::string_view delims, std::string_view writer) {
  codec::AnyDelimiterCodec c(delims, writer, max);
  auto is_delim = [&](unsigned char ch) {
    return delims.find(static_cast<char>(ch)) != std::string_view::npos;
  };
  const auto expected =
      delimited_reference(data, is_delim, max, err(codec::Errc::max_chunk_length_exceeded),
                          [](std::string_view seg, bool complete, std::vector<Item>& out) {
                            if (complete || !seg.empty()) out.push_back(std::string(seg));
                          });
  const auto got = drive(c, data, pieces, max);
  FUZZ_CHECK(got == expected, "AnyDelimiterCodec " + fuzz::show(delims) + " max " +
                                  std::to_string(max) + "\n  data " + fuzz::show(data) +
                                  "\n  expected " + show_items(expected) + "\n  got      " +
                                  show_items(got));
  // The encoder writes the chunk and the writer sequence.
  BytesMut dst;
  (void)c.encode(data.substr(0, std::min<std::size_t>(data.size(), 16)), dst);
  FUZZ_CHECK(
      dst.as_string_view() ==
          std::string(data.substr(0, std::min<std::size_t>(data.size(), 16))) + std::string(writer),
      "AnyDelimiterCodec::encode wrote " + fuzz::show(dst.as_string_view()));
}

// --- LengthDelimitedCodec ----------------------------------------------------------------------

struct LdConfig {
  std::size_t offset = 0, width = 4, max = 64;
  std::ptrdiff_t adjust = 0;
  std::optional<std::size_t> skip;
  bool big = true;

  std::size_t num_skip() const { return skip ? *skip : offset + width; }
  // max as the encoder applies it: clipped to the largest length the field can announce,
  // adjusted (as current tokio-util's new_codec does). The decoder bounds the field by max.
  std::size_t eff_max() const {
    const uint64_t field_max = width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
    uint64_t allowed;
    if (adjust < 0) {
      const auto sub = static_cast<uint64_t>(-adjust);
      allowed = field_max > sub ? field_max - sub : 0;
    } else {
      const auto add = static_cast<uint64_t>(adjust);
      allowed = field_max > ~uint64_t{0} - add ? ~uint64_t{0} : field_max + add;
    }
    return allowed < max ? static_cast<std::size_t>(allowed) : max;
  }
  std::size_t head() const { return std::max(offset + width, num_skip()); }
  codec::LengthDelimitedCodec make() const {
    auto b = codec::LengthDelimitedCodec::builder();
    b.length_field_offset(offset).length_field_length(width).length_adjustment(adjust);
    b.max_frame_length(max);
    if (skip) b.num_skip(*skip);
    if (big) b.big_endian();
    else b.little_endian();
    return b.new_codec();
  }
  std::string describe() const {
    return "offset " + std::to_string(offset) + " width " + std::to_string(width) + " adjust " +
           std::to_string(adjust) + " skip " + (skip ? std::to_string(*skip) : "default") +
           (big ? " big" : " little") + " max " + std::to_string(max);
  }
};

// The frame length field + adjust, or nullopt when it is negative or past SIZE_MAX.
std::optional<uint64_t> adjusted(uint64_t field, std::ptrdiff_t adjust) {
  if (adjust < 0) {
    const auto sub = static_cast<uint64_t>(-adjust);
    if (field < sub) return std::nullopt;
    return field - sub;
  }
  const auto add = static_cast<uint64_t>(adjust);
  if (field > std::numeric_limits<uint64_t>::max() - add) return std::nullopt;
  if (field + add > std::numeric_limits<std::size_t>::max()) return std::nullopt;
  return field + add;
}

std::vector<Item> ld_reference(const LdConfig& c, std::string_view d) {
  std::vector<Item> out;
  std::size_t pos = 0;
  for (;;) {
    if (d.size() - pos < c.head()) {
      // A partial header at the end of the input.
      if (pos < d.size()) out.push_back(err(codec::Errc::bytes_remaining_on_stream));
      return out;
    }
    uint64_t field = 0;
    for (std::size_t i = 0; i < c.width; ++i) {
      const uint64_t b = static_cast<unsigned char>(d[pos + c.offset + i]);
      field |= b << (8 * (c.big ? c.width - 1 - i : i));
    }
    auto len = adjusted(field, c.adjust);
    // A frame that would consume nothing (num_skip 0, length 0) could be yielded forever:
    // it cannot be resynchronised past either. A field over max is that error first (as
    // tokio-util checks it first).
    const bool empty = len && *len == 0 && c.num_skip() == 0;
    if (!len || empty) {
      out.push_back(err(field > c.max ? codec::Errc::frame_too_large
                        : empty       ? codec::Errc::empty_frame_consumes_nothing
                                      : codec::Errc::invalid_frame_length));
      return out;
    }
    pos += c.num_skip();
    const std::size_t left = d.size() - pos;
    // The field as sent, before the adjustment, against max as set (tokio-util 0.7.3; the
    // clipped eff_max bounds only the encoder, so every frame it writes decodes).
    if (field > c.max) {
      out.push_back(err(codec::Errc::frame_too_large));
      pos += static_cast<std::size_t>(std::min<uint64_t>(*len, left));
      continue;
    }
    if (*len > left) {
      // A partial frame at the end of the input, even with none of its bytes.
      out.push_back(err(codec::Errc::bytes_remaining_on_stream));
      return out;
    }
    out.push_back(std::string(d.substr(pos, static_cast<std::size_t>(*len))));
    pos += static_cast<std::size_t>(*len);
  }
}

// What a decoder may hold buffered: a header, or a frame whose field is at most max and
// whose length is the field plus a positive adjustment.
std::size_t ld_bound(const LdConfig& c) {
  return std::max(c.head(),
                  c.max + static_cast<std::size_t>(std::max<std::ptrdiff_t>(c.adjust, 0)));
}

LdConfig pick_ld(FuzzedDataProvider& in, bool for_round_trip) {
  LdConfig c;
  c.width = in.ConsumeIntegralInRange<std::size_t>(1, 8);
  c.adjust = in.ConsumeIntegralInRange<std::ptrdiff_t>(-12, 12);
  c.big = in.ConsumeBool();
  c.max = in.ConsumeIntegralInRange<std::size_t>(0, 300);
  if (!for_round_trip) {
    c.offset = in.ConsumeIntegralInRange<std::size_t>(0, 3);
    if (in.ConsumeBool())
      c.skip = in.ConsumeIntegralInRange<std::size_t>(0, c.offset + c.width + 2);
  }
  return c;
}

void fuzz_length_delimited(const LdConfig& cfg, const std::vector<std::size_t>& pieces,
                           std::string_view data) {
  auto c = cfg.make();
  const auto expected = ld_reference(cfg, data);
  const auto got = drive(c, data, pieces, ld_bound(cfg));
  FUZZ_CHECK(got == expected, "LengthDelimitedCodec " + cfg.describe() + "\n  data " +
                                  fuzz::show(data) + "\n  expected " + show_items(expected) +
                                  "\n  got      " + show_items(got));
}

// Encode: a payload over max, or whose field (length - adjust) does not fit the width, is
// frame_too_large; a negative field is invalid_frame_length; a refused payload writes
// nothing. What was written decodes back to exactly the accepted payloads, except that a
// field over max (a payload within max plus a negative adjustment's header bytes) decodes
// as frame_too_large: encode bounds the payload (by max clipped) and decode the field (by
// max as set), as in tokio-util 0.7.3.
void fuzz_ld_round_trip(FuzzedDataProvider& in, const std::vector<std::size_t>& pieces) {
  const LdConfig cfg = pick_ld(in, true);
  auto c = cfg.make();
  BytesMut wire;
  std::vector<Item> accepted;  // what decoding must give back
  while (in.remaining_bytes() > 0 && accepted.size() < 64) {
    const std::string payload = in.ConsumeRandomLengthString(400);
    std::optional<std::error_code> want;
    if (payload.size() > cfg.eff_max()) {
      want = err(codec::Errc::frame_too_large);
    } else if (cfg.adjust > 0 && payload.size() < static_cast<std::size_t>(cfg.adjust)) {
      want = err(codec::Errc::invalid_frame_length);
    } else {
      const uint64_t field = payload.size() - static_cast<uint64_t>(cfg.adjust);
      if (cfg.width < 8 && field >= (uint64_t{1} << (8 * cfg.width)))
        want = err(codec::Errc::frame_too_large);
    }
    const std::size_t before = wire.len();
    auto r = c.encode(payload, wire);
    FUZZ_CHECK(r.has_value() == !want, "encode of " + std::to_string(payload.size()) + " bytes, " +
                                           cfg.describe() + ": " +
                                           (r ? "accepted" : r.error().message()));
    if (!r) {
      FUZZ_CHECK(r.error() == *want, "encode: " + r.error().message() + ", not " + want->message());
      FUZZ_CHECK(wire.len() == before, "a refused frame wrote bytes");
      continue;
    }
    FUZZ_CHECK(wire.len() == before + cfg.width + payload.size(), "encoded length");
    const uint64_t field = payload.size() - static_cast<uint64_t>(cfg.adjust);
    if (field > cfg.max) accepted.push_back(err(codec::Errc::frame_too_large));
    else accepted.push_back(payload);
  }
  auto d = cfg.make();
  const std::string bytes = wire.to_string();
  const auto got = drive(d, bytes, pieces, ld_bound(cfg));
  FUZZ_CHECK(got == accepted, "round trip, " + cfg.describe() + "\n  sent " + show_items(accepted) +
                                  "\n  got  " + show_items(got));
}

// LinesCodec: encode appends "\n"; decoding gives each line back, except that a final
// '\r' goes, a line over max is the length error and invalid UTF-8 is an error.
void fuzz_lines_round_trip(FuzzedDataProvider& in, const std::vector<std::size_t>& pieces) {
  const std::size_t max =
      in.ConsumeBool() ? kUnlimited : in.ConsumeIntegralInRange<std::size_t>(0, 40);
  auto c = max == kUnlimited ? codec::LinesCodec() : codec::LinesCodec::new_with_max_length(max);
  BytesMut wire;
  std::vector<Item> expected;
  while (in.remaining_bytes() > 0 && expected.size() < 64) {
    std::string line = in.ConsumeRandomLengthString(60);
    std::replace(line.begin(), line.end(), '\n', ' ');
    const std::size_t before = wire.len();
    FUZZ_CHECK(c.encode(line, wire).has_value(), "LinesCodec::encode failed");
    FUZZ_CHECK(wire.as_string_view().substr(before) == line + "\n",
               "LinesCodec::encode wrote " + fuzz::show(wire.as_string_view().substr(before)));
    if (line.size() > max) {
      expected.push_back(err(codec::Errc::max_line_length_exceeded));
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (fuzz::utf8_reference(line)) expected.push_back(line);
    else expected.push_back(err(std::errc::illegal_byte_sequence));
  }
  auto d = max == kUnlimited ? codec::LinesCodec() : codec::LinesCodec::new_with_max_length(max);
  const std::string bytes = wire.to_string();
  const auto got = drive(d, bytes, pieces, max);
  FUZZ_CHECK(got == expected, "lines round trip, max " + std::to_string(max) + "\n  sent " +
                                  show_items(expected) + "\n  got  " + show_items(got));
}

// --- BytesCodec ----------------------------------------------------------------------------

// Each decode hands out everything buffered: one frame per non-empty piece, the pieces.
void fuzz_bytes(const std::vector<std::size_t>& pieces, std::string_view data) {
  codec::BytesCodec c;
  std::vector<Item> expected;
  std::size_t pos = 0;
  for (std::size_t p : pieces) {
    if (pos == data.size()) break;
    const std::size_t k = std::min(p, data.size() - pos);
    if (k) expected.push_back(std::string(data.substr(pos, k)));
    pos += k;
  }
  if (pos < data.size()) expected.push_back(std::string(data.substr(pos)));
  const auto got = drive(c, data, pieces, 0);
  FUZZ_CHECK(got == expected,
             "BytesCodec\n  expected " + show_items(expected) + "\n  got      " + show_items(got));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const int which = in.ConsumeIntegralInRange(0, 5);
  // Piece sizes first (a count, then the sizes; 0 = decode with nothing new), so that the
  // data can take the rest of the input.
  std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(0, 32));
  for (auto& p : pieces) p = in.ConsumeIntegralInRange<std::size_t>(0, 24);
  switch (which) {
    case 0: {
      const std::size_t max = in.ConsumeIntegralInRange<std::size_t>(0, 48);
      fuzz_lines(max == 48 ? kUnlimited : max, pieces, in.ConsumeRemainingBytesAsString());
      break;
    }
    case 1: {
      const std::size_t max = in.ConsumeIntegralInRange<std::size_t>(0, 48);
      const std::string delims = in.ConsumeBytesAsString(in.ConsumeIntegralInRange(1, 3));
      const std::string writer = in.ConsumeBytesAsString(in.ConsumeIntegralInRange(0, 2));
      if (delims.empty()) {  // the input ran out: no delimiter is refused (invalid_argument)
        bool refused = false;
        try {
          codec::AnyDelimiterCodec c(delims, writer);
        } catch (const std::invalid_argument&) {
          refused = true;
        }
        FUZZ_CHECK(refused, "AnyDelimiterCodec with no delimiter was not refused");
        break;
      }
      fuzz_any_delimiter(max == 48 ? kUnlimited : max, pieces, in.ConsumeRemainingBytesAsString(),
                         delims, writer);
      break;
    }
    case 2: {
      const LdConfig cfg = pick_ld(in, false);
      fuzz_length_delimited(cfg, pieces, in.ConsumeRemainingBytesAsString());
      break;
    }
    case 3: fuzz_bytes(pieces, in.ConsumeRemainingBytesAsString()); break;
    case 4: fuzz_ld_round_trip(in, pieces); break;
    case 5: fuzz_lines_round_trip(in, pieces); break;
  }
  return 0;
}
