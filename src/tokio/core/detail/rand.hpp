#pragma once
// FastRand: per-worker xorshift64* randomness (steal start positions, select() order).

#include <cstdint>

namespace tokio::detail {

// xorshift64*: per-worker randomness for steal start positions and select() order.
class FastRand {
 public:
  explicit FastRand(uint64_t seed = 0x9E3779B97F4A7C15ull) noexcept : s_(seed ? seed : 1) {}
  uint32_t next() noexcept {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return static_cast<uint32_t>((s_ * 0x2545F4914F6CDD1Dull) >> 32);
  }
  // Uniform-ish in [0, n) without division (Lemire's multiply-shift).
  uint32_t next_n(uint32_t n) noexcept {
    return static_cast<uint32_t>((static_cast<uint64_t>(next()) * n) >> 32);
  }

 private:
  uint64_t s_;
};

uint64_t random_seed() noexcept;

}  // namespace tokio::detail
