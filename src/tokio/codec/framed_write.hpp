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
// buffering without bound. Every operation returns io::Result<void>. Cancel safety: an
// item whose send/feed was destroyed before it was encoded is dropped; bytes not yet
// written stay in the buffer for the next flush. W may be an lvalue reference (borrowed).

#include <cstddef>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/detail/framed_impl.hpp"
#include "tokio/io/async_io.hpp"

namespace tokio::codec {

template <class W, class E>
class FramedWrite : public tokio::detail::FramedWriteApi<FramedWrite<W, E>> {
  using Io = std::remove_reference_t<W>;
  static_assert(io::AsyncWrite<Io>, "FramedWrite needs an io::AsyncWrite");

 public:
  FramedWrite(W&& inner, E encoder)
      : io_(std::forward<W>(inner)),
        codec_(std::move(encoder)),
        buf_(BytesMut::with_capacity(tokio::detail::kFramedInitialCapacity)) {}
  FramedWrite(FramedWrite&& o)
      : io_(std::forward<W>(o.io_)), codec_(std::move(o.codec_)), buf_(std::move(o.buf_)), hwm_(o.hwm_) {}
  FramedWrite& operator=(FramedWrite&&) = delete;

  Io& get_ref() noexcept { return io_; }
  Io& get_mut() noexcept { return io_; }
  W into_inner() && { return std::forward<W>(io_); }
  E& encoder() noexcept { return codec_; }
  E& encoder_mut() noexcept { return codec_; }
  const BytesMut& write_buffer() const noexcept { return buf_; }
  BytesMut& write_buffer_mut() noexcept { return buf_; }
  std::size_t backpressure_boundary() const noexcept { return hwm_; }
  void set_backpressure_boundary(std::size_t n) noexcept { hwm_ = n; }

 private:
  W io_;
  E codec_;
  BytesMut buf_;
  std::size_t hwm_ = tokio::detail::kFramedBackpressure;
};

template <class W, class E>
FramedWrite(W&&, E) -> FramedWrite<W, E>;

}  // namespace tokio::codec
