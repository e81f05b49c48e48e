#pragma once
// Chan<T, Bounded> (internal): the state shared by the ends of an mpsc channel.
//
//   list              the lock-free block queue (mpsc_list.hpp)
//   rx_waker          the receiver's waker (atomic_waker.hpp); producers wake it after a
//                     push, for one load when the receiver is not waiting
//   sem               bounded: a BatchSemaphore of `bound` permits, one per buffered
//                     message or reserved slot (a send acquires, a recv releases);
//                     unbounded: a counter of messages in flight (UnboundedSem)
//   counts            live Senders (and OwnedPermits), weak senders and every handle
//                     (channel_counts.hpp); the last Sender pushes the close marker,
//                     after which recv drains the queue and yields "closed"
//   notify_rx_closed  wakes Sender::closed() waiters when the receiver closes
// "Idle" = no permit outstanding (bounded) / no message in flight (unbounded). After the
// receiver closes, recv keeps returning buffered values and reports the end once the
// queue is empty and the channel is idle, so a send that already got its permit is
// never lost.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/detail/atomic_waker.hpp"
#include "tokio/sync/detail/channel_counts.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/detail/mpsc_list.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/io/detail/exclusive.hpp"

namespace tokio::detail {

// Message counter of the unbounded channel. Word: (messages in flight << 1) | CLOSED.
struct UnboundedSem {
  static constexpr std::size_t CLOSED = 1;
  std::atomic<std::size_t> word{0};

  // Counts one message in; false (nothing counted) when closed. Sets `now_idle` when the
  // undo of a failed attempt made a closed channel idle (the receiver must be woken).
  bool try_add(bool& now_idle) noexcept {
    std::size_t prev = word.fetch_add(2, std::memory_order_acq_rel);
    if (!(prev & CLOSED)) return true;
    now_idle = word.fetch_sub(2, std::memory_order_acq_rel) == (CLOSED | 2);
    return false;
  }
  void sub(std::size_t n) noexcept { word.fetch_sub(2 * n, std::memory_order_acq_rel); }
  void close() noexcept { word.fetch_or(CLOSED, std::memory_order_acq_rel); }
  bool is_closed() const noexcept { return word.load(std::memory_order_acquire) & CLOSED; }
  bool is_idle() const noexcept { return (word.load(std::memory_order_acquire) >> 1) == 0; }
  std::size_t len() const noexcept { return word.load(std::memory_order_acquire) >> 1; }
};

template <class T, bool Bounded>
struct Chan {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "tokio::sync::mpsc: the message type must be nothrow move constructible (a "
                "move that throws halfway through a send would corrupt the queue)");
  using Sem = std::conditional_t<Bounded, BatchSemaphore, UnboundedSem>;
  using Pop = typename MpscList<T>::Pop;

  explicit Chan(std::size_t b) : sem(make_sem(b)), bound(b) {}

  static Sem make_sem(std::size_t b) {
    if constexpr (Bounded) return Sem(b, BatchSemaphore::Unchecked{});
    else return Sem{};
  }

  // Groups written by different parties are kept kCacheLine bytes apart by padding (not
  // alignas: an over-aligned allocation costs a memalign per channel).
  MpscList<T> list;
  // The receive operation using the list now (a recv / recv_many from its first poll until
  // it completes, a try_recv for its pop). Rust's &mut self: two tasks sharing the
  // receiver would pop the single-consumer list at once (a double free), or one pending
  // recv's waker would replace the other's (it would never wake). A compare-exchange
  // claim, so of two threads polling at the same instant one gets the documented
  // std::logic_error. Acquire / release: a holder's pops happen after the previous
  // holder's (a receiver handed from task to task across workers). Receiver side only.
  BasicExclusiveUse<true> rx_use;
  // rx_use goes with the list's receiver-side words, which every receive writes too, and
  // rx_waker gets a group of its own: every send loads its state (wake()'s fast path),
  // so on rx_use's line each receive would take the line from the senders' caches and
  // each send take it back. bench/NOTES.md (forty-eighth session): `user select_loop 2
  // 400` on a quiet host, 800 -> 664 ms (Tokio 730).
  char pad0_[kCacheLine];
  AtomicWaker rx_waker;
  char pad1_[kCacheLine];
  Sem sem;
  char pad2_[kCacheLine];
  ChannelCounts counts{2};  // the first Sender and the receiver
  sync::Notify notify_rx_closed;
  std::size_t bound;
  bool rx_closed = false;  // receiver only

  static Chan* create(std::size_t bound) { return new Chan(bound); }
  void release() noexcept {
    if (counts.unref()) delete this;
  }

  // --- senders ---------------------------------------------------------------------------
  // A Sender (unit 1) or a Permit (ChannelCounts::kPermitUnit) let go of the channel.
  void tx_drop(std::size_t unit = 1) noexcept {
    if (counts.tx_drop(unit)) {
      list.close();  // publishes with a seq_cst RMW, like a push
      rx_waker.wake();
    }
    release();
  }
  template <class U>
  void push(U&& v) {
    list.push(std::forward<U>(v));
    rx_waker.wake();
  }
  bool is_closed_for_tx() const noexcept { return sem.is_closed(); }

  // A bounded permit given back without a message.
  void release_permit(std::size_t n) noexcept {
    if constexpr (Bounded) {
      sem.release(n);
      if (sem.is_closed() && is_idle()) rx_waker.wake_always();
    }
  }
  bool is_idle() const noexcept {
    if constexpr (Bounded) return sem.available_permits() == bound;
    else return sem.is_idle();
  }

  // --- receiver --------------------------------------------------------------------------
  void close_rx() noexcept {
    if (rx_closed) return;
    rx_closed = true;
    sem.close();
    notify_rx_closed.notify_waiters();
  }
  void on_received(std::size_t n) noexcept {
    if constexpr (Bounded) sem.release(n);
    else sem.sub(n);
  }

  // One step of recv: true when `out` holds a value or the channel has ended.
  bool poll_recv(task::Context& cx, std::optional<T>& out) noexcept {
    if (!coop_poll_proceed(cx)) return false;
    auto sink = [&](T&& v) noexcept { out.emplace(std::move(v)); };
    Pop p = list.pop(sink);
    if (p == Pop::Empty) {
      rx_waker.register_waker(cx.raw_waker());
      p = list.pop(sink);
    }
    if (p == Pop::Value) {
      on_received(1);
      return true;
    }
    if (p == Pop::Closed) return true;
    return rx_closed && is_idle();
  }

  // poll_recv without registering: false (nothing taken, no budget spent) when the
  // channel is empty and not ended, or the budget is spent.
  bool try_poll_recv(std::optional<T>& out) noexcept {
    return coop_try([&] {
      Pop p = list.pop([&](T&& v) noexcept { out.emplace(std::move(v)); });
      if (p == Pop::Value) on_received(1);
      return p != Pop::Empty || (rx_closed && is_idle());
    });
  }

  // One step of recv_many: true when n > 0 values were appended, or the channel ended
  // (n == 0).
  bool poll_recv_many(task::Context& cx, std::vector<T>& buf, std::size_t limit,
                      std::size_t& n) noexcept {
    if (!coop_poll_proceed(cx)) return false;
    n = 0;
    if (limit == 0) return true;
    Pop p = drain(buf, limit, n);
    if (p == Pop::Empty && n == 0) {
      rx_waker.register_waker(cx.raw_waker());
      p = drain(buf, limit, n);
    }
    if (n > 0) {
      on_received(n);
      return true;
    }
    if (p == Pop::Closed) return true;
    return rx_closed && is_idle();
  }
  Pop drain(std::vector<T>& buf, std::size_t limit, std::size_t& n) noexcept {
    Pop p = Pop::Empty;
    while (n < limit) {
      if (buf.size() == buf.capacity()) {
        std::size_t want = buf.size() + (limit - n < 32 ? limit - n : 32);
        buf.reserve(want > 2 * buf.size() ? want : 2 * buf.size());
      }
      p = list.pop([&](T&& v) noexcept { buf.push_back(std::move(v)); });
      if (p != Pop::Value) break;
      ++n;
    }
    return p;
  }

  Result<T, sync::mpsc::TryRecvError> try_recv() noexcept {
    std::optional<T> out;
    auto sink = [&](T&& v) noexcept { out.emplace(std::move(v)); };
    for (int spins = 0;; ++spins) {
      Pop p = list.pop(sink);
      if (p == Pop::Value) {
        on_received(1);
        return std::move(*out);
      }
      if (p == Pop::Closed) return unexpected(sync::mpsc::TryRecvError::Disconnected);
      if (list.tail_position() == list.index()) {
        if (rx_closed && is_idle()) return unexpected(sync::mpsc::TryRecvError::Disconnected);
        return unexpected(sync::mpsc::TryRecvError::Empty);
      }
      // A producer claimed the next position and is writing it right now: wait for it
      // (a handful of instructions) rather than report a spurious Empty.
      if (spins < 64) cpu_relax();
      else yield_thread();
    }
  }

  // The receiver goes away: close, then destroy what is buffered (giving the permits
  // back). Messages pushed later by outstanding permits die with the channel.
  void rx_drop() noexcept {
    close_rx();
    std::size_t n = 0;
    while (list.pop([](T&&) noexcept {}) == Pop::Value) ++n;
    if (n) on_received(n);
    release();
  }
};

}  // namespace tokio::detail
