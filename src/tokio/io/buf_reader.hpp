#pragma once
// io::BufReader<R>: adds an in-memory buffer (8 KiB by default) to a reader, making it an
// AsyncBufRead (fill_buf/consume, which read_line, read_until, lines and split use), and
// turning many small reads into few large ones.
//
//   io::BufReader r(std::move(stream));          // owns the stream
//   io::BufReader<TcpStream&> r2(stream);        // borrows it
//   std::string line;
//   auto n = co_await io::read_line(r, line);
//
// Reads at least as large as the buffer bypass it when it is empty. If R is also a
// writer, write/flush/shutdown pass straight through, so a BufReader can wrap a socket.
// read and fill_buf are cancel-safe: a cancelled refill leaves the buffer as it was (the
// inner read it abandoned is cancel-safe itself).

#include <cstddef>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/buffered.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/seek.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

template <class R>
class BufReader : public Ext<BufReader<R>>, public detail::BufferedIo<R, BufReader<R>> {
  using Base = detail::BufferedIo<R, BufReader>;
  using typename Base::Inner;
  static_assert(AsyncRead<Inner>, "io::BufReader<R> needs an io::AsyncRead R");

 public:
  // BufReader(R inner, std::size_t capacity = kDefaultBufSize); a zero capacity throws
  // std::invalid_argument.
  using Base::Base;

  // buffer(), when not empty, is what fill_buf() would complete with at once (read_until,
  // lines and split take it directly: detail::poll_read_until).
  static constexpr bool kBufferIsFillBuf = true;
  // Drops the buffered bytes.
  void discard_buffer() noexcept { head_ = tail_ = 0; }

 private:
  using Base::buf_, Base::cap_, Base::inner_, Base::head_, Base::tail_, Base::buffered;
  friend Base;
  static constexpr const char* kTypeName = "io::BufReader";

  struct ReadStep;
  struct FillBufStep;

 public:
  using ReadOp = detail::AdaptorOp<ReadStep>;
  using FillBufOp = detail::AdaptorOp<FillBufStep>;

  ReadOp read(io::MutableBuffer buf) noexcept { return {{{}, this, buf}}; }
  FillBufOp fill_buf() noexcept { return {{{}, this}}; }
  // Marks n buffered bytes as used (clamped to what is buffered).
  void consume(std::size_t n) noexcept { head_ = (n < buffered()) ? head_ + n : tail_; }

  // Writes pass through to the inner stream.
  auto write(io::ConstBuffer buf) requires AsyncWrite<Inner> { return inner_.write(buf); }
  auto write_vectored(std::span<const IoSlice> bufs) requires AsyncWriteVectored<Inner> {
    return inner_.write_vectored(bufs);
  }
  auto flush() requires AsyncWrite<Inner> { return inner_.flush(); }
  auto shutdown() requires AsyncWrite<Inner> { return inner_.shutdown(); }

  // io::AsyncSeek over a seekable stream (Tokio's BufReader is AsyncSeek too). A seek from
  // the current position counts from the caller's position, which is behind the stream's
  // by the bytes still buffered; after a successful seek the buffer is dropped (a failed
  // one leaves both alone). Not cancel-safe (as Tokio's start_seek / poll_complete).
  Task<Result<uint64_t>> seek(SeekFrom pos) requires AsyncSeek<Inner> {
    if (pos.whence == SeekFrom::Whence::Current) {
      const auto held = static_cast<int64_t>(buffered());
      const int64_t wanted = pos.offset;
      if (__builtin_sub_overflow(wanted, held, &pos.offset)) {
        // wanted - held is below INT64_MIN: step back over the buffer first.
        auto back = co_await inner_.seek(SeekFrom::current(-held));
        if (!back) co_return back;
        discard_buffer();
        pos.offset = wanted;
      }
    }
    auto r = co_await inner_.seek(pos);
    if (r) discard_buffer();
    co_return r;
  }

 private:
  using InnerRead = detail::ChildOp<detail::read_op_t<Inner>>;

  // Refills the (empty) buffer through op.
  detail::Poll<Result<void>> poll_refill(task::Context& cx, InnerRead& op) {
    auto n = op.poll_with(cx, [&] { return inner_.read(std::span<std::byte>(buf_.get(), cap_)); });
    if (!n) return detail::pending;
    if (!*n) return unexpected(n->error());
    head_ = 0;
    tail_ = detail::checked_count(**n, cap_);
    return Result<void>();
  }
  // Moves buffered bytes to dst; returns how many.
  std::size_t copy_out(std::span<std::byte> dst) noexcept {
    std::size_t n = buffered() < dst.size() ? buffered() : dst.size();
    if (n) std::memcpy(dst.data(), buf_.get() + head_, n);
    head_ += n;
    return n;
  }

  detail::ExclusiveUse use_;  // one pending read / fill_buf at a time

  template <class>
  friend struct detail::ClaimedStep;

  struct ReadStep : detail::ClaimedStep<ReadStep> {
    BufReader* b;
    std::span<std::byte> buf;
    InnerRead op{};

    detail::Poll<Result<std::size_t>> poll_claimed(task::Context& cx) {
      if (buf.empty()) return std::size_t{0};
      if (b->head_ < b->tail_) return b->copy_out(buf);
      if (buf.size() >= b->cap_) {  // large read, empty buffer: skip the copy
        auto n = op.poll_with(cx, [&] { return b->inner_.read(buf); });
        if (n && *n) detail::checked_count(**n, buf.size());
        return n;
      }
      return detail::map_ok(b->poll_refill(cx, op), [&] { return b->copy_out(buf); });
    }
  };
  struct FillBufStep : detail::ClaimedStep<FillBufStep> {
    BufReader* b;
    InnerRead op{};

    detail::Poll<Result<std::span<const std::byte>>> poll_claimed(task::Context& cx) {
      if (b->head_ < b->tail_) return b->buffer();
      return detail::map_ok(b->poll_refill(cx, op), [&] { return b->buffer(); });
    }
  };
};

template <class R>
BufReader(R&&, std::size_t = kDefaultBufSize) -> BufReader<std::remove_cvref_t<R>>;

}  // namespace tokio::io
