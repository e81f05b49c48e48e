// The frame allocator: recycling, blocks returning to their owner thread, slab release,
// orphaned caches.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "test_util.hpp"

namespace d = tokio::detail;

TEST_CASE("frame allocator: a freed block is reused at once by its owner") {
  if (test::kSanitized) return;  // ASan builds use plain new/delete
  void* a = d::frame_alloc(100);
  d::frame_free(a);
  void* b = d::frame_alloc(100);
  CHECK(a == b);
  d::frame_free(b);
}

TEST_CASE("frame allocator: size classes and alignment") {
  for (std::size_t size : {1u, 8u, 16u, 24u, 100u, 160u, 1000u, 5000u, 8192u, 9000u, 200000u}) {
    void* p = d::frame_alloc(size);
    CHECK(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    std::memset(p, 0x5A, size);
    d::frame_free(p);
  }
  void* p8 = d::frame_alloc(24, 8);
  CHECK(reinterpret_cast<uintptr_t>(p8) % 8 == 0);
  d::frame_free(p8);
}

TEST_CASE("frame allocator: large regions are reused, bounded, and never too small") {
  if (test::kSanitized) return;  // ASan builds use plain new/delete
  // A 32 KiB frame freed and allocated again reuses its region: no new mapping per cycle.
  void* first = d::frame_alloc(32 * 1024);
  d::frame_free(first);
  const std::size_t base = d::frame_alloc_mapped_slabs();
  for (int i = 0; i < 1000; ++i) {
    void* p = d::frame_alloc(32 * 1024);
    CHECK(p == first);
    std::memset(p, 0x5A, 32 * 1024);
    d::frame_free(p);
  }
  CHECK(d::frame_alloc_mapped_slabs() == base);
  // A bigger request never gets the cached smaller region; a much smaller one (which would
  // waste more than half of it) does not either.
  void* big = d::frame_alloc(200 * 1024);
  CHECK(big != first);
  std::memset(big, 0x11, 200 * 1024);
  void* small = d::frame_alloc(9000);
  CHECK(small != first);
  d::frame_free(small);
  d::frame_free(big);
  // Many live large frames freed at once: the cache keeps at most a few, the rest unmap.
  std::vector<void*> live;
  for (int i = 0; i < 64; ++i) live.push_back(d::frame_alloc(20 * 1024 + 4096 * (i % 4)));
  const std::size_t peak = d::frame_alloc_mapped_slabs();
  for (void* p : live) d::frame_free(p);
  CHECK(d::frame_alloc_mapped_slabs() + 50 <= peak);
}

TEST_CASE("frame allocator: blocks freed on other threads go home and empty slabs are released") {
  if (test::kSanitized) return;
  d::frame_cache_drain();
  const std::size_t base = d::frame_alloc_mapped_slabs();
  const int n = 100000;  // far more slabs' worth of 208-byte blocks than the empty pool
  std::vector<void*> blocks;
  for (int i = 0; i < n; ++i) {
    void* p = d::frame_alloc(200);
    std::memset(p, 0xAB, 200);  // the caller owns every byte of the block
    blocks.push_back(p);
  }
  CHECK(d::frame_alloc_mapped_slabs() > base + 10);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = t; i < n; i += 4) d::frame_free(blocks[i]);
    });
  }
  for (auto& t : ts) t.join();
  // The owner takes its blocks back: the slabs they emptied wait in its pool, and what the
  // pool holds beyond the slabs it keeps for good goes back to the system once unused for
  // a period (here at once).
  d::frame_cache_drain();
  CHECK(d::frame_alloc_mapped_slabs() > base + d::kMaxEmptySlabs + 10);
  d::frame_cache_release_excess();
  const std::size_t after = d::frame_alloc_mapped_slabs();
  CHECK(after <= base + d::kMaxEmptySlabs + 1);
  // And it allocates from recycled memory again without growing.
  for (int round = 0; round < 3; ++round) {
    std::vector<void*> again;
    for (int i = 0; i < 1000; ++i) again.push_back(d::frame_alloc(200));
    for (void* p : again) d::frame_free(p);
  }
  CHECK(d::frame_alloc_mapped_slabs() <= after);
}

// frame_free's fast path pushes a block only while its slab keeps its place (Slab::credit):
// the free that lists a full slab as partial, and the one that empties a partial slab,
// must take the slow path, or the slab is never pooled. Here every other block goes first
// (each full slab becomes partial with half its blocks in use), then the rest backwards.
TEST_CASE("frame allocator: every emptied slab is pooled, whatever order its blocks come in") {
  if (test::kSanitized) return;
  std::thread([] {
    constexpr std::size_t kSize = 3000;  // the 3,072-byte class, which the suite rarely uses
    const std::size_t per_slab = (d::kSlabSize - d::kSlabHeader) / 3072;
    const std::size_t n = 20 * per_slab;
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < n; ++i) blocks.push_back(d::frame_alloc(kSize));
    const d::FrameCache* c = d::tls_frame_cache;
    REQUIRE(c != nullptr);
    const std::size_t pooled = c->empty_count;
    for (std::size_t i = 0; i < n; i += 2) d::frame_free(blocks[i]);
    CHECK(c->empty_count == pooled);  // every slab still has blocks in use
    for (std::size_t i = n - 1; i < n; i -= 2) d::frame_free(blocks[i]);
    // All but the current slab (the last one filled) went to the pool. (The thread may
    // have adopted an orphaned cache whose pool is near its limit: at most that.)
    CHECK(c->empty_count >= std::min(pooled + 19, d::kMaxEmptySlabs));
    // The same blocks serve a second round: nothing is mapped.
    const std::size_t mapped = c->slabs_mapped;
    for (std::size_t i = 0; i < n; ++i) blocks[i] = d::frame_alloc(kSize);
    for (void* p : blocks) d::frame_free(p);
    CHECK(c->slabs_mapped == mapped);
  }).join();
}

// A burst's empty slabs stay in the pool while it is drawn on again within a period (no
// unmapping and faulting in every round), and go back once a whole period passes unused.
TEST_CASE("frame allocator: a burst's memory is kept while bursts repeat, released when idle") {
  if (test::kSanitized) return;
  std::thread([] {
    const std::size_t n = 100 * ((d::kSlabSize - d::kSlabHeader) / 512);  // 100 slabs' worth
    auto burst = [&] {
      std::vector<void*> blocks;
      for (std::size_t i = 0; i < n; ++i) blocks.push_back(d::frame_alloc(500));
      for (void* p : blocks) d::frame_free(p);
    };
    // This thread's cache (other threads of the suite may map and unmap meanwhile).
    burst();
    const d::FrameCache* c = d::tls_frame_cache;
    REQUIRE(c != nullptr);
    const std::size_t mapped = c->slabs_mapped;  // ever mapped by this cache
    CHECK(c->empty_count >= 90);
    for (int round = 0; round < 5; ++round) {
      burst();
      CHECK(c->slabs_mapped == mapped);  // nothing mapped again
      CHECK(c->empty_count >= 90);       // nothing unmapped
    }
    // Idle for more than a period: the next check (a park, or a slab emptying beyond the
    // pool's 64) releases what sat unused all through it. Two checks: the first may only
    // start the period.
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(d::kEmptySlabsPeriodNs) +
                                  std::chrono::milliseconds(20));
      d::frame_cache_on_park();
    }
    CHECK(c->empty_count == d::kMaxEmptySlabs);
  }).join();
}

TEST_CASE("frame allocator: a thread's cache outlives it and is adopted") {
  void* p = nullptr;
  std::thread([&] { p = d::frame_alloc(64); }).join();
  std::memset(p, 1, 64);
  d::frame_free(p);  // owner thread gone: goes to its orphaned cache
  std::thread([] {
    for (int i = 0; i < 100; ++i) d::frame_free(d::frame_alloc(64));
    d::frame_cache_drain();
  }).join();
  void* big = d::frame_alloc(100000);  // beyond the slab classes: a region of its own
  std::memset(big, 1, 100000);
  std::thread([big] { d::frame_free(big); }).join();
}

// Past kSlabsBeforeHugeChunks a cache maps slabs kHugeChunkSlabs at a time, in one region
// aligned to its size (one huge page where the kernel gives them): the allocation that
// maps adds exactly that many slabs, and its block is the first of the region's first
// slab (a slab mapped alone sits at a 2 MiB boundary one time in 32). Every block is
// usable, and the slabs go back to the system one by one when freed.
TEST_CASE("frame allocator: a busy cache maps its slabs 32 at a time in aligned 2 MiB regions") {
  if (test::kSanitized) return;
  std::thread([] {
    constexpr std::size_t kChunk = d::kHugeChunkSlabs * d::kSlabSize;
    const std::size_t per_slab = (d::kSlabSize - d::kSlabHeader) / 1024;
    std::vector<void*> blocks;
    auto take = [&]() {
      void* p = d::frame_alloc(1000);
      std::memset(p, 0x3C, 1000);
      blocks.push_back(p);
      return p;
    };
    // Past the slabs mapped one by one (an adopted cache may have mapped them already).
    for (std::size_t i = 0; i < (d::kSlabsBeforeHugeChunks + 8) * per_slab; ++i) take();
    const std::size_t start = d::frame_alloc_mapped_slabs();
    for (int chunk = 0; chunk < 3; ++chunk) {
      CAPTURE(chunk);
      const std::size_t before = d::frame_alloc_mapped_slabs();
      void* p = nullptr;
      // The pool of empty slabs (at most kMaxEmptySlabs) runs dry first.
      for (std::size_t i = 0; i < (d::kMaxEmptySlabs + 2) * per_slab; ++i) {
        p = take();
        if (d::frame_alloc_mapped_slabs() != before) break;
      }
      REQUIRE(d::frame_alloc_mapped_slabs() == before + d::kHugeChunkSlabs);
      const auto at = reinterpret_cast<uintptr_t>(p);
      CHECK(at % kChunk == d::kSlabHeader);
    }
    for (void* p : blocks) d::frame_free(p);
    // Freed, then released (frame_cache_release_excess; by itself after a period): all but
    // the pool of empty slabs (and the current one) unmapped again, one slab at a time.
    d::frame_cache_release_excess();
    CHECK(d::frame_alloc_mapped_slabs() <= start + d::kMaxEmptySlabs + 1);
  }).join();
}
