#include "tokio/time/detail/wheel.hpp"

namespace tokio::detail {

namespace time_wheel_impl {
inline uint64_t rotate_right(uint64_t v, unsigned n) noexcept {
  n &= 63;
  return n == 0 ? v : (v >> n) | (v << (64 - n));
}
}  // namespace time_wheel_impl

uint64_t Wheel::insert(TimerEntry* e, uint64_t when) noexcept {
  unsigned level = level_for(elapsed_, when);
  unsigned slot = static_cast<unsigned>(when >> (level * kBits)) & (kSlots - 1);
  e->level = static_cast<uint8_t>(level);
  e->slot = static_cast<uint8_t>(slot);
  Slot& s = slots_[level][slot];
  e->next = nullptr;
  e->prev = s.tail;
  if (s.tail) s.tail->next = e;
  else s.head = e;
  s.tail = e;
  occupied_[level] |= uint64_t{1} << slot;
  ++count_;
  unsigned shift = level * kBits;
  uint64_t level_range = uint64_t{1} << (shift + kBits);
  uint64_t start = (elapsed_ & ~(level_range - 1)) + (uint64_t{slot} << shift);
  return start <= elapsed_ ? start + level_range : start;
}

void Wheel::remove(TimerEntry* e) noexcept {
  if (e->level == TimerEntry::kPendingLevel) {
    unlink_pending(e);
    return;
  }
  Slot& s = slots_[e->level][e->slot];
  if (e->prev) e->prev->next = e->next;
  else s.head = e->next;
  if (e->next) e->next->prev = e->prev;
  else s.tail = e->prev;
  if (!s.head) occupied_[e->level] &= ~(uint64_t{1} << e->slot);
  e->prev = e->next = nullptr;
  --count_;
}

void Wheel::unlink_pending(TimerEntry* e) noexcept {
  if (e->prev) e->prev->next = e->next;
  else pending_ = e->next;
  if (e->next) e->next->prev = e->prev;
  e->prev = e->next = nullptr;
  --count_;
}

std::optional<Wheel::Expiration> Wheel::next_expiration() const noexcept {
  for (unsigned level = 0; level < kLevels; ++level) {
    uint64_t occ = occupied_[level];
    if (!occ) continue;
    unsigned shift = level * kBits;
    uint64_t slot_range = uint64_t{1} << shift;
    uint64_t level_range = slot_range << kBits;
    // Search from the slot after elapsed's: elapsed's own slot can only hold timers of
    // the top level that are a whole rotation away, so it comes last.
    unsigned from = (static_cast<unsigned>(elapsed_ >> shift) + 1) & (kSlots - 1);
    unsigned zeros =
        static_cast<unsigned>(__builtin_ctzll(time_wheel_impl::rotate_right(occ, from)));
    unsigned slot = (zeros + from) & (kSlots - 1);
    uint64_t deadline = (elapsed_ & ~(level_range - 1)) + slot * slot_range;
    // Only the top level wraps: a timer beyond the wheel's range, filed in a slot that
    // comes round in the next rotation.
    if (deadline <= elapsed_) deadline += level_range;
    return Expiration{level, slot, deadline};
  }
  return std::nullopt;
}

std::optional<uint64_t> Wheel::next_expiration_tick() const noexcept {
  if (pending_) return elapsed_;
  if (auto e = next_expiration()) return e->deadline;
  return std::nullopt;
}

void Wheel::process(const Expiration& exp) noexcept {
  // Take the whole slot first: a timer beyond the wheel's range may be re-filed into the
  // very slot being processed, and must not be seen again in this pass.
  TimerEntry* e = slots_[exp.level][exp.slot].head;
  slots_[exp.level][exp.slot] = Slot{};
  occupied_[exp.level] &= ~(uint64_t{1} << exp.slot);
  elapsed_ = exp.deadline;
  // Oldest first (the slot is FIFO): a cascaded timer is appended to its new slot after
  // the older ones, and a due one to the pending list, which poll() hands out from its
  // head; so timers due at the same tick come out in the order they were filed, as
  // Tokio's do. poll() calls this only with the pending list empty.
  TimerEntry* pending_tail = nullptr;
  while (e) {
    TimerEntry* newer = e->next;  // read before insert() relinks e
    --count_;
    uint64_t cur = e->state.load(std::memory_order_acquire);
    for (;;) {
      // Entries in slots are registered, so `cur` is a tick; the owner may raise it
      // concurrently (lock-free reset to a later deadline), hence the CAS.
      if (cur > exp.deadline) {
        insert(e, cur);
        break;
      }
      if (e->state.compare_exchange_weak(cur, TimerEntry::kPending, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        e->level = TimerEntry::kPendingLevel;
        e->next = nullptr;
        e->prev = pending_tail;
        if (pending_tail) pending_tail->next = e;
        else pending_ = e;
        pending_tail = e;
        ++count_;
        break;
      }
    }
    e = newer;
  }
}

TimerEntry* Wheel::pop_any() noexcept {
  TimerEntry* e = pending_;
  for (unsigned l = 0; !e && l < kLevels; ++l) {
    if (occupied_[l]) e = slots_[l][__builtin_ctzll(occupied_[l])].head;
  }
  if (e) remove(e);
  return e;
}

TimerEntry* Wheel::poll(uint64_t now) noexcept {
  for (;;) {
    if (TimerEntry* e = pending_) {
      unlink_pending(e);
      return e;
    }
    auto exp = next_expiration();
    if (!exp || exp->deadline > now) {
      if (now > elapsed_) elapsed_ = now;
      return nullptr;
    }
    process(*exp);
  }
}

}  // namespace tokio::detail
