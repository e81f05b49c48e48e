// The frame allocator's remote free (core/detail/frame_alloc.hpp) under the explorer: the
// owner allocates four blocks and hands them to two other threads, which free them (a
// push on the owner's `remote` stack each), while the owner drains that stack. Invariant:
// blocks freed on another thread come back to their slab exactly once, none lost, none
// duplicated. The slow paths are called directly so the case also runs under ASan (where
// frame_alloc/frame_free go to operator new/delete).
#include <atomic>
#include <memory>

#include "cases.hpp"
#include "tokio/core/detail/frame_alloc.hpp"

namespace {

using namespace tokio::detail;

constexpr int kBlocks = 4;

struct FrameWorld {
  void* blocks[kBlocks] = {};
  std::atomic<bool> published{false};
  std::atomic<int> freers_done{0};

  void owner() {
    {
      // The thread's cache exists after its first execution only (taking one locks the
      // orphan list): create it outside the exploration.
      explore::Quiet q;
      void* p = frame_alloc_slow(64);
      frame_free_slow(slab_of(p), static_cast<FreeBlock*>(p));
    }
    for (auto& b : blocks) b = frame_alloc_slow(64);
    published.store(true);
    explore::progress();
    frame_cache_drain();  // races with the remote frees
    while (freers_done.load() < 2) explore::spin();
    frame_cache_drain();
    explore::check(tls_frame_cache->remote.load() == nullptr, "frame alloc: remote stack left");
    for (void* b : blocks) {
      int found = 0;
      for (FreeBlock* f = slab_of(b)->free; f; f = f->next) found += f == b;
      explore::check(found == 1, "frame alloc: a block freed remotely came back lost or twice");
    }
  }

  void freer(int first) {
    while (!published.load()) explore::spin();
    for (int i = first; i < first + kBlocks / 2; ++i) {
      frame_free_slow(slab_of(blocks[i]), static_cast<FreeBlock*>(blocks[i]));
    }
    freers_done.fetch_add(1);
    explore::progress();
  }
};

explore::Execution remote_free() {
  auto w = std::make_shared<FrameWorld>();
  explore::Execution ex;
  ex.threads.push_back([w] { w->owner(); });
  ex.threads.push_back([w] { w->freer(0); });
  ex.threads.push_back([w] { w->freer(kBlocks / 2); });
  return ex;
}

}  // namespace

TEST_CASE("explore: frame allocator, remote frees vs the owner's drain") {
  explore::expect_pass("frame remote free, bound 3", explore::exhaustive(3), remote_free);
  explore::expect_pass("frame remote free, random", explore::randomized(3000), remote_free);
}
