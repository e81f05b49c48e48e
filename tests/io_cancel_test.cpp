// Cancellation at every suspension point: each operation runs against a reader or writer
// that answers "not ready" between tiny pieces, and is cancelled (by losing a biased
// select) after k polls, for every k until it completes. Afterwards the stream must be
// consistent: nothing duplicated, and nothing lost that the operation promises to keep.
#include <string>
#include <vector>

#include "io_mock.hpp"

using tokio::Task;
namespace io = tokio::io;
using iotest::MockReader;
using iotest::MockWriter;

namespace {

// Ready on its (k+1)-th poll; wakes itself meanwhile.
class ReadyAfter : public tokio::detail::Leaf<ReadyAfter> {
 public:
  explicit ReadyAfter(int k) : k_(k) {}
  bool poll(tokio::task::Context& cx) noexcept {
    if (k_-- <= 0) return true;
    cx.wake_by_ref();
    return false;
  }
  void await_resume() const noexcept {}

 private:
  int k_;
};

const std::string kData = "0123456789abcdefghijklmnopqrstuvwxyz";

// Runs op against the deadline; true when op finished first.
template <class Op>
Task<bool> race(Op op, int k) {
  auto r = co_await tokio::select_biased(std::move(op), ReadyAfter(k));
  co_return r.index() == 0;
}

}  // namespace

TEST_CASE("cancel read_exact at every point: the stream continues right after what it took") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      MockReader r(3);
      r.data(kData).pending_between();
      std::vector<std::byte> buf(20);
      bool done = co_await race(io::read_exact(r, buf), k);
      std::string rest;
      REQUIRE((co_await io::read_to_string(r, rest)).has_value());
      if (done) {
        CHECK(iotest::str(buf) == kData.substr(0, 20));
        CHECK(rest == kData.substr(20));
        break;
      }
      CHECK(kData.ends_with(rest));  // what the cancelled read took is gone, nothing else
      CHECK(std::string(iotest::str(buf)).substr(0, kData.size() - rest.size()) ==
            kData.substr(0, kData.size() - rest.size()));
    }
  }());
}

TEST_CASE("cancel read_to_end at every point: the container keeps exactly what was read") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      MockReader r(4);
      r.data(kData).pending_between();
      std::vector<std::byte> v = iotest::bytes("<");
      bool done = co_await race(io::read_to_end(r, v), k);
      if (!done) {
        std::string so_far = iotest::str(v);
        CHECK(("<" + kData).starts_with(so_far));  // no zero padding left behind
        REQUIRE((co_await io::read_to_end(r, v)).has_value());
      }
      CHECK(iotest::str(v) == "<" + kData);  // cancellation lost nothing
      if (done) break;
    }
  }());
}

// Past 256 KiB read_to_end stages its reads and appends them at the end: a cancellation
// there must still leave every byte read in the container, in order, with no padding.
TEST_CASE("cancel read_to_end past its staging threshold: the container keeps what was read") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::string big(1 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
    // 16 KiB a poll: k = 10 cancels before the threshold, the others past it.
    for (int k : {10, 30, 50}) {
      CAPTURE(k);
      MockReader r(16384);
      r.data(big).pending_between();
      std::string s = "<";
      REQUIRE_FALSE(co_await race(io::read_to_end(r, s), k));
      CHECK(s.size() > 1);
      CHECK(("<" + big).starts_with(s));
      REQUIRE((co_await io::read_to_end(r, s)).has_value());
      CHECK(s == "<" + big);
    }
  }());
}

TEST_CASE("cancel read_buf into a vector: its size never includes unread spare room") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader r(5);
    r.pending(3).data(kData);
    std::vector<std::byte> v;
    for (int k = 0; k < 3; ++k) {
      CHECK_FALSE(co_await race(io::read_buf(r, v), 0));
      CHECK(v.empty());
    }
    CHECK(*co_await io::read_buf(r, v) == 5);
    CHECK(v.size() == 5);
  }());
}

TEST_CASE("cancel BufReader reads and fill_buf at every point: cancel-safe, nothing lost") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    MockReader r(3);
    r.data(kData).pending_between();
    io::BufReader<MockReader&> br(r, 4);
    std::string got;
    int guard = 0;
    for (int k = 0; got.size() < kData.size(); k = (k + 1) % 3) {
      REQUIRE(++guard < 10000);
      std::vector<std::byte> b(2);
      auto op = br.read(b);
      auto res = co_await tokio::select_biased(std::move(op), ReadyAfter(k));
      if (res.index() == 0) got += iotest::str(std::span(b).first(std::get<0>(res).value()));
      if (k == 2) {
        auto fb = co_await tokio::select_biased(br.fill_buf(), ReadyAfter(0));
        (void)fb;
      }
    }
    CHECK(got == kData);
  }());
}

TEST_CASE("cancel write_all at every point: the writer holds a prefix, never a repeat") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      MockWriter w(3, 1);
      bool done = co_await race(io::write_all(w, kData), k);
      CHECK(kData.starts_with(w.text()));
      if (done) {
        CHECK(w.text() == kData);
        break;
      }
      // Resume from what was accepted: the result is whole.
      REQUIRE(
          (co_await io::write_all(w, std::string_view(kData).substr(w.out.size()))).has_value());
      CHECK(w.text() == kData);
    }
  }());
}

TEST_CASE("cancel BufWriter writes and flushes at every point: buffer + output = input") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0; k < 40; ++k) {
      MockWriter inner(3, 1);
      io::BufWriter<MockWriter&> bw(inner, 8);
      std::string accepted;
      for (std::size_t off = 0; off < kData.size(); off += 5) {
        auto piece = std::string_view(kData).substr(off, 5);
        auto res = co_await tokio::select_biased(io::write(bw, piece), ReadyAfter(k % 4));
        if (res.index() == 0) accepted += piece.substr(0, std::get<0>(res).value());
        CHECK(inner.text() + iotest::str(bw.buffer()) == accepted);
      }
      (void)co_await race(bw.flush(), k % 5);
      CHECK(inner.text() + iotest::str(bw.buffer()) == accepted);
      REQUIRE((co_await bw.flush()).has_value());
      CHECK(inner.text() == accepted);
    }
  }());
}

TEST_CASE("cancel copy at every point: the output is a prefix of the input") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      MockReader r(4);
      r.data(kData).pending_between();
      MockWriter w(3, 2);
      bool done = co_await race(io::copy(r, w), k);
      CHECK(kData.starts_with(w.text()));
      if (done) {
        CHECK(w.text() == kData);
        break;
      }
    }
  }());
}

TEST_CASE("cancel copy_bidirectional at every point: each output is a prefix of its input") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      iotest::MockStream a, b;
      a.r = MockReader(3);
      a.r.data(kData).pending_between();
      b.r = MockReader(5);
      b.r.data("reply from b").pending_between();
      a.w = MockWriter(2, 2);
      b.w = MockWriter(4, 3);
      bool done = co_await race(io::copy_bidirectional(a, b), k);
      CHECK(kData.starts_with(b.w.text()));
      CHECK(std::string("reply from b").starts_with(a.w.text()));
      if (done) {
        CHECK(b.w.text() == kData);
        CHECK(a.w.text() == "reply from b");
        CHECK(a.w.shutdowns == 1);
        CHECK(b.w.shutdowns == 1);
        break;
      }
    }
  }());
}

TEST_CASE("cancel read_line / read_until at every point: appended bytes are kept") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int k = 0;; ++k) {
      MockReader r(2);
      r.data("first line\nsecond\n").pending_between();
      io::BufReader<MockReader&> br(r, 3);
      std::string line;
      bool done = co_await race(io::read_line(br, line), k);
      if (!done) {
        CHECK(std::string("first line\n").starts_with(line));
        REQUIRE((co_await io::read_line(br, line)).has_value());  // completes the same line
      }
      CHECK(line == "first line\n");
      std::string next;
      REQUIRE((co_await io::read_line(br, next)).has_value());
      CHECK(next == "second\n");
      if (done) break;
    }
  }());
}

// A cancellation between two bytes of one character leaves the text ending inside it; the
// call that goes on checks that character whole (it failed with "stream did not contain
// valid UTF-8" and dropped what it read: found by a new-user hunt).
TEST_CASE("cancel read_line / read_to_string inside a UTF-8 character: the next call goes on") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    const std::string text =
        "a\xc3\xb1"
        "b\xe2\x82\xac"
        "c\xf0\x9f\x98\x80!\n";  // añb€c😀!
    for (int k = 0;; ++k) {
      CAPTURE(k);
      MockReader r(1);
      r.data(text + "second\n").pending_between();
      io::BufReader<MockReader&> br(r, 1);
      std::string line;
      bool done = co_await race(io::read_line(br, line), k);
      if (!done) {
        CHECK(text.starts_with(line));
        auto again = co_await io::read_line(br, line);
        REQUIRE(again.has_value());
      }
      CHECK(line == text);
      std::string next;
      REQUIRE((co_await io::read_line(br, next)).has_value());
      CHECK(next == "second\n");
      if (done) break;
    }
    for (int k = 0;; ++k) {
      CAPTURE(k);
      MockReader r(1);
      r.data(text).pending_between();
      std::string all;
      bool done = co_await race(io::read_to_string(r, all), k);
      if (!done) {
        CHECK(text.starts_with(all));
        REQUIRE((co_await io::read_to_string(r, all)).has_value());
      }
      CHECK(all == text);
      if (done) break;
    }
    {
      // What completes it must still be a continuation: "\xc3" (as a cancelled call
      // leaves it) then "(" is not UTF-8, and the text keeps what it held.
      MockReader r(1);
      r.data("(\n").pending_between();
      io::BufReader<MockReader&> br(r, 1);
      std::string line = "x\xc3";
      auto bad = co_await io::read_line(br, line);
      REQUIRE(!bad.has_value());
      CHECK(bad.error() == std::errc::illegal_byte_sequence);
      CHECK(line == "x\xc3");
    }
  }());
}

TEST_CASE("abort tasks blocked in every duplex / split operation, then reuse the streams") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(4);
    auto [ra, wa] = io::split(std::move(a));
    std::vector<tokio::JoinHandle<void>> hs;
    // A read waiting for data, a write waiting for room (the pipe is filled first).
    (void)co_await io::write_all(wa, "full");
    hs.push_back(tokio::spawn([](io::ReadHalf<io::DuplexStream>& r) -> Task<> {
      std::vector<std::byte> buf(8);
      (void)co_await r.read(buf);
    }(ra)));
    hs.push_back(tokio::spawn([](io::WriteHalf<io::DuplexStream>& w) -> Task<> {
      (void)co_await io::write_all(w, "blocked");
    }(wa)));
    for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
    for (auto& h : hs) h.abort();
    for (auto& h : hs) CHECK((co_await h.result()).error().is_cancelled());
    std::vector<std::byte> buf(4);
    CHECK(*co_await io::read_exact(b, buf) == 4);
    CHECK(iotest::str(buf) == "full");
    CHECK(*co_await io::write(b, "pong") == 4);
    CHECK(*co_await ra.read(buf) == 4);
    CHECK(iotest::str(buf) == "pong");
    CHECK(*co_await io::write(wa, "ok") == 2);
  }());
}
