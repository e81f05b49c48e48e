#pragma once
// TimerEntry: the intrusive node a timer (Sleep, Interval, Timeout) keeps inside itself
// and links into the timing wheel while registered. No allocation per timer.
//
// `state` (64 bits) encoding:
//   0 .. kMaxTick       registered: the deadline tick (ms since the driver started) the
//                       timer must not fire before. Lives in a wheel slot, filed at that
//                       tick or earlier (a lock-free reset to a later deadline only raises
//                       this word; the driver re-files the entry when it reaches the slot)
//   kUnregistered       not known to the driver: never polled, or reset after firing.
//                       Creating and destroying such a timer touches no lock.
//   kPending            taken off its slot by the driver, waiting in the wheel's pending
//                       list to be fired in the current batch
//   kFired              fired (its waker was taken and woken), or completed at once
//                       because its deadline had passed
//   kOrphaned           its runtime shut down before the deadline: the waker was taken
//                       and woken, the entry is unlinked, and the deadline has NOT passed.
//                       The owner's next poll registers it again with the polling
//                       runtime, or, when that one is shut down too, completes with an
//                       error (Timer::throw_if_errored), never as if the time had come
//   kNoRuntime          polled (unregistered or orphaned) from a thread whose runtime has
//                       no timers, or from no runtime at all: nothing can fire it there,
//                       so the poll completes and the owner reports the error
//                       (Timer::throw_if_errored). Never known to any driver.
// Transitions: kUnregistered -> tick (registration, under the driver lock);
// tick -> larger tick (lock-free reset, CAS by the owner); tick -> kPending (CAS by the
// driver under the lock); kPending/tick -> kFired or kOrphaned (driver, under the lock,
// published with release *after* its last access to the entry, so an owner that reads
// either with acquire may free the entry without taking the lock); kFired/kOrphaned ->
// kUnregistered (owner: reset, or the poll that registers an orphan again);
// kUnregistered/kOrphaned -> kNoRuntime (the owner's poll, no driver: relaxed, the owner's
// own word); kNoRuntime -> tick or kUnregistered (the owner: a later poll from a runtime
// with timers, or reset).
//
// `prev`/`next`/`level`/`slot` belong to the driver (read and written only under its
// lock). `waker` is written under the lock and read without it by the owner's poll, which
// only compares it with its own waker (a stale read costs one trip through the lock).

#include <atomic>
#include <cstdint>

#include "tokio/core/waker.hpp"

namespace tokio::detail {

struct TimerEntry {
  static constexpr uint64_t kMaxTick = uint64_t{1} << 62;
  static constexpr uint64_t kNoRuntime = ~uint64_t{0} - 4;
  static constexpr uint64_t kOrphaned = ~uint64_t{0} - 3;
  static constexpr uint64_t kUnregistered = ~uint64_t{0} - 2;
  static constexpr uint64_t kPending = ~uint64_t{0} - 1;
  static constexpr uint64_t kFired = ~uint64_t{0};
  static constexpr uint8_t kPendingLevel = 0xFF;

  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
  std::atomic<uint64_t> state{kUnregistered};
  std::atomic<Wakeable*> waker{nullptr};
  uint8_t level = 0;  // wheel level, or kPendingLevel while in the pending list
  uint8_t slot = 0;   // slot within the level

  static constexpr bool is_tick(uint64_t s) noexcept { return s <= kMaxTick; }
  // Not known to the driver (the owner may free or re-register it without the lock).
  static constexpr bool is_off_wheel(uint64_t s) noexcept {
    return s == kUnregistered || s == kFired || s == kOrphaned || s == kNoRuntime;
  }
};

}  // namespace tokio::detail
