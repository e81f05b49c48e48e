#pragma once
// mpsc::unbounded_channel<T>(): the multi-producer single-consumer channel without a bound.
//
//   auto [tx, rx] = tokio::sync::mpsc::unbounded_channel<std::string>();
//   (void)tx.send("hello");                            // never waits
//   auto v = co_await rx.recv();                       // std::optional<std::string>
//
// send() never waits and fails only when the receiver is gone or closed (the value is
// handed back). Memory is the only limit: prefer the bounded channel when producers can
// outrun the consumer. The receiver is the same type template as the bounded one.

#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/sync/detail/mpsc_chan.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/mpsc_receiver.hpp"
#include "tokio/sync/detail/mpsc_sender_base.hpp"

namespace tokio::sync::mpsc {

template <class T>
class UnboundedSender : public detail::MpscSenderBase<T, false> {
  using Base = detail::MpscSenderBase<T, false>;
  using Chan = detail::Chan<T, false>;

 public:
  using Base::Base;
  // Rust's clone(): the same as a copy (another sender on the same channel).
  UnboundedSender clone() const noexcept { return *this; }

  // Sends without waiting; fails (handing the value back) when the receiver is gone or
  // closed.
  Result<void, SendError<T>> send(T value) const {
    Chan* c = this->checked();
    bool now_idle = false;
    if (TOKIO_UNLIKELY(!c->sem.try_add(now_idle))) {
      if (now_idle) c->rx_waker.wake_always();
      return unexpected(SendError<T>{std::move(value)});
    }
    c->push(std::move(value));
    return {};
  }

  detail::MpscWeakSender<T, false, UnboundedSender> downgrade() const {
    return detail::MpscWeakSender<T, false, UnboundedSender>(this->checked());
  }
};

template <class T>
using WeakUnboundedSender = detail::MpscWeakSender<T, false, UnboundedSender<T>>;

template <class T>
std::pair<UnboundedSender<T>, UnboundedReceiver<T>> unbounded_channel() {
  auto* c = detail::Chan<T, false>::create(0);
  return {UnboundedSender<T>(c), UnboundedReceiver<T>(c)};
}

}  // namespace tokio::sync::mpsc
