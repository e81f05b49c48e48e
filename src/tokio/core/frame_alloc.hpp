#pragma once
// Per-thread recycling of coroutine frames, task cells and channel state.
//
// Every tokio::Task frame (and so every spawned task), spawn_blocking cell and oneshot
// comes from here. Blocks are grouped in 64-byte size classes up to kMaxCachedBlock; each
// thread owns a FrameCache with a free list per class, so after warm-up an allocation is a
// pointer pop with no atomic and no lock.
//
// Blocks go home: a block freed on another thread than its owner is pushed on the owner's
// `remote` stack (one CAS), and the owner drains that stack when a local list runs dry. A
// thread that spawns tasks which finish on workers therefore reuses its own memory instead
// of allocating fresh blocks from malloc while the workers hand theirs back to malloc's
// arena locks (the pattern that dominates a remote-spawn workload on the system allocator).
//
// Block layout: [BlockHeader (16 bytes)][payload...]; the header is written once at
// allocation and never changes, so any thread can read the owner of a block it frees.
// When a thread exits its cache is orphaned (still receiving remote frees) and adopted by
// the next thread that needs one, so caches are never freed and never leak.
//
// Under AddressSanitizer everything goes straight to ::operator new/delete so the sanitizer
// sees every allocation and use-after-free.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "tokio/core/config.hpp"

namespace tokio::detail {

inline constexpr std::size_t kFrameGranule = 64;
inline constexpr std::size_t kMaxCachedBlock = 4096;  // payload + header
inline constexpr std::size_t kFrameClasses = kMaxCachedBlock / kFrameGranule;
inline constexpr std::size_t kBlockHeader = 16;
inline constexpr uint32_t kLargeClass = 0xFFFFFFFFu;

struct FrameCache;

struct BlockHeader {
  FrameCache* owner;  // null for large blocks
  uint32_t cls;       // size class, or kLargeClass
  uint32_t pad;
};
static_assert(sizeof(BlockHeader) == kBlockHeader);

// A free block: the header stays intact (its owner is read by whoever frees the block
// next time it is used), the link lives in the payload.
struct FreeBlock {
  BlockHeader header;
  FreeBlock* next;
};

struct FrameCache {
  FreeBlock* head[kFrameClasses];
  uint32_t count[kFrameClasses];
  // Blocks of this cache freed by other threads (a Treiber stack; the owner takes it all).
  alignas(kCacheLine) std::atomic<FreeBlock*> remote{nullptr};
  FrameCache* next_orphan = nullptr;
};

// The calling thread's cache; null until the thread first allocates. A plain pointer so the
// fast path is a direct TLS load (no init guard).
inline thread_local constinit FrameCache* tls_frame_cache = nullptr;

FrameCache* frame_cache_acquire();                     // adopt an orphan or create
void* frame_alloc_slow(FrameCache* c, std::size_t cls);  // local list empty
void frame_free_remote(BlockHeader* h) noexcept;
void frame_free_overflow(FreeBlock* b) noexcept;

inline constexpr std::size_t frame_class(std::size_t total) noexcept {
  return (total - 1) / kFrameGranule;
}
// How many blocks of a class a thread keeps: up to 4 MiB per class, at least 64. Enough for
// bursts of tens of thousands of short tasks to recycle instead of going back to malloc.
inline constexpr uint32_t frame_class_cap(std::size_t cls) noexcept {
  std::size_t bytes = (cls + 1) * kFrameGranule;
  std::size_t n = (4 * 1024 * 1024) / bytes;
  return static_cast<uint32_t>(n < 64 ? 64 : n);
}

inline void* frame_alloc(std::size_t size) {
#if defined(TOKIO_ASAN)
  return ::operator new(size);
#else
  std::size_t total = size + kBlockHeader;
  if (TOKIO_LIKELY(total <= kMaxCachedBlock)) {
    std::size_t cls = frame_class(total);
    FrameCache* c = tls_frame_cache;
    if (TOKIO_LIKELY(c != nullptr)) {
      if (FreeBlock* b = c->head[cls]) {
        c->head[cls] = b->next;
        --c->count[cls];
        return reinterpret_cast<char*>(b) + kBlockHeader;
      }
    }
    return frame_alloc_slow(c, cls);
  }
  auto* h = static_cast<BlockHeader*>(::operator new(total));
  h->owner = nullptr;
  h->cls = kLargeClass;
  return reinterpret_cast<char*>(h) + kBlockHeader;
#endif
}

inline void frame_free(void* p, std::size_t size) noexcept {
  (void)size;
#if defined(TOKIO_ASAN)
  ::operator delete(p);
#else
  auto* h = reinterpret_cast<BlockHeader*>(static_cast<char*>(p) - kBlockHeader);
  FrameCache* c = tls_frame_cache;
  if (TOKIO_LIKELY(h->owner == c && c != nullptr)) {
    uint32_t cls = h->cls;
    auto* b = reinterpret_cast<FreeBlock*>(h);
    if (TOKIO_LIKELY(c->count[cls] < frame_class_cap(cls))) {
      b->next = c->head[cls];
      c->head[cls] = b;
      ++c->count[cls];
      return;
    }
    frame_free_overflow(b);
    return;
  }
  frame_free_remote(h);
#endif
}

}  // namespace tokio::detail
