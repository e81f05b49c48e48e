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
#include <memory>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_reader.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/write_ext.hpp"

namespace tokio::io {

template <class W>
class BufWriter {
  using Inner = std::remove_reference_t<W>;

 public:
  static_assert(AsyncWrite<Inner>, "io::BufWriter<W> needs an io::AsyncWrite W");

  explicit BufWriter(W inner, std::size_t capacity = kDefaultBufSize)
      : inner_(std::forward<W>(inner)), cap_(capacity) {
    if (capacity == 0) throw std::invalid_argument("io::BufWriter capacity must be > 0");
    buf_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
  }
  BufWriter(BufWriter&&) noexcept = default;
  BufWriter& operator=(BufWriter&&) noexcept = default;

  Inner& get_ref() noexcept { return inner_; }
  const Inner& get_ref() const noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  // The inner writer; whatever is still buffered is lost (flush first).
  Inner into_inner() && { return std::move(inner_); }
  // The bytes buffered and not written to the inner writer yet.
  std::span<const std::byte> buffer() const noexcept { return {buf_.get() + head_, len_ - head_}; }
  std::size_t capacity() const noexcept { return cap_; }

  class WriteOp;
  class WriteVectoredOp;
  template <bool Shutdown>
  class FlushOp;

  WriteOp write(std::span<const std::byte> buf) noexcept { return WriteOp(*this, buf); }
  WriteVectoredOp write_vectored(std::span<const IoSlice> bufs) noexcept {
    return WriteVectoredOp(*this, bufs);
  }
  // Writes the buffer out, then flushes the inner writer.
  FlushOp<false> flush() noexcept { return FlushOp<false>(*this); }
  // Writes the buffer out, then shuts the inner writer down.
  FlushOp<true> shutdown() noexcept { return FlushOp<true>(*this); }

  // Reads pass through to the inner stream.
  auto read(std::span<std::byte> buf) requires AsyncRead<Inner> { return inner_.read(buf); }
  auto fill_buf() requires AsyncBufRead<Inner> { return inner_.fill_buf(); }
  void consume(std::size_t n) requires AsyncBufRead<Inner> { inner_.consume(n); }

 private:
  using InnerWrite = detail::ChildOp<detail::write_op_t<Inner>>;

  std::size_t buffered() const noexcept { return len_ - head_; }
  // Appends to the buffer (the caller checked it fits), compacting it first if needed.
  void append(std::span<const std::byte> src) noexcept {
    if (src.empty()) return;
    if (len_ + src.size() > cap_) {
      std::memmove(buf_.get(), buf_.get() + head_, buffered());
      len_ -= head_;
      head_ = 0;
    }
    std::memcpy(buf_.get() + len_, src.data(), src.size());
    len_ += src.size();
  }

  // Writes the whole buffer to the inner writer through op. True when done (err set on
  // failure). head_ advances after every inner write, so a cancelled or failed flush
  // never writes a byte twice.
  bool poll_flush_buf(task::Context& cx, InnerWrite& op, std::error_code& err) {
    while (head_ < len_) {
      if (!op.live()) {
        op.start([&] { return inner_.write(std::span<const std::byte>(buf_.get() + head_, len_ - head_)); });
      }
      if (!op.poll(cx)) return false;
      Result<std::size_t> n = op.take();
      if (!n) {
        err = n.error();
        return true;
      }
      if (*n == 0) {
        err = Errc::write_zero;
        return true;
      }
      head_ += detail::checked_count(*n, len_ - head_);
    }
    head_ = len_ = 0;
    return true;
  }

  W inner_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_;
  std::size_t head_ = 0;  // buf_[head_, len_) is buffered, not yet written
  std::size_t len_ = 0;

 public:
  class WriteOp : public detail::CompositeLeaf<WriteOp> {
   public:
    WriteOp(BufWriter& bw, std::span<const std::byte> buf) noexcept : bw_(&bw), buf_(buf) {}

    bool step(task::Context& cx) {
      BufWriter& b = *bw_;
      if (!direct_) {
        if (b.buffered() + buf_.size() > b.cap_) {
          if (!b.poll_flush_buf(cx, op_, err_)) return false;
          if (err_) return true;
        }
        if (buf_.size() < b.cap_) {
          b.append(buf_);
          n_ = buf_.size();
          return true;
        }
        direct_ = true;  // the buffer is empty now and buf would fill it: write through
      }
      if (!op_.live()) op_.start([&] { return b.inner_.write(buf_); });
      if (!op_.poll(cx)) return false;
      Result<std::size_t> n = op_.take();
      if (!n) err_ = n.error();
      else n_ = detail::checked_count(*n, buf_.size());
      return true;
    }
    Result<std::size_t> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      return n_;
    }

   private:
    BufWriter* bw_;
    std::span<const std::byte> buf_;
    std::size_t n_ = 0;
    bool direct_ = false;
    std::error_code err_;
    InnerWrite op_;
  };

  // Buffers every slice that fits; slices too large for the buffer go to the inner writer
  // (vectored when it supports it, else its first non-empty slice).
  class WriteVectoredOp : public detail::CompositeLeaf<WriteVectoredOp> {
    using DirectOp = decltype(io::write_vectored(std::declval<Inner&>(), std::span<const IoSlice>()));

   public:
    WriteVectoredOp(BufWriter& bw, std::span<const IoSlice> bufs) noexcept : bw_(&bw), bufs_(bufs) {}

    bool step(task::Context& cx) {
      BufWriter& b = *bw_;
      if (!direct_) {
        std::size_t total = 0;
        for (const IoSlice& s : bufs_) total += s.size();
        if (b.buffered() + total > b.cap_) {
          if (!b.poll_flush_buf(cx, flush_op_, err_)) return false;
          if (err_) return true;
        }
        if (total < b.cap_) {
          for (const IoSlice& s : bufs_) b.append(s.bytes());
          n_ = total;
          return true;
        }
        direct_ = true;
      }
      if (!op_.live()) op_.start([&] { return io::write_vectored(b.inner_, bufs_); });
      if (!op_.poll(cx)) return false;
      Result<std::size_t> n = op_.take();
      if (!n) err_ = n.error();
      else n_ = *n;
      return true;
    }
    Result<std::size_t> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      return n_;
    }

   private:
    BufWriter* bw_;
    std::span<const IoSlice> bufs_;
    std::size_t n_ = 0;
    bool direct_ = false;
    std::error_code err_;
    InnerWrite flush_op_;
    detail::ChildOp<DirectOp> op_;
  };

  template <bool Shutdown>
  class FlushOp : public detail::CompositeLeaf<FlushOp<Shutdown>> {
    using Last = std::conditional_t<Shutdown, detail::shutdown_op_t<Inner>, detail::flush_op_t<Inner>>;

   public:
    explicit FlushOp(BufWriter& bw) noexcept : bw_(&bw) {}

    bool step(task::Context& cx) {
      BufWriter& b = *bw_;
      if (!last_.live()) {
        if (!b.poll_flush_buf(cx, op_, err_)) return false;
        if (err_) return true;
        last_.start([&] {
          if constexpr (Shutdown) return b.inner_.shutdown();
          else return b.inner_.flush();
        });
      }
      if (!last_.poll(cx)) return false;
      Result<void> r = last_.take();
      if (!r) err_ = r.error();
      return true;
    }
    Result<void> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      return {};
    }

   private:
    BufWriter* bw_;
    std::error_code err_;
    InnerWrite op_;
    detail::ChildOp<Last> last_;
  };
};

template <class W>
BufWriter(W&&, std::size_t = kDefaultBufSize) -> BufWriter<std::remove_cvref_t<W>>;

}  // namespace tokio::io
