// Non-template definitions for core/: the frame cache owner, spin-lock back-off, seeds.
#include <sched.h>

#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "tokio/core/frame_alloc.hpp"
#include "tokio/core/sync_primitives.hpp"

namespace tokio::detail {

namespace {

// Orphaned caches (their thread exited), waiting to be adopted by a new thread.
SpinLock g_orphans_lock;
FrameCache* g_orphans = nullptr;

// Orphans the calling thread's cache when the thread exits. Blocks still in it (and blocks
// freed into it later) are reused by whichever thread adopts it.
struct FrameCacheOwner {
  FrameCache* cache = nullptr;
  ~FrameCacheOwner() {
    if (!cache) return;
    tls_frame_cache = nullptr;
    std::lock_guard<SpinLock> g(g_orphans_lock);
    cache->next_orphan = g_orphans;
    g_orphans = cache;
  }
};
thread_local FrameCacheOwner tls_frame_cache_owner;

void drain_remote(FrameCache* c) noexcept {
  FreeBlock* b = c->remote.exchange(nullptr, std::memory_order_acquire);
  while (b) {
    FreeBlock* next = b->next;
    uint32_t cls = b->header.cls;
    if (c->count[cls] < frame_class_cap(cls)) {
      b->next = c->head[cls];
      c->head[cls] = b;
      ++c->count[cls];
    } else {
      ::operator delete(b);
    }
    b = next;
  }
}

}  // namespace

FrameCache* frame_cache_acquire() {
  FrameCache* c = nullptr;
  {
    std::lock_guard<SpinLock> g(g_orphans_lock);
    if ((c = g_orphans)) g_orphans = c->next_orphan;
  }
  if (!c) c = new FrameCache();
  c->next_orphan = nullptr;
  tls_frame_cache = c;
  tls_frame_cache_owner.cache = c;  // registers the thread-exit hook
  return c;
}

void* frame_alloc_slow(FrameCache* c, std::size_t cls) {
  if (!c) c = frame_cache_acquire();
  if (c->remote.load(std::memory_order_relaxed)) {
    drain_remote(c);
    if (FreeBlock* b = c->head[cls]) {
      c->head[cls] = b->next;
      --c->count[cls];
      return reinterpret_cast<char*>(b) + kBlockHeader;
    }
  }
  auto* h = static_cast<BlockHeader*>(::operator new((cls + 1) * kFrameGranule));
  h->owner = c;
  h->cls = static_cast<uint32_t>(cls);
  return reinterpret_cast<char*>(h) + kBlockHeader;
}

void frame_free_remote(BlockHeader* h) noexcept {
  FrameCache* owner = h->owner;
  if (!owner) {  // large block
    ::operator delete(h);
    return;
  }
  auto* b = reinterpret_cast<FreeBlock*>(h);
  FreeBlock* head = owner->remote.load(std::memory_order_relaxed);
  do {
    b->next = head;
  } while (!owner->remote.compare_exchange_weak(head, b, std::memory_order_release,
                                                std::memory_order_relaxed));
}

void frame_free_overflow(FreeBlock* b) noexcept { ::operator delete(b); }

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
