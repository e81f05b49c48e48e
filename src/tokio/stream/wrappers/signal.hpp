#pragma once
// wrappers::SignalStream: the deliveries of a signal::unix::Signal as a stream
// (tokio-stream's SignalStream). Its items are std::monostate (Rust's `()`): one per
// recv(), that is, one for "at least one delivery since the last item" (deliveries
// coalesce, as for recv()). It does not end, except over a moved-from Signal.
//
//   auto hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
//   tokio::stream::wrappers::SignalStream reloads(std::move(*hup));
//   while (co_await reloads.next()) reload_config();
//
// next() is cancel-safe (recv() is: a delivery is consumed only by the poll that
// completes it), and can be asked by select without registering. Written against any
// source with Signal's `recv()` (an awaitable yielding bool), so this header does not pull
// tokio::signal in (a build without it, TOKIO_CONFIG_NO_SIGNAL, keeps the streams); the
// template argument defaults to signal::unix::Signal and is deduced from the constructor's.

#include <optional>
#include <utility>
#include <variant>

#include "tokio/stream/detail/source_stream.hpp"

namespace tokio::signal::unix {
class Signal;  // signal/unix.hpp
}  // namespace tokio::signal::unix

namespace tokio::detail {

struct SignalRecvPolicy {
  using Item = std::monostate;
  static constexpr const char* kTypeName = "stream::wrappers::SignalStream";
  template <class Sig>
  auto op(Sig& s) {
    return s.recv();
  }
  // recv(): true for a delivery, false on a moved-from Signal (the end).
  // (A template only so that std::optional<std::monostate> waits for a use.)
  template <class Out>
  bool map(bool delivered, Out& out) {
    if (delivered) out.emplace();
    return true;
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class Sig = signal::unix::Signal>
class SignalStream : public tokio::detail::SourceStream<Sig, tokio::detail::SignalRecvPolicy> {
  using Base = tokio::detail::SourceStream<Sig, tokio::detail::SignalRecvPolicy>;

 public:
  explicit SignalStream(Sig s) : Base(std::move(s)) {}
  static SignalStream new_(Sig s) { return SignalStream(std::move(s)); }
};
template <class Sig>
SignalStream(Sig) -> SignalStream<Sig>;

}  // namespace tokio::stream::wrappers
