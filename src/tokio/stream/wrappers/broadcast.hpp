#pragma once
// wrappers::BroadcastStream<T>: a broadcast receiver as a stream of
// Result<T, BroadcastStreamRecvError>.
//
//   tokio::stream::wrappers::BroadcastStream s(tx.subscribe());
//   auto v = co_await s.next();   // value, or Lagged(n) when n values were overwritten
//                                 // before this receiver read them; nullopt once every
//                                 // sender is gone and everything was read
//
// A Lagged error does not end the stream: the next item is the oldest value still held.
// next() is cancel-safe (broadcast recv is).

#include <cstdint>
#include <optional>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/stream/detail/source_stream.hpp"
#include "tokio/sync/broadcast.hpp"

namespace tokio::stream::wrappers {

// The receiver fell behind: `skipped` values were overwritten before it read them.
struct BroadcastStreamRecvError {
  uint64_t skipped = 0;
  friend bool operator==(const BroadcastStreamRecvError&,
                         const BroadcastStreamRecvError&) = default;
};
// "channel lagged by N", as Tokio's Display (`std::cout << e`, `to_string(e)`).
inline std::string to_string(const BroadcastStreamRecvError& e) {
  return tokio::detail::lagged_text(e.skipped);
}
using tokio::detail::operator<<;

}  // namespace tokio::stream::wrappers

namespace tokio::detail {

template <>
struct enable_display<stream::wrappers::BroadcastStreamRecvError> : std::true_type {};

template <class T>
struct BroadcastRecvPolicy {
  using Item = Result<T, stream::wrappers::BroadcastStreamRecvError>;
  static constexpr const char* kTypeName = "stream::wrappers::BroadcastStream";
  auto op(sync::broadcast::Receiver<T>& rx) { return rx.recv(); }
  bool map(Result<T, sync::broadcast::RecvError>&& r, std::optional<Item>& out) {
    if (r) {
      out.emplace(std::move(*r));
    } else if (r.error().is_lagged()) {
      out.emplace(unexpected(stream::wrappers::BroadcastStreamRecvError{r.error().missed}));
    }
    return true;  // Closed: the end
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class T>
class BroadcastStream : public tokio::detail::SourceStream<sync::broadcast::Receiver<T>,
                                                           tokio::detail::BroadcastRecvPolicy<T>> {
  using Base = tokio::detail::SourceStream<sync::broadcast::Receiver<T>,
                                           tokio::detail::BroadcastRecvPolicy<T>>;

 public:
  explicit BroadcastStream(sync::broadcast::Receiver<T> rx) : Base(std::move(rx)) {}
};
template <class T>
BroadcastStream(sync::broadcast::Receiver<T>) -> BroadcastStream<T>;

}  // namespace tokio::stream::wrappers
