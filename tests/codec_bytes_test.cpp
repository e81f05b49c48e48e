// BytesMut and Bytes: every operation against a std::string model on random sequences;
// split_to/advance cost (no copy of the remaining bytes per frame: the bytes moved by
// compaction stay below the bytes consumed); shared storage outliving its buffer; a
// buffer handing out everything it reads does not grow; references dropped on other
// threads.
#include <array>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using test::Rng;
using tokio::codec::Bytes;
using tokio::codec::BytesMut;

namespace {

std::string random_text(Rng& r, std::size_t n) {
  std::string s(n, ' ');
  for (auto& c : s) c = static_cast<char>('a' + r.below(26));
  return s;
}

}  // namespace

TEST_CASE("BytesMut matches a std::string model under random operations") {
  Rng rng(3);
  const std::size_t rounds = test::scaled(300);
  for (std::size_t round = 0; round < rounds; ++round) {
    BytesMut b = rng.below(2) ? BytesMut() : BytesMut::with_capacity(rng.below(200));
    std::string m;
    std::vector<std::pair<BytesMut, std::string>> pieces;  // split-off parts, checked at the end
    for (int step = 0; step < 80; ++step) {
      switch (rng.below(11)) {
        case 0:
        case 1: {
          std::string t = random_text(rng, rng.below(300));
          b.put(t);
          m += t;
          break;
        }
        case 2: {
          std::size_t at = rng.below(m.size() + 1);
          pieces.emplace_back(b.split_to(at), m.substr(0, at));
          m.erase(0, at);
          break;
        }
        case 3: {
          std::size_t at = rng.below(m.size() + 1);
          pieces.emplace_back(b.split_off(at), m.substr(at));
          m.resize(at);
          break;
        }
        case 4: {
          std::size_t n = rng.below(m.size() + 1);
          b.advance(n);
          m.erase(0, n);
          break;
        }
        case 5: {
          std::size_t n = rng.below(m.size() + 2);
          b.truncate(n);
          if (n < m.size()) m.resize(n);
          break;
        }
        case 6: {
          uint64_t v = rng.next();
          std::size_t w = 1 + rng.below(8);
          bool be = rng.below(2);
          if (be) b.put_uint(v, w);
          else b.put_uint_le(v, w);
          for (std::size_t i = 0; i < w; ++i) {
            std::size_t shift = 8 * (be ? w - 1 - i : i);
            m.push_back(static_cast<char>(static_cast<uint8_t>(v >> shift)));
          }
          CHECK(tokio::codec::get_uint(b.data() + b.len() - w, w, be) ==
                (w == 8 ? v : v & ((uint64_t{1} << (8 * w)) - 1)));
          break;
        }
        case 7: {
          std::size_t n = rng.below(500);
          b.reserve(n);
          CHECK(b.capacity() - b.len() >= n);
          break;
        }
        case 8: {
          pieces.emplace_back(b.split(), m);
          m.clear();
          break;
        }
        case 9: {
          std::size_t n = rng.below(m.size() + 50);
          b.resize(n, std::byte{'#'});
          m.resize(n, '#');
          break;
        }
        default: {
          // Writing into the spare capacity (as a read does).
          b.reserve(16);
          auto spare = b.spare_capacity_mut();
          std::size_t n = rng.below(spare.size() + 1);
          for (std::size_t i = 0; i < n; ++i) spare[i] = std::byte{'0'};
          b.advance_mut(n);
          m.append(n, '0');
          break;
        }
      }
      REQUIRE(b.as_string_view() == m);
      REQUIRE(b.len() == m.size());
      REQUIRE(b.capacity() >= b.len());
    }
    for (auto& [piece, want] : pieces) CHECK(piece.as_string_view() == want);
    // Copies are deep; freeze shares.
    BytesMut copy = b;
    copy.put("!");
    CHECK(b.as_string_view() == m);
    Bytes frozen = std::move(b).freeze();
    CHECK(frozen.as_string_view() == m);
    CHECK(b.is_empty());
  }
  CHECK_THROWS_AS(BytesMut("abc").split_to(4), std::out_of_range);
  CHECK_THROWS_AS(BytesMut("abc").advance(4), std::out_of_range);
  CHECK_THROWS_AS((void)BytesMut("abc")[3], std::out_of_range);
  CHECK_THROWS_AS(BytesMut().put_uint(1, 9), std::out_of_range);

  // split_off may reach into the spare capacity, as bytes' does: this keeps its bytes and
  // the room up to `at`, the result gets the rest of the room and no bytes.
  BytesMut roomy = BytesMut::with_capacity(64);
  roomy.put("abc");
  REQUIRE(roomy.capacity() >= 64);
  const std::size_t cap = roomy.capacity();
  BytesMut rest = roomy.split_off(10);
  CHECK(roomy.as_string_view() == "abc");
  CHECK(roomy.capacity() == 10);
  CHECK(rest.is_empty());
  CHECK(rest.capacity() == cap - 10);
  rest.put("xyz");  // its own room: the kept bytes are untouched
  roomy.put("1234567");
  CHECK(roomy.as_string_view() == "abc1234567");
  CHECK(rest.as_string_view() == "xyz");
  BytesMut exact = BytesMut::with_capacity(8);
  CHECK_THROWS_AS(exact.split_off(exact.capacity() + 1), std::out_of_range);
}

TEST_CASE("BytesMut: appending its own bytes, as std::string::append(s) allows") {
  // Full (len == capacity): the append grows into a new block and frees the old one,
  // which held the source bytes (a use after free before: ASan).
  BytesMut full(std::string(64, 'a'));
  full.reserve(0);
  full.extend_from_slice(full.as_span());
  CHECK(full.as_string_view() == std::string(128, 'a'));
  // A tail of its own bytes, several times over, with the front consumed (the growth may
  // move the bytes down the block instead).
  BytesMut b("0123456789");
  std::string model = "0123456789";
  for (int i = 0; i < 8; ++i) {
    b.advance(3);
    model.erase(0, 3);
    auto tail = b.as_span().subspan(b.len() / 2);
    model += model.substr(model.size() / 2);
    b.put(tail);
    REQUIRE(b.as_string_view() == model);
  }
}

TEST_CASE("BytesMut::unsplit: O(1) back together after split_off / split_to, else a copy") {
  BytesMut buf;
  buf.extend_from_slice("hello world");
  const std::byte* start = buf.data();
  BytesMut tail = buf.split_off(5);
  buf.unsplit(std::move(tail));
  CHECK(buf == "hello world");
  CHECK(buf.data() == start);  // the same storage: nothing copied
  BytesMut front = buf.split_to(6);
  front.unsplit(std::move(buf));
  CHECK(front == "hello world");
  CHECK(front.data() == start);
  // Not contiguous: the bytes are appended.
  BytesMut a, b;
  a.extend_from_slice("ab");
  b.extend_from_slice("cd");
  a.unsplit(std::move(b));
  CHECK(a == "abcd");
  // An empty buffer becomes the other one.
  BytesMut empty;
  BytesMut c;
  c.extend_from_slice("xyz");
  empty.unsplit(std::move(c));
  CHECK(empty == "xyz");
  // Writing after an O(1) unsplit stays within the buffer's own bytes.
  BytesMut w;
  w.reserve(64);
  w.extend_from_slice("0123456789");
  BytesMut w2 = w.split_off(4);
  w.unsplit(std::move(w2));
  w.extend_from_slice("abc");
  CHECK(w == "0123456789abc");
}

TEST_CASE("BytesMut: text goes in as its bytes (Rust's b\"...\" literals)") {
  BytesMut buf;
  buf.extend_from_slice("GET / HTTP/1.1\r\n");
  buf.extend_from_slice(std::string("Host: x\r\n"));
  std::string_view more = "\r\n";
  buf.extend_from_slice(more);
  std::array<std::byte, 2> raw{std::byte{0}, std::byte{'!'}};
  buf.extend_from_slice(raw);  // bytes still take the span overload
  REQUIRE(buf.len() == 16 + 9 + 2 + 2);
  CHECK(std::string(reinterpret_cast<const char*>(buf.data()), 27) ==
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(buf.data()[27] == std::byte{0});
  CHECK(buf.data()[28] == std::byte{'!'});
}

TEST_CASE("BytesMut / Bytes: slice parameters take any contiguous bytes, as Rust's &[u8]") {
  std::vector<uint8_t> v{1, 2, 3};
  std::array<unsigned char, 2> a{4, 5};
  BytesMut buf;
  buf.put_slice(v);
  buf.put_slice(a);
  buf.put_slice("xy");  // a literal's text, without the NUL
  buf.extend_from_slice(std::vector<char>{'z'});
  BytesMut other("!");
  buf.extend_from_slice(other);
  REQUIRE(buf.len() == 3 + 2 + 2 + 1 + 1);
  CHECK(std::string_view(buf) == std::string_view("\x01\x02\x03\x04\x05xyz!", 9));
  Bytes copy = Bytes::copy_from_slice(v);
  CHECK(copy.len() == 3);
  std::array<uint8_t, 4> out{};
  buf.copy_to_slice(out);  // the first four bytes, consumed
  CHECK(out == std::array<uint8_t, 4>{1, 2, 3, 4});
  std::string rest(2, '\0');
  buf.copy_to_slice(rest);
  CHECK(rest == std::string("\x05x", 2));
  CHECK(std::string_view(buf) == "yz!");
  std::vector<uint8_t> too_many(4);
  CHECK_THROWS_AS(buf.copy_to_slice(too_many), std::out_of_range);
  CHECK(std::string_view(buf) == "yz!");  // nothing consumed
}

TEST_CASE("Bytes::from copies text or bytes; both buffers convert to std::string_view") {
  std::string owned = "frame";
  Bytes a = Bytes::from(owned);
  owned[0] = 'X';  // a copy: the Bytes does not see later changes
  CHECK(std::string_view(a) == "frame");
  std::array<std::byte, 3> raw{std::byte{'a'}, std::byte{0}, std::byte{'b'}};
  Bytes b = Bytes::from(std::span<const std::byte>(raw));
  REQUIRE(b.len() == 3);
  CHECK(std::string_view(b) == std::string_view("a\0b", 3));
  CHECK(Bytes::from("").is_empty());
  BytesMut m("abc");
  CHECK(std::string_view(m) == "abc");
  Bytes frozen = std::move(m).freeze();
  CHECK(std::string_view(frozen) == "abc");
  // As a Rust user writes them: from a Vec<u8>, from a &[u8], resize with a number or b'x'.
  std::vector<uint8_t> v{'x', 0, 'y'};
  Bytes fv = Bytes::from(v);
  REQUIRE(fv.len() == 3);
  CHECK(std::string_view(fv) == std::string_view("x\0y", 3));
  BytesMut mv = BytesMut::from(std::span<const uint8_t>(v.data(), 2));
  CHECK(std::string_view(mv) == std::string_view("x\0", 2));
  mv.resize(4, 0);
  CHECK(std::string_view(mv) == std::string_view("x\0\0\0", 4));
  mv.resize(6, 'z');
  CHECK(std::string_view(mv).substr(4) == "zz");
  mv.resize(1, 'q');  // shrinking ignores the fill
  CHECK(std::string_view(mv) == "x");
  // zeroed, to_vec, is_unique, slice_ref, remaining_mut.
  BytesMut z = BytesMut::zeroed(3);
  CHECK(z.to_vec() == std::vector<std::byte>(3, std::byte{0}));
  CHECK(z.remaining_mut() == SIZE_MAX - 3);
  Bytes whole = Bytes::from("key=value");
  CHECK(whole.is_unique());
  Bytes other = whole;
  CHECK(!whole.is_unique());
  CHECK(!Bytes::from_static("static").is_unique());
  std::string_view view(whole);
  Bytes value = whole.slice_ref(view.substr(4));
  CHECK(std::string_view(value) == "value");
  CHECK(value.data() == whole.data() + 4);  // shared, not copied
  CHECK(whole.slice_ref(view.substr(0, 0)).is_empty());
  std::string elsewhere = "value";
  CHECK_THROWS_AS(whole.slice_ref(std::string_view(elsewhere)), std::out_of_range);
  CHECK(value.to_vec().size() == 5);
  // Every codec the library ships has decode_eof as a member (tokio-util's provided method).
  tokio::codec::BytesCodec bc;
  BytesMut rest("tail");
  auto last = bc.decode_eof(rest);
  REQUIRE(last.has_value());
  REQUIRE(last->has_value());
  CHECK(std::string_view(**last) == "tail");
  CHECK(!bc.decode_eof(rest)->has_value());  // nothing left: the end
}

TEST_CASE("BytesMut: cutting frames off the front never copies the rest (amortised compaction)") {
  // A read buffer receiving 1,000,000 bytes in reads of up to 8 KiB, with 37-byte frames
  // cut off its front and dropped at once: the bytes moved by compaction stay below the
  // bytes consumed, and the buffer never grows past a few KiB.
  BytesMut buf = BytesMut::with_capacity(8192);
  std::size_t total_in = 0, consumed = 0, moved = 0, max_cap_block = 0;
  Rng rng(7);
  while (total_in < 1000000) {
    const std::byte* before = buf.data();
    std::size_t len_before = buf.len();
    buf.reserve(1024);
    if (buf.data() != before && len_before > 0) moved += len_before;
    auto spare = buf.spare_capacity_mut();
    std::size_t n = 1 + rng.below(spare.size());
    for (std::size_t i = 0; i < n; ++i)
      spare[i] = std::byte(static_cast<unsigned char>(total_in + i));
    buf.advance_mut(n);
    total_in += n;
    while (buf.len() >= 37) {
      BytesMut frame = buf.split_to(37);
      CHECK(frame.len() == 37);
      consumed += 37;
    }
    max_cap_block = std::max(max_cap_block, buf.capacity());
  }
  CHECK(moved <= consumed);
  CHECK(moved < total_in / 100);  // only the few leftover bytes of each compaction
  CHECK(max_cap_block <= 16384);
}

TEST_CASE(
    "BytesMut: frames share storage and outlive the buffer; a fully handed-out buffer does not "
    "grow") {
  BytesMut buf = BytesMut::with_capacity(64);
  buf.put("hello world");
  const std::byte* p = buf.data();
  BytesMut hello = buf.split_to(5);
  CHECK(hello.data() == p);  // no copy
  CHECK(buf.as_string_view() == " world");
  Bytes frozen = std::move(hello).freeze();
  Bytes copy = frozen;
  CHECK(copy.data() == frozen.data());
  { BytesMut gone = std::move(buf); }
  CHECK(copy.as_string_view() == "hello");  // the block outlives the buffer (ASan checks)
  Bytes w = Bytes::from_static("static data");
  CHECK(w.slice(7, 11) == std::string_view("data"));
  Bytes tail = w.split_off(6);
  CHECK(w == std::string_view("static"));
  CHECK(tail == std::string_view(" data"));

  // Everything read is handed out (as BytesCodec does) and kept alive a while: the
  // buffer takes new blocks of the same size instead of doubling each time.
  BytesMut rd = BytesMut::with_capacity(4096);
  std::vector<BytesMut> kept;
  for (int i = 0; i < 1000; ++i) {
    rd.reserve(1000);
    rd.resize(rd.len() + 1000, std::byte{1});
    kept.push_back(rd.split());
    if (kept.size() > 8) kept.erase(kept.begin());
    CHECK(rd.capacity() <= 8192);
  }
}

TEST_CASE("Bytes: copies dropped on other threads release the block once") {
  const int threads = 4;
  const std::size_t per = test::scaled(20000);
  Bytes shared(std::string(1000, 'x'));
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&shared, &bad, per] {
      for (std::size_t i = 0; i < per; ++i) {
        Bytes c = shared;
        Bytes s = c.slice(1, 10);
        if (s.len() != 9 || s[0] != std::byte{'x'}) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(bad.load() == 0);
  CHECK(shared.len() == 1000);
}

namespace {

// One value of each width, put by BytesMut's put_ and read back by get_ of the same form.
template <class Buf>
void check_get_all(Buf buf, uint64_t u, int64_t s, std::size_t w, double f) {
  const auto su = static_cast<uint64_t>(s);
  CHECK(buf.get_u8() == static_cast<uint8_t>(u));
  CHECK(buf.get_i8() == static_cast<int8_t>(s));
  CHECK(buf.get_u16() == static_cast<uint16_t>(u));
  CHECK(buf.get_u16_le() == static_cast<uint16_t>(u));
  CHECK(buf.get_i16() == static_cast<int16_t>(su));
  CHECK(buf.get_i16_le() == static_cast<int16_t>(su));
  CHECK(buf.get_u32() == static_cast<uint32_t>(u));
  CHECK(buf.get_u32_le() == static_cast<uint32_t>(u));
  CHECK(buf.get_i32() == static_cast<int32_t>(su));
  CHECK(buf.get_i32_le() == static_cast<int32_t>(su));
  CHECK(buf.get_u64() == u);
  CHECK(buf.get_u64_le() == u);
  CHECK(buf.get_i64() == s);
  CHECK(buf.get_i64_le() == s);
  CHECK(buf.get_f32() == static_cast<float>(f));
  CHECK(buf.get_f32_le() == static_cast<float>(f));
  CHECK(buf.get_f64() == f);
  CHECK(buf.get_f64_le() == f);
  const uint64_t mask = w == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * w)) - 1;
  CHECK(buf.get_uint(w) == (u & mask));
  CHECK(buf.get_uint_le(w) == (u & mask));
  // get_int sign-extends the w-byte field: the model keeps the low 8w bits of s.
  const unsigned shift = static_cast<unsigned>(64 - 8 * w);
  const int64_t low = static_cast<int64_t>(su << shift) >> shift;
  CHECK(buf.get_int(w) == low);
  CHECK(buf.get_int_le(w) == low);
  CHECK(buf.remaining() == 3);
  CHECK(buf.has_remaining());
  auto tail = buf.copy_to_bytes(2);
  CHECK(tail == std::string_view("xy"));
  std::array<std::byte, 1> last{};
  buf.copy_to_slice(last);
  CHECK(last[0] == std::byte{'z'});
  CHECK_FALSE(buf.has_remaining());
}

}  // namespace

TEST_CASE("BytesMut / Bytes: put_ and get_ round-trip every integer and float form") {
  Rng rng(11);
  for (std::size_t round = 0; round < test::scaled(200); ++round) {
    const uint64_t u = (uint64_t{rng.below(1u << 31)} << 33) ^ rng.below(1u << 31);
    const int64_t s = round % 2 ? -static_cast<int64_t>(u >> 1) : static_cast<int64_t>(u >> 1);
    const std::size_t w = 1 + round % 8;
    const double f = static_cast<double>(static_cast<int32_t>(u)) / 8.0;
    BytesMut buf;
    buf.put_u8(static_cast<uint8_t>(u));
    buf.put_i8(static_cast<int8_t>(s));
    buf.put_u16(static_cast<uint16_t>(u));
    buf.put_u16_le(static_cast<uint16_t>(u));
    buf.put_i16(static_cast<int16_t>(s));
    buf.put_i16_le(static_cast<int16_t>(s));
    buf.put_u32(static_cast<uint32_t>(u));
    buf.put_u32_le(static_cast<uint32_t>(u));
    buf.put_i32(static_cast<int32_t>(s));
    buf.put_i32_le(static_cast<int32_t>(s));
    buf.put_u64(u);
    buf.put_u64_le(u);
    buf.put_i64(s);
    buf.put_i64_le(s);
    buf.put_f32(static_cast<float>(f));
    buf.put_f32_le(static_cast<float>(f));
    buf.put_f64(f);
    buf.put_f64_le(f);
    buf.put_uint(u, w);
    buf.put_uint_le(u, w);
    buf.put_int(s, w);
    buf.put_int_le(s, w);
    buf.put("xyz");
    check_get_all(BytesMut(buf), u, s, w, f);
    check_get_all(std::move(buf).freeze(), u, s, w, f);
  }
}

TEST_CASE("BytesMut / Bytes: byte order is the wire's, short reads throw and consume nothing") {
  BytesMut buf;
  buf.put_u32(0x01020304);
  buf.put_u16_le(0x0506);
  buf.put_bytes(0xAB, 3);
  CHECK(buf.len() == 9);
  CHECK(buf[0] == std::byte{1});
  CHECK(buf[3] == std::byte{4});
  CHECK(buf[4] == std::byte{6});
  CHECK(buf[5] == std::byte{5});
  CHECK(buf[8] == std::byte{0xAB});
  CHECK(buf.chunk().size() == 9);
  CHECK(buf.get_u32() == 0x01020304);
  CHECK(buf.get_u16() == 0x0605);  // read back in the other order: the bytes are the wire's
  CHECK(buf.remaining() == 3);
  // Too few bytes: an error naming the call and the counts; nothing consumed.
  try {
    (void)buf.get_u32();
    FAIL("get_u32 on 3 bytes did not throw");
  } catch (const std::out_of_range& e) {
    CHECK(std::string(e.what()).find("get_u32 needs 4 bytes but the buffer holds 3") !=
          std::string::npos);
  }
  CHECK(buf.remaining() == 3);
  CHECK_THROWS_AS((void)buf.copy_to_bytes(4), std::out_of_range);
  CHECK_THROWS_AS((void)buf.get_uint(9), std::out_of_range);
  CHECK_THROWS_AS(buf.put_int(1, 9), std::out_of_range);
  // Width 0, as in bytes: nothing read or written, the value 0.
  CHECK(buf.get_uint(0) == 0);
  CHECK(buf.get_int_le(0) == 0);
  buf.put_uint(0xFF, 0);
  buf.put_int_le(-1, 0);
  CHECK(buf.remaining() == 3);
  Bytes empty;
  CHECK_THROWS_AS((void)empty.get_u8(), std::out_of_range);
  CHECK_FALSE(empty.has_remaining());
  // copy_to_bytes shares the storage (no copy): the Bytes points into the buffer's block.
  BytesMut big;
  big.put("0123456789");
  const std::byte* at = big.data();
  Bytes head = big.copy_to_bytes(4);
  CHECK(head.data() == at);
  CHECK(head == std::string_view("0123"));
  CHECK(big == std::string_view("456789"));
}
