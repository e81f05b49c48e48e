// Non-template definitions for core/: spin-lock back-off, random seeds.
#include <sched.h>

#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "tokio/core/detail/sync_primitives.hpp"

namespace tokio::detail {

void SpinLock::yield_thread() noexcept { sched_yield(); }

uint64_t random_seed() noexcept {
  static std::atomic<uint64_t> counter{0};
  uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  uint64_t c = counter.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed);
  uint64_t x = t ^ c ^ reinterpret_cast<uintptr_t>(&c);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x ? x : 1;
}

}  // namespace tokio::detail
