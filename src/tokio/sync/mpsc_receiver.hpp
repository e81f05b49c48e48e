#pragma once
// mpsc::Receiver<T> and mpsc::UnboundedReceiver<T>: the receiving end of an mpsc channel
// (one class template; bounded-only members are constrained).
//
// Cancel safety: recv() and recv_many() are cancel-safe: a value is taken from the
// channel only in the poll that completes them, so a recv that loses a select leaves
// every message in the channel.
//
// Closing: close() stops new sends (they fail with the value handed back) and wakes
// Sender::closed(); messages already sent, and sends that already hold a permit, are
// still received; after them recv() yields std::nullopt. Dropping the receiver closes it
// and destroys the buffered messages.

#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/detail/mpsc_chan.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::sync::mpsc {

template <class T, bool Bounded>
class BasicReceiver {
  static_assert(detail::SyncValueType<T>::ok);
  using Chan = detail::Chan<T, Bounded>;

 public:
  // Move-only; dropping the receiver closes the channel and destroys what is buffered.
  BasicReceiver() noexcept = default;
  explicit BasicReceiver(Chan* c) noexcept : c_(c) {}

  // The leaf a `co_await rx.recv()` runs (made by Recv's operator co_await, below).
  class RecvLeaf : public detail::Leaf<RecvLeaf> {
   public:
    static constexpr const char* kLeafName = "sync::mpsc::Receiver::recv";  // in task dumps
    explicit RecvLeaf(Chan* c) noexcept : c_(c) {}
    // The receiver's owner holds its claim (recv_as_owner).
    RecvLeaf(Chan* c, bool by_owner) noexcept : c_(c) { claim_.by_owner = by_owner; }
    RecvLeaf(const RecvLeaf&) = delete;  // made in place, polled where it is
    RecvLeaf& operator=(const RecvLeaf&) = delete;
    ~RecvLeaf() { claim_.release(c_->rx_use, this); }
    bool poll(task::Context& cx) noexcept {
      return claim_.poll(c_->rx_use, this, true, [&] { return c_->poll_recv(cx, out_); });
    }
    // poll without registering a waker (Leaf's try_poll): an empty channel is left as is.
    bool try_poll() noexcept {
      return claim_.poll(c_->rx_use, this, false, [&] { return c_->try_poll_recv(out_); });
    }
    std::optional<T> await_resume() {
      if (claim_.refused) detail::throw_second_recv();
      return detail::take_fresh(out_);
    }

   private:
    Chan* c_;
    std::optional<T> out_;
    detail::RefusableClaim claim_;  // of the receiver (Chan::rx_use)
  };
  // What recv() returns: it names the channel; its co_await makes the RecvLeaf
  // (detail::MakesLeaf).
  using Recv = detail::MakesLeaf<RecvLeaf, Chan>;
  // Waits for the next message; std::nullopt once every sender is gone (or the receiver
  // was closed) and the channel is empty.
  Recv recv() { return Recv(checked()); }

  // For a wrapper that owns the receiver and is the only one to receive from it
  // (stream::wrappers::ReceiverStream): claims the receiver once, for as long as the
  // wrapper holds it (false when a receive in flight holds it now), so that the wrapper's
  // receives (recv_as_owner) skip the claim each receive otherwise takes and lets go: a
  // compare-exchange and a store per message, 15-22% of a StreamMap over 64 busy channels
  // (bench/NOTES.md). The token is the channel's own address, which no operation has and
  // which moves with the receiver. release_owner_claim() before anyone else may receive.
  bool claim_for_owner() noexcept { return c_ != nullptr && c_->rx_use.try_claim(c_.get()); }
  void release_owner_claim() noexcept {
    if (c_ != nullptr) c_->rx_use.release(c_.get());
  }
  RecvLeaf recv_as_owner() { return RecvLeaf(checked(), true); }

  class TOKIO_MUST_AWAIT RecvMany : public detail::Leaf<RecvMany> {
   public:
    RecvMany(Chan* c, std::vector<T>& buf, std::size_t limit) noexcept
        : c_(c), buf_(&buf), limit_(limit) {}
    RecvMany(const RecvMany& o) noexcept
        : detail::Leaf<RecvMany>(o), c_(o.c_), buf_(o.buf_), limit_(o.limit_) {}
    ~RecvMany() { claim_.release(c_->rx_use, this); }
    bool poll(task::Context& cx) noexcept {
      return claim_.poll(c_->rx_use, this, true,
                         [&] { return c_->poll_recv_many(cx, *buf_, limit_, n_); });
    }
    std::size_t await_resume() const {
      if (claim_.refused) detail::throw_second_recv();
      return n_;
    }

   private:
    Chan* c_;
    std::vector<T>* buf_;
    std::size_t limit_;
    std::size_t n_ = 0;
    detail::RefusableClaim claim_;  // as Recv's
  };
  // Waits for at least one message and appends up to `limit` of them to `buf`; returns
  // how many. 0 means the channel has ended (or limit was 0).
  RecvMany recv_many(std::vector<T>& buf, std::size_t limit) {
    return RecvMany(checked(), buf, limit);
  }

  // Empty: nothing buffered; Disconnected: nothing buffered and nothing more can come.
  // Throws std::logic_error while a recv / recv_many of another task is pending on it.
  Result<T, TryRecvError> try_recv() {
    if (!c_) return unexpected(TryRecvError::Disconnected);
    detail::ScopedExclusiveUse<true> claim(c_->rx_use);
    if (!claim) detail::throw_second_recv();
    return c_->try_recv();
  }

  // Tokio's poll_recv, for task::poll_fn and hand-written streams: true with `out` holding
  // the next message (std::nullopt once the channel has ended), or false with the polling
  // task's waker registered for the next one. Throws std::logic_error while a recv or
  // recv_many of another task is pending on this receiver.
  bool poll_recv(task::Context& cx, std::optional<T>& out) {
    Chan* c = checked();
    detail::ScopedExclusiveUse<true> claim(c->rx_use);
    if (!claim) detail::throw_second_recv();
    return c->poll_recv(cx, out);
  }

  // For plain threads; throw std::logic_error on a runtime thread.
  std::optional<T> blocking_recv() {
    RecvLeaf r = recv().operator co_await();
    return detail::blocking_wait(r, "mpsc::Receiver::blocking_recv");
  }
  std::size_t blocking_recv_many(std::vector<T>& buf, std::size_t limit) {
    RecvMany r = recv_many(buf, limit);
    return detail::blocking_wait(r, "mpsc::Receiver::blocking_recv_many");
  }

  // Stops new sends; buffered messages can still be received.
  void close() noexcept {
    if (c_) c_->close_rx();
  }
  // True once close() was called or every sender is gone.
  bool is_closed() const noexcept { return !c_ || c_->rx_closed || !c_->counts.tx_open(); }
  // True when no message is ready to be received right now.
  bool is_empty() const noexcept { return !c_ || !c_->list.has_ready(); }
  // Messages buffered (approximate while senders are active).
  std::size_t len() const noexcept {
    if (!c_) return 0;
    std::size_t n = c_->list.tail_position() - c_->list.index();
    if (n > 0 && !c_->counts.tx_open()) --n;  // the close marker
    return n;
  }
  // Free slots (bounded only).
  std::size_t capacity() const noexcept requires Bounded {
    return c_ ? c_->sem.available_permits() : 0;
  }
  std::size_t max_capacity() const noexcept requires Bounded { return c_ ? c_->bound : 0; }
  std::size_t sender_strong_count() const noexcept { return c_ ? c_->counts.strong_count() : 0; }
  std::size_t sender_weak_count() const noexcept { return c_ ? c_->counts.weak_count() : 0; }

 private:
  Chan* checked() const {
    if (!c_) detail::throw_misuse("mpsc receive on an empty (moved-from) Receiver");
    return c_.get();
  }
  struct Drop {
    void operator()(Chan* c) const noexcept { c->rx_drop(); }
  };
  std::unique_ptr<Chan, Drop> c_;
};

template <class T>
using Receiver = BasicReceiver<T, true>;
template <class T>
using UnboundedReceiver = BasicReceiver<T, false>;

}  // namespace tokio::sync::mpsc
