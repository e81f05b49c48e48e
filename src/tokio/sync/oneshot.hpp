#pragma once
// sync::oneshot: a channel for sending exactly one value between tasks (or threads).
//
//   auto [tx, rx] = tokio::sync::oneshot::channel<int>();
//   (void)tx.send(42);                 // never blocks; Result<void, int> (value back on failure)
//   auto v = co_await std::move(rx);   // Result<int, RecvError>
//
// - Awaiting the Receiver yields the value, or RecvError when the Sender was dropped
//   without sending. It is cancel-safe: an unfinished await leaves the value in the
//   channel for a later await or try_recv().
// - Sender::closed() waits until the Receiver is dropped or closed (cancel-safe), so a
//   producer can stop computing a value nobody wants; is_closed() checks without waiting.
// - Receiver::close() stops the Sender from sending; a value sent before stays receivable.
// - Receiver::blocking_recv() serves plain threads.
//
// Shared state word (`state`, 32 bits):
//   bit 0 RX_TASK_SET  rx_waker holds the receiver's waker; while set (and VALUE_SENT is
//                      not) only the sender may read it
//   bit 1 VALUE_SENT   the sender is done: it sent a value (in `value`) or was dropped
//   bit 2 CLOSED       the receiver was dropped or closed
//   bit 3 TX_TASK_SET  tx_waker holds the sender's waker (Sender::closed); while set (and
//                      CLOSED is not) only the receiver may read it
// VALUE_SENT is never set once CLOSED is: a sender that finds CLOSED takes its value back,
// so the value slot always has exactly one owner. The slot is written by the sender before
// VALUE_SENT is published (acq_rel) and read by the receiver only after it observes it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "tokio/core/detail/await_claim.hpp"
#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/result.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/waker.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::detail {

template <class T>
struct OneshotShared {
  static constexpr uint32_t RX_TASK_SET = 1;
  static constexpr uint32_t VALUE_SENT = 2;
  static constexpr uint32_t CLOSED = 4;
  static constexpr uint32_t TX_TASK_SET = 8;

  std::atomic<uint32_t> state{0};
  std::atomic<uint32_t> refs{2};
  Wakeable* rx_waker = nullptr;
  Wakeable* tx_waker = nullptr;
  std::optional<T> value;

  // One allocation from the frame cache (plain new for over-aligned values).
  static OneshotShared* create() {
    if constexpr (alignof(OneshotShared) > 16) {
      return new OneshotShared();
    } else {
      void* p = frame_alloc(sizeof(OneshotShared));
      return new (p) OneshotShared();
    }
  }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if (rx_waker) rx_waker->vtable->drop(rx_waker);
      if (tx_waker) tx_waker->vtable->drop(tx_waker);
      if constexpr (alignof(OneshotShared) > 16) {
        delete this;
      } else {
        this->~OneshotShared();
        frame_free(this, sizeof(OneshotShared));
      }
    }
  }
  // Sender side: publishes VALUE_SENT unless the receiver is gone, and wakes it. Returns
  // the previous state (CLOSED in it means VALUE_SENT was not set).
  uint32_t complete() noexcept {
    uint32_t cur = state.load(std::memory_order_relaxed);
    for (;;) {
      if (cur & CLOSED) return cur;
      if (state.compare_exchange_weak(cur, cur | VALUE_SENT, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
        break;
      }
    }
    if (cur & RX_TASK_SET) rx_waker->vtable->wake_by_ref(rx_waker);
    return cur;
  }
  // Receiver side: sets CLOSED and wakes a sender waiting in closed(). Returns the
  // previous state.
  uint32_t close() noexcept {
    uint32_t prev = state.fetch_or(CLOSED, std::memory_order_acq_rel);
    if ((prev & TX_TASK_SET) && !(prev & VALUE_SENT)) tx_waker->vtable->wake_by_ref(tx_waker);
    return prev;
  }

  // The poll of a waiting side (the receiver's await, the sender's closed()): ready at once
  // for a used handle (s null); else one unit of coop budget, then poll_side.
  static bool poll_wait(OneshotShared* s, task::Context& cx, Wakeable* OneshotShared::*slot,
                        uint32_t bit, uint32_t done) noexcept {
    if (!s) return true;
    if (!coop_poll_proceed(cx)) return false;
    return s->poll_side(s->*slot, bit, done, cx.raw_waker());
  }
  // poll_wait without registering (Leaf's try_poll).
  static bool try_wait(OneshotShared* s, uint32_t done) noexcept {
    if (!s) return true;
    return coop_try([&] { return (s->state.load(std::memory_order_acquire) & done) != 0; });
  }
  // Registers `w` in `slot` under the protocol of `bit`; `done` is the bit that makes the
  // wait complete (VALUE_SENT|CLOSED for the receiver, CLOSED for the sender). Returns true
  // when complete.
  bool poll_side(Wakeable*& slot, uint32_t bit, uint32_t done, Wakeable* w) noexcept {
    uint32_t s = state.load(std::memory_order_acquire);
    if (s & done) return true;
    if (s & bit) {
      if (slot == w) return false;
      // Take the slot back before replacing the waker.
      if (!clear_unless(bit, done)) return true;
    }
    if (slot) slot->vtable->drop(slot);
    w->vtable->clone(w);
    slot = w;
    uint32_t cur = state.load(std::memory_order_acquire);
    for (;;) {
      if (cur & done) return true;  // the bit stays clear; `slot` is freed with the state
      if (state.compare_exchange_weak(cur, cur | bit, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return false;
      }
    }
  }
  // What dropping each end does (the deleters of their handles).
  struct DropTx {
    void operator()(OneshotShared* s) const noexcept {
      s->complete();
      s->release();
    }
  };
  struct DropRx {
    void operator()(OneshotShared* s) const noexcept {
      // After VALUE_SENT the sender no longer touches the value: it is ours to destroy.
      if (s->close() & VALUE_SENT) s->value.reset();
      s->release();
    }
  };
  bool clear_unless(uint32_t bit, uint32_t done) noexcept {
    uint32_t cur = state.load(std::memory_order_acquire);
    for (;;) {
      if (cur & done) return false;
      if (state.compare_exchange_weak(cur, cur & ~bit, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return true;
      }
    }
  }
};

}  // namespace tokio::detail

namespace tokio::sync::oneshot {

// Sender and Receiver are move-only handles on the shared state (a moved-from one is
// empty): dropping one runs its side's drop (Shared::drop_tx / drop_rx).
template <class T>
class Sender {
  static_assert(detail::SyncValueType<T>::ok);
  using Shared = detail::OneshotShared<T>;

 public:
  Sender() noexcept = default;
  explicit Sender(Shared* s) noexcept : s_(s) {}

  // Sends the value. Fails, handing the value back, when the receiver is gone or closed.
  // Consumes the sender: a second send fails the same way.
  Result<void, T> send(T value) {
    Shared* s = s_.release();
    if (!s) return unexpected(std::move(value));
    if (s->state.load(std::memory_order_acquire) & Shared::CLOSED) {
      s->release();
      return unexpected(std::move(value));
    }
    s->value.emplace(std::move(value));
    if (s->complete() & Shared::CLOSED) {
      // The receiver closed before we published: it will never read; take the value back.
      T v = std::move(*s->value);
      s->value.reset();
      s->release();
      return unexpected(std::move(v));
    }
    s->release();
    return {};
  }
  // True once the receiver was dropped or closed (or this sender was used).
  bool is_closed() const noexcept {
    return !s_ || (s_->state.load(std::memory_order_acquire) & Shared::CLOSED);
  }

  // Completes when the receiver is dropped or closed. Cancel-safe.
  class TOKIO_MUST_AWAIT Closed : public detail::Leaf<Closed> {
   public:
    explicit Closed(Sender& tx) noexcept : tx_(tx) {}
    bool poll(task::Context& cx) noexcept {
      return Shared::poll_wait(tx_.s_.get(), cx, &Shared::tx_waker, Shared::TX_TASK_SET,
                               Shared::CLOSED);
    }
    bool try_poll() noexcept { return Shared::try_wait(tx_.s_.get(), Shared::CLOSED); }
    void await_resume() const noexcept {}

   private:
    Sender& tx_;
  };
  Closed closed() noexcept { return Closed(*this); }

 private:
  std::unique_ptr<Shared, typename Shared::DropTx> s_;
};

template <class T>
class Receiver {
  static_assert(detail::SyncValueType<T>::ok);
  using Shared = detail::OneshotShared<T>;

 public:
  using tokio_awaitable = void;

  Receiver() noexcept = default;
  explicit Receiver(Shared* s) noexcept : s_(s) {}

  // Stops the sender from sending; a value already sent can still be received.
  void close() noexcept {
    if (s_) s_->close();
  }

  // Empty: nothing sent yet; Closed: the value was taken, the sender was dropped, or the
  // channel was closed before a value arrived.
  Result<T, TryRecvError> try_recv() {
    if (!s_) return unexpected(TryRecvError::Closed);
    uint32_t st = s_->state.load(std::memory_order_acquire);
    if (st & Shared::VALUE_SENT) return take_or(TryRecvError::Closed);
    if (st & Shared::CLOSED) return unexpected(TryRecvError::Closed);
    return unexpected(TryRecvError::Empty);
  }
  // True once the value was received (or the receiver otherwise consumed).
  bool is_terminated() const noexcept { return s_ == nullptr; }
  // True when no value is ready to be received right now.
  bool is_empty() const noexcept {
    if (!s_) return true;
    uint32_t st = s_->state.load(std::memory_order_acquire);
    return !(st & Shared::VALUE_SENT) || !s_->value.has_value();
  }

  // Awaiting yields the value, or RecvError when the sender was dropped without sending
  // (or the channel was closed before a value arrived). Cancel-safe.
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter> {
   public:
    static constexpr const char* kLeafName = "sync::oneshot::Receiver";  // in task dumps
    explicit Awaiter(Receiver& r) : r_(r), claim_(r.awaited_, "a oneshot::Receiver") {}
    bool poll(task::Context& cx) noexcept {
      return Shared::poll_wait(r_.s_.get(), cx, &Shared::rx_waker, Shared::RX_TASK_SET,
                               Shared::VALUE_SENT | Shared::CLOSED);
    }
    bool try_poll() noexcept {
      return Shared::try_wait(r_.s_.get(), Shared::VALUE_SENT | Shared::CLOSED);
    }
    Result<T, RecvError> await_resume() {
      if (!r_.s_) return unexpected(RecvError{});
      uint32_t st = r_.s_->state.load(std::memory_order_acquire);
      if (!(st & Shared::VALUE_SENT)) return unexpected(RecvError{});
      return r_.take_or(RecvError{});
    }

   private:
    Receiver& r_;
    detail::AwaitClaim claim_;
  };
  // Throws std::logic_error when the receiver is already being awaited elsewhere.
  Awaiter operator co_await() & { return Awaiter(*this); }
  Awaiter operator co_await() && { return Awaiter(*this); }

  // For plain threads: blocks until the value (or RecvError). Throws std::logic_error on
  // a runtime thread.
  Result<T, RecvError> blocking_recv() {
    Awaiter a(*this);
    return detail::blocking_wait(a, "oneshot::Receiver::blocking_recv");
  }

 private:
  template <class E>
  Result<T, E> take_or(E err) {
    struct Release {
      Shared* s;
      ~Release() {
        s->state.fetch_or(Shared::CLOSED, std::memory_order_acq_rel);
        s->release();
      }
    } rel{s_.release()};
    if (!rel.s->value.has_value()) return unexpected(err);
    Result<T, E> r(std::move(*rel.s->value));
    rel.s->value.reset();
    return r;
  }
  std::unique_ptr<Shared, typename Shared::DropRx> s_;
  detail::AwaitFlag awaited_;  // an Awaiter exists (core/detail/await_claim.hpp)
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto* s = detail::OneshotShared<T>::create();
  return {Sender<T>(s), Receiver<T>(s)};
}

}  // namespace tokio::sync::oneshot
