#pragma once
// wrappers::ReceiverStream<T> / UnboundedReceiverStream<T>: an mpsc receiver as a stream.
//
//   auto [tx, rx] = tokio::sync::mpsc::channel<int>(16);
//   tokio::stream::wrappers::ReceiverStream s(std::move(rx));
//   auto v = co_await s.next();          // std::optional<int>; nullopt once all senders
//                                        // are gone and the channel is empty
//
// next() is cancel-safe: a message is taken from the channel only by the poll that
// completes it (mpsc recv is cancel-safe). close() closes the receiver (buffered messages
// are still yielded); into_inner() gives the receiver back.

#include <utility>

#include "tokio/stream/detail/source_stream.hpp"
#include "tokio/sync/mpsc.hpp"

namespace tokio::detail {

template <class T>
struct MpscRecvPolicy {
  using Item = T;
  template <class Rx>
  auto op(Rx& rx) {
    return rx.recv();
  }
  bool map(std::optional<T>&& r, std::optional<T>& out) {
    out = std::move(r);
    return true;
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class T>
class ReceiverStream : public tokio::detail::SourceStream<sync::mpsc::Receiver<T>,
                                                          tokio::detail::MpscRecvPolicy<T>> {
  using Base =
      tokio::detail::SourceStream<sync::mpsc::Receiver<T>, tokio::detail::MpscRecvPolicy<T>>;

 public:
  explicit ReceiverStream(sync::mpsc::Receiver<T> rx) : Base(std::move(rx)) {}
  // Closes the receiving half (senders fail from now on; buffered messages still come).
  void close() noexcept { this->src_.close(); }
};
template <class T>
ReceiverStream(sync::mpsc::BasicReceiver<T, true>) -> ReceiverStream<T>;

template <class T>
class UnboundedReceiverStream
    : public tokio::detail::SourceStream<sync::mpsc::UnboundedReceiver<T>,
                                         tokio::detail::MpscRecvPolicy<T>> {
  using Base = tokio::detail::SourceStream<sync::mpsc::UnboundedReceiver<T>,
                                           tokio::detail::MpscRecvPolicy<T>>;

 public:
  explicit UnboundedReceiverStream(sync::mpsc::UnboundedReceiver<T> rx) : Base(std::move(rx)) {}
  void close() noexcept { this->src_.close(); }
};
template <class T>
UnboundedReceiverStream(sync::mpsc::BasicReceiver<T, false>) -> UnboundedReceiverStream<T>;

}  // namespace tokio::stream::wrappers
