#pragma once
// The frame allocator: coroutine frames, task cells and channel state.
//
// Every tokio::Task frame (and so every spawned task), spawn_blocking cell and oneshot comes
// from here. It is a small slab allocator tuned for that traffic:
//  - 64 KiB slabs aligned to 64 KiB, each holding blocks of one size class (8-byte steps up
//    to 1 KiB, 128-byte steps up to 8 KiB; requests that need 16-byte alignment, like most
//    coroutine frames, round up to a multiple of 16 first so they land in classes whose
//    blocks are all 16-aligned); the slab header sits at the slab's start,
//    so a block's slab, owner thread and size come from its address: no per-block header
//    and no per-block malloc overhead;
//  - each thread owns a FrameCache with a current slab per class: allocation pops the slab's
//    free list or bumps into its unused tail (no atomic, no lock);
//  - blocks go home: a block freed on another thread than the slab's owner is pushed on the
//    owner's `remote` stack (one CAS) and recycled when the owner next runs dry. A thread
//    spawning tasks that finish on workers reuses its own memory, where with malloc the
//    workers would hand blocks back through the arena locks;
//  - a slab whose blocks are all free goes to the cache's pool of empty slabs (reused for
//    any class). The pool keeps kMaxEmptySlabs (4 MiB) for good; what it holds beyond that
//    goes back to the system once it has gone a whole period (kEmptySlabsPeriodNs) without
//    being drawn on (see FrameCache::pool_low), so memory shrinks after a burst, but a
//    program that spawns a burst of tasks every few hundred milliseconds does not unmap
//    and map (and fault in) the burst's memory each time;
//  - a thread's cache outlives the thread (orphaned, still receiving remote frees) and is
//    adopted by the next thread that needs one;
//  - blocks above 8 KiB get a region of their own with the same header, so free() never
//    needs the size.
// Under AddressSanitizer everything goes to ::operator new/delete so the sanitizer sees every
// allocation and use-after-free.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"

namespace tokio::detail {

inline constexpr std::size_t kSlabSize = 64 * 1024;
inline constexpr std::size_t kSlabHeader = 128;  // blocks start here (two cache lines)
inline constexpr std::size_t kTinyStep = 8;
inline constexpr std::size_t kTinyMax = 128;
// 8, not 16: a g++ coroutine frame whose size is not a multiple of 16 needs only 8-byte
// alignment (core/task.hpp, frame_alignment), and a 16-byte step would round a spawned
// task of 216 bytes up to 224 (bench/NOTES.md, forty-eighth session).
inline constexpr std::size_t kSmallStep = 8;
inline constexpr std::size_t kSmallMax = 1024;
inline constexpr std::size_t kMediumStep = 128;
inline constexpr std::size_t kMediumMax = 8192;
inline constexpr std::size_t kTinyClasses = kTinyMax / kTinyStep;  // 16
inline constexpr std::size_t kSmallClasses =
    kTinyClasses + (kSmallMax - kTinyMax) / kSmallStep;  // 128
inline constexpr std::size_t kFrameClasses =
    kSmallClasses + (kMediumMax - kSmallMax) / kMediumStep;  // 184
inline constexpr uint32_t kLargeClass = 0xFFFFFFFFu;

struct FrameCache;

struct FreeBlock {
  FreeBlock* next;
};

// At the start of every slab (and of every large region).
struct Slab {
  FrameCache* owner;
  uint32_t cls;         // size class, or kLargeClass
  uint32_t block_size;  // bytes per block (region size for a large block)
  FreeBlock* free;      // blocks freed back by the owner (owner thread only)
  char* bump;           // next never-used block
  char* end;
  uint32_t used;  // blocks handed out and not yet freed back to the owner
  // How many more blocks the owner may free into this slab on frame_free's fast path (a
  // push on the free list, nothing else to update), kept by the slow paths: kCurrentCredit
  // while the slab is its class's current one (it keeps its place even when empty: the
  // slow path refills the credit in the unlikely case it runs out), used - 1 while it is
  // partial (the free that would empty it must pool it), 0 while it is full (the first
  // free must list it as partial) and for large regions (owned by no cache). One test
  // where there were three (the partial flag, the used count, the current slab).
  uint32_t credit;
  bool in_partial;  // linked in the owner's partial list for this class
  Slab* prev;       // partial list links
  Slab* next;
};
static_assert(sizeof(Slab) <= kSlabHeader);
inline constexpr uint32_t kCurrentCredit = 0xFFFFFFFFu;

inline constexpr std::size_t kMaxEmptySlabs = 64;
// The period over which empty slabs beyond kMaxEmptySlabs must have stayed unused to be
// released (checked when a slab empties beyond that, and when a runtime thread parks).
// When the pool was cut to 64 slabs at every free, 10 rounds of 100,000 JoinSet tasks on a
// current-thread runtime took 1,049 ms against Tokio's 535 (each round unmapped ~280 slabs
// and faulted them in again); kept this way, 305 ms (bench/ab.py 5, bench/NOTES.md).
inline constexpr uint64_t kEmptySlabsPeriodNs = 1'000'000'000;
// A cache that has mapped this many slabs one by one (2 MiB) maps the next ones 32 at a
// time, as one 2 MiB region at a 2 MiB boundary advised for transparent huge pages; the
// 31 it does not need yet wait in its empty pool. A first touch of a fresh 4 KiB page
// cost about 12 us on the host we measure on, most of the time of spawning a million
// idle tasks; a huge page is one fault. Small programs never reach it.
inline constexpr std::size_t kSlabsBeforeHugeChunks = 32;
inline constexpr std::size_t kHugeChunkSlabs = 32;
static_assert(kHugeChunkSlabs - 1 <= kMaxEmptySlabs, "a chunk's spare slabs fit the empty pool");
// Large regions (frames over kMediumMax, e.g. a coroutine holding a 32 KiB value) freed on a
// thread are kept for reuse, at most this many and only up to kLargeCacheMaxBytes each:
// mapping and unmapping a fresh region per frame costs three syscalls and a page fault per
// page touched, which is what made large-frame workloads 20x slower than malloc's reuse.
inline constexpr std::size_t kLargeCacheSlots = 8;
inline constexpr std::size_t kLargeCacheMaxBytes = 4u << 20;

struct FrameCache {
  Slab* current[kFrameClasses];  // allocation slab per class
  Slab* partial[kFrameClasses];  // other slabs with free blocks
  Slab* empty = nullptr;         // pool of empty slabs (linked through Slab::next)
  std::size_t empty_count = 0;
  // The fewest slabs the pool held since the last release check (at pool_checked_ns, on
  // CLOCK_MONOTONIC_COARSE): that many sat unused for the whole period, so the check
  // releases those beyond kMaxEmptySlabs. Owner thread only.
  std::size_t pool_low = 0;
  uint64_t pool_checked_ns = 0;
  std::size_t slabs_mapped = 0;  // slabs this cache has mapped, ever (kSlabsBeforeHugeChunks)
  // Freed large regions kept for reuse (Slab::block_size holds each one's mapped length).
  Slab* large[kLargeCacheSlots] = {};
  std::size_t large_count = 0;
  // Blocks of this cache's slabs freed by other threads (a Treiber stack; the owner takes
  // it all at once).
  alignas(kCacheLine) Atomic<FreeBlock*> remote{nullptr};
  FrameCache* next_orphan = nullptr;
};

// The calling thread's cache; null until the thread first allocates. A plain pointer so the
// fast path is a direct TLS load (no init guard).
inline thread_local constinit FrameCache* tls_frame_cache = nullptr;

void* frame_alloc_slow(std::size_t size);
void frame_free_slow(Slab* s, FreeBlock* b) noexcept;
// Under ASan: plain ::operator new/delete, out of line (inlined, GCC's
// -Wmismatched-new-delete misreads the offset the task prefix adds). Kept out of line
// even in the TOKIO_IMPLEMENTATION translation unit, where the definition is visible.
TOKIO_NOINLINE void* frame_alloc_plain(std::size_t size);
TOKIO_NOINLINE void frame_free_plain(void* p) noexcept;

// Introspection for tests and metrics: slabs currently mapped (process-wide), and taking
// in the calling thread's blocks freed by other threads now rather than on the next refill.
std::size_t frame_alloc_mapped_slabs() noexcept;
void frame_cache_drain() noexcept;
// A runtime thread about to park: the release check of the calling thread's empty pool
// (kEmptySlabsPeriodNs), so a thread that goes idle after a burst gives its memory back at
// a later park. Cheap when there is nothing beyond kMaxEmptySlabs.
void frame_cache_on_park() noexcept;
// Tests: releases every empty slab of the calling thread's pool beyond kMaxEmptySlabs now.
void frame_cache_release_excess() noexcept;

// Size class of a request of `size` bytes (size >= 1; a multiple of 16 stays in a class
// whose block size is a multiple of 16).
inline constexpr std::size_t frame_class_of(std::size_t size) noexcept {
  if (size <= kTinyMax) return size ? (size - 1) / kTinyStep : 0;
  if (size <= kSmallMax) return kTinyClasses + (size - kTinyMax - 1) / kSmallStep;
  return kSmallClasses + (size - kSmallMax - 1) / kMediumStep;
}
inline constexpr std::size_t frame_class_size(std::size_t cls) noexcept {
  if (cls < kTinyClasses) return (cls + 1) * kTinyStep;
  if (cls < kSmallClasses) return kTinyMax + (cls - kTinyClasses + 1) * kSmallStep;
  return kSmallMax + (cls - kSmallClasses + 1) * kMediumStep;
}
static_assert(frame_class_size(frame_class_of(24)) == 24);
static_assert(frame_class_size(frame_class_of(160)) == 160);
static_assert(frame_class_size(frame_class_of(216)) == 216);
static_assert(frame_class_size(frame_class_of(217)) == 224);
static_assert(frame_class_size(frame_class_of(1025)) == 1152);
static_assert(frame_class_size(frame_class_of(8192)) == 8192);
inline Slab* slab_of(void* p) noexcept {
  return reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(p) & ~(uintptr_t(kSlabSize) - 1));
}

// Takes a block from a slab: its free list first, then its never-used tail. Null when full.
// Part of frame_alloc's inlined fast path (which g++ would otherwise call it from).
TOKIO_ALWAYS_INLINE void* slab_take(Slab* s) noexcept {
  if (FreeBlock* b = s->free) {
    s->free = b->next;
    ++s->used;
    return b;
  }
  if (s->bump != s->end) {
    char* p = s->bump;
    s->bump += s->block_size;
    ++s->used;
    return p;
  }
  return nullptr;
}

// `align` is 16 (the default: what operator new promises) or 8 for small plain structs and
// for g++ coroutine frames whose size says they need no more (core/task.hpp), which may
// then use the classes whose size is an odd multiple of 8 (blocks alternately 16- and
// 8-aligned).
// Always inlined: nearly every caller passes a constant size (a coroutine frame's, a task
// cell's, a oneshot's), so the size class folds to a constant and the fast path is a few
// loads (callgrind: 28 instructions per call out of line, about 12 inlined; g++ had left
// it out of line in the ramps of most coroutines).
TOKIO_ALWAYS_INLINE void* frame_alloc(std::size_t size, std::size_t align = 16) {
#if defined(TOKIO_FRAME_PLAIN)
  (void)align;
  return frame_alloc_plain(size);
#else
  if (align > 8) size = (size + 15) & ~std::size_t{15};
  if (TOKIO_LIKELY(size <= kMediumMax)) {
    if (FrameCache* c = tls_frame_cache) {
      if (Slab* s = c->current[frame_class_of(size)]) {
        if (void* p = slab_take(s)) return p;
      }
    }
  }
  return frame_alloc_slow(size);
#endif
}

inline void frame_free(void* p, std::size_t /*size*/ = 0) noexcept {
#if defined(TOKIO_FRAME_PLAIN)
  frame_free_plain(p);
#else
  Slab* s = slab_of(p);
  auto* b = static_cast<FreeBlock*>(p);
  // Fast path: our own slab, staying in its list (Slab::credit). A thread without a cache
  // owns no slab; a large region's owner is null, but its credit is 0.
  if (TOKIO_LIKELY(s->owner == tls_frame_cache && s->credit != 0)) {
    --s->credit;
    b->next = s->free;
    s->free = b;
    --s->used;
    return;
  }
  frame_free_slow(s, b);
#endif
}

}  // namespace tokio::detail
