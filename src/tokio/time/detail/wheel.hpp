#pragma once
// Wheel: the hierarchical hashed timing wheel (Varghese & Lauck) the time driver files
// timers in. Not thread-safe: the driver holds its lock around every call.
//
// Six levels of 64 slots; a slot of level k spans 64^k ticks (1 tick = 1 ms), so level 0
// covers the next 64 ms at 1 ms resolution, level 1 the next ~4 s at 64 ms, ... level 5
// ~2.2 years at ~12 days. A timer due at tick `when` is filed at the level of the highest
// 6-bit digit in which `when` differs from `elapsed` (the last tick processed), in the slot
// named by that digit of `when`; farther than the wheel's range it saturates at level 5
// and is simply re-filed each time its slot comes round. Each level keeps a 64-bit
// occupied bitmap, so finding the next due slot is a rotate and a count-trailing-zeros.
//
// Processing a slot of level k > 0 cascades its timers to lower levels (re-filed relative
// to the slot's start, which becomes `elapsed`); level-0 slots hold only due timers, which
// move to the pending list and are handed out one at a time by poll(). Every slot is an
// intrusive doubly linked list, so removal is O(1) and needs no search. Timers due at the
// same tick come out in the order they were filed, whatever levels they passed through
// (Tokio's order): a slot is a FIFO list, and process() walks it oldest first, appending
// each timer to the pending list or to the tail of its lower-level slot.
//
// Invariant: a timer at level k, slot s has the same digits as `elapsed` above k and
// digit k equal to s (> elapsed's digit k below the top level), so its slot's start is
// after `elapsed` and no later than its tick: the wheel never processes a timer late, and
// never early (a timer only fires from a level-0 slot whose tick is its own, or from a
// cascade whose start already reached its tick).

#include <cstddef>
#include <cstdint>
#include <optional>

#include "tokio/time/detail/entry.hpp"

namespace tokio::detail {

class Wheel {
 public:
  static constexpr unsigned kLevels = 6;
  static constexpr unsigned kBits = 6;
  static constexpr unsigned kSlots = 1u << kBits;
  static constexpr uint64_t kMaxDuration = uint64_t{1} << (kBits * kLevels);  // 2^36 ms

  struct Expiration {
    unsigned level;
    unsigned slot;
    uint64_t deadline;  // tick at which the slot is processed
  };

  uint64_t elapsed() const noexcept { return elapsed_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  // Moves `elapsed` forward while the wheel is empty (keeps new timers at low levels when
  // the driver skipped processing because nothing was due).
  void advance_empty(uint64_t now) noexcept {
    if (count_ == 0 && now > elapsed_) elapsed_ = now;
  }

  // Files `e` (state already holds its tick) to fire at `when` > elapsed(). Returns the
  // tick at which its slot is processed (`when` itself at level 0, the slot's start,
  // where it cascades, above).
  uint64_t insert(TimerEntry* e, uint64_t when) noexcept;
  // Unlinks `e` from its slot or from the pending list.
  void remove(TimerEntry* e) noexcept;
  // The next timer due at or before `now` (state kPending, already unlinked), or null when
  // none is; then elapsed() == now.
  TimerEntry* poll(uint64_t now) noexcept;
  // The tick at which poll() next has work: elapsed() when timers are pending, the
  // earliest occupied slot's start otherwise; nullopt for an empty wheel.
  std::optional<uint64_t> next_expiration_tick() const noexcept;
  // Unlinks and returns any timer, or null when the wheel is empty (shutdown).
  TimerEntry* pop_any() noexcept;

  static unsigned level_for(uint64_t elapsed, uint64_t when) noexcept {
    uint64_t masked = (elapsed ^ when) | (kSlots - 1);
    if (masked >= kMaxDuration) masked = kMaxDuration - 1;
    unsigned significant = 63u - static_cast<unsigned>(__builtin_clzll(masked));
    return significant / kBits;
  }

 private:
  std::optional<Expiration> next_expiration() const noexcept;
  void process(const Expiration& exp) noexcept;
  void unlink_pending(TimerEntry* e) noexcept;

  uint64_t elapsed_ = 0;
  std::size_t count_ = 0;
  uint64_t occupied_[kLevels] = {};
  // A slot's timers, oldest first (insert appends at the tail; process walks from the head),
  // so that timers due at the same tick come out in the order they were filed.
  struct Slot {
    TimerEntry* head = nullptr;
    TimerEntry* tail = nullptr;
  };
  Slot slots_[kLevels][kSlots] = {};
  TimerEntry* pending_ = nullptr;
};

}  // namespace tokio::detail
