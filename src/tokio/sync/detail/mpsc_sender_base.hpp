#pragma once
// What the bounded and unbounded mpsc senders share (internal): reference counting
// (copying a sender clones it), closed() / is_closed(), weak senders.

#include <cstddef>
#include <optional>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/sync/detail/mpsc_chan.hpp"
#include "tokio/sync/notify.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"
#include "tokio/sync/detail/value_type.hpp"

namespace tokio::detail {

template <class T, bool Bounded>
class MpscSenderBase : public SenderHandle<tokio::detail::Chan<T, Bounded>> {
  static_assert(detail::SyncValueType<T>::ok);

 public:
  using Chan = tokio::detail::Chan<T, Bounded>;

 private:
  using Handle = SenderHandle<Chan>;

 public:
  // MpscSenderBase(Chan*) adopts a strong reference; copies clone it (channel_counts.hpp).
  using Handle::Handle;

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
  bool is_closed() const noexcept { return !s_ || s_->is_closed_for_tx(); }
  bool same_channel(const MpscSenderBase& o) const noexcept { return s_ == o.s_; }
  std::size_t strong_count() const noexcept { return s_ ? s_->counts.strong_count() : 0; }
  std::size_t weak_count() const noexcept { return s_ ? s_->counts.weak_count() : 0; }
  bool valid() const noexcept { return s_ != nullptr; }

  Chan* chan() const noexcept { return s_; }
  Chan* release_chan() noexcept { return detail::exchange(s_, nullptr); }

 protected:
  Chan* checked() const {
    if (!s_) throw_misuse("mpsc: use of an empty (moved-from) Sender");
    return s_;
  }
  using Handle::reset;
  using Handle::s_;
};

// A sender that does not keep the channel open: upgrade() gives a real sender while one
// still exists (channel_counts.hpp).
template <class T, bool Bounded, class Strong>
using MpscWeakSender = WeakSenderOf<Chan<T, Bounded>, Strong>;

}  // namespace tokio::detail
