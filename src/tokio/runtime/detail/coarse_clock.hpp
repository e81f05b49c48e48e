#pragma once
// The clock of a task's SINCE field (task_state.hpp): when it became idle, scheduled or
// running, for Handle::dump's "how long in that state".
//
// A scheduler thread reads the real clock once per batch of polls (after each park and each
// maintenance tick, where it reads it anyway) into tls.coarse_ms, and its transitions stamp
// that: no clock read on the poll or wake path. Any other thread (a blocking-pool thread, a
// user thread waking a task) reads the real clock, on paths that already cost far more.
// Precision: the length of one batch, at most event_interval polls.

#include <chrono>
#include <cstdint>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/task_state.hpp"

namespace tokio::detail {

// Milliseconds of the steady clock, modulo 2^32 (the SINCE field keeps the low 24 bits).
inline uint32_t steady_ms() noexcept {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
inline uint32_t steady_ms(std::chrono::steady_clock::time_point now) noexcept {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

// A scheduler thread starts a batch of polls at `now`.
inline void refresh_coarse_clock(std::chrono::steady_clock::time_point now) noexcept {
  tls.coarse_ms = steady_ms(now);
}

// The SINCE bits for a transition made on this thread now.
inline uint64_t task_stamp() noexcept {
  const ThreadContext& c = tls;
  return TaskState::since_bits((c.worker ? c.coarse_ms : steady_ms()) & 0xFFFFFFu);
}

}  // namespace tokio::detail
