// LinesCodec and AnyDelimiterCodec against a model: random lines (some too long, some
// ending in "\r", some not UTF-8, a last one without a newline), the input split at every
// byte boundary and fed to the codec directly, then through FramedRead one byte per
// read with "not ready" answers in between. Plus: memory stays bounded under an endless
// line, recovery after an overlong line (tokio-util's pause: the error, one nullopt, then
// next() goes on), encoding.
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "io_mock.hpp"

namespace codec = tokio::codec;
using codec::BytesMut;
using test::Rng;
using tokio::Task;

namespace {

// An event: a frame (as text) or an error.
using Event = std::variant<std::string, std::error_code>;

std::string show(const std::vector<Event>& ev) {
  std::string s;
  for (auto& e : ev) {
    if (auto* t = std::get_if<std::string>(&e)) s += "[" + *t + "]";
    else s += "<" + std::get<std::error_code>(e).message() + ">";
  }
  return s;
}

bool utf8_ok(const std::string& s) {
  return tokio::detail::utf8_valid(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// The model of LinesCodec(max) over `input` followed by the end of the stream.
std::vector<Event> lines_model(const std::string& input, std::size_t max) {
  std::vector<Event> ev;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t nl = input.find('\n', pos);
    bool last = nl == std::string::npos;
    std::string line = input.substr(pos, last ? std::string::npos : nl - pos);
    pos = last ? input.size() : nl + 1;
    if (line.size() > max) {
      ev.emplace_back(make_error_code(codec::Errc::max_line_length_exceeded));
      continue;
    }
    if (last && (line.empty() || line == "\r")) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!utf8_ok(line)) {
      ev.emplace_back(tokio::detail::invalid_utf8());
      if (last) break;  // an error at the end of the input ends the stream
      continue;
    }
    ev.emplace_back(line);
  }
  return ev;
}

// The model of AnyDelimiterCodec(delims, max).
std::vector<Event> chunks_model(const std::string& input, const std::string& delims,
                                std::size_t max) {
  std::vector<Event> ev;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t d = input.find_first_of(delims, pos);
    bool last = d == std::string::npos;
    std::string chunk = input.substr(pos, last ? std::string::npos : d - pos);
    pos = last ? input.size() : d + 1;
    if (chunk.size() > max) {
      ev.emplace_back(make_error_code(codec::Errc::max_chunk_length_exceeded));
      continue;
    }
    if (last && chunk.empty()) break;
    ev.emplace_back(chunk);
  }
  return ev;
}

std::string random_lines(Rng& r, std::size_t max, const std::string& seps) {
  std::string s;
  std::size_t n = r.below(12);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t len = r.below(max + max / 2 + 3);
    for (std::size_t k = 0; k < len; ++k) s.push_back(static_cast<char>('a' + r.below(26)));
    if (r.chance(15) && !s.empty()) s.back() = '\r';
    if (r.chance(5)) s.push_back('\xff');
    if (i + 1 < n || r.chance(50)) s.push_back(seps[r.below(seps.size())]);
  }
  return s;
}

template <class C>
std::string frame_text(const C& f) {
  if constexpr (std::is_same_v<C, std::string>) return f;
  else return f.to_string();
}

// Feeds `input` to a fresh codec in two pieces split at `k`, then ends it, decoding as a
// FramedRead would once resumed after each pause (go on after an error that consumed
// input, stop after an EOF error).
template <class Codec>
std::vector<Event> decode_split(Codec codec, const std::string& input, std::size_t k) {
  std::vector<Event> ev;
  BytesMut buf;
  auto drain = [&] {
    for (;;) {
      std::size_t before = buf.len();
      auto r = codec.decode(buf);
      if (!r) {
        ev.emplace_back(r.error());
        REQUIRE(buf.len() < before);  // these codecs always skip the bad bytes
        continue;
      }
      if (!*r) return;
      ev.emplace_back(frame_text(**r));
    }
  };
  buf.put(std::string_view(input).substr(0, k));
  drain();
  buf.put(std::string_view(input).substr(k));
  drain();
  for (;;) {
    auto r = codec.decode_eof(buf);
    if (!r) {
      ev.emplace_back(r.error());
      break;
    }
    if (!*r) break;
    ev.emplace_back(frame_text(**r));
  }
  return ev;
}

// The same input through a FramedRead reading one byte at a time, "not ready" between.
// Every error must be followed by the pause (one nullopt), after which next() goes on.
template <class Codec>
Task<std::vector<Event>> decode_framed(Codec codec, std::string input) {
  iotest::MockReader r(1);
  r.pending_between();
  if (!input.empty()) r.data(input);  // (MockReader wants non-empty steps)
  codec::FramedRead fr(r, std::move(codec));
  std::vector<Event> ev;
  for (;;) {
    auto item = co_await fr.next();
    if (!item) break;
    if (*item) {
      ev.emplace_back(frame_text(**item));
      continue;
    }
    ev.emplace_back(item->error());
    auto pause = co_await fr.next();
    CHECK_MESSAGE(!pause.has_value(), "no pause after an error, input '" << input << "'");
    if (pause && *pause) ev.emplace_back(frame_text(**pause));
    if (pause && !*pause) ev.emplace_back(pause->error());
  }
  co_return ev;
}

}  // namespace

TEST_CASE("LinesCodec matches its model with the input split at every byte boundary") {
  Rng rng(17);
  const std::size_t rounds = test::scaled(150);
  for (std::size_t round = 0; round < rounds; ++round) {
    std::size_t max = rng.chance(20) ? SIZE_MAX : 1 + rng.below(20);
    std::string input = random_lines(rng, max == SIZE_MAX ? 20 : max, "\n");
    auto want = lines_model(input, max);
    for (std::size_t k = 0; k <= input.size(); ++k) {
      auto codec =
          max == SIZE_MAX ? codec::LinesCodec() : codec::LinesCodec::new_with_max_length(max);
      auto got = decode_split(codec, input, k);
      REQUIRE_MESSAGE(show(got) == show(want),
                      "max " << max << " split at " << k << " input '" << input << "'");
    }
  }
}

TEST_CASE("AnyDelimiterCodec matches its model with the input split at every byte boundary") {
  Rng rng(19);
  const std::size_t rounds = test::scaled(150);
  for (std::size_t round = 0; round < rounds; ++round) {
    std::size_t max = 1 + rng.below(20);
    std::string input = random_lines(rng, max, ",;\n");
    auto want = chunks_model(input, ",;\n", max);
    for (std::size_t k = 0; k <= input.size(); ++k) {
      auto got = decode_split(codec::AnyDelimiterCodec(",;\n", "|", max), input, k);
      REQUIRE_MESSAGE(show(got) == show(want), "split at " << k << " input '" << input << "'");
    }
  }
}

TEST_CASE(
    "LinesCodec and AnyDelimiterCodec through FramedRead, one byte per read, match the models") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    Rng rng(23);
    const std::size_t rounds = test::scaled(100);
    for (std::size_t round = 0; round < rounds; ++round) {
      std::size_t max = 1 + rng.below(20);
      std::string input = random_lines(rng, max, "\n");
      auto got = co_await decode_framed(codec::LinesCodec::new_with_max_length(max), input);
      CHECK(show(got) == show(lines_model(input, max)));
      std::string input2 = random_lines(rng, max, ",;");
      auto got2 = co_await decode_framed(codec::AnyDelimiterCodec(",;", ";", max), input2);
      CHECK(show(got2) == show(chunks_model(input2, ",;", max)));
    }
  }());
}

TEST_CASE(
    "LinesCodec: an endless line keeps memory bounded, is reported once, and the next line "
    "decodes") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    // 4 MiB without a newline in 64 KiB reads, then a newline and a good line.
    iotest::MockReader r;
    std::string block(64 * 1024, 'x');
    for (int i = 0; i < 64; ++i) r.data(block);
    r.data("\nnext line\n");
    codec::FramedRead fr(r, codec::LinesCodec::new_with_max_length(1024));
    std::size_t max_cap = 0;
    std::vector<Event> ev;
    std::size_t pauses = 0;
    for (;;) {
      auto item = co_await fr.next();
      max_cap = std::max(max_cap, fr.read_buffer().capacity());
      if (!item) {
        // The pause right after the error: next() again resumes (the rest of the long
        // line is dropped as it arrives).
        if (ev.size() == 1 && pauses++ == 0) continue;
        break;
      }
      if (*item) ev.emplace_back(**item);
      else ev.emplace_back(item->error());
    }
    CHECK(pauses == 1);
    REQUIRE(ev.size() == 2);
    CHECK(std::get<std::error_code>(ev[0]) == codec::Errc::max_line_length_exceeded);
    CHECK(std::get<std::string>(ev[1]) == "next line");
    CHECK(max_cap <= 64 * 1024);  // one read's worth, never the 4 MiB line
  }());
}

TEST_CASE(
    "FramedRead + LinesCodec after a decode error: the error, one nullopt (a while loop ends "
    "there), then next() resumes with the next line") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    const std::string input = "ok1\n" + std::string(20, 'x') + "\nok2\n\xff\nok3\n";
    const std::string too_long =
        "<" + make_error_code(codec::Errc::max_line_length_exceeded).message() + ">";
    const std::string bad_utf8 = "<" + tokio::detail::invalid_utf8().message() + ">";
    auto show = [](const std::string& l) { return l; };
    {
      // One byte per read ("not ready" between): each resume finds input to read.
      iotest::MockReader r(1);
      r.pending_between();
      r.data(input);
      codec::FramedRead fr(r, codec::LinesCodec::new_with_max_length(8));
      auto got = co_await iotest::collect_frames(fr, show);
      CHECK(got == std::vector<std::string>{"ok1", too_long, "(pause)", "ok2", bad_utf8, "(pause)",
                                            "ok3"});
    }
    {
      // Everything in one read: each resume decodes what is buffered, and what is left
      // when the end of the input is met goes to decode_eof, where an error that consumed
      // input pauses too; the items are the same as above (tokio-util resumes by reading,
      // meets the end there, and ends the stream at the error that follows, never
      // reaching "ok3").
      iotest::MockReader r;
      r.data(input);
      codec::FramedRead fr(r, codec::LinesCodec::new_with_max_length(8));
      auto got = co_await iotest::collect_frames(fr, show);
      CHECK(got == std::vector<std::string>{"ok1", too_long, "(pause)", "ok2", bad_utf8, "(pause)",
                                            "ok3"});
    }
    {
      // A loop that stops at nullopt stops at the pause (Rust's `while let Some(x) =
      // lines.next().await`; tokio's tinydb example closes the connection there).
      iotest::MockReader r;
      r.data(input);
      codec::FramedRead fr(r, codec::LinesCodec::new_with_max_length(8));
      std::vector<std::string> seen;
      while (auto item = co_await fr.next()) seen.push_back(*item ? **item : "<error>");
      CHECK(seen == std::vector<std::string>{"ok1", "<error>"});
    }
  }());
}

TEST_CASE("LinesCodec / AnyDelimiterCodec encode; a FramedWrite round trip") {
  BytesMut dst;
  codec::LinesCodec lc;
  CHECK(lc.encode("one", dst).has_value());
  CHECK(lc.encode(std::string("two"), dst).has_value());
  CHECK(dst.as_string_view() == "one\ntwo\n");
  codec::AnyDelimiterCodec ad(",", ";;");
  BytesMut d2;
  CHECK(ad.encode("a", d2).has_value());
  CHECK(ad.encode(codec::Bytes::from_static("b"), d2).has_value());
  CHECK(d2.as_string_view() == "a;;b;;");
  static_assert(codec::Encoder<codec::LinesCodec, std::string>);
  static_assert(codec::Encoder<codec::LinesCodec, const char*>);
  static_assert(codec::Decoder<codec::LinesCodec>);
  static_assert(std::is_same_v<codec::decoder_item_t<codec::AnyDelimiterCodec>, codec::Bytes>);

  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    iotest::MockWriter w(3, 2);  // 3 bytes per write, "not ready" every 2nd op
    codec::FramedWrite fw(w, codec::LinesCodec());
    for (int i = 0; i < 50; ++i) {
      auto r = co_await fw.feed(std::to_string(i));
      CHECK(r.has_value());
    }
    CHECK((co_await fw.close()).has_value());
    std::string want;
    for (int i = 0; i < 50; ++i) want += std::to_string(i) + "\n";
    CHECK(w.text() == want);
    CHECK(w.shutdowns == 1);
  }());
}

// No delimiter to seek never ends a chunk (decode would buffer the whole input): refused.
// The C++ trap behind it is a NUL delimiter written "\0", an empty string_view.
TEST_CASE("AnyDelimiterCodec with no delimiter is refused; a NUL delimiter works") {
  CHECK_THROWS_AS(codec::AnyDelimiterCodec("\0", "\0"), std::invalid_argument);
  CHECK_THROWS_AS(codec::AnyDelimiterCodec::new_("", ","), std::invalid_argument);
  codec::AnyDelimiterCodec c(std::string_view("\0", 1), std::string_view("\0", 1));
  auto buf = codec::BytesMut::from(std::string_view("ab\0cd\0", 6));
  auto a = c.decode(buf);
  REQUIRE((a && *a));
  CHECK(std::string_view(**a) == "ab");
  auto b = c.decode(buf);
  REQUIRE((b && *b));
  CHECK(std::string_view(**b) == "cd");
}
