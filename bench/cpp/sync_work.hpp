#pragma once
// do_work() of Tokio's sync_broadcast.rs / sync_watch.rs: format ten random f64 into a
// string and sum its bytes. The Rust twins use the same xorshift64* generator (instead of
// rand's StdRng) and Rust's `{}` prints the shortest round-trip fixed notation, which is
// what std::to_chars(..., chars_format::fixed) produces, so both sides do the same work.
#include <charconv>
#include <cstdint>
#include <string>

namespace bench {

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  double f64() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    uint64_t x = s * 0x2545F4914F6CDD1Dull;
    return static_cast<double>(x >> 11) * (1.0 / static_cast<double>(1ull << 53));
  }
};

inline uint32_t do_work(Rng& rng) {
  std::string message;
  char buf[64];
  for (int i = 1; i <= 10; ++i) {
    message += ' ';
    message += std::to_string(i);
    message += '=';
    auto r = std::to_chars(buf, buf + sizeof buf, rng.f64(), std::chars_format::fixed);
    message.append(buf, r.ptr);
  }
  uint32_t sum = 0;
  for (unsigned char c : message) sum += c;
  return sum;
}

}  // namespace bench
