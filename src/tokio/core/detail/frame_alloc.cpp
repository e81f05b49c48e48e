// Slow paths of the frame allocator (see frame_alloc.hpp).
#include "tokio/core/detail/frame_alloc.hpp"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>

#include "tokio/core/detail/pages.hpp"
#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

namespace core_frame_alloc_impl {

std::atomic<std::size_t> g_mapped_slabs{0};

// Caches whose thread exited, waiting to be adopted by a new thread.
SpinLock g_orphans_lock;
FrameCache* g_orphans = nullptr;

void release_beyond_kept(FrameCache* c) noexcept;

// Orphans the calling thread's cache when the thread exits. Its slabs stay owned by the
// cache (blocks freed into them later go to its remote stack) until a thread adopts it;
// its empty pool keeps kMaxEmptySlabs, no more (nobody would check it meanwhile).
struct FrameCacheOwner {
  FrameCache* cache = nullptr;
  ~FrameCacheOwner() {
    if (!cache) return;
    release_beyond_kept(cache);
    tls_frame_cache = nullptr;
    std::lock_guard<SpinLock> g(g_orphans_lock);
    cache->next_orphan = g_orphans;
    g_orphans = cache;
  }
};
thread_local FrameCacheOwner tls_frame_cache_owner;

// Slabs come straight from mmap, trimmed to 64 KiB alignment: posix_memalign would touch
// (and keep resident) an extra page or two of alignment slack per slab.
void* aligned_region(std::size_t size) {
  void* p = map_pages((size + kPageSize - 1) & ~(kPageSize - 1), kSlabSize, false);
  if (!p) throw std::bad_alloc();
  g_mapped_slabs.fetch_add(1, std::memory_order_relaxed);
  return p;
}
// kHugeChunkSlabs slabs in one region at a boundary of its size, advised for huge pages;
// null when the kernel refuses the mapping (the caller maps a slab alone instead). Each
// slab is released on its own later (munmap splits the huge page).
Slab* huge_chunk() noexcept {
  constexpr std::size_t len = kHugeChunkSlabs * kSlabSize;
  void* p = map_pages(len, len, true);
  if (p) g_mapped_slabs.fetch_add(kHugeChunkSlabs, std::memory_order_relaxed);
  return static_cast<Slab*>(p);
}

void release_region(Slab* s, std::size_t size) noexcept {
  munmap(s, (size + kPageSize - 1) & ~(kPageSize - 1));
  g_mapped_slabs.fetch_sub(1, std::memory_order_relaxed);
}

FrameCache* acquire_cache() {
  FrameCache* c = nullptr;
  {
    std::lock_guard<SpinLock> g(g_orphans_lock);
    if ((c = g_orphans)) g_orphans = c->next_orphan;
  }
  if (!c) c = new FrameCache();
  c->next_orphan = nullptr;
  tls_frame_cache = c;
  tls_frame_cache_owner.cache = c;  // also registers the thread-exit hook
  return c;
}

void reset_slab(Slab* s) noexcept {
  std::size_t bs = s->block_size;
  char* start = reinterpret_cast<char*>(s) + kSlabHeader;
  s->free = nullptr;
  s->bump = start;
  s->end = start + ((kSlabSize - kSlabHeader) / bs) * bs;
  s->used = 0;
  s->credit = 0;
  s->in_partial = false;
  s->prev = s->next = nullptr;
}

// Makes s its class's current slab (its blocks may all be freed on the fast path).
void make_current(FrameCache* c, std::size_t cls, Slab* s) noexcept {
  c->current[cls] = s;
  s->credit = kCurrentCredit;
}

// Gives the first n slabs of c's empty pool back to the system.
void release_excess(FrameCache* c, std::size_t n) noexcept {
  for (; n > 0 && c->empty; --n) {
    Slab* s = c->empty;
    c->empty = s->next;
    --c->empty_count;
    release_region(s, kSlabSize);
  }
}
// ... all of it beyond the kMaxEmptySlabs it keeps for good.
void release_beyond_kept(FrameCache* c) noexcept {
  if (c->empty_count > kMaxEmptySlabs) release_excess(c, c->empty_count - kMaxEmptySlabs);
}

// The release check (see FrameCache::pool_low): at most once per period, the slabs the pool
// held beyond kMaxEmptySlabs all through the period go back. The first check only starts
// the first period.
void check_pool(FrameCache* c) noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  const uint64_t now =
      static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  if (now - c->pool_checked_ns < kEmptySlabsPeriodNs) return;
  const std::size_t idle = std::min(c->pool_low, c->empty_count);
  if (c->pool_checked_ns != 0 && idle > kMaxEmptySlabs) release_excess(c, idle - kMaxEmptySlabs);
  c->pool_low = c->empty_count;
  c->pool_checked_ns = now;
}

Slab* new_slab(FrameCache* c, std::size_t cls) {
  Slab* s = c->empty;
  if (s) {
    c->empty = s->next;
    if (--c->empty_count < c->pool_low) c->pool_low = c->empty_count;
  } else if (c->slabs_mapped >= kSlabsBeforeHugeChunks && (s = huge_chunk())) {
    // The first slab is this one; the rest wait in the pool, which was empty.
    for (std::size_t i = kHugeChunkSlabs - 1; i > 0; --i) {
      auto* t = reinterpret_cast<Slab*>(reinterpret_cast<char*>(s) + i * kSlabSize);
      t->next = c->empty;
      c->empty = t;
      ++c->empty_count;
    }
    c->slabs_mapped += kHugeChunkSlabs;
  } else {
    s = static_cast<Slab*>(aligned_region(kSlabSize));
    ++c->slabs_mapped;
  }
  s->owner = c;
  s->cls = static_cast<uint32_t>(cls);
  s->block_size = static_cast<uint32_t>(frame_class_size(cls));
  reset_slab(s);
  return s;
}

void partial_push(FrameCache* c, Slab* s) noexcept {
  Slab*& head = c->partial[s->cls];
  s->prev = nullptr;
  s->next = head;
  if (head) head->prev = s;
  head = s;
  s->in_partial = true;
}

void partial_unlink(FrameCache* c, Slab* s) noexcept {
  if (s->prev) s->prev->next = s->next;
  else c->partial[s->cls] = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = nullptr;
  s->in_partial = false;
}

// A block of one of c's slabs comes back to c (on c's thread), and the slab's credit is
// set for its new state (Slab::credit).
void local_free(FrameCache* c, Slab* s, FreeBlock* b) noexcept {
  b->next = s->free;
  s->free = b;
  --s->used;
  std::size_t cls = s->cls;
  if (s == c->current[cls]) {  // the current slab keeps its place, even when empty
    s->credit = kCurrentCredit;
    return;
  }
  if (s->used == 0) {
    // Every block is free: pool the slab for reuse (any class), or give it back.
    if (s->in_partial) partial_unlink(c, s);
    s->next = c->empty;
    c->empty = s;
    if (++c->empty_count > kMaxEmptySlabs) check_pool(c);
    return;
  }
  if (!s->in_partial) partial_push(c, s);  // it was full; now it has room
  s->credit = s->used - 1;
}

void drain_remote(FrameCache* c) noexcept {
  FreeBlock* b = c->remote.exchange(nullptr, std::memory_order_acquire);
  while (b) {
    FreeBlock* next = b->next;
    local_free(c, slab_of(b), b);
    b = next;
  }
}

}  // namespace core_frame_alloc_impl

// noinline: in the TOKIO_IMPLEMENTATION translation unit these definitions are visible to
// every coroutine defined after them, and once inlined GCC's -Wmismatched-new-delete
// misreads the task prefix offset again (seen with ASan at -O1).
TOKIO_NOINLINE void* frame_alloc_plain(std::size_t size) { return ::operator new(size); }
TOKIO_NOINLINE void frame_free_plain(void* p) noexcept { ::operator delete(p); }

std::size_t frame_alloc_mapped_slabs() noexcept {
  return core_frame_alloc_impl::g_mapped_slabs.load(std::memory_order_relaxed);
}

void frame_cache_drain() noexcept {
  if (FrameCache* c = tls_frame_cache) core_frame_alloc_impl::drain_remote(c);
}

void frame_cache_on_park() noexcept {
  FrameCache* c = tls_frame_cache;
  if (c && c->empty_count > kMaxEmptySlabs) core_frame_alloc_impl::check_pool(c);
}

void frame_cache_release_excess() noexcept {
  if (FrameCache* c = tls_frame_cache) core_frame_alloc_impl::release_beyond_kept(c);
}

void* frame_alloc_slow(std::size_t size) {
  FrameCache* c = tls_frame_cache;
  if (!c) c = core_frame_alloc_impl::acquire_cache();
  if (size > kMediumMax) {
    // A region of its own, with the same header so free() recognises it: a cached one of
    // at least the size (and at most twice it, so little is wasted), else a new mapping.
    std::size_t len = (kSlabHeader + size + 4095) & ~std::size_t{4095};
    for (std::size_t i = 0; i < c->large_count; ++i) {
      Slab* s = c->large[i];
      if (s->block_size >= len && s->block_size / 2 <= len) {
        c->large[i] = c->large[--c->large_count];
        return reinterpret_cast<char*>(s) + kSlabHeader;
      }
    }
    auto* s = static_cast<Slab*>(core_frame_alloc_impl::aligned_region(len));
    s->owner = nullptr;
    s->cls = kLargeClass;
    s->block_size = static_cast<uint32_t>(len);
    s->credit = 0;  // never freed on the fast path
    return reinterpret_cast<char*>(s) + kSlabHeader;
  }
  std::size_t cls = frame_class_of(size);
  if (c->remote.load(std::memory_order_relaxed)) core_frame_alloc_impl::drain_remote(c);
  for (;;) {
    if (Slab* s = c->current[cls]) {
      if (void* p = slab_take(s)) return p;
    }
    // The current slab is full: it leaves the current slot (it rejoins the partial list
    // when one of its blocks is freed, on the slow path: no credit). Take a partial slab,
    // else a new one.
    if (Slab* full = c->current[cls]) full->credit = 0;
    if (Slab* p = c->partial[cls]) {
      core_frame_alloc_impl::partial_unlink(c, p);
      core_frame_alloc_impl::make_current(c, cls, p);
      continue;
    }
    core_frame_alloc_impl::make_current(c, cls, core_frame_alloc_impl::new_slab(c, cls));
  }
}

void frame_free_slow(Slab* s, FreeBlock* b) noexcept {
  FrameCache* c = tls_frame_cache;
  if (s->cls == kLargeClass) {
    // Kept by the freeing thread's cache (large regions have no owner); when the cache is
    // full the oldest entry is unmapped instead.
    if (c == nullptr || s->block_size > kLargeCacheMaxBytes) {
      core_frame_alloc_impl::release_region(s, s->block_size);
      return;
    }
    if (c->large_count == kLargeCacheSlots) {
      core_frame_alloc_impl::release_region(c->large[0], c->large[0]->block_size);
      c->large[0] = c->large[--c->large_count];
    }
    c->large[c->large_count++] = s;
    return;
  }
  if (s->owner == c && c != nullptr) {
    core_frame_alloc_impl::local_free(c, s, b);
    return;
  }
  // Another thread's slab (or this thread has no cache yet): send the block home.
  FrameCache* owner = s->owner;
  FreeBlock* head = owner->remote.load(std::memory_order_relaxed);
  do {
    b->next = head;
  } while (!owner->remote.compare_exchange_weak(head, b, std::memory_order_release,
                                                std::memory_order_relaxed));
}

}  // namespace tokio::detail
