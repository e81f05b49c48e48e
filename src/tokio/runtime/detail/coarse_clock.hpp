#pragma once
// The clock of a task's SINCE field (task_state.hpp): when it became idle, scheduled or
// running, for Handle::dump's "how long in that state".
//
// A scheduler thread reads the real clock once per batch of polls (after each park and each
// maintenance tick, where it reads it anyway) into tls.coarse_ms, and its transitions stamp
// that: no clock read on the poll or wake path. Any other thread (block_on's thread, a
// blocking-pool thread, a user thread waking a task) reads the process-wide copy of the
// latest batch start. Precision: the length of one batch (at most event_interval polls);
// for a spawn or wake from outside the workers while every worker sleeps, the time since a
// worker last woke.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/task_state.hpp"

namespace tokio::detail {

// Milliseconds of the steady clock, modulo 2^32 (the SINCE field keeps the low 24 bits).
inline uint32_t steady_ms(std::chrono::steady_clock::time_point now) noexcept {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}
inline uint32_t steady_ms() noexcept { return steady_ms(std::chrono::steady_clock::now()); }

// The process-wide coarse clock: the latest batch start of any scheduler thread. Read by
// threads that are not scheduler workers (a spawn or a wake from block_on's thread, a
// blocking-pool thread or a user thread), which would otherwise read the real clock on
// every spawn and wake. Relaxed: a clock reading, ordered with nothing; a scheduler thread
// stores it only when the millisecond changed, so readers rarely miss in cache.
inline std::atomic<uint32_t> g_coarse_ms{0};

// A scheduler thread starts a batch of polls at `now`.
inline void refresh_coarse_clock(std::chrono::steady_clock::time_point now) noexcept {
  uint32_t ms = steady_ms(now);
  tls.coarse_ms = ms;
  if (g_coarse_ms.load(std::memory_order_relaxed) != ms) {
    g_coarse_ms.store(ms, std::memory_order_relaxed);
  }
}

// The SINCE bits for a transition made on this thread now.
inline uint64_t task_stamp() noexcept {
  const ThreadContext& c = tls;
  uint32_t ms = c.worker ? c.coarse_ms : g_coarse_ms.load(std::memory_order_relaxed);
  return TaskState::since_bits(ms & 0xFFFFFFu);
}

}  // namespace tokio::detail
