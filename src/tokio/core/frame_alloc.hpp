#pragma once
// Per-thread recycling of coroutine frames and task cells.
//
// Every tokio::Task frame and every spawn_blocking cell comes from here. Blocks are grouped
// in 64-byte size classes up to kMaxCachedBlock; each thread keeps a free list per class, so
// after warm-up a spawn allocates with a pointer pop and no atomic. A block freed on another
// thread than the one that allocated it simply joins the freeing thread's list (the lists
// are bounded, so an asymmetric spawner/finisher pattern cannot hoard memory). Larger
// blocks, and everything under AddressSanitizer, go straight to ::operator new so the
// sanitizer sees every allocation.

#include <cstddef>
#include <cstdint>
#include <new>

#include "tokio/core/config.hpp"

namespace tokio::detail {

inline constexpr std::size_t kFrameGranule = 64;
inline constexpr std::size_t kMaxCachedBlock = 4096;
inline constexpr std::size_t kFrameClasses = kMaxCachedBlock / kFrameGranule;

struct FreeBlock {
  FreeBlock* next;
};

struct FrameCache {
  FreeBlock* head[kFrameClasses];
  uint32_t count[kFrameClasses];
};

// The calling thread's cache; null until the thread first frees a block. Plain pointer so
// the fast path is a direct TLS load (no init guard); the cache itself is released by a
// separate thread_local owner created in frame_cache_create().
inline thread_local constinit FrameCache* tls_frame_cache = nullptr;

FrameCache* frame_cache_create();
void frame_cache_trim(FrameCache* c, std::size_t cls) noexcept;

inline constexpr std::size_t frame_class(std::size_t size) noexcept {
  return (size - 1) / kFrameGranule;
}
// How many blocks of a class a thread keeps: up to 512 KiB per class, at least 64.
inline constexpr uint32_t frame_class_cap(std::size_t cls) noexcept {
  std::size_t bytes = (cls + 1) * kFrameGranule;
  std::size_t n = (512 * 1024) / bytes;
  return static_cast<uint32_t>(n < 64 ? 64 : n);
}

inline void* frame_alloc(std::size_t size) {
#if !defined(TOKIO_ASAN)
  if (TOKIO_LIKELY(size <= kMaxCachedBlock)) {
    std::size_t cls = frame_class(size);
    if (FrameCache* c = tls_frame_cache) {
      if (FreeBlock* b = c->head[cls]) {
        c->head[cls] = b->next;
        --c->count[cls];
        return b;
      }
    }
    return ::operator new((cls + 1) * kFrameGranule);
  }
#endif
  return ::operator new(size);
}

inline void frame_free(void* p, std::size_t size) noexcept {
#if !defined(TOKIO_ASAN)
  if (TOKIO_LIKELY(size <= kMaxCachedBlock)) {
    std::size_t cls = frame_class(size);
    FrameCache* c = tls_frame_cache;
    if (TOKIO_UNLIKELY(c == nullptr)) c = frame_cache_create();
    if (TOKIO_LIKELY(c != nullptr && c->count[cls] < frame_class_cap(cls))) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = c->head[cls];
      c->head[cls] = b;
      ++c->count[cls];
      return;
    }
    ::operator delete(p);
    return;
  }
#endif
  (void)size;
  ::operator delete(p);
}

}  // namespace tokio::detail
