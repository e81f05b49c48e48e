#pragma once
// What the bounded and unbounded mpsc senders share (internal): reference counting
// (copying a sender clones it), closed() / is_closed(), weak senders.

#include <cstddef>
#include <optional>
#include <utility>

#include "tokio/sync/detail/mpsc_chan.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class T, bool Bounded>
class MpscSenderBase {
 public:
  using Chan = detail::Chan<T, Bounded>;

  MpscSenderBase() noexcept = default;
  explicit MpscSenderBase(Chan* c) noexcept : c_(c) {}  // adopts a strong reference
  MpscSenderBase(const MpscSenderBase& o) noexcept : c_(o.c_) {
    if (c_) c_->tx_clone();
  }
  MpscSenderBase(MpscSenderBase&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  MpscSenderBase& operator=(const MpscSenderBase& o) noexcept {
    if (this != &o) {
      reset();
      c_ = o.c_;
      if (c_) c_->tx_clone();
    }
    return *this;
  }
  MpscSenderBase& operator=(MpscSenderBase&& o) noexcept {
    if (this != &o) {
      reset();
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  ~MpscSenderBase() { reset(); }

  // Completes once the receiver is dropped or closed. Cancel-safe.
  class TOKIO_MUST_AWAIT Closed : public Leaf<Closed> {
   public:
    explicit Closed(Chan* c) noexcept : c_(c), n_(c->notify_rx_closed.notified()) {}
    Closed(Closed&& o) noexcept : Leaf<Closed>(o), c_(o.c_), n_(std::move(o.n_)) {}
    // A copy (made before the first poll) requests its own notification.
    Closed(const Closed& o) noexcept
        : Leaf<Closed>(o), c_(o.c_), n_(o.c_->notify_rx_closed.notified()) {}
    bool poll(task::Context& cx) noexcept {
      if (c_->is_closed_for_tx()) return true;
      return n_.poll(cx);  // only the receiver's close notifies
    }
    void await_resume() const noexcept {}

   private:
    Chan* c_;
    sync::Notified n_;
  };
  Closed closed() const { return Closed(checked()); }
  // True once the receiver was dropped or closed.
  bool is_closed() const noexcept { return !c_ || c_->is_closed_for_tx(); }
  bool same_channel(const MpscSenderBase& o) const noexcept { return c_ == o.c_; }
  std::size_t strong_count() const noexcept {
    return c_ ? c_->tx_count.load(std::memory_order_acquire) : 0;
  }
  std::size_t weak_count() const noexcept {
    return c_ ? c_->tx_weak_count.load(std::memory_order_acquire) : 0;
  }
  bool valid() const noexcept { return c_ != nullptr; }

  Chan* chan() const noexcept { return c_; }
  Chan* release_chan() noexcept { return std::exchange(c_, nullptr); }

 protected:
  Chan* checked() const {
    if (!c_) throw_misuse("mpsc: use of an empty (moved-from) Sender");
    return c_;
  }
  void reset() noexcept {
    if (Chan* c = std::exchange(c_, nullptr)) c->tx_drop();
  }
  Chan* c_ = nullptr;
};

// A sender that does not keep the channel open: upgrade() gives a real sender while one
// still exists.
template <class T, bool Bounded, class Strong>
class MpscWeakSender {
 public:
  using Chan = detail::Chan<T, Bounded>;

  MpscWeakSender() noexcept = default;
  explicit MpscWeakSender(Chan* c) noexcept : c_(c) {
    if (c_) {
      c_->tx_weak_count.fetch_add(1, std::memory_order_relaxed);
      c_->ref();
    }
  }
  MpscWeakSender(const MpscWeakSender& o) noexcept : MpscWeakSender(o.c_) {}
  MpscWeakSender(MpscWeakSender&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  MpscWeakSender& operator=(MpscWeakSender o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~MpscWeakSender() {
    if (Chan* c = std::exchange(c_, nullptr)) {
      c->tx_weak_count.fetch_sub(1, std::memory_order_relaxed);
      c->release();
    }
  }

  // A new strong sender, or nullopt when every strong sender is gone.
  std::optional<Strong> upgrade() const noexcept {
    if (c_ && c_->tx_upgrade()) return Strong(c_);
    return std::nullopt;
  }
  std::size_t strong_count() const noexcept {
    return c_ ? c_->tx_count.load(std::memory_order_acquire) : 0;
  }
  std::size_t weak_count() const noexcept {
    return c_ ? c_->tx_weak_count.load(std::memory_order_acquire) : 0;
  }

 private:
  Chan* c_ = nullptr;
};

}  // namespace tokio::detail
