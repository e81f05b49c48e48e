#pragma once
// io::copy, io::copy_buf, io::copy_bidirectional: move bytes from readers to writers.
//
//   auto n = co_await io::copy(reader, writer);              // Result<uint64_t>
//   auto n = co_await io::copy_buf(buf_reader, writer);      // uses the reader's buffer
//   auto r = co_await io::copy_bidirectional(client, server);// Result<pair<a_to_b, b_to_a>>
//
// copy reads into an 8 KiB buffer and writes it out until the reader reports end of
// stream, then flushes the writer; from a reader with a buffer of its own (an
// AsyncBufRead) it writes from that buffer instead, one copy less per byte. As in Tokio it
// overlaps the two sides: while a write is pending it tops the buffer up with further reads
// (the 8 KiB buffer only), and while a read is pending it flushes what was written (so a
// BufWriter in front of a peer that answers only after seeing the data cannot deadlock the
// copy).
//
// copy_bidirectional runs both directions concurrently inside the calling task. When one
// side reaches end of stream, the other side's write half is shut down (a TCP FIN: the
// half-close is forwarded) and the other direction keeps going; it completes when both
// directions have finished, with the byte counts of each. The first error in either
// direction ends it (the other direction is dropped, as in Tokio).
//
// A writer that accepts 0 bytes fails the copy with Errc::write_zero.
// Cancel safety: none of them is cancel-safe: data read but not yet written is lost. So
// on an error of either side: the bytes read ahead while the writer was busy (up to the
// 8 KiB buffer; Tokio 1.24.2 reads ahead one read at a time) are not written.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <span>
#include <system_error>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_reader.hpp"
#include "tokio/core/detail/owned.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::detail {

// The most a copy reserves in its writer ahead of the data (a hint of more still reserves
// this much, and the writer grows as the data comes).
inline constexpr uint64_t kCopyMaxReserve = uint64_t{64} << 20;

// At a copy's first poll: a writer that can grow (VecWriter) gets room for what the reader
// says is coming, at once (Rust's Vec::reserve from a size hint): no regrowth, copy or free
// per doubling.
template <class R, class W>
void reserve_size_hint(R& r, W& w) {
  if constexpr (io::HasSizeHint<R> && requires(W & ww, std::size_t n) { ww.reserve(n); }) {
    uint64_t lower = r.size_hint().lower;
    if (lower != UINT64_MAX)
      w.reserve(static_cast<std::size_t>(lower < kCopyMaxReserve ? lower : kCopyMaxReserve));
  }
}

// The state of one copy direction: buffer, cursor and the in-flight inner operations.
// The buffer is allocated at the first poll (the owning leaf may be copied before that).
template <class R, class W>
class CopyBuffer {
 public:
  explicit CopyBuffer(std::size_t size) noexcept : size_(size) {}
  CopyBuffer(const CopyBuffer& o) noexcept : size_(o.size_) {}

  // Copies until the reader ends, then flushes the writer.
  Poll<io::Result<void>> poll_copy(task::Context& cx, R& r, W& w) {
    if (!buf_) {
      reserve_size_hint(r, w);
      buf_ = Owned<std::byte[]>(new std::byte[size_]);
    }
    for (;;) {
      // Need data: start a read (or keep polling the top-up read started while writing).
      if (pos_ == cap_ && !read_done_) {
        auto n = poll_read(cx, r, true);
        if (!n && need_flush_) {
          // The reader has nothing for now: push what was written so far through the
          // writer, in case the reader is waiting for it.
          auto f = flush_.poll_with(cx, [&] { return w.flush(); });
          if (f && !*f) return f;
          need_flush_ = !f;
        }
        if (!n) return pending;
        flush_.reset();  // the read made progress; the flush is retried when needed
        if (!*n) return n;
      }

      while (pos_ < cap_) {
        auto n = write_.poll_with(cx, [&] {
          return w.write(std::span<const std::byte>(buf_.get() + pos_, cap_ - pos_));
        });
        if (!n) {
          // The writer is busy: top the buffer up meanwhile, for a larger next write. Keep
          // reading until the reader is pending (its waker is then registered, so new data
          // wakes us even while the writer stays blocked) or the buffer is full.
          while (!read_done_ && cap_ < size_) {
            auto t = poll_read(cx, r, false);
            if (!t) break;
            if (!*t) return t;
          }
          return pending;
        }
        if (!*n) return unexpected(n->error());
        if (**n == 0) return unexpected(make_error_code(io::Errc::write_zero));
        pos_ += checked_count(**n, cap_ - pos_);
        amt_ += **n;
        need_flush_ = true;
      }

      if (read_done_) return flush_.poll_with(cx, [&] { return w.flush(); });  // pos_ == cap_ here
    }
  }

  uint64_t amount() const noexcept { return amt_; }

 private:
  // One read into the free end of the buffer (from its start when `restart`); accounts
  // what arrived.
  Poll<io::Result<void>> poll_read(task::Context& cx, R& r, bool restart) {
    auto n = read_.poll_with(cx, [&] {
      if (restart) pos_ = cap_ = 0;
      return r.read(std::span<std::byte>(buf_.get() + cap_, size_ - cap_));
    });
    if (!n) return pending;
    if (!*n) return unexpected(n->error());
    if (**n == 0) read_done_ = true;
    else cap_ += checked_count(**n, size_ - cap_);
    return io::Result<void>();
  }

  std::size_t size_;
  Owned<std::byte[]> buf_;
  std::size_t pos_ = 0;  // buf_[pos_, cap_) is read and not yet written
  std::size_t cap_ = 0;
  uint64_t amt_ = 0;
  bool read_done_ = false;
  bool need_flush_ = false;
  ChildOp<read_op_t<R>> read_;
  ChildOp<write_op_t<W>> write_;
  ChildOp<flush_op_t<W>> flush_;
};

template <class R, class W>
struct Copy {
  R* r;
  W* w;
  CopyBuffer<R, W> buf;

  Poll<io::Result<uint64_t>> poll(task::Context& cx) {
    return map_ok(buf.poll_copy(cx, *r, *w), [&] { return buf.amount(); });
  }
};

// copy_buf, and copy from a reader with a buffer of its own (an AsyncBufRead: BufReader,
// SliceReader, take/chain of those...): writes straight from the reader's buffer, so each
// byte is copied once less than through copy's buffer. For copy (ForCopy) it keeps copy's
// promises: a growable writer reserves what the reader's size hint announces, and while
// the reader has nothing, what was written so far is flushed (see the top of this file).
template <class R, class W, bool ForCopy>
struct CopyBuf {
  R* r;
  W* w;
  std::span<const std::byte> pending_bytes{};  // the reader's buffered bytes being written
  uint64_t amt = 0;
  bool started = false;  // ForCopy: the size hint was reserved
  bool eof = false;
  bool need_flush = false;  // ForCopy: written since the last flush
  ChildOp<fill_buf_op_t<R>> fill{};
  ChildOp<write_op_t<W>> write{};
  ChildOp<flush_op_t<W>> flush{};

  Poll<io::Result<uint64_t>> poll(task::Context& cx) {
    if (ForCopy && !started) reserve_size_hint(*r, *w);
    started = true;
    for (;;) {
      if (!write.live()) {
        if (!eof) {
          auto a = fill.poll_with(cx, [&] { return r->fill_buf(); });
          if (!a) {
            if constexpr (ForCopy) {
              if (need_flush) {
                auto f = flush.poll_with(cx, [&] { return w->flush(); });
                if (f && !*f) return unexpected(f->error());
                need_flush = !f;
              }
            }
            return pending;
          }
          flush.reset();  // (ForCopy's) retried when the reader next waits
          if (!*a) return unexpected(a->error());
          pending_bytes = **a;
          eof = pending_bytes.empty();
        }
        // End of stream: flush the writer.
        if (eof)
          return map_ok(flush.poll_with(cx, [&] { return w->flush(); }), [&] { return amt; });
      }
      auto n = write.poll_with(cx, [&] { return w->write(pending_bytes); });
      if (!n) return pending;
      if (!*n) return unexpected(n->error());
      if (**n == 0) return unexpected(make_error_code(io::Errc::write_zero));
      r->consume(checked_count(**n, pending_bytes.size()));
      amt += **n;
      need_flush = true;
    }
  }
};

// One direction of copy_bidirectional: copy, then shut the writer down. Ready once done
// (an error included); stays ready.
template <class R, class W>
struct Transfer {
  CopyBuffer<R, W> buf;
  bool done = false;
  ChildOp<shutdown_op_t<W>> shutdown{};

  Poll<io::Result<void>> poll(task::Context& cx, R& r, W& w) {
    if (done) return io::Result<void>();
    if (!shutdown.live()) {
      auto c = buf.poll_copy(cx, r, w);
      if (!c || !*c) return c;
    }
    auto s = shutdown.poll_with(cx, [&] { return w.shutdown(); });
    done = s.has_value();
    return s;
  }
};

// Both directions at once; the first error in either ends it.
template <class A, class B>
struct CopyBidirectional {
  A* a;
  B* b;
  Transfer<A, B> ab;
  Transfer<B, A> ba;

  // io::Result<std::pair<uint64_t, uint64_t>>, spelled to wait for a use (dependent_t).
  using Output = dependent_t<A, io::Result<std::pair<uint64_t, uint64_t>>>;
  Poll<Output> poll(task::Context& cx) {
    auto x = ab.poll(cx, *a, *b);
    if (x && !*x) return unexpected(x->error());
    auto y = ba.poll(cx, *b, *a);
    if (y && !*y) return unexpected(y->error());
    if (!x || !y) return pending;
    return std::pair<uint64_t, uint64_t>(ab.buf.amount(), ba.buf.amount());
  }
};
template <class A, class B>
using CopyBidirectionalOp = AdaptorOp<CopyBidirectional<A, B>>;

}  // namespace tokio::detail

namespace tokio::io {

// Copies everything r produces into w, then flushes w; returns the byte count.
template <AsyncRead R, AsyncWrite W>
detail::AdaptorOp<detail::Copy<R, W>> copy(R& r, W& w) {
  return {{&r, &w, detail::CopyBuffer<R, W>(kDefaultBufSize)}};
}
// The same from a reader with a buffer of its own: its bytes are written from that buffer
// (as copy_buf, with copy's flush while the reader waits), not copied through another.
template <AsyncBufRead R, AsyncWrite W>
detail::AdaptorOp<detail::CopyBuf<R, W, true>> copy(R& r, W& w) {
  return {{&r, &w}};
}

// Like copy, but writes straight from r's own buffer (no second buffer).
template <AsyncBufRead R, AsyncWrite W>
detail::AdaptorOp<detail::CopyBuf<R, W, false>> copy_buf(R& r, W& w) {
  return {{&r, &w}};
}

// Copies a->b and b->a at once (a proxy); see the top of this file.
template <class A, class B>
  requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
      detail::CopyBidirectionalOp<A, B> copy_bidirectional(A& a, B& b) {
    using AB = detail::CopyBuffer<A, B>;
    using BA = detail::CopyBuffer<B, A>;
    return {{&a, &b, {AB(kDefaultBufSize)}, {BA(kDefaultBufSize)}}};
  }
// The same with chosen buffer sizes for each direction (must be > 0).
template <class A, class B>
  requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
      detail::CopyBidirectionalOp<A, B> copy_bidirectional_with_sizes(A& a, B& b,
                                                                      std::size_t a_to_b,
                                                                      std::size_t b_to_a) {
    if (a_to_b == 0 || b_to_a == 0) {
      throw std::invalid_argument("io::copy_bidirectional_with_sizes: buffer sizes must be > 0");
    }
    return {{&a, &b, {detail::CopyBuffer<A, B>(a_to_b)}, {detail::CopyBuffer<B, A>(b_to_a)}}};
  }

}  // namespace tokio::io
