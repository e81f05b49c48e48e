// Non-template definitions for core/: spin-lock back-off, random seeds, misuse errors.
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/rand.hpp"
#include "tokio/core/detail/spin_lock.hpp"

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

void throw_misuse(const char* msg) { throw std::logic_error(std::string("tokio: ") + msg); }

void throw_not_in_task(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         " outside a tokio task: await it inside a coroutine that runs on a "
                         "runtime (Runtime::block_on, tokio::spawn)");
}

}  // namespace tokio::detail
