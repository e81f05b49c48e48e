#pragma once
// codec::FramedRead<R, D>: the frames a Decoder finds in an io::AsyncRead, as a stream of
// io::Result<Frame> (tokio-util's FramedRead).
//
//   tokio::codec::FramedRead lines(std::move(sock), tokio::codec::LinesCodec::new_with_max_length(1024));
//   for (;;) {
//     auto line = co_await lines.next();       // std::optional<io::Result<std::string>>
//     if (!line) break;                         // the end, or the pause after an error
//     if (!*line) { /* decode or I/O error */ continue; }
//     use(**line);
//   }
//
// Reads go into a BytesMut of 8 KiB to start with (with_capacity to change it), which
// grows as frames need; frames are cut off its front without copying the rest (see
// codec/bytes.hpp). At the end of the input the decoder's decode_eof decides: a partial
// frame left over is an error by default (codec::Errc::bytes_remaining_on_stream). After
// the end, or an I/O error, next() yields nullopt for good. A decode error is an item,
// and then the stream pauses as tokio-util's does: the next next() yields nullopt once,
// and a next() after that resumes, decoding what is buffered and then reading (to skip a
// bad line and go on, call next() again after that nullopt). If the decoder consumed
// nothing while failing, that nullopt is for good instead (see decoder.hpp).
//
// R may be an lvalue reference (the reader is borrowed) or an object type (owned); the
// deduction guide picks by the argument. next() is cancel-safe: the read in progress and
// a partial frame stay in the FramedRead. Moving a FramedRead cancels a read in progress
// (no data is lost: a cancelled read read nothing).

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/decoder.hpp"
#include "tokio/codec/detail/framed_impl.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::codec {

template <class R, Decoder D>
class FramedRead : public stream::PollStream<FramedRead<R, D>, io::Result<decoder_item_t<D>>> {
  using Io = std::remove_reference_t<R>;
  static_assert(io::AsyncRead<Io>, "FramedRead needs an io::AsyncRead");

 public:
  using Item = io::Result<decoder_item_t<D>>;

  FramedRead(R&& inner, D decoder, std::size_t capacity = tokio::detail::kFramedInitialCapacity)
      : io_(std::forward<R>(inner)), codec_(std::move(decoder)), st_(capacity) {}
  static FramedRead with_capacity(R&& inner, D decoder, std::size_t capacity) {
    return FramedRead(std::forward<R>(inner), std::move(decoder), capacity);
  }
  // Moving cancels a read in flight (cancel-safe); a move while another task waits in
  // next() is refused (std::logic_error), see detail::check_no_pending_next.
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  FramedRead(FramedRead&& o)
      : io_((tokio::detail::check_no_pending_next(o.next_use_, kTypeName), o.op_.reset(),
             std::forward<R>(o.io_))),
        codec_(std::move(o.codec_)),
        st_(std::move(o.st_)) {}
  // Replacing a FramedRead drops what it had read and not yielded, as Rust's assignment
  // drops the old value. Not for a FramedRead over a borrowed reader (R a reference).
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  FramedRead& operator=(FramedRead&& o) requires(!std::is_reference_v<R>) {
    if (this != &o) {
      tokio::detail::check_no_pending_next(next_use_, kTypeName);
      tokio::detail::check_no_pending_next(o.next_use_, kTypeName);
      op_.reset();  // a read in flight targets the buffer's spare room (cancel-safe)
      o.op_.reset();
      io_ = std::move(o.io_);
      codec_ = std::move(o.codec_);
      st_ = std::move(o.st_);
    }
    return *this;
  }
  ~FramedRead() { op_.reset(); }

  template <class Cx>
    requires tokio::detail::ChildPolls<tokio::detail::read_op_t<Io>, Cx>
  bool poll_next(Cx& cx, std::optional<Item>& out) {
    return tokio::detail::framed_poll_next(io_, codec_, st_, op_, cx, out);
  }
  // One next() at a time (stream::PollStream::Next claims this): the read it leaves in
  // flight between polls is the object's, so a second next() from another task would take
  // the first one's waker; it throws std::logic_error instead.
  tokio::detail::ExclusiveUse& next_use() noexcept { return next_use_; }
  static constexpr const char* kTypeName = "codec::FramedRead";
  // A frame from the bytes already read, without reading: nullopt when the buffer holds
  // no whole frame (or the stream has ended, or pauses after a decode error: that pause
  // is left for next() to yield). Lets a server answer every pipelined request it has
  // before flushing and waiting for more.
  std::optional<Item> next_buffered() {
    std::optional<Item> out;
    op_.reset();  // a read in flight targets the buffer's spare room (reads are cancel-safe)
    if (!st_.done && !st_.eof && !st_.errored)
      tokio::detail::framed_decode_buffered(codec_, st_, false, out);
    return out;
  }

  Io& get_ref() noexcept { return io_; }
  Io& get_mut() noexcept { return io_; }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the FramedRead over: write "
                             "std::move(framed).into_inner() (Rust moves it implicitly)")
  R into_inner() && {
    op_.reset();
    return std::forward<R>(io_);
  }
  D& decoder() noexcept { return codec_; }
  // Caps each read at `n` bytes (codec::ReaderStream's chunk size). 0 is refused
  // (std::invalid_argument): a read of 0 bytes returns 0, which reads as the end of the
  // input, so the stream would end with the peer's bytes unread.
  void set_max_read(std::size_t n) {
    if (n == 0) throw std::invalid_argument("codec::FramedRead::set_max_read: the cap must be > 0");
    st_.max_read = n;
  }
  D& decoder_mut() noexcept { return codec_; }
  const BytesMut& read_buffer() const noexcept { return st_.buf; }
  BytesMut& read_buffer_mut() noexcept {
    op_.reset();
    st_.readable = true;
    return st_.buf;
  }

 private:
  R io_;
  D codec_;
  tokio::detail::FramedReadState st_;
  tokio::detail::ChildOp<tokio::detail::read_op_t<Io>> op_;
  tokio::detail::ExclusiveUse next_use_;
};

template <class R, class D>
FramedRead(R&&, D) -> FramedRead<R, D>;
template <class R, class D>
FramedRead(R&&, D, std::size_t) -> FramedRead<R, D>;

}  // namespace tokio::codec
