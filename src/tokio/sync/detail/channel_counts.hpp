#pragma once
// The handle counts of a channel's shared state, and the weak sender built on them
// (internal; mpsc, broadcast and watch).
//
//   tx       what keeps the channel open, two counts in one word: live Senders (for mpsc,
//            OwnedPermits too, which own one) in the low 32 bits, and mpsc's borrowed-style
//            Permits and PermitIterators (kPermitUnit each) in the high 32. The last of
//            either kind to go closes the channel, once: a Sender or Permit is only made
//            while the word is above 0 (a copy of a live Sender, a permit reserved through
//            one, or a weak sender's upgrade: a compare-exchange from n > 0 to n + 1), so a
//            closed channel never reopens. strong_count() reports the Senders only, as
//            Tokio's, whose Permit borrows a Sender instead of counting as one.
//   tx_weak  WeakSenders: only counted (weak_count()); they keep the state alive, not the
//            channel open.
//   refs     every handle of any kind (senders, weak senders, receivers); the last one
//            frees the state.
//
// The owner frees itself (its release(): `if (counts.unref()) delete this;`) and closes
// the channel its own way when tx_drop() says the last Sender went.

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

#include "tokio/core/config.hpp"

namespace tokio::detail {

struct ChannelCounts {
  // `handles`: the references the channel is made with (its first Sender and receiver).
  explicit ChannelCounts(std::size_t handles) noexcept : refs(handles) {}

  std::atomic<std::size_t> tx{1};
  std::atomic<std::size_t> tx_weak{0};
  std::atomic<std::size_t> refs;

  // Relaxed: the caller holds a reference already (as for a shared_ptr copy).
  void ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; true when it was the last (the caller frees the state). acq_rel:
  // the last decrement acquires every other handle's release decrement, so the free
  // comes after all their uses.
  [[nodiscard]] bool unref() noexcept { return refs.fetch_sub(1, std::memory_order_acq_rel) == 1; }

  // A copy of a live Sender (unit 1), or a Permit reserved through one (kPermitUnit: the
  // word's high half, so strong_count() leaves it out); its reference included. Relaxed:
  // the live Sender keeps tx above 0 meanwhile, so this cannot race with the close.
  static constexpr std::size_t kPermitUnit = std::size_t{1} << 32;
  static_assert(sizeof(std::size_t) >= 8, "the sender and permit counts share one word");
  void tx_clone(std::size_t unit = 1) noexcept {
    tx.fetch_add(unit, std::memory_order_relaxed);
    ref();
  }
  // A Sender (unit 1) or Permit (kPermitUnit) gone (its reference is the caller's to drop,
  // after closing): true when it was the last of both. acq_rel: the last decrement
  // acquires every other one's, so whatever they sent comes before the close the caller
  // publishes.
  [[nodiscard]] bool tx_drop(std::size_t unit = 1) noexcept {
    return tx.fetch_sub(unit, std::memory_order_acq_rel) == unit;
  }
  // Weak -> strong, only while some Sender (or Permit) lives; takes a reference too. Acquire on
  // success pairs with tx_drop's acq_rel: a count seen above 0 was not yet the one that
  // closed the channel.
  bool tx_upgrade() noexcept {
    std::size_t n = tx.load(std::memory_order_relaxed);
    while (n != 0) {
      if (tx.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel,
                                   std::memory_order_relaxed)) {
        ref();
        return true;
      }
    }
    return false;
  }

  // A WeakSender made (its reference included) / gone (its reference is the caller's to
  // drop). Relaxed: the count is only reported (weak_count()).
  void weak_clone() noexcept {
    tx_weak.fetch_add(1, std::memory_order_relaxed);
    ref();
  }
  void weak_drop() noexcept { tx_weak.fetch_sub(1, std::memory_order_relaxed); }

  // The live Senders (Permits not counted).
  std::size_t strong_count() const noexcept {
    return tx.load(std::memory_order_acquire) & (kPermitUnit - 1);
  }
  // False once the last Sender and Permit went (the channel is closed for senders).
  bool tx_open() const noexcept { return tx.load(std::memory_order_acquire) != 0; }
  std::size_t weak_count() const noexcept { return tx_weak.load(std::memory_order_acquire); }
};

// The handle part of a channel's Sender (mpsc, broadcast, watch): it holds one sender
// reference; a copy clones it, a move leaves the source empty, and the destructor hands it
// to Shared::tx_drop(), which closes the channel if it was the last Sender and then drops
// the reference. Shared: the state (a `counts` member and tx_drop()).
template <class Shared>
class SenderHandle {
 public:
  SenderHandle() noexcept = default;
  explicit SenderHandle(Shared* s) noexcept : s_(s) {}  // adopts a sender reference
  SenderHandle(const SenderHandle& o) noexcept : s_(o.s_) {
    if (s_) s_->counts.tx_clone();
  }
  SenderHandle(SenderHandle&& o) noexcept : s_(detail::exchange(o.s_, nullptr)) {}
  SenderHandle& operator=(SenderHandle o) noexcept {
    detail::swap_values(s_, o.s_);
    return *this;
  }
  ~SenderHandle() { reset(); }

 protected:
  // Drops the reference now (the handle is empty after).
  void reset() noexcept {
    if (Shared* s = detail::exchange(s_, nullptr)) s->tx_drop();
  }
  Shared* s_ = nullptr;
};

// A sender that does not count as one (mpsc and broadcast WeakSender): the channel closes
// when the last Sender goes, even while weak ones exist; upgrade() gives a Sender while
// the channel is still open. Shared: the state (a `counts` member and release(), which
// drops a reference); Strong: the Sender type, made from a Shared* whose sender
// reference it adopts. Empty when default-made or moved from (upgrade() gives nullopt,
// the counts 0).
template <class Shared, class Strong>
class WeakSenderOf {
 public:
  WeakSenderOf() noexcept = default;
  explicit WeakSenderOf(Shared* s) noexcept : s_(s) {
    if (s_) s_->counts.weak_clone();
  }
  WeakSenderOf(const WeakSenderOf& o) noexcept : WeakSenderOf(o.s_) {}
  WeakSenderOf(WeakSenderOf&& o) noexcept : s_(detail::exchange(o.s_, nullptr)) {}
  WeakSenderOf& operator=(WeakSenderOf o) noexcept {
    detail::swap_values(s_, o.s_);
    return *this;
  }
  ~WeakSenderOf() {
    if (Shared* s = detail::exchange(s_, nullptr)) {
      s->counts.weak_drop();
      s->release();
    }
  }
  // Rust's clone(): the same as a copy.
  WeakSenderOf clone() const noexcept { return *this; }

  // A Sender, or nullopt when every Sender is gone (the channel is closed for good).
  std::optional<Strong> upgrade() const noexcept {
    if (s_ && s_->counts.tx_upgrade()) return Strong(s_);
    return std::nullopt;
  }
  std::size_t strong_count() const noexcept { return s_ ? s_->counts.strong_count() : 0; }
  std::size_t weak_count() const noexcept { return s_ ? s_->counts.weak_count() : 0; }

 private:
  Shared* s_ = nullptr;
};

}  // namespace tokio::detail
