#pragma once
// stream::BoxStream<T>: any Stream of T behind one type, the role of Rust's
// `Pin<Box<dyn Stream<Item = T>>>` (futures' BoxStream, StreamExt::boxed). For a StreamMap
// or a container whose streams are of different types:
//
//   tokio::stream::StreamMap<std::string, tokio::stream::BoxStream<int>> m;
//   m.insert("ticks", stream::boxed(std::move(ticks) | stream::map(f)));
//   m.insert("jobs", stream::boxed(ReceiverStream(std::move(rx))));
//
// The stream lives in its own allocation (one per boxed stream, none per item); each item
// costs one indirect call. Moving a BoxStream moves the pointer, never the stream: what the
// stream was waiting on (a next() that a timeout cancelled, say) is still there after the
// move. Cancel safety is the boxed stream's. A default-constructed (or moved-from)
// BoxStream is an ended stream: next() yields nullopt. One next() at a time: a second
// task's next() while one waits throws std::logic_error; moving the BoxStream meanwhile
// aborts (detail::NextClaim).

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/context.hpp"
#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <class T>
class BoxStream : public PollStream<BoxStream<T>, T>,
                  public tokio::detail::NextClaim<BoxStream<T>> {
  struct Erased {
    virtual ~Erased() = default;
    virtual bool poll_next(task::Context& cx, std::optional<T>& out) = 0;
  };
  template <class S>
  struct Held final : Erased {
    template <class U>
    Held(std::in_place_t, U&& s) : in(std::forward<U>(s)) {}
    bool poll_next(task::Context& cx, std::optional<T>& out) override {
      if constexpr (std::is_same_v<item_t<S>, T>) {
        return in.poll(cx, out);
      } else {
        std::optional<item_t<S>> item;
        if (!in.poll(cx, item)) return false;
        if (item) out.emplace(std::move(*item));
        return true;
      }
    }
    tokio::detail::Upstream<S> in;
  };

 public:
  static constexpr const char* kTypeName = "stream::BoxStream";
  BoxStream() = default;
  template <class S, std::enable_if_t<!std::is_same_v<std::remove_cvref_t<S>, BoxStream>, int> = 0>
    requires(
        Stream<std::remove_cvref_t<S>>&& std::is_constructible_v<T, item_t<std::remove_cvref_t<S>>>)
  explicit BoxStream(S&& s)
      : p_(std::make_unique<Held<std::remove_cvref_t<S>>>(std::in_place, std::forward<S>(s))) {
    tokio::detail::check_stream_arg<S>();
  }

  bool poll_next(task::Context& cx, std::optional<T>& out) {
    return p_ ? p_->poll_next(cx, out) : true;  // empty: the end
  }

 private:
  std::unique_ptr<Erased> p_;
};

// `stream::boxed(s)` / `std::move(s) | stream::boxed()`: s as a BoxStream of its item type.
template <class S>
  requires Stream<std::remove_cvref_t<S>> BoxStream<item_t<std::remove_cvref_t<S>>> boxed(S&& s) {
    return BoxStream<item_t<std::remove_cvref_t<S>>>(std::forward<S>(s));
  }
inline auto boxed() {
  return tokio::detail::StreamPipe{
      [](auto&& s) { return tokio::stream::boxed(std::forward<decltype(s)>(s)); }};
}

}  // namespace tokio::stream
