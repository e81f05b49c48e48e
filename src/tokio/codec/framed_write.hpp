#pragma once
// codec::FramedWrite<W, E>: an io::AsyncWrite that takes items, encoded by an Encoder
// (tokio-util's FramedWrite, with SinkExt's send/feed/flush/close as members).
//
//   tokio::codec::FramedWrite out(std::move(sock), tokio::codec::LinesCodec());
//   co_await out.feed("one");          // encoded into the write buffer
//   co_await out.send("two");          // encoded, then everything is written out
//   co_await out.close();              // flush, then shut the writer down
//
// Back-pressure: feed() flushes first when the buffer holds backpressure_boundary() bytes
// (8 KiB by default) or more, so a fast producer waits for a slow peer instead of
// buffering without bound. Every operation returns io::Result<void>; poll_flush is the
// poll-level form of flush. Cancel safety: an item whose send/feed was destroyed before
// it was encoded is dropped; bytes not yet written stay in the buffer for the next flush.
// W may be an lvalue reference (borrowed).

#include <cstddef>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/detail/framed_impl.hpp"
#include "tokio/io/async_io.hpp"

namespace tokio::codec {

template <class W, class E>
class FramedWrite
    : public tokio::detail::FramedWriteApi<FramedWrite<W, E>, std::remove_reference_t<W>> {
  using Io = std::remove_reference_t<W>;
  using Api = tokio::detail::FramedWriteApi<FramedWrite<W, E>, Io>;
  static_assert(io::AsyncWrite<Io>, "FramedWrite needs an io::AsyncWrite");

 public:
  FramedWrite(W&& inner, E encoder) : io_(std::forward<W>(inner)), codec_(std::move(encoder)) {}
  FramedWrite(FramedWrite&& o)
      : Api(std::move(o)), io_(std::forward<W>(o.io_)), codec_(std::move(o.codec_)) {}
  // Replacing a FramedWrite (a reconnect) drops its unwritten frames, as Rust's assignment
  // drops the old value. Not for a FramedWrite over a borrowed writer (W a reference).
  FramedWrite& operator=(FramedWrite&& o) requires(!std::is_reference_v<W>) {
    if (this != &o) {
      Api::operator=(std::move(o));  // cancels both writes in flight first
      io_ = std::move(o.io_);
      codec_ = std::move(o.codec_);
    }
    return *this;
  }
  ~FramedWrite() { this->cancel_flush(); }

  Io& get_ref() noexcept { return io_; }
  Io& get_mut() noexcept { return io_; }
  W into_inner() && { return std::forward<W>(io_); }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the FramedWrite over: write "
                             "std::move(framed).into_inner() (Rust moves it implicitly)")
  E& encoder() noexcept { return codec_; }
  E& encoder_mut() noexcept { return codec_; }

 private:
  W io_;
  E codec_;
};

template <class W, class E>
FramedWrite(W&&, E) -> FramedWrite<W, E>;

}  // namespace tokio::codec
