#pragma once
// sync::watch: a multi-producer, multi-consumer channel that holds only the latest value.
//
//   auto [tx, rx] = tokio::sync::watch::channel<Config>(initial);
//   (void)tx.send(new_config);                 // replaces the value, wakes the receivers
//   while ((co_await rx.changed()).has_value()) {
//     auto cfg = rx.borrow_and_update();       // Ref<Config>: a read lock on the value
//     apply(*cfg);
//   }                                          // fails once every sender is gone
//
// Each receiver remembers the version it has seen; changed() completes when the channel
// holds a newer one. Intermediate values may be skipped: only the latest is kept.
//
// Senders clone (a copy or clone(), as in Tokio 1.37 and later): every clone sends,
// subscribes and waits in closed() alike, and the channel closes for the receivers only
// when the last Sender is gone. Concurrent sends from clones are ordered by the value's
// write lock; a receiver sees the latest of them.
//
// Cancel safety: changed() is cancel-safe. wait_for() is cancel-safe too, but the version
// seen may have moved on when it is cancelled. Sender::closed() is cancel-safe.
//
// borrow() holds a read lock on the value: do not hold a Ref across a co_await (the sender
// would block waiting for it).
//
// State word (`state`, 64 bits): (version << 1) | CLOSED (bit 0: every Sender is gone).
// The version moves (+1) with the value, under the value's write lock, so a reader holding
// the read lock sees the version of the value it reads.
//
// Counts: `counts` (channel_counts.hpp) of Senders and of every handle of either kind (the
// last one frees the channel), and `rx_count` Receivers. The Sender count reaching 0 sets
// CLOSED, once: no Sender can be made again after that (copies come from a live Sender).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/sync/detail/channel_counts.hpp"
#include "tokio/sync/detail/raw_rwlock.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::detail {

template <class T>
struct WatchShared {
  static_assert(detail::SyncValueType<T>::ok);
  static constexpr uint64_t CLOSED = 1;
  static constexpr std::size_t kNotifyShards = 8;

  template <class... A>
  explicit WatchShared(A&&... a) : value(std::forward<A>(a)...) {}

  RawRwLock lock;
  T value;
  std::atomic<uint64_t> state{0};
  ChannelCounts counts{2};  // the first Sender and Receiver (channel_counts.hpp)
  std::atomic<std::size_t> rx_count{1};
  // Receivers wait on one of several Notify (chosen at random) so that a thousand waiting
  // receivers do not all contend on one waiter-list lock (Tokio's BigNotify).
  sync::Notify notify_rx[kNotifyShards];
  sync::Notify notify_tx;  // the last receiver went away (Sender::closed)

  uint64_t version() const noexcept { return state.load(std::memory_order_acquire) & ~CLOSED; }
  bool closed() const noexcept { return state.load(std::memory_order_acquire) & CLOSED; }
  sync::Notified notified_rx() noexcept {
    return notify_rx[thread_rand_n(kNotifyShards)].notified();
  }
  void notify_all_rx() noexcept {
    for (auto& n : notify_rx) n.notify_waiters();
  }
  void release() noexcept {
    if (counts.unref()) delete this;
  }

  // A Sender dropped; the last one closes the channel. The last decrement (acq_rel)
  // acquires every other Sender's, so each value they sent (its state.fetch_add) comes
  // before CLOSED in the state word's order, and a receiver that sees CLOSED (acquire) has
  // seen every version first (changed() reports the last value before the error). The
  // fetch_or releases the value the last send stored.
  void tx_drop() noexcept {
    if (counts.tx_drop()) {
      state.fetch_or(CLOSED, std::memory_order_release);
      notify_all_rx();
    }
    release();
  }
};

}  // namespace tokio::detail

namespace tokio::sync::watch {

// A read-locked view of the value. Movable; unlocks when destroyed.
template <class T>
class Ref {
 public:
  Ref(detail::RawRwLock* l, const T* v, bool changed) noexcept : l_(l), v_(v), changed_(changed) {}
  Ref(Ref&& o) noexcept : l_(detail::exchange(o.l_, nullptr)), v_(o.v_), changed_(o.changed_) {}
  Ref& operator=(Ref&&) = delete;
  ~Ref() {
    if (l_) l_->unlock_shared();
  }
  const T& operator*() const noexcept { return *v_; }
  const T* operator->() const noexcept { return v_; }
  // Whether this value was new to the receiver that borrowed it (borrow_and_update,
  // wait_for); for Receiver::borrow(), whether the receiver had not seen it yet (borrow
  // leaves it unseen); always false for Sender::borrow().
  bool has_changed() const noexcept { return changed_; }

 private:
  detail::RawRwLock* l_;
  const T* v_;
  bool changed_;
};

template <class T>
class Receiver {
  static_assert(detail::SyncValueType<T>::ok);
  using Shared = detail::WatchShared<T>;

 public:
  // An empty receiver (as a moved-from one is): `rx = {}` drops a receiver. Every
  // operation on an empty one throws std::logic_error naming it; copies stay empty.
  Receiver() noexcept = default;
  Receiver(Shared* s, uint64_t version) noexcept : s_(s), version_(version) {}  // adopts
  Receiver(const Receiver& o) noexcept : s_(o.s_), version_(o.seen()) {
    if (!s_) return;
    s_->rx_count.fetch_add(1, std::memory_order_relaxed);
    s_->counts.ref();
  }
  Receiver(Receiver&& o) noexcept : s_(detail::exchange(o.s_, nullptr)), version_(o.version_) {}
  Receiver& operator=(Receiver o) noexcept {
    detail::swap_values(s_, o.s_);
    detail::swap_values(version_, o.version_);
    return *this;
  }
  // Rust's clone(): the same as a copy (another handle on the same channel, at this one's version).
  Receiver clone() const noexcept { return *this; }
  ~Receiver() {
    Shared* s = detail::exchange(s_, nullptr);
    if (!s) return;
    if (s->rx_count.fetch_sub(1, std::memory_order_acq_rel) == 1) s->notify_tx.notify_waiters();
    s->release();
  }

  // The current value, without marking it seen.
  Ref<T> borrow() const {
    Shared* s = checked();
    s->lock.lock_shared();
    uint64_t v = s->version();
    return Ref<T>(&s->lock, &s->value, v != seen());
  }
  // The current value, marking it seen (changed() then waits for a newer one).
  Ref<T> borrow_and_update() {
    checked()->lock.lock_shared();
    uint64_t v = s_->version();
    bool changed = v != seen();
    set_seen(v);
    return Ref<T>(&s_->lock, &s_->value, changed);
  }
  // Whether a value newer than the last one seen is there; RecvError once every sender
  // is gone.
  Result<bool, RecvError> has_changed() const {
    uint64_t st = checked()->state.load(std::memory_order_acquire);
    if (st & Shared::CLOSED) return unexpected(RecvError{});
    return (st & ~Shared::CLOSED) != seen();
  }
  // Makes the current value look unseen / seen.
  void mark_changed() { set_seen(checked()->version() - 2); }
  void mark_unchanged() { set_seen(checked()->version()); }

  class TOKIO_MUST_AWAIT Changed : public detail::Leaf<Changed> {
   public:
    explicit Changed(Receiver& r) noexcept : r_(r), n_(r.s_->notified_rx()) {}
    Changed(Changed&& o) noexcept : detail::Leaf<Changed>(o), r_(o.r_), n_(std::move(o.n_)) {}
    // A copy (made before the first poll) requests its own notification.
    Changed(const Changed& o) noexcept
        : detail::Leaf<Changed>(o), r_(o.r_), n_(r_.s_->notified_rx()) {}
    bool poll(task::Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      for (;;) {
        // The notification is requested before the version is checked (no lost wake-up).
        if (changed_now()) return true;
        if (!n_.poll(cx)) return false;
        n_.reset();  // request the next notification before checking again
      }
    }
    // poll without requesting a notification (Leaf's try_poll).
    bool try_poll() noexcept {
      return detail::coop_try([&] { return changed_now(); });
    }
    Result<void, RecvError> await_resume() const noexcept {
      if (closed_) return unexpected(RecvError{});
      return {};
    }

   private:
    // A version not seen yet (now marked seen), or the channel closed: ready.
    bool changed_now() noexcept {
      for (;;) {
        uint64_t st = r_.s_->state.load(std::memory_order_acquire);
        uint64_t v = st & ~Shared::CLOSED;
        uint64_t seen = r_.seen();
        if (v != seen) {
          // Two tasks awaiting changed() on one receiver: the one whose exchange succeeds
          // reports this version; the other looks again (and waits for the next).
          if (r_.seen_ref().compare_exchange_strong(seen, v, std::memory_order_relaxed)) {
            return true;
          }
          continue;
        }
        if (st & Shared::CLOSED) {
          closed_ = true;
          return true;
        }
        return false;
      }
    }

    Receiver& r_;
    Notified n_;
    bool closed_ = false;
  };
  // Waits for a value newer than the last one seen (and marks it seen). RecvError when
  // every sender is gone (after the last value sent was observed).
  Changed changed() {
    checked();
    return Changed(*this);
  }

  // Waits until pred(value) holds; returns a Ref to that value (marked seen). Checks the
  // current value first. RecvError when every sender is gone and no value satisfies pred.
  template <class Pred>
  Task<Result<Ref<T>, RecvError>> wait_for(Pred pred) {
    checked();
    bool closed = false;
    for (;;) {
      {
        // The read lock must not be held across the co_await below.
        s_->lock.lock_shared();
        uint64_t v = s_->version();
        bool changed = v != seen();
        set_seen(v);
        Ref<T> r(&s_->lock, &s_->value, changed);
        if ((!closed || changed) && pred(*r)) co_return std::move(r);
      }
      if (closed) co_return unexpected(RecvError{});
      auto c = co_await changed_impl();
      closed = !c.has_value();
    }
  }

  bool same_channel(const Receiver& o) const noexcept { return s_ == o.s_; }

 private:
  Changed changed_impl() noexcept { return Changed(*this); }
  Shared* checked() const {
    if (!s_) detail::throw_misuse("watch: use of an empty (moved-from) Receiver");
    return s_;
  }
  // The version last seen. Accessed atomically (relaxed: it orders nothing but itself), so
  // two tasks awaiting changed() on one receiver share it without a data race, and each
  // version is reported to one of them.
  std::atomic_ref<uint64_t> seen_ref() const noexcept {
    return std::atomic_ref<uint64_t>(version_);
  }
  uint64_t seen() const noexcept { return seen_ref().load(std::memory_order_relaxed); }
  void set_seen(uint64_t v) noexcept { seen_ref().store(v, std::memory_order_relaxed); }

  Shared* s_ = nullptr;
  alignas(std::atomic_ref<uint64_t>::required_alignment) mutable uint64_t version_ = 0;
};

template <class T>
class Sender : public detail::SenderHandle<detail::WatchShared<T>> {
  using Shared = detail::WatchShared<T>;
  using Handle = detail::SenderHandle<Shared>;
  using Handle::s_;

 public:
  // Copying a Sender clones it (Tokio 1.37's Clone); dropping the last one closes the
  // channel (changed() and has_changed() then fail). An empty sender (as a moved-from one
  // is): `tx = {}` drops a sender. Every operation on an empty one throws std::logic_error
  // naming it, except is_closed / receiver_count / sender_count (true / 0 / 0); copies of
  // an empty one stay empty. Sender(Shared*) adopts a sender reference.
  using Handle::Handle;
  // Rust's clone(): the same as a copy (another sender on the same channel).
  Sender clone() const noexcept { return *this; }

  // Replaces the value and notifies the receivers; fails (value handed back, nothing
  // stored) when there is no receiver.
  Result<void, SendError<T>> send(T value) {
    if (checked()->rx_count.load(std::memory_order_acquire) == 0) {
      return unexpected(SendError<T>{std::move(value)});
    }
    (void)send_replace(std::move(value));
    return {};
  }
  // Replaces the value (even with no receiver) and returns the old one. T must be
  // move-assignable, or nothrow move-constructible (then the stored value is destroyed and
  // the new one moved in; a throwing move there could leave the channel without a value).
  T send_replace(T value) {
    static_assert(std::is_move_assignable_v<T> || std::is_nothrow_move_constructible_v<T>,
                  "watch::Sender::send / send_replace store a new value over the old one: T "
                  "must be move-assignable or nothrow move-constructible (a struct with a const "
                  "member of a type whose copy can throw is neither). Change the value in place "
                  "with send_modify, or send a std::shared_ptr<const T>");
    {
      detail::ExclusiveGuard g(checked()->lock);
      if constexpr (std::is_move_assignable_v<T>) {
        std::swap(s_->value, value);
      } else {
        T old(std::move(s_->value));
        std::destroy_at(&s_->value);
        std::construct_at(&s_->value, std::move(value));
        std::destroy_at(&value);
        std::construct_at(&value, std::move(old));
      }
      s_->state.fetch_add(2, std::memory_order_release);
    }
    s_->notify_all_rx();
    return value;
  }
  // Modifies the value in place and notifies unconditionally.
  template <class F>
  void send_modify(F&& f) {
    send_if_modified([&](T& v) {
      std::forward<F>(f)(v);
      return true;
    });
  }
  // Modifies the value in place; notifies only when f returns true. Returns f's result.
  template <class F>
  bool send_if_modified(F&& f) {
    {
      detail::ExclusiveGuard g(checked()->lock);
      if (!std::forward<F>(f)(s_->value)) return false;
      s_->state.fetch_add(2, std::memory_order_release);
    }
    s_->notify_all_rx();
    return true;
  }

  Ref<T> borrow() const {
    checked()->lock.lock_shared();
    return Ref<T>(&s_->lock, &s_->value, false);
  }
  // True when every receiver is gone.
  bool is_closed() const noexcept { return receiver_count() == 0; }
  std::size_t receiver_count() const noexcept {
    return s_ ? s_->rx_count.load(std::memory_order_acquire) : 0;
  }
  // Senders of this channel, this one included.
  std::size_t sender_count() const noexcept { return s_ ? s_->counts.strong_count() : 0; }
  bool same_channel(const Sender& o) const noexcept { return s_ == o.s_; }
  // A new receiver; the current value counts as seen by it.
  Receiver<T> subscribe() const {
    checked()->rx_count.fetch_add(1, std::memory_order_acq_rel);
    s_->counts.ref();
    return Receiver<T>(s_, s_->version());
  }

  // Completes when every receiver is gone.
  class TOKIO_MUST_AWAIT Closed : public detail::Leaf<Closed> {
   public:
    explicit Closed(Shared* s) noexcept : s_(s), n_(s->notify_tx.notified()) {}
    Closed(Closed&& o) noexcept : detail::Leaf<Closed>(o), s_(o.s_), n_(std::move(o.n_)) {}
    Closed(const Closed& o) noexcept
        : detail::Leaf<Closed>(o), s_(o.s_), n_(s_->notify_tx.notified()) {}
    bool poll(task::Context& cx) noexcept {
      for (;;) {
        if (s_->rx_count.load(std::memory_order_acquire) == 0) return true;
        if (!n_.poll(cx)) return false;
        n_.reset();  // a receiver may have subscribed again since: re-check
      }
    }
    void await_resume() const noexcept {}

   private:
    Shared* s_;  // the awaiting Sender (this clone, not any other) keeps it alive
    Notified n_;
  };
  Closed closed() const { return Closed(checked()); }

 private:
  Shared* checked() const {
    if (!s_) detail::throw_misuse("watch: use of an empty (moved-from) Sender");
    return s_;
  }
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T init) {
  auto* s = new detail::WatchShared<T>(std::move(init));
  return {Sender<T>(s), Receiver<T>(s, 0)};
}

}  // namespace tokio::sync::watch
