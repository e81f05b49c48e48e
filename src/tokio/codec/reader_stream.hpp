#pragma once
// Bridges between byte streams and streams of chunks (tokio-util's io::ReaderStream and
// io::StreamReader):
//
//   codec::ReaderStream chunks(std::move(file));            // io::AsyncRead -> Stream
//   while (auto c = co_await chunks.next()) {               // std::optional<io::Result<Bytes>>
//     if (!*c) break;                                       // the read failed
//     send(**c);
//   }
//
//   codec::StreamReader body(std::move(chunk_stream));      // Stream -> io::AsyncBufRead
//   auto lines = io::BufReader(std::move(body)).lines();    // or read / read_to_end / copy
//
// ReaderStream reads into a buffer of `capacity` bytes to start with (4 KiB by default, as
// in tokio-util; FramedRead's buffer, which grows as reads need) and yields each read's
// bytes as one Bytes, without copying them; the end of the reader ends the stream, and a
// read error is yielded once, then the stream ends.
//
// StreamReader takes a stream of Result<B, E> chunks, B a Bytes or a BytesMut (anything
// with as_span()) and E an error convertible to std::error_code (io::Error): a chunk's bytes
// are read in order, empty chunks are skipped, the end of the stream is the end of the input
// and an error item is returned by the read that meets it (the stream goes on after it, as
// the stream decides). It is an io::AsyncBufRead (fill_buf / consume lend the current chunk).
//
// Cancel safety: next() of ReaderStream and read / fill_buf of StreamReader keep their
// state in the object, so a destroyed await loses nothing.

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/bytes_codec.hpp"
#include "tokio/codec/framed_read.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/ext.hpp"
#include "tokio/stream/detail/upstream.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::codec {

inline constexpr std::size_t kReaderStreamCapacity = 4096;

// An io::AsyncRead as a stream of io::Result<Bytes>. R may be an lvalue reference (the
// reader is borrowed) or an object type (owned), as for FramedRead.
template <class R>
class ReaderStream : public stream::PollStream<ReaderStream<R>, io::Result<Bytes>> {
  // std::optional<io::Result<Bytes>> and <BytesMut>, spelled to wait for a use
  // (core/config.hpp, dependent_t).
  using Out = tokio::detail::dependent_t<R, std::optional<io::Result<Bytes>>>;
  using Chunk = tokio::detail::dependent_t<R, std::optional<io::Result<BytesMut>>>;

 public:
  // Each chunk is at most `capacity` bytes (> 0, else std::invalid_argument).
  explicit ReaderStream(R&& reader, std::size_t capacity = kReaderStreamCapacity)
      : in_(std::forward<R>(reader), BytesCodec(), checked(capacity)) {
    in_.set_max_read(capacity);
  }
  static ReaderStream with_capacity(R&& reader, std::size_t capacity) {
    return ReaderStream(std::forward<R>(reader), capacity);
  }

  template <class Cx>
    requires tokio::detail::PollsNextWith<FramedRead<R, BytesCodec>, Cx>
  bool poll_next(Cx& cx, Out& out) {
    Chunk chunk;
    if (!in_.poll_next(cx, chunk)) return false;
    if (!chunk) return true;
    if (*chunk) {
      out.emplace(std::move(**chunk).freeze());
    } else {
      out.emplace(unexpected(chunk->error()));
    }
    return true;
  }

 private:
  static std::size_t checked(std::size_t capacity) {
    if (capacity == 0) {
      throw std::invalid_argument("codec::ReaderStream: the capacity (chunk size) must be > 0");
    }
    return capacity;
  }
  FramedRead<R, BytesCodec> in_;
};

template <class R>
ReaderStream(R&&) -> ReaderStream<R>;
template <class R>
ReaderStream(R&&, std::size_t) -> ReaderStream<R>;

// A stream of Result<B, E> chunks as an io::AsyncBufRead. Its operations are the I/O
// adaptor leaves (detail::AdaptorOp) that BufReader's are, with the chunk as the buffer.
template <stream::Stream S>
class StreamReader : public io::Ext<StreamReader<S>> {
  using ItemResult = stream::item_t<S>;
  using Chunk = std::remove_cvref_t<decltype(*std::declval<ItemResult&>())>;
  static_assert(
      requires(const Chunk& c) {
        { c.as_span() } -> std::convertible_to<std::span<const std::byte>>;
      },
      "StreamReader needs a stream of Result<Bytes or BytesMut, E>");
  static_assert(
      std::is_convertible_v<decltype(std::declval<ItemResult&>().error()), std::error_code>,
      "StreamReader needs chunk errors convertible to std::error_code (io::Error)");

  struct ReadStep;
  struct FillBufStep;

 public:
  using ReadOp = tokio::detail::AdaptorOp<ReadStep>;
  using FillBufOp = tokio::detail::AdaptorOp<FillBufStep>;

  explicit StreamReader(S s) : in_(std::move(s)) {}

  // Reads from the current chunk, waiting for the next one when it is used up; 0 at the
  // end of the stream (or for an empty buffer).
  ReadOp read(io::MutableBuffer buf) noexcept { return {{this, buf}}; }
  // The unread bytes of the current chunk (waiting for a chunk when none is left); empty at
  // the end of the stream.
  FillBufOp fill_buf() noexcept { return {{this}}; }
  void consume(std::size_t n) noexcept { pos_ += n < buffer().size() ? n : buffer().size(); }

  S& get_mut() noexcept { return in_.get(); }
  // The stream, and the unread bytes of the current chunk are dropped with the reader.
  S into_inner() && { return std::move(in_).take(); }

 private:
  std::span<const std::byte> buffer() const noexcept {
    return chunk_ ? chunk_->as_span().subspan(pos_) : std::span<const std::byte>();
  }
  // Waits for a chunk with unread bytes (none left: the end, an empty buffer()).
  tokio::detail::Poll<io::Result<void>> poll_fill(task::Context& cx) {
    while (buffer().empty() && !eof_) {
      std::optional<ItemResult> item;
      if (!in_.poll(cx, item)) return tokio::detail::pending;
      if (!item) {
        eof_ = true;
      } else if (!*item) {
        return unexpected(std::error_code(item->error()));
      } else {
        chunk_.emplace(std::move(**item));
        pos_ = 0;
      }
    }
    return io::Result<void>();
  }

  struct ReadStep {
    StreamReader* r;
    std::span<std::byte> buf;

    tokio::detail::Poll<io::Result<std::size_t>> poll(task::Context& cx) {
      if (buf.empty()) return std::size_t{0};
      return tokio::detail::map_ok(r->poll_fill(cx), [&] {
        std::span<const std::byte> src = r->buffer();
        std::size_t n = src.size() < buf.size() ? src.size() : buf.size();
        if (n) std::memcpy(buf.data(), src.data(), n);
        r->consume(n);
        return n;
      });
    }
  };
  struct FillBufStep {
    StreamReader* r;

    tokio::detail::Poll<io::Result<std::span<const std::byte>>> poll(task::Context& cx) {
      return tokio::detail::map_ok(r->poll_fill(cx), [&] { return r->buffer(); });
    }
  };

  tokio::detail::Upstream<S> in_;
  std::optional<Chunk> chunk_;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

template <class S>
StreamReader(S) -> StreamReader<S>;

}  // namespace tokio::codec
