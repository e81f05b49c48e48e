#pragma once
// FastRand: per-worker xorshift64* randomness (steal start positions, select() order).

#include <cstdint>

namespace tokio::detail {

// xorshift64* over the state `s` (never 0): the next 32 random bits.
inline uint32_t xorshift_next(uint64_t& s) noexcept {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return static_cast<uint32_t>((s * 0x2545F4914F6CDD1Dull) >> 32);
}
// Uniform-ish in [0, n) without division (Lemire's multiply-shift).
inline uint32_t xorshift_next_n(uint64_t& s, uint32_t n) noexcept {
  return static_cast<uint32_t>((static_cast<uint64_t>(xorshift_next(s)) * n) >> 32);
}

// Per-worker randomness for steal start positions.
class FastRand {
 public:
  explicit FastRand(uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept : s_(seed ? seed : 1) {}
  uint32_t next() noexcept { return xorshift_next(s_); }
  uint32_t next_n(uint32_t n) noexcept { return xorshift_next_n(s_, n); }

 private:
  uint64_t s_;
};

uint64_t random_seed() noexcept;

}  // namespace tokio::detail
