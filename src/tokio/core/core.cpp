// Non-template definitions for core/: the frame cache owner, spin-lock back-off, seeds.
#include <sched.h>

#include <chrono>
#include <random>
#include <thread>

#include "tokio/core/frame_alloc.hpp"
#include "tokio/core/sync_primitives.hpp"

namespace tokio::detail {

namespace {
// Owns the calling thread's FrameCache and returns its blocks when the thread exits.
struct FrameCacheOwner {
  FrameCache cache{};
  bool alive = true;
  ~FrameCacheOwner() {
    tls_frame_cache = nullptr;
    for (auto*& head : cache.head) {
      while (FreeBlock* b = head) {
        head = b->next;
        ::operator delete(b);
      }
    }
    alive = false;
  }
};
thread_local FrameCacheOwner tls_frame_cache_owner;
}  // namespace

FrameCache* frame_cache_create() {
  // A block freed during thread teardown, after the owner is gone, goes back to the heap.
  if (!tls_frame_cache_owner.alive) return nullptr;
  tls_frame_cache = &tls_frame_cache_owner.cache;
  return tls_frame_cache;
}

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
