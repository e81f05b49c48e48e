#pragma once
// io::copy, io::copy_buf, io::copy_bidirectional: move bytes from readers to writers.
//
//   auto n = co_await io::copy(reader, writer);              // Result<uint64_t>
//   auto n = co_await io::copy_buf(buf_reader, writer);      // uses the reader's buffer
//   auto r = co_await io::copy_bidirectional(client, server);// Result<pair<a_to_b, b_to_a>>
//
// copy reads into an 8 KiB buffer and writes it out until the reader reports end of
// stream, then flushes the writer. As in Tokio it overlaps the two sides: while a write
// is pending it tops the buffer up with further reads, and while a read is pending it
// flushes what was written (so a BufWriter in front of a peer that answers only after
// seeing the data cannot deadlock the copy).
//
// copy_bidirectional runs both directions concurrently inside the calling task. When one
// side reaches end of stream, the other side's write half is shut down (a TCP FIN: the
// half-close is forwarded) and the other direction keeps going; it completes when both
// directions have finished, with the byte counts of each. The first error in either
// direction ends it (the other direction is dropped, as in Tokio).
//
// A writer that accepts 0 bytes fails the copy with Errc::write_zero.
// Cancel safety: none of them is cancel-safe: data read but not yet written is lost.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <span>
#include <system_error>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_reader.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::detail {

// The state of one copy direction: buffer, cursor and the in-flight inner operations.
// The buffer is allocated at the first poll (the owning leaf may be copied before that).
template <class R, class W>
class CopyBuffer {
 public:
  explicit CopyBuffer(std::size_t size) noexcept : size_(size) {}
  CopyBuffer(const CopyBuffer& o) noexcept : size_(o.size_) {}

  // Copies until the reader ends; true when finished (err set on failure).
  bool poll_copy(task::Context& cx, R& r, W& w, std::error_code& err) {
    if (!buf_) buf_ = std::make_unique_for_overwrite<std::byte[]>(size_);
    for (;;) {
      // Need data: start a read (or keep polling the top-up read started while writing).
      if (pos_ == cap_ && !read_done_) {
        if (!read_.live()) {
          pos_ = cap_ = 0;
          start_read(r);
        }
        if (!read_.poll(cx)) {
          if (need_flush_) {
            // The reader has nothing for now: push what was written so far through the
            // writer, in case the reader is waiting for it.
            if (!flush_.live()) flush_.start([&] { return w.flush(); });
            if (!flush_.poll(cx)) return false;
            io::Result<void> f = flush_.take();
            if (!f) {
              err = f.error();
              return true;
            }
            need_flush_ = false;
          }
          return false;
        }
        flush_.reset();  // the read made progress; the flush is retried when needed
        if (!finish_read(err)) return true;
      }

      while (pos_ < cap_) {
        if (!write_.live()) {
          write_.start([&] { return w.write(std::span<const std::byte>(buf_.get() + pos_, cap_ - pos_)); });
        }
        if (!write_.poll(cx)) {
          // The writer is busy: top the buffer up meanwhile, for a larger next write. Keep
          // reading until the reader is pending (its waker is then registered, so new data
          // wakes us even while the writer stays blocked) or the buffer is full.
          while (!read_done_ && cap_ < size_) {
            if (!read_.live()) start_read(r);
            if (!read_.poll(cx)) break;
            if (!finish_read(err)) return true;
          }
          return false;
        }
        io::Result<std::size_t> n = write_.take();
        if (!n) {
          err = n.error();
          return true;
        }
        if (*n == 0) {
          err = io::Errc::write_zero;
          return true;
        }
        pos_ += checked_count(*n, cap_ - pos_);
        amt_ += *n;
        need_flush_ = true;
      }

      if (pos_ == cap_ && read_done_) {
        if (!flush_.live()) flush_.start([&] { return w.flush(); });
        if (!flush_.poll(cx)) return false;
        io::Result<void> f = flush_.take();
        if (!f) err = f.error();
        return true;
      }
    }
  }

  uint64_t amount() const noexcept { return amt_; }

 private:
  void start_read(R& r) {
    read_.start([&] { return r.read(std::span<std::byte>(buf_.get() + cap_, size_ - cap_)); });
  }
  // Accounts a finished read; false (err set) on failure.
  bool finish_read(std::error_code& err) {
    io::Result<std::size_t> n = read_.take();
    if (!n) {
      err = n.error();
      return false;
    }
    if (*n == 0) read_done_ = true;
    else cap_ += checked_count(*n, size_ - cap_);
    return true;
  }

  std::size_t size_;
  std::unique_ptr<std::byte[]> buf_;
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
class CopyOp : public CompositeLeaf<CopyOp<R, W>> {
 public:
  CopyOp(R& r, W& w, std::size_t size) noexcept : r_(&r), w_(&w), buf_(size) {}
  bool step(task::Context& cx) { return buf_.poll_copy(cx, *r_, *w_, err_); }
  io::Result<uint64_t> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return buf_.amount();
  }

 private:
  R* r_;
  W* w_;
  CopyBuffer<R, W> buf_;
  std::error_code err_;
};

template <class R, class W>
class CopyBufOp : public CompositeLeaf<CopyBufOp<R, W>> {
 public:
  CopyBufOp(R& r, W& w) noexcept : r_(&r), w_(&w) {}

  bool step(task::Context& cx) {
    for (;;) {
      if (flushing_) {
        if (!flush_.live()) flush_.start([&] { return w_->flush(); });
        if (!flush_.poll(cx)) return false;
        io::Result<void> f = flush_.take();
        if (!f) err_ = f.error();
        return true;
      }
      if (!write_.live()) {
        if (!fill_.live()) fill_.start([&] { return r_->fill_buf(); });
        if (!fill_.poll(cx)) return false;
        io::Result<std::span<const std::byte>> a = fill_.take();
        if (!a) {
          err_ = a.error();
          return true;
        }
        if (a->empty()) {
          flushing_ = true;
          continue;
        }
        pending_ = *a;
        write_.start([&] { return w_->write(pending_); });
      }
      if (!write_.poll(cx)) return false;
      io::Result<std::size_t> n = write_.take();
      if (!n) {
        err_ = n.error();
        return true;
      }
      if (*n == 0) {
        err_ = io::Errc::write_zero;
        return true;
      }
      r_->consume(checked_count(*n, pending_.size()));
      amt_ += *n;
    }
  }
  io::Result<uint64_t> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return amt_;
  }

 private:
  R* r_;
  W* w_;
  std::span<const std::byte> pending_;  // the reader's buffered bytes being written
  uint64_t amt_ = 0;
  bool flushing_ = false;
  std::error_code err_;
  ChildOp<fill_buf_op_t<R>> fill_;
  ChildOp<write_op_t<W>> write_;
  ChildOp<flush_op_t<W>> flush_;
};

// One direction of copy_bidirectional: copy, then shut the writer down.
template <class R, class W>
class Transfer {
 public:
  explicit Transfer(std::size_t size) noexcept : buf_(size) {}
  Transfer(const Transfer& o) noexcept : buf_(o.buf_) {}

  // True once this direction is done (err set on failure).
  bool poll(task::Context& cx, R& r, W& w, std::error_code& err) {
    if (done_) return true;
    if (!shutting_down_) {
      if (!buf_.poll_copy(cx, r, w, err)) return false;
      if (err) return true;
      shutting_down_ = true;
    }
    if (!shutdown_.live()) shutdown_.start([&] { return w.shutdown(); });
    if (!shutdown_.poll(cx)) return false;
    io::Result<void> s = shutdown_.take();
    if (!s) err = s.error();
    done_ = true;
    return true;
  }
  uint64_t amount() const noexcept { return buf_.amount(); }

 private:
  CopyBuffer<R, W> buf_;
  bool shutting_down_ = false;
  bool done_ = false;
  ChildOp<shutdown_op_t<W>> shutdown_;
};

template <class A, class B>
class CopyBidirectionalOp : public CompositeLeaf<CopyBidirectionalOp<A, B>> {
 public:
  CopyBidirectionalOp(A& a, B& b, std::size_t a_to_b_size, std::size_t b_to_a_size) noexcept
      : a_(&a), b_(&b), ab_(a_to_b_size), ba_(b_to_a_size) {}

  bool step(task::Context& cx) {
    bool ab = ab_.poll(cx, *a_, *b_, err_);
    if (err_) return true;
    bool ba = ba_.poll(cx, *b_, *a_, err_);
    if (err_) return true;
    return ab && ba;
  }
  io::Result<std::pair<uint64_t, uint64_t>> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return std::pair<uint64_t, uint64_t>(ab_.amount(), ba_.amount());
  }

 private:
  A* a_;
  B* b_;
  Transfer<A, B> ab_;
  Transfer<B, A> ba_;
  std::error_code err_;
};

}  // namespace tokio::detail

namespace tokio::io {

// Copies everything r produces into w, then flushes w; returns the byte count.
template <AsyncRead R, AsyncWrite W>
detail::CopyOp<R, W> copy(R& r, W& w) {
  return {r, w, kDefaultBufSize};
}

// Like copy, but writes straight from r's own buffer (no second buffer).
template <AsyncBufRead R, AsyncWrite W>
detail::CopyBufOp<R, W> copy_buf(R& r, W& w) {
  return {r, w};
}

// Copies a->b and b->a at once (a proxy); see the top of this file.
template <class A, class B>
  requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
detail::CopyBidirectionalOp<A, B> copy_bidirectional(A& a, B& b) {
  return {a, b, kDefaultBufSize, kDefaultBufSize};
}
// The same with chosen buffer sizes for each direction (must be > 0).
template <class A, class B>
  requires AsyncRead<A> && AsyncWrite<A> && AsyncRead<B> && AsyncWrite<B>
detail::CopyBidirectionalOp<A, B> copy_bidirectional_with_sizes(A& a, B& b, std::size_t a_to_b,
                                                                std::size_t b_to_a) {
  if (a_to_b == 0 || b_to_a == 0) {
    throw std::invalid_argument("io::copy_bidirectional_with_sizes: buffer sizes must be > 0");
  }
  return {a, b, a_to_b, b_to_a};
}

}  // namespace tokio::io
