#pragma once
// codec::Framed<T, C>: FramedRead and FramedWrite over one io::AsyncRead + io::AsyncWrite
// with one codec (a Decoder and an Encoder): a stream of io::Result<Frame> (next()) and a
// sink (feed / send / flush / close), as tokio-util's Framed.
//
//   tokio::codec::Framed conn(std::move(sock), tokio::codec::LinesCodec::new_with_max_length(4096));
//   for (;;) {
//     auto line = co_await conn.next();
//     if (!line || !*line) break;
//     if (!co_await conn.send("you said: " + **line)) break;
//   }
//
// Reading and writing keep separate buffers, so one task may have a next() and a
// send() in flight at once (under select or join). The semantics of each side, and of
// next_buffered() and the poll forms (poll_next, poll_flush), are those of FramedRead and
// FramedWrite. T may be an lvalue reference. into_parts / from_parts take one apart and
// put one together without losing buffered bytes (FramedParts).

#include <cstddef>
#include <optional>
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

// tokio-util's FramedParts: a Framed taken apart (Framed::into_parts) or the pieces of one to
// build (Framed::from_parts): the I/O object, the codec, and both buffers, so bytes read
// but not decoded yet and frames encoded but not written yet survive the change (a
// handshake in one codec, then another; a switch to TLS...).
template <class T, class C>
struct FramedParts {
  FramedParts(T io_, C codec_) : io(std::forward<T>(io_)), codec(std::move(codec_)) {}
  FramedParts(T io_, C codec_, BytesMut read, BytesMut write)
      : io(std::forward<T>(io_)),
        codec(std::move(codec_)),
        read_buf(std::move(read)),
        write_buf(std::move(write)) {}
  T io;
  C codec;
  BytesMut read_buf;   // read, not decoded yet: decoded first by the next Framed
  BytesMut write_buf;  // encoded, not written yet: written by the next Framed's flush
};
template <class T, class C>
FramedParts(T&&, C) -> FramedParts<T, C>;

template <class T, Decoder C>
class Framed : public stream::PollStream<Framed<T, C>, io::Result<decoder_item_t<C>>>,
               public tokio::detail::FramedWriteApi<Framed<T, C>, std::remove_reference_t<T>> {
  using Io = std::remove_reference_t<T>;
  using Api = tokio::detail::FramedWriteApi<Framed<T, C>, Io>;
  static_assert(io::AsyncRead<Io> && io::AsyncWrite<Io>,
                "Framed needs an io::AsyncRead + io::AsyncWrite");

 public:
  using Item = io::Result<decoder_item_t<C>>;

  Framed(T&& inner, C codec, std::size_t capacity = tokio::detail::kFramedInitialCapacity)
      : io_(std::forward<T>(inner)), codec_(std::move(codec)), rd_(capacity) {}
  static Framed with_capacity(T&& inner, C codec, std::size_t capacity) {
    return Framed(std::forward<T>(inner), std::move(codec), capacity);
  }
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  Framed(Framed&& o)
      : Api((tokio::detail::check_no_pending_next(o.next_use_, kTypeName), std::move(o))),
        io_((o.rop_.reset(), std::forward<T>(o.io_))),
        codec_(std::move(o.codec_)),
        rd_(std::move(o.rd_)) {}
  // See FramedRead's and FramedWrite's assignment.
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  Framed& operator=(Framed&& o) requires(!std::is_reference_v<T>) {
    if (this != &o) {
      tokio::detail::check_no_pending_next(next_use_, kTypeName);
      tokio::detail::check_no_pending_next(o.next_use_, kTypeName);
      rop_.reset();
      o.rop_.reset();
      Api::operator=(std::move(o));
      io_ = std::move(o.io_);
      codec_ = std::move(o.codec_);
      rd_ = std::move(o.rd_);
    }
    return *this;
  }
  ~Framed() {
    rop_.reset();
    this->cancel_flush();
  }

  template <class Cx>
    requires tokio::detail::ChildPolls<tokio::detail::read_op_t<Io>, Cx>
  bool poll_next(Cx& cx, std::optional<Item>& out) {
    return tokio::detail::framed_poll_next(io_, codec_, rd_, rop_, cx, out);
  }
  // One next() at a time (stream::PollStream::Next claims this): the read it leaves in
  // flight between polls is the object's, so a second next() from another task would take
  // the first one's waker; it throws std::logic_error instead.
  tokio::detail::ExclusiveUse& next_use() noexcept { return next_use_; }
  static constexpr const char* kTypeName = "codec::Framed (its stream side)";
  // See FramedRead::next_buffered.
  std::optional<Item> next_buffered() {
    std::optional<Item> out;
    rop_.reset();
    if (!rd_.done && !rd_.eof && !rd_.errored)
      tokio::detail::framed_decode_buffered(codec_, rd_, false, out);
    return out;
  }

  Io& get_ref() noexcept { return io_; }
  Io& get_mut() noexcept { return io_; }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the Framed over: write "
                             "std::move(framed).into_inner() (Rust moves it implicitly)")
  T into_inner() && {
    rop_.reset();
    return std::forward<T>(io_);
  }
  // Takes the Framed apart, buffers included (see FramedParts). Not while a next() or send()
  // of it is pending.
  FramedParts<T, C> into_parts() && {
    rop_.reset();
    BytesMut wbuf = std::move(this->write_buffer_mut());  // cancels a poll_flush in progress
    return FramedParts<T, C>(std::forward<T>(io_), std::move(codec_), std::move(rd_.buf),
                             std::move(wbuf));
  }
  TOKIO_DETAIL_CONSUMES_SELF(into_parts, (),
                             "into_parts() takes the Framed over: write "
                             "std::move(framed).into_parts() (Rust moves it implicitly)")
  // A Framed from parts: their read buffer is decoded before anything more is read, their
  // write buffer written by the next flush.
  static Framed from_parts(FramedParts<T, C> parts) {
    Framed f(std::forward<T>(parts.io), std::move(parts.codec));
    f.rd_.buf = std::move(parts.read_buf);
    f.rd_.readable = !f.rd_.buf.is_empty();
    f.write_buffer_mut() = std::move(parts.write_buf);
    return f;
  }
  C& codec() noexcept { return codec_; }
  C& codec_mut() noexcept { return codec_; }
  C& encoder_mut() noexcept { return codec_; }
  const BytesMut& read_buffer() const noexcept { return rd_.buf; }
  BytesMut& read_buffer_mut() noexcept {
    rop_.reset();
    rd_.readable = true;
    return rd_.buf;
  }

 private:
  T io_;
  C codec_;
  tokio::detail::FramedReadState rd_;
  tokio::detail::ChildOp<tokio::detail::read_op_t<Io>> rop_;
  tokio::detail::ExclusiveUse next_use_;
};

template <class T, class C>
Framed(T&&, C) -> Framed<T, C>;
template <class T, class C>
Framed(T&&, C, std::size_t) -> Framed<T, C>;

}  // namespace tokio::codec
