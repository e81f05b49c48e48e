// The per-thread frame cache: recycling, blocks returning to their owner thread, orphans.
#include <set>
#include <thread>
#include <cstring>
#include <vector>

#include "test_util.hpp"

namespace d = tokio::detail;

TEST_CASE("frame cache: a freed block is reused by its owner") {
  if (test::kSanitized) return;  // ASan builds bypass the cache
  void* a = d::frame_alloc(100);
  d::frame_free(a, 100);
  void* b = d::frame_alloc(100);
  CHECK(a == b);
  d::frame_free(b, 100);
}

TEST_CASE("frame cache: blocks freed on other threads go home, headers stay intact") {
  // Allocate here, free on other threads, reallocate here: the same blocks come back, and a
  // second round trip still routes them home (the free-list link must not clobber the
  // owner recorded in the block header).
  const int n = 2000;
  for (int round = 0; round < 3; ++round) {
    std::vector<void*> blocks;
    for (int i = 0; i < n; ++i) {
      void* p = d::frame_alloc(200);
      std::memset(p, 0xAB, 200);  // the payload is the caller's: scribble over all of it
      blocks.push_back(p);
    }
    std::set<void*> first(blocks.begin(), blocks.end());
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        for (int i = t; i < n; i += 4) d::frame_free(blocks[i], 200);
      });
    }
    for (auto& t : ts) t.join();
    if (!test::kSanitized) {
      // Every block comes back (after any blocks this thread's cache already held).
      std::size_t reused = 0;
      std::vector<void*> again;
      while (reused < first.size() && again.size() < first.size() + 20000) {
        void* p = d::frame_alloc(200);
        reused += first.count(p);
        again.push_back(p);
      }
      CHECK(reused == first.size());
      for (void* p : again) d::frame_free(p, 200);
    }
  }
}

TEST_CASE("frame cache: a thread's cache outlives it and is adopted") {
  void* p = nullptr;
  std::thread([&] { p = d::frame_alloc(64); }).join();
  d::frame_free(p, 64);  // owner thread is gone: goes to the orphaned cache
  std::thread([] {
    for (int i = 0; i < 100; ++i) d::frame_free(d::frame_alloc(64), 64);
  }).join();
  void* big = d::frame_alloc(100000);  // beyond the cached sizes
  std::memset(big, 1, 100000);
  std::thread([big] { d::frame_free(big, 100000); }).join();
}
