#pragma once
// io::BufWriter<W>: collects small writes in an in-memory buffer (8 KiB by default) and
// hands them to the inner writer in large writes.
//
//   io::BufWriter w(std::move(stream));
//   co_await io::write_all(w, header);
//   co_await io::write_all(w, body);
//   co_await w.flush();            // or shutdown(): both write the buffer out first
//
// Data still buffered when a BufWriter is destroyed is lost: flush or shut it down first
// (as in Tokio, there is no async destructor to do it). Writes at least as large as the
// buffer go straight to the inner writer once the buffer is empty.
//
// Cancel safety: write is cancel-safe (a cancelled write buffered nothing; a cancelled
// flush of the buffer leaves the unwritten part buffered and forgets the part already
// written, so nothing is written twice). flush and shutdown can be cancelled and retried.
// If W is also a reader, read (and fill_buf/consume) pass straight through.

#include <cstddef>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_reader.hpp"
#include "tokio/io/detail/buffered.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/write_ext.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

template <class W>
class BufWriter : public Ext<BufWriter<W>>, public detail::BufferedIo<W, BufWriter<W>> {
  using Base = detail::BufferedIo<W, BufWriter>;
  using typename Base::Inner;
  static_assert(AsyncWrite<Inner>, "io::BufWriter<W> needs an io::AsyncWrite W");

 public:
  // BufWriter(W inner, std::size_t capacity = kDefaultBufSize); a zero capacity throws
  // std::invalid_argument.
  using Base::Base;

 private:
  using Base::buf_, Base::cap_, Base::inner_, Base::head_, Base::tail_, Base::buffered;
  friend Base;
  static constexpr const char* kTypeName = "io::BufWriter";

  template <class Bufs, class Direct>
  struct WriteStep;
  template <bool Shutdown>
  struct FlushStep;

 public:
  using WriteOp =
      detail::AdaptorOp<WriteStep<std::span<const std::byte>, detail::write_op_t<Inner>>>;
  using WriteVectoredOp =
      detail::AdaptorOp<WriteStep<std::span<const IoSlice>, detail::write_vectored_child_t<Inner>>>;
  template <bool Shutdown>
  using FlushOp = detail::AdaptorOp<FlushStep<Shutdown>>;

  WriteOp write(io::ConstBuffer buf) noexcept { return {{{}, this, buf}}; }
  WriteVectoredOp write_vectored(std::span<const IoSlice> bufs) noexcept {
    return {{{}, this, bufs}};
  }
  // Writes the buffer out, then flushes the inner writer.
  FlushOp<false> flush() noexcept { return {{{}, this}}; }
  // Writes the buffer out, then shuts the inner writer down.
  FlushOp<true> shutdown() noexcept { return {{{}, this}}; }

  // io::AsyncSeek over a seekable stream: writes the buffer out (and flushes), then seeks,
  // as Tokio's BufWriter does. Not cancel-safe.
  Task<Result<uint64_t>> seek(SeekFrom pos) requires AsyncSeek<Inner> {
    auto flushed = co_await flush();
    if (!flushed) co_return unexpected(flushed.error());
    co_return co_await inner_.seek(pos);
  }

  // Reads pass through to the inner stream.
  auto read(io::MutableBuffer buf) requires AsyncRead<Inner> { return inner_.read(buf); }
  auto fill_buf() requires AsyncBufRead<Inner> { return inner_.fill_buf(); }
  void consume(std::size_t n) requires AsyncBufRead<Inner> { inner_.consume(n); }

 private:
  using InnerWrite = detail::ChildOp<detail::write_op_t<Inner>>;

  // Appends to the buffer (the caller checked it fits), compacting it first if needed.
  void append(std::span<const std::byte> src) noexcept {
    if (src.empty()) return;
    if (tail_ + src.size() > cap_) {
      std::memmove(buf_.get(), buf_.get() + head_, buffered());
      tail_ -= head_;
      head_ = 0;
    }
    std::memcpy(buf_.get() + tail_, src.data(), src.size());
    tail_ += src.size();
  }

  // Writes the whole buffer to the inner writer through op. head_ advances after every
  // inner write, so a cancelled or failed flush never writes a byte twice.
  detail::Poll<Result<void>> poll_flush_buf(task::Context& cx, InnerWrite& op) {
    auto r = detail::poll_write_all(cx, inner_, op, {buf_.get(), tail_}, head_);
    if (r && *r) head_ = tail_ = 0;
    return r;
  }

  detail::ExclusiveUse use_;  // one pending write / flush / shutdown at a time

  // write and write_vectored: when the data does not fit beside what is buffered, the
  // buffer is written out first; then data smaller than the buffer is buffered, larger
  // data goes straight to the inner writer (vectored when it supports it). A vectored
  // write to an inner writer that cannot gather goes slice by slice (kSliceBySlice).
  template <class>
  friend struct detail::ClaimedStep;

  template <class Bufs, class Direct>
  struct WriteStep : detail::ClaimedStep<WriteStep<Bufs, Direct>> {
    BufWriter* b;
    Bufs bufs;
    bool direct = false;
    // Once started, the buffer is written out whole (as Tokio's flush_buf): re-judging the
    // fit after a pending inner write would see the room already freed, stop half-way and
    // leave that write in flight abandoned.
    bool flushing = false;
    InnerWrite flush_op{};
    detail::ChildOp<Direct> op{};

    // A vectored write to an inner writer that cannot gather goes slice by slice (Tokio's
    // rule for it): only its first non-empty slice must fit, the slices are buffered in
    // order as far as they fit, and only a first slice at least as large as the buffer
    // goes straight to the inner writer (its write of that slice alone: the count may be
    // short of it). Judging the slices by their total instead would hand every slice of a
    // large gather, however small, to the inner writer one write each.
    static constexpr bool kSliceBySlice =
        std::is_same_v<Bufs, std::span<const IoSlice>> && !AsyncWriteVectored<Inner>;

    detail::Poll<Result<std::size_t>> poll_claimed(task::Context& cx) {
      if constexpr (kSliceBySlice) {
        while (!bufs.empty() && bufs.front().empty()) bufs = bufs.subspan(1);
        if (bufs.empty()) return std::size_t{0};
      }
      // What must fit beside the buffered bytes: the whole data, or its first slice.
      std::size_t need;
      if constexpr (kSliceBySlice) need = bufs.front().size();
      else need = total_size(bufs);
      if (!direct) {
        if (flushing || need > b->cap_ - b->buffered()) {
          flushing = true;
          auto d = b->poll_flush_buf(cx, flush_op);
          if (!d) return detail::pending;
          if (!*d) return unexpected(d->error());
        }
        if (need < b->cap_) return buffer_what_fits(need);
        direct = true;  // the buffer is empty: the data goes out unbuffered
      }
      auto n = op.poll_with(cx, [&] { return b->write_direct(bufs); });
      if (n && *n) detail::checked_count(**n, need);
      return n;
    }
    // Buffers all of the data, or (slice by slice) the slices that fit, in order.
    std::size_t buffer_what_fits(std::size_t need) noexcept {
      if constexpr (kSliceBySlice) {
        std::size_t taken = 0;
        for (const IoSlice& s : bufs) {
          if (s.size() > b->cap_ - b->buffered()) break;  // stop at the first that does not fit
          b->append(s.bytes());
          taken += s.size();
        }
        return taken;
      } else {
        b->append(bufs);
        return need;
      }
    }
  };
  static std::size_t total_size(std::span<const std::byte> buf) noexcept { return buf.size(); }
  static std::size_t total_size(std::span<const IoSlice> bufs) noexcept {
    std::size_t total = 0;
    for (const IoSlice& s : bufs) total += s.size();
    return total;
  }
  void append(std::span<const IoSlice> bufs) noexcept {
    for (const IoSlice& s : bufs) append(s.bytes());
  }
  auto write_direct(std::span<const std::byte> buf) { return inner_.write(buf); }
  auto write_direct(std::span<const IoSlice> bufs) { return io::write_vectored(inner_, bufs); }

  template <bool Shutdown>
  struct FlushStep : detail::ClaimedStep<FlushStep<Shutdown>> {
    using Last =
        std::conditional_t<Shutdown, detail::shutdown_op_t<Inner>, detail::flush_op_t<Inner>>;
    BufWriter* b;
    InnerWrite op{};
    detail::ChildOp<Last> last{};

    detail::Poll<Result<void>> poll_claimed(task::Context& cx) {
      if (!last.live()) {
        auto d = b->poll_flush_buf(cx, op);
        if (!d || !*d) return d;
      }
      return last.poll_with(cx, [&] {
        if constexpr (Shutdown) return b->inner_.shutdown();
        else return b->inner_.flush();
      });
    }
  };
};

template <class W>
BufWriter(W&&, std::size_t = kDefaultBufSize) -> BufWriter<std::remove_cvref_t<W>>;

}  // namespace tokio::io
