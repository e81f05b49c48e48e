#pragma once
// sync::oneshot: a channel for sending exactly one value between tasks (or threads).
//
//   auto [tx, rx] = tokio::sync::oneshot::channel<int>();
//   tx.send(42);                 // never blocks
//   auto v = co_await std::move(rx);  // Result<int, RecvError>
//
// Shared state word (`state`, 32 bits):
//   bit 0 RX_TASK_SET  the receiver's waker is stored in rx_waker; while set (and not
//                      COMPLETE) only the sender side may read it
//   bit 1 COMPLETE     the sender is done: a value was sent, or the sender was dropped
//   bit 2 CLOSED       the receiver was dropped or closed; send() fails
// The value slot is written by the sender before COMPLETE is published (acq_rel) and read
// by the receiver only after it observes COMPLETE.

#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

#include "tokio/core/frame_alloc.hpp"
#include "tokio/core/result.hpp"
#include "tokio/task/poll.hpp"
#include "tokio/task/waker.hpp"

namespace tokio::sync::oneshot {

// The sender was dropped without sending.
struct RecvError {
  friend bool operator==(RecvError, RecvError) = default;
};
enum class TryRecvError { Empty, Closed };

}  // namespace tokio::sync::oneshot

namespace tokio::detail {

template <class T>
struct OneshotShared {
  static constexpr uint32_t RX_TASK_SET = 1;
  static constexpr uint32_t COMPLETE = 2;
  static constexpr uint32_t CLOSED = 4;

  std::atomic<uint32_t> state{0};
  std::atomic<uint32_t> refs{2};
  Wakeable* rx_waker = nullptr;
  std::optional<T> value;

  static OneshotShared* create() {
    static_assert(alignof(OneshotShared) <= 8);
    void* p = frame_alloc(sizeof(OneshotShared), alignof(OneshotShared));
    return new (p) OneshotShared();
  }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if (rx_waker) rx_waker->vtable->drop(rx_waker);
      this->~OneshotShared();
      frame_free(this);
    }
  }
  // Sender side: publish COMPLETE and wake the receiver. Returns the previous state.
  uint32_t complete() noexcept {
    uint32_t prev = state.fetch_or(COMPLETE, std::memory_order_acq_rel);
    if ((prev & RX_TASK_SET) && !(prev & CLOSED)) rx_waker->vtable->wake_by_ref(rx_waker);
    return prev;
  }
  // Receiver side: true when complete (or closed); otherwise registers `w`.
  bool poll_recv(Wakeable* w) noexcept {
    uint32_t s = state.load(std::memory_order_acquire);
    if (s & (COMPLETE | CLOSED)) return true;
    if (s & RX_TASK_SET) {
      if (rx_waker == w) return false;
      // Take the waker slot back before replacing it.
      if (!cas_clear(RX_TASK_SET)) return true;
    }
    if (rx_waker) rx_waker->vtable->drop(rx_waker);
    w->vtable->clone(w);
    rx_waker = w;
    uint32_t cur = state.load(std::memory_order_acquire);
    for (;;) {
      if (cur & COMPLETE) return true;
      if (state.compare_exchange_weak(cur, cur | RX_TASK_SET, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return false;
      }
    }
  }
  bool cas_clear(uint32_t bit) noexcept {
    uint32_t cur = state.load(std::memory_order_acquire);
    for (;;) {
      if (cur & COMPLETE) return false;
      if (state.compare_exchange_weak(cur, cur & ~bit, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        return true;
      }
    }
  }
};

}  // namespace tokio::detail

namespace tokio::sync::oneshot {

template <class T>
class Sender {
 public:
  Sender() noexcept = default;
  explicit Sender(detail::OneshotShared<T>* s) noexcept : s_(s) {}
  Sender(Sender&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Sender& operator=(Sender&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~Sender() { drop(); }

  // Sends the value. Fails (handing the value back) when the receiver is gone. Consumes
  // the sender: a second send fails the same way.
  Result<void, T> send(T value) {
    auto* s = std::exchange(s_, nullptr);
    if (!s) return unexpected(std::move(value));
    if (s->state.load(std::memory_order_acquire) & detail::OneshotShared<T>::CLOSED) {
      s->complete();
      s->release();
      return unexpected(std::move(value));
    }
    s->value.emplace(std::move(value));
    uint32_t prev = s->complete();
    if (prev & detail::OneshotShared<T>::CLOSED) {
      // The receiver closed while we wrote: it will never read; give the value back.
      T v = std::move(*s->value);
      s->value.reset();
      s->release();
      return unexpected(std::move(v));
    }
    s->release();
    return {};
  }
  // True once the receiver was dropped or closed.
  bool is_closed() const noexcept {
    return !s_ || (s_->state.load(std::memory_order_acquire) & detail::OneshotShared<T>::CLOSED);
  }

 private:
  void drop() noexcept {
    if (auto* s = std::exchange(s_, nullptr)) {
      s->complete();
      s->release();
    }
  }
  detail::OneshotShared<T>* s_ = nullptr;
};

template <class T>
class Receiver {
 public:
  using tokio_awaitable = void;

  Receiver() noexcept = default;
  explicit Receiver(detail::OneshotShared<T>* s) noexcept : s_(s) {}
  Receiver(Receiver&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Receiver& operator=(Receiver&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~Receiver() { drop(); }

  // Stops the sender from sending; a value already sent can still be received.
  void close() noexcept {
    if (s_) s_->state.fetch_or(detail::OneshotShared<T>::CLOSED, std::memory_order_acq_rel);
  }

  Result<T, TryRecvError> try_recv() {
    if (!s_) return unexpected(TryRecvError::Closed);
    uint32_t st = s_->state.load(std::memory_order_acquire);
    if (st & detail::OneshotShared<T>::COMPLETE) return take_or(TryRecvError::Closed);
    if (st & detail::OneshotShared<T>::CLOSED) return unexpected(TryRecvError::Closed);
    return unexpected(TryRecvError::Empty);
  }

  // Awaiting yields the value, or RecvError when the sender was dropped without sending.
  // Cancel-safe: an unfinished await leaves the value in the channel.
  class Awaiter : public detail::Leaf<Awaiter> {
   public:
    explicit Awaiter(Receiver& r) : r_(r) {}
    bool poll(task::Context& cx) noexcept {
      if (!r_.s_) return true;
      if (!detail::coop_poll_proceed(cx)) return false;
      return r_.s_->poll_recv(cx.raw_waker());
    }
    Result<T, RecvError> await_resume() {
      if (!r_.s_) return unexpected(RecvError{});
      uint32_t st = r_.s_->state.load(std::memory_order_acquire);
      if (!(st & detail::OneshotShared<T>::COMPLETE)) return unexpected(RecvError{});
      return r_.take_or(RecvError{});
    }

   private:
    Receiver& r_;
  };
  Awaiter operator co_await() & { return Awaiter(*this); }
  Awaiter operator co_await() && { return Awaiter(*this); }

 private:
  template <class E>
  Result<T, E> take_or(E err) {
    struct Release {
      detail::OneshotShared<T>* s;
      ~Release() {
        s->state.fetch_or(detail::OneshotShared<T>::CLOSED, std::memory_order_acq_rel);
        s->release();
      }
    } rel{std::exchange(s_, nullptr)};
    if (!rel.s->value.has_value()) return unexpected(err);
    Result<T, E> r(std::move(*rel.s->value));
    rel.s->value.reset();
    return r;
  }
  void drop() noexcept {
    if (auto* s = std::exchange(s_, nullptr)) {
      uint32_t prev = s->state.fetch_or(detail::OneshotShared<T>::CLOSED, std::memory_order_acq_rel);
      if (prev & detail::OneshotShared<T>::COMPLETE) s->value.reset();
      s->release();
    }
  }
  detail::OneshotShared<T>* s_ = nullptr;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto* s = detail::OneshotShared<T>::create();
  return {Sender<T>(s), Receiver<T>(s)};
}

}  // namespace tokio::sync::oneshot
