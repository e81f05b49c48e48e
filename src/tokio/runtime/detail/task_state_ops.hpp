#pragma once
// The transitions of the task state word (encoding and invariants: task_state.hpp). Only
// the task harness and the schedulers run them, so they are defined here, in a header the
// implementation section alone parses.

#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "tokio/runtime/detail/task_state.hpp"

namespace tokio::detail {

inline TaskState::ToRunning TaskState::to_running(uint64_t stamp) noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & LIFECYCLE) return ToRunning::Failed;
    uint64_t next = with_since((cur & ~NOTIFIED) | RUNNING, stamp);
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return (cur & CANCELLED) ? ToRunning::Cancelled : ToRunning::Acquired;
    }
  }
}

inline TaskState::ToIdle TaskState::to_idle(uint64_t stamp) noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & CANCELLED) return ToIdle::Cancelled;
    uint64_t next = with_since(cur & ~RUNNING, stamp);
    ToIdle r = ToIdle::OkNotified;
    if (!(cur & NOTIFIED)) {
      next -= REF_ONE;
      r = refs(next) == 0 ? ToIdle::OkDealloc : ToIdle::Ok;
    }
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return r;
    }
  }
}

inline bool TaskState::to_notified_after_yield(uint64_t stamp) noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & CANCELLED) return false;
    uint64_t next = with_since((cur & ~RUNNING) | NOTIFIED, stamp);
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return true;
    }
  }
}

inline uint64_t TaskState::to_complete() noexcept {
  return word_.fetch_xor(RUNNING | COMPLETE, std::memory_order_acq_rel) ^ (RUNNING | COMPLETE);
}

template <class Stamp>
TaskState::Notify TaskState::to_notified_by_ref(Stamp stamp) noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & (COMPLETE | NOTIFIED)) return Notify::DoNothing;
    uint64_t next = cur | NOTIFIED;
    Notify r = Notify::DoNothing;
    if (!(cur & RUNNING)) {  // idle -> scheduled
      next = with_since(next + REF_ONE, stamp());
      r = Notify::Submit;
    }
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return r;
    }
  }
}

template <class Stamp>
TaskState::Notify TaskState::to_notified_by_val(Stamp stamp) noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    uint64_t next;
    Notify r;
    if (cur & RUNNING) {
      next = (cur | NOTIFIED) - REF_ONE;
      r = Notify::DoNothing;
    } else if (cur & (COMPLETE | NOTIFIED)) {
      next = cur - REF_ONE;
      r = refs(next) == 0 ? Notify::Dealloc : Notify::DoNothing;
    } else {  // idle -> scheduled
      next = with_since(cur | NOTIFIED, stamp());
      r = Notify::Submit;
    }
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return r;
    }
  }
}

inline bool TaskState::to_notified_and_cancel() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & (CANCELLED | COMPLETE)) return false;
    uint64_t next = cur | CANCELLED;
    bool submit = false;
    if (cur & RUNNING) {
      next |= NOTIFIED;
    } else if (!(cur & NOTIFIED)) {
      next |= NOTIFIED;
      next += REF_ONE;
      submit = true;
    }
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return submit;
    }
  }
}

inline bool TaskState::claim_idle_for_read() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & (LIFECYCLE | NOTIFIED | CANCELLED)) return false;
    if (word_.compare_exchange_weak(cur, cur | RUNNING, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return true;
    }
  }
}

inline TaskState::ReadRelease TaskState::release_read() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    ReadRelease r = (cur & CANCELLED)  ? ReadRelease::Cancelled
                    : (cur & NOTIFIED) ? ReadRelease::Notified
                                       : ReadRelease::Idle;
    // Cancelled keeps RUNNING for the caller; Notified and Cancelled take a reference (for
    // the queue, or for the cancelling caller).
    uint64_t next = r == ReadRelease::Cancelled ? cur : cur & ~RUNNING;
    if (r != ReadRelease::Idle) next += REF_ONE;
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return r;
    }
  }
}

inline bool TaskState::to_shutdown() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    uint64_t next = cur | CANCELLED;
    bool claim = !(cur & LIFECYCLE);
    if (claim) next |= RUNNING;
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return claim;
    }
  }
}

inline bool TaskState::set_join_waker() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & COMPLETE) return false;
    if (word_.compare_exchange_weak(cur, cur | JOIN_WAKER, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return true;
    }
  }
}

inline bool TaskState::unset_join_waker() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    if (cur & COMPLETE) return false;
    if (word_.compare_exchange_weak(cur, cur & ~JOIN_WAKER, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return true;
    }
  }
}

inline uint64_t TaskState::unset_join_waker_after_complete() noexcept {
  return word_.fetch_and(~JOIN_WAKER, std::memory_order_acq_rel) & ~JOIN_WAKER;
}

inline uint64_t TaskState::drop_join_interest() noexcept {
  uint64_t cur = word_.load(std::memory_order_acquire);
  for (;;) {
    uint64_t next = cur & ~JOIN_INTEREST;
    if (!(cur & COMPLETE)) next &= ~JOIN_WAKER;
    if (word_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return next;
    }
  }
}

inline bool TaskState::ref_dec() noexcept { return ref_dec_n(1); }

inline bool TaskState::ref_dec_n(uint64_t n) noexcept {
  uint64_t prev = word_.fetch_sub(n * REF_ONE, std::memory_order_acq_rel);
  return refs(prev) == n;
}

}  // namespace tokio::detail
