#pragma once
// sync::broadcast: a multi-producer, multi-consumer channel where every receiver sees
// every value (T must be copyable: each receiver gets its own copy).
//
//   auto [tx, rx1] = tokio::sync::broadcast::channel<int>(16);
//   auto rx2 = tx.subscribe();           // sees values sent from now on
//   (void)tx.send(10);                   // Result<size_t, SendError<int>>: receivers reached
//   auto v = co_await rx1.recv();        // Result<int, RecvError>
//
// Sender<T>::new_(capacity) (Tokio's Sender::new) makes a channel with no receiver yet:
// sends fail until subscribe() makes one. is_closed() is true while no receiver exists.
//
// The channel is a fixed ring of `capacity` slots (rounded up to a power of two). A send
// never waits: when a receiver has not read a value before the ring wraps around, the
// value is overwritten and that receiver's next recv() fails with RecvError Lagged(n)
// (n values missed); it then continues from the oldest value still held. When every
// Sender is gone, receivers get the remaining values and then RecvError Closed.
//
// Cancel safety: recv() is cancel-safe.
//
// Locking (as in Tokio): `tail_lock` guards the write position, the receiver count, the
// closed flag and the waiter list; each slot has a reader-writer lock held while its value
// is written or copied. Lock order: tail, then slot.

#include <atomic>
#include <bit>
#include <cstddef>
#include <exception>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/detail/channel_counts.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/detail/raw_rwlock.hpp"
#include "tokio/sync/detail/wait_list.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::detail {

template <class T>
struct BroadcastShared {
  static_assert(detail::SyncValueType<T>::ok);
  struct Slot {
    RawRwLock lock;
    std::atomic<std::size_t> rem{0};  // receivers that still have to read this value
    uint64_t pos = 0;                 // position of the value held (pos - cap: none yet)
    std::optional<T> val;
  };
  struct Waiter : WaitNode {
    Wakeable* waker = nullptr;        // guarded by tail_lock
    std::atomic<bool> queued{false};  // written under tail_lock; false = node released
  };

  // `receivers` (0 or 1) is the receiver made with the channel: it holds a reference (counts.refs), as
  // the first Sender does.
  BroadcastShared(std::size_t capacity, std::size_t receivers)
      : buffer(new Slot[capacity]),
        cap(capacity),
        mask(capacity - 1),
        rx_cnt(receivers),
        counts(1 + receivers) {
    for (std::size_t i = 0; i < capacity; ++i) buffer[i].pos = static_cast<uint64_t>(i) - capacity;
  }
  // A channel of `capacity` slots (rounded up to a power of two) with one Sender and
  // `receivers` receivers. Throws std::invalid_argument when capacity is 0 or too large.
  static BroadcastShared* create(std::size_t capacity, std::size_t receivers) {
    static_assert(std::is_copy_constructible_v<T>,
                  "tokio::sync::broadcast: every receiver gets a copy, so T must be copyable");
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "tokio::sync::broadcast: T must be nothrow move constructible");
    if (capacity == 0 || capacity > (SIZE_MAX >> 1)) detail::throw_broadcast_capacity(capacity);
    return new BroadcastShared(std::bit_ceil(capacity), receivers);
  }

  std::unique_ptr<Slot[]> buffer;
  std::size_t cap;
  std::size_t mask;
  WaitLock tail_lock;
  uint64_t tail_pos = 0;  // guarded by tail_lock
  std::size_t rx_cnt;     // guarded by tail_lock
  bool closed = false;    // guarded by tail_lock
  WaitList waiters;       // guarded by tail_lock: receivers waiting for a value
  WaitList tx_waiters;    // guarded by tail_lock: Sender::closed() waiting for rx_cnt == 0
  // Senders (the last one closes the channel), WeakSenders, and every handle of any kind
  // (channel_counts.hpp).
  ChannelCounts counts;

  void release() noexcept {
    if (counts.unref()) delete this;
  }
  // A Sender gone (SenderHandle): the last one closes the channel.
  void tx_drop() noexcept {
    if (counts.tx_drop()) {
      tail_lock.lock();
      closed = true;
      notify_rx_and_unlock();
    }
    release();
  }

  // With tail_lock held (taken by the caller): wakes every waiting receiver, in batches
  // with the lock released in between; returns with the lock released.
  void notify_rx_and_unlock() noexcept { wake_and_unlock(waiters); }
  // The same for the waiters of `list` (waiters or tx_waiters).
  void wake_and_unlock(WaitList& list) noexcept {
    WaitList local;
    local.splice_back(list);
    wake_all_and_unlock(tail_lock, local, [](WaitNode* n) noexcept {
      auto* w = static_cast<Waiter*>(n);
      Wakeable* k = detail::exchange(w->waker, nullptr);
      w->queued.store(false, std::memory_order_release);  // the owner may free `w` now
      return k;
    });
  }

  // With tail_lock held: `w` waits in `list` (waiters or tx_waiters) with `waker`, taking
  // a clone of it unless it holds that one already; queued once however often polled.
  void enqueue(WaitList& list, Waiter& w, Wakeable* waker) noexcept {
    if (w.waker != waker) {
      waker->vtable->clone(waker);
      drop_waker(detail::exchange(w.waker, waker));
    }
    if (!w.queued.load(std::memory_order_relaxed)) {
      w.queued.store(true, std::memory_order_relaxed);
      list.push_back(&w);
    }
  }

  enum class Read { Value, Empty, Closed, Lagged };
  // Reads position `next` (advancing it) into `out`; registers `w` (with `waker`) when
  // nothing is there yet. Lagged sets `missed`.
  Read recv(uint64_t& next, std::optional<T>* out, uint64_t& missed, Waiter* w, Wakeable* waker) {
    Slot& slot = buffer[next & mask];
    slot.lock.lock_shared();
    if (slot.pos != next) {
      // Drop the slot lock before taking the tail lock (send takes them in that order).
      slot.lock.unlock_shared();
      tail_lock.lock();
      slot.lock.lock_shared();
      if (slot.pos != next) {
        if (slot.pos + cap == next) {
          // Nothing new for this receiver.
          slot.lock.unlock_shared();
          if (closed) {
            tail_lock.unlock();
            return Read::Closed;
          }
          if (w) enqueue(waiters, *w, waker);
          tail_lock.unlock();
          return Read::Empty;
        }
        // Overwritten: skip to the oldest value still held.
        uint64_t oldest = tail_pos - cap;
        tail_lock.unlock();
        slot.lock.unlock_shared();
        missed = oldest - next;
        next = oldest;
        return Read::Lagged;
      } else {
        tail_lock.unlock();
      }
    }
    ++next;
    read_slot(slot, out);
    return Read::Value;
  }
  // Copies the value out (when `out`), counts this receiver as done with it, and drops the
  // value after the last reader. Releases the slot's read lock.
  void read_slot(Slot& slot, std::optional<T>* out) {
    struct Unlock {
      Slot& s;
      ~Unlock() {
        if (s.rem.fetch_sub(1, std::memory_order_acq_rel) == 1) s.val.reset();
        s.lock.unlock_shared();
      }
    } unlock{slot};
    if (out) out->emplace(*slot.val);
  }
  void cancel_wait(Waiter& w) noexcept {
    if (!w.queued.load(std::memory_order_acquire)) {
      drop_waker(detail::exchange(w.waker, nullptr));
      return;
    }
    WaitGuard g(tail_lock);
    if (w.queued.load(std::memory_order_relaxed)) {
      w.unlink();
      w.queued.store(false, std::memory_order_relaxed);
    }
    drop_waker(detail::exchange(w.waker, nullptr));
  }
};

}  // namespace tokio::detail

namespace tokio::sync::broadcast {

template <class T>
class Receiver;
template <class T>
class Sender;
// A sender that does not count as one: the channel closes when the last Sender goes, even
// while WeakSenders exist. upgrade() gives a Sender while the channel is still open.
template <class T>
using WeakSender = detail::WeakSenderOf<detail::BroadcastShared<T>, Sender<T>>;

template <class T>
class Sender : public detail::SenderHandle<detail::BroadcastShared<T>> {
  using Shared = detail::BroadcastShared<T>;
  using Handle = detail::SenderHandle<Shared>;
  using Handle::s_;

 public:
  // An empty sender (as a moved-from one is): `tx = {}` drops a sender. Every operation
  // on an empty one throws std::logic_error naming it; copies stay empty. Sender(Shared*)
  // adopts a sender reference.
  using Handle::Handle;
  // Rust's clone(): the same as a copy (another handle on the same channel).
  Sender clone() const noexcept { return *this; }
  // Tokio's Sender::new(capacity): a channel with this sender and no receiver yet (send
  // fails until subscribe() makes one). Capacity as for channel(); throws
  // std::invalid_argument when it is 0 or too large.
  static Sender new_(std::size_t capacity) { return Sender(Shared::create(capacity, 0)); }
  // Sends to every current receiver; returns how many there are. Fails (handing the
  // value back) when there is none. Never waits; may overwrite the oldest value.
  Result<std::size_t, SendError<T>> send(T value) const {
    Shared* s = checked();
    s->tail_lock.lock();
    if (s->rx_cnt == 0) {
      s->tail_lock.unlock();
      return unexpected(SendError<T>{std::move(value)});
    }
    uint64_t pos = s->tail_pos++;
    std::size_t rem = s->rx_cnt;
    auto& slot = s->buffer[pos & s->mask];
    slot.lock.lock();
    slot.pos = pos;
    slot.rem.store(rem, std::memory_order_relaxed);
    slot.val.emplace(std::move(value));  // nothrow (static_assert in channel())
    slot.lock.unlock();
    s->notify_rx_and_unlock();
    return rem;
  }

  // A new receiver that sees the values sent after this call.
  Receiver<T> subscribe() const;
  // Not noexcept: checked() throws on a moved-from Sender.
  std::size_t receiver_count() const {
    detail::WaitGuard g(checked()->tail_lock);
    return s_->rx_cnt;
  }
  // True when no receiver exists (none subscribed, or every one dropped): a send would
  // fail. True for an empty Sender.
  bool is_closed() const noexcept {
    if (!s_) return true;
    detail::WaitGuard g(s_->tail_lock);
    return s_->rx_cnt == 0;
  }
  bool same_channel(const Sender& o) const noexcept { return s_ == o.s_; }

  // Values still queued: sent and not yet seen by every receiver that was subscribed when
  // it was sent (a value overwritten by a later send is no longer counted), as Tokio's
  // Sender::len. Receivers read in order, so the slots still wanted form the newest end
  // of the ring: a binary search over it.
  std::size_t len() const {
    Shared* s = checked();
    detail::WaitGuard g(s->tail_lock);
    std::size_t lo = 0, hi = s->cap;  // offsets from the oldest position the ring holds
    while (lo < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      auto& slot = s->buffer[(s->tail_pos + mid) & s->mask];  // position tail - cap + mid
      slot.lock.lock_shared();
      bool wanted = slot.rem.load(std::memory_order_acquire) != 0;
      slot.lock.unlock_shared();
      if (wanted) hi = mid;
      else lo = mid + 1;
    }
    return s->cap - lo;
  }
  bool is_empty() const { return len() == 0; }

  // Senders and WeakSenders of this channel.
  std::size_t strong_count() const { return checked()->counts.strong_count(); }
  std::size_t weak_count() const { return checked()->counts.weak_count(); }
  // A handle that does not keep the channel open (WeakSender::upgrade gives a Sender back
  // while another Sender still exists).
  WeakSender<T> downgrade() const { return WeakSender<T>(checked()); }

  // Completes when every receiver is gone (none subscribed). Cancel-safe.
  class TOKIO_MUST_AWAIT Closed : public detail::Leaf<Closed> {
   public:
    static constexpr const char* kLeafName = "sync::broadcast::Sender::closed";  // in dumps
    explicit Closed(Shared* s) noexcept : s_(s) {}
    Closed(const Closed& o) noexcept : detail::Leaf<Closed>(o), s_(o.s_) {}
    ~Closed() { s_->cancel_wait(waiter_); }
    bool poll(task::Context& cx) noexcept {
      detail::WaitGuard g(s_->tail_lock);
      if (s_->rx_cnt == 0) return true;
      s_->enqueue(s_->tx_waiters, waiter_, cx.raw_waker());
      return false;
    }
    void await_resume() const noexcept {}

   private:
    Shared* s_;  // the awaiting Sender keeps it alive
    typename Shared::Waiter waiter_;
  };
  Closed closed() const { return Closed(checked()); }

 private:
  Shared* checked() const {
    if (!s_) detail::throw_misuse("broadcast: use of an empty (moved-from) Sender");
    return s_;
  }
};

template <class T>
class Receiver {
  static_assert(detail::SyncValueType<T>::ok);
  using Shared = detail::BroadcastShared<T>;
  using Read = typename Shared::Read;

 public:
  // An empty receiver (as a moved-from one is): `rx = {}` drops a receiver. Every
  // operation on an empty one throws std::logic_error naming it, except len() (0).
  Receiver() noexcept = default;
  Receiver(Shared* s, uint64_t next) noexcept : s_(s), next_(next) {}  // adopts a reference
  // (Moving a receiver that a pending recv() uses is not allowed: the recv refers to it.)
  Receiver(Receiver&& o) noexcept : s_(detail::exchange(o.s_, nullptr)), next_(o.next_) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = detail::exchange(o.s_, nullptr);
      next_ = o.next_;
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  ~Receiver() { reset(); }

  class TOKIO_MUST_AWAIT Recv : public detail::Leaf<Recv> {
   public:
    static constexpr const char* kLeafName = "sync::broadcast::Receiver::recv";  // in task dumps
    explicit Recv(Receiver& r) noexcept : r_(r) {}
    Recv(const Recv& o) noexcept : detail::Leaf<Recv>(o), r_(o.r_) {}
    ~Recv() {
      if (r_.s_) r_.s_->cancel_wait(waiter_);
      claim_.release(r_.use_, this);
    }
    bool poll(task::Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      return claim_.poll(r_.use_, this, true, [&] { return read(&waiter_, cx.raw_waker()); });
    }
    // poll without joining the waiters (Leaf's try_poll).
    bool try_poll() noexcept {
      return detail::coop_try([&] {
        return claim_.poll(r_.use_, this, false, [&] { return read(nullptr, nullptr); });
      });
    }
    Result<T, RecvError> await_resume() {
      if (claim_.refused) detail::throw_second_broadcast_recv();
      if (error_) std::rethrow_exception(error_);
      switch (read_) {
        case Read::Value: return std::move(*out_);
        case Read::Lagged: return unexpected(RecvError::lagged(missed_));
        default: return unexpected(RecvError::closed());
      }
    }

   private:
    // One read holding the receiver; true unless nothing is there (then `w`, if any,
    // waits for the next send).
    bool read(typename Shared::Waiter* w, detail::Wakeable* waker) noexcept {
      try {
        read_ = r_.s_->recv(r_.next_, &out_, missed_, w, waker);
      } catch (...) {
        error_ = std::current_exception();  // a throwing copy of T: rethrown by await_resume
        read_ = Read::Closed;
      }
      return read_ != Read::Empty;
    }

    Receiver& r_;
    typename Shared::Waiter waiter_;
    std::optional<T> out_;
    uint64_t missed_ = 0;
    Read read_ = Read::Empty;
    detail::RefusableClaim claim_;  // of the receiver (Receiver::use_)
    std::exception_ptr error_;
  };
  // The next value; RecvError Lagged(n) when n values were overwritten before this
  // receiver read them, Closed when every sender is gone and all values were read.
  Recv recv() {
    checked();
    return Recv(*this);
  }

  // Throws std::logic_error while another task's recv() is pending on this receiver.
  Result<T, TryRecvError> try_recv() {
    Shared* s = checked();
    std::optional<T> out;
    uint64_t missed = 0;
    detail::ScopedExclusiveUse<true> claim(use_);
    if (!claim) detail::throw_second_broadcast_recv();
    switch (s->recv(next_, &out, missed, nullptr, nullptr)) {
      case Read::Value: return std::move(*out);
      case Read::Lagged: return unexpected(TryRecvError{{TryRecvError::Kind::Lagged, missed}});
      case Read::Closed: return unexpected(TryRecvError{{TryRecvError::Kind::Closed, 0}});
      default: return unexpected(TryRecvError{{TryRecvError::Kind::Empty, 0}});
    }
  }
  // For plain threads; throws std::logic_error on a runtime thread.
  Result<T, RecvError> blocking_recv() {
    Recv r = recv();
    return detail::blocking_wait(r, "broadcast::Receiver::blocking_recv");
  }

  // A new receiver starting from the current tail (not from this receiver's position).
  Receiver resubscribe() const { return subscribe_to(checked()); }
  // Values sent that this receiver has not read, counting those it already lost: more
  // than the capacity means the next recv() reports Lagged (as in Tokio).
  std::size_t len() const noexcept {
    if (!s_) return 0;
    detail::WaitGuard g(s_->tail_lock);
    return static_cast<std::size_t>(s_->tail_pos - next_);
  }
  bool is_empty() const noexcept { return len() == 0; }
  bool same_channel(const Receiver& o) const noexcept { return s_ == o.s_; }

  static Receiver subscribe_to(Shared* s) {
    detail::WaitGuard g(s->tail_lock);
    if (s->rx_cnt >= (SIZE_MAX >> 2)) {
      throw std::length_error("tokio::sync::broadcast: too many receivers");
    }
    ++s->rx_cnt;
    s->counts.ref();
    return Receiver(s, s->tail_pos);
  }

 private:
  Shared* checked() const {
    if (!s_) detail::throw_misuse("broadcast: use of an empty (moved-from) Receiver");
    return s_;
  }
  void reset() noexcept {
    Shared* s = detail::exchange(s_, nullptr);
    if (!s) return;
    uint64_t until;
    s->tail_lock.lock();
    until = s->tail_pos;
    if (--s->rx_cnt == 0) s->wake_and_unlock(s->tx_waiters);  // Sender::closed()
    else s->tail_lock.unlock();
    // Count ourselves out of every value still waiting for us, so it can be dropped.
    while (next_ < until) {
      uint64_t missed = 0;
      auto r = s->recv(next_, nullptr, missed, nullptr, nullptr);
      if (r != Read::Value && r != Read::Lagged) break;
    }
    s->release();
  }

  Shared* s_ = nullptr;
  uint64_t next_ = 0;
  // The operation using next_ now (a recv from its first poll until it completes, a
  // try_recv for its read): two tasks sharing the receiver get the documented error
  // instead of reading one slot twice (which read freed memory). Acquire / release: each
  // holder sees the previous holder's next_.
  detail::BasicExclusiveUse<true> use_;
};

template <class T>
Receiver<T> Sender<T>::subscribe() const {
  return Receiver<T>::subscribe_to(checked());
}

// A channel of `capacity` slots (rounded up to a power of two). Throws
// std::invalid_argument when capacity is 0 or too large.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  auto* s = detail::BroadcastShared<T>::create(capacity, 1);
  return {Sender<T>(s), Receiver<T>(s, 0)};
}

}  // namespace tokio::sync::broadcast
