#pragma once
// ThreadSanitizer annotations for the one synchronisation TSan cannot see: the kernel.
// An op's fields written before its submission entries are published (SQ tail, release)
// are read by whichever thread takes its completion (CQ tail, acquire); the ordering comes
// from io_uring's ring barriers, which TSan does not model, so the engine tells TSan with
// an explicit release (submission) / acquire (completion) on the op's address. No code
// outside TSan builds.

#if defined(__SANITIZE_THREAD__)
#define TOKIO_FS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOKIO_FS_TSAN 1
#endif
#endif

#ifdef TOKIO_FS_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace tokio::detail {

inline void fs_tsan_release(void* p) noexcept {
#ifdef TOKIO_FS_TSAN
  __tsan_release(p);
#else
  (void)p;
#endif
}

inline void fs_tsan_acquire(void* p) noexcept {
#ifdef TOKIO_FS_TSAN
  __tsan_acquire(p);
#else
  (void)p;
#endif
}

}  // namespace tokio::detail
