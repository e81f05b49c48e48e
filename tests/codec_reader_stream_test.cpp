// codec::ReaderStream (an AsyncRead as a stream of Bytes) and codec::StreamReader (a stream
// of Result<Bytes> chunks as an AsyncBufRead): contents against the input whatever the
// chunking (empty chunks, reads of every size, "not ready" steps), errors as items / read
// results, and reads destroyed while waiting for a chunk losing nothing.
#include <string>
#include <vector>

#include "io_mock.hpp"

namespace rs_test {
namespace codec = tokio::codec;
namespace st = tokio::stream;
namespace tio = tokio::io;
using iotest::MockReader;
using tokio::Task;
using ChunkResults = std::vector<tio::Result<codec::Bytes>>;

std::string rs_text(test::Rng& rng, std::size_t n) {
  std::string s(n, ' ');
  for (char& c : s) c = static_cast<char>('a' + rng.below(26));
  return s;
}

// Splits `text` at random points into chunks (some empty).
ChunkResults random_chunks(const std::string& text, test::Rng& rng) {
  ChunkResults out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t n = rng.below(6);  // 0: an empty chunk
    n = n > text.size() - i ? text.size() - i : n;
    out.push_back(codec::Bytes::from(std::string_view(text).substr(i, n)));
    i += n;
  }
  return out;
}
}  // namespace rs_test

TEST_CASE("ReaderStream: the chunks add up to the input; an error is one item, then the end") {
  using namespace rs_test;
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    test::Rng rng(7);
    for (int round = 0; round < 50; ++round) {
      std::string text = rs_text(rng, rng.below(200));
      // Odd rounds: reads as large as asked, so the capacity alone bounds the chunks
      // (tokio-util's: at most `capacity` bytes each, below the buffer's 64-byte blocks too).
      MockReader m(round % 2 ? SIZE_MAX : 1 + rng.below(9));
      m.data(text).pending_between();
      std::size_t cap = 1 + rng.below(round % 2 ? 100 : 16);
      auto chunks = codec::ReaderStream<MockReader>::with_capacity(std::move(m), cap);
      std::string got;
      while (auto c = co_await chunks.next()) {
        REQUIRE(c->has_value());
        CHECK((*c)->len() > 0);  // the end is the end of the stream, not an empty chunk
        CHECK((*c)->len() <= cap);
        got += std::string_view(**c);
      }
      CHECK(got == text);
    }
    MockReader none;
    CHECK_THROWS_AS(codec::ReaderStream<MockReader>::with_capacity(std::move(none), 0),
                    std::invalid_argument);
    MockReader failing;
    failing.data("abc").error(std::errc::connection_reset).data("never read");
    codec::ReaderStream chunks(std::move(failing));
    auto first = co_await chunks.next();
    REQUIRE((first && *first));
    CHECK(std::string_view(**first) == "abc");
    auto err = co_await chunks.next();
    REQUIRE((err && !*err));
    CHECK(err->error() == std::errc::connection_reset);
    CHECK_FALSE((co_await chunks.next()).has_value());
  }());
}

TEST_CASE("StreamReader: reads of every size and fill_buf/consume give back the chunks' bytes") {
  using namespace rs_test;
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    test::Rng rng(11);
    for (int round = 0; round < 100; ++round) {
      std::string text = rs_text(rng, rng.below(120));
      codec::StreamReader r(st::iter(random_chunks(text, rng)));
      std::string got;
      for (;;) {
        if (rng.below(2)) {
          std::vector<std::byte> buf(1 + rng.below(8));
          auto n = co_await r.read(buf);
          REQUIRE(n.has_value());
          if (*n == 0) break;
          got += iotest::str(std::span(buf).first(*n));
        } else {
          auto avail = co_await r.fill_buf();
          REQUIRE(avail.has_value());
          if (avail->empty()) break;
          std::size_t take = 1 + rng.below(avail->size());
          got += iotest::str(avail->first(take));
          r.consume(take);
        }
      }
      CHECK(got == text);
      auto lines_in = codec::StreamReader(st::iter(random_chunks(text + "\nlast", rng)));
      std::string all;
      auto res = co_await tio::read_to_string(lines_in, all);
      REQUIRE(res.has_value());
      CHECK(all == text + "\nlast");
    }
    // An empty buffer reads 0 without waiting; an error item fails one read, then the
    // stream goes on.
    ChunkResults items;
    items.push_back(codec::Bytes::from(std::string_view("ab")));
    items.push_back(tokio::unexpected(std::make_error_code(std::errc::connection_reset)));
    items.push_back(codec::Bytes::from(std::string_view("cd")));
    codec::StreamReader r(st::iter(std::move(items)));
    std::vector<std::byte> none;
    CHECK(*(co_await r.read(none)) == 0);
    std::vector<std::byte> buf(8);
    CHECK(*(co_await r.read(buf)) == 2);
    auto failed = co_await r.read(buf);
    REQUIRE_FALSE(failed.has_value());
    CHECK(failed.error() == std::errc::connection_reset);
    // Any byte buffer, as every reader takes (io::MutableBuffer): here chars.
    std::vector<char> chars(8);
    auto after = co_await r.read(chars);
    REQUIRE(after.has_value());
    CHECK(std::string(chars.data(), *after) == "cd");
    CHECK(*(co_await r.read(buf)) == 0);  // the end
  }());
}

TEST_CASE("StreamReader: a read destroyed while waiting for a chunk loses nothing") {
  using namespace rs_test;
  auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tokio::sync::mpsc::channel<tio::Result<codec::BytesMut>>(4);
    codec::StreamReader r(st::wrappers::ReceiverStream(std::move(rx)));
    std::vector<std::byte> buf(16);
    auto lost = co_await tokio::time::timeout(std::chrono::milliseconds(5), r.read(buf));
    CHECK_FALSE(lost.has_value());  // nothing sent yet: the read was cancelled
    REQUIRE((co_await tx.send(codec::BytesMut::from(std::string_view("hello")))).has_value());
    auto n = co_await r.read(std::span(buf).first(2));
    REQUIRE(n.has_value());
    CHECK(iotest::str(std::span(buf).first(*n)) == "he");
    auto lost2 = co_await tokio::time::timeout(std::chrono::milliseconds(0), r.fill_buf());
    REQUIRE(lost2.has_value());  // the rest of the chunk is there at once
    CHECK(iotest::str(**lost2) == "llo");
    { auto drop = std::move(tx); }
    std::string rest;
    REQUIRE((co_await tio::read_to_string(r, rest)).has_value());
    CHECK(rest == "llo");
  }());
}
