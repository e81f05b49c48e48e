#pragma once
// LocalQueue: a worker's fixed 256-slot run queue. The owning worker pushes and pops;
// other workers steal half of it at a time.
//
// `head_` packs two 32-bit positions: (steal << 32) | real.
//   real   next slot the owner (or a finished steal) will pop
//   steal  start of a range a stealer is currently copying out; equal to `real` when no
//          steal is in progress
// `tail_` is written only by the owner (release) and is where the next push goes. The
// owner may overwrite a slot only when tail - steal < capacity, so slots a stealer is still
// copying are never reused. Positions are free-running u32 counters; slot = pos & kMask.
// Stealers claim by advancing `real` (keeping `steal`), copy, then set steal = real; while
// a steal is in progress other stealers back off. Slots are atomics accessed relaxed: the
// head/tail acquire/release pairs order them.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"
#include "tokio/runtime/detail/inject.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

class LocalQueue {
 public:
  static constexpr uint32_t kCapacity = 256;
  static constexpr uint32_t kMask = kCapacity - 1;
  static constexpr uint32_t kHalf = kCapacity / 2;

  static uint32_t real_of(uint64_t h) noexcept { return static_cast<uint32_t>(h); }
  static uint32_t steal_of(uint64_t h) noexcept { return static_cast<uint32_t>(h >> 32); }
  static uint64_t pack(uint32_t steal, uint32_t real) noexcept {
    return (static_cast<uint64_t>(steal) << 32) | real;
  }

  // Owner: tasks currently queued (approximate while stealers run).
  std::size_t len() const noexcept {
    uint64_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_acquire);
    return static_cast<uint32_t>(t - real_of(h));
  }
  bool is_empty() const noexcept { return len() == 0; }
  uint32_t remaining_slots() const noexcept {
    uint64_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_acquire);
    return kCapacity - static_cast<uint32_t>(t - steal_of(h));
  }

  // Owner: push; when full, moves half the queue plus `task` to the inject queue.
  // Returns true when tasks were moved to `inject` (the caller counts an overflow).
  bool push_back_or_overflow(TaskHeader* task, Inject& inject) noexcept {
    for (;;) {
      uint64_t h = head_.load(std::memory_order_acquire);
      uint32_t steal = steal_of(h);
      uint32_t real = real_of(h);
      uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t - steal < kCapacity) {
        buffer_[t & kMask].store(task, std::memory_order_relaxed);
        tail_.store(t + 1, std::memory_order_release);
        return false;
      }
      if (steal != real) {
        // A stealer is emptying the queue right now; it will make room. Don't wait for
        // it: send this one task to the inject queue.
        inject.push(task);
        return true;
      }
      if (push_overflow(task, real, t, inject)) return true;
      // A stealer moved head meanwhile; there is room now, retry.
    }
  }

  // Owner only: push when the caller knows there is room (batch refills from inject).
  void push_back_unchecked(TaskHeader* task) noexcept {
    uint32_t t = tail_.load(std::memory_order_relaxed);
    buffer_[t & kMask].store(task, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);
  }

  // Owner: pop the oldest task.
  TaskHeader* pop() noexcept {
    uint64_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      uint32_t steal = steal_of(h);
      uint32_t real = real_of(h);
      uint32_t t = tail_.load(std::memory_order_relaxed);
      if (real == t) return nullptr;
      uint32_t next_real = real + 1;
      uint64_t next = (steal == real) ? pack(next_real, next_real) : pack(steal, next_real);
      if (head_.compare_exchange_weak(h, next, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return buffer_[real & kMask].load(std::memory_order_relaxed);
      }
    }
  }

  // Stealer: moves about half of this queue into `dst` (owned by the calling worker) and
  // returns one of the stolen tasks to run right away. `dst` must be empty enough.
  TaskHeader* steal_into(LocalQueue& dst, uint32_t* stolen_count) noexcept {
    uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
    uint64_t dst_head = dst.head_.load(std::memory_order_acquire);
    if (dst_tail - steal_of(dst_head) > kHalf) return nullptr;  // dst more than half full

    uint32_t n = steal_half_into(dst, dst_tail);
    if (n == 0) return nullptr;
    *stolen_count = n;
    // Return the last stolen task; publish the rest.
    --n;
    TaskHeader* ret = dst.buffer_[(dst_tail + n) & kMask].load(std::memory_order_relaxed);
    if (n > 0) dst.tail_.store(dst_tail + n, std::memory_order_release);
    return ret;
  }

 private:
  bool push_overflow(TaskHeader* task, uint32_t head, uint32_t tail, Inject& inject) noexcept {
    // Claim the older half: head..head+kHalf. Tasks later pulled back from inject land in
    // the free half, so they are not overflowed again straight away.
    if (tail - head != kCapacity) return false;
    uint64_t expect = pack(head, head);
    uint64_t next = pack(head + kHalf, head + kHalf);
    if (!head_.compare_exchange_strong(expect, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return false;
    }
    TaskHeader* batch[kHalf + 1];
    for (uint32_t i = 0; i < kHalf; ++i) {
      batch[i] = buffer_[(head + i) & kMask].load(std::memory_order_relaxed);
    }
    batch[kHalf] = task;
    inject.push_batch(batch, kHalf + 1);
    return true;
  }

  uint32_t steal_half_into(LocalQueue& dst, uint32_t dst_tail) noexcept {
    uint64_t prev = head_.load(std::memory_order_acquire);
    uint32_t n;
    uint64_t next;
    for (;;) {
      uint32_t src_steal = steal_of(prev);
      uint32_t src_real = real_of(prev);
      if (src_steal != src_real) return 0;  // another stealer is active
      uint32_t src_tail = tail_.load(std::memory_order_acquire);
      n = src_tail - src_real;
      n -= n / 2;
      if (n == 0) return 0;
      uint32_t steal_to = src_real + n;
      next = pack(src_steal, steal_to);
      if (head_.compare_exchange_weak(prev, next, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        break;
      }
    }
    uint32_t first = steal_of(next);
    for (uint32_t i = 0; i < n; ++i) {
      TaskHeader* t = buffer_[(first + i) & kMask].load(std::memory_order_relaxed);
      dst.buffer_[(dst_tail + i) & kMask].store(t, std::memory_order_relaxed);
    }
    // Finish: steal = real, keeping any pops the owner made meanwhile.
    prev = next;
    for (;;) {
      uint32_t real = real_of(prev);
      uint64_t done = pack(real, real);
      if (head_.compare_exchange_weak(prev, done, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return n;
      }
    }
  }

  alignas(kCacheLine) Atomic<uint64_t> head_{0};
  alignas(kCacheLine) Atomic<uint32_t> tail_{0};
  alignas(kCacheLine) Atomic<TaskHeader*> buffer_[kCapacity] = {};
};

}  // namespace tokio::detail
