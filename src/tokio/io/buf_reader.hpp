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
#include <memory>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::io {

inline constexpr std::size_t kDefaultBufSize = 8 * 1024;

template <class R>
class BufReader {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncRead<Inner>, "io::BufReader<R> needs an io::AsyncRead R");

  explicit BufReader(R inner, std::size_t capacity = kDefaultBufSize)
      : inner_(std::forward<R>(inner)), cap_(capacity) {
    if (capacity == 0) throw std::invalid_argument("io::BufReader capacity must be > 0");
    buf_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
  }
  BufReader(BufReader&&) noexcept = default;
  BufReader& operator=(BufReader&&) noexcept = default;

  Inner& get_ref() noexcept { return inner_; }
  const Inner& get_ref() const noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  // The inner reader; whatever was still buffered is lost (see buffer()).
  Inner into_inner() && { return std::move(inner_); }
  // The bytes buffered and not consumed yet.
  std::span<const std::byte> buffer() const noexcept { return {buf_.get() + pos_, filled_ - pos_}; }
  std::size_t capacity() const noexcept { return cap_; }
  // Drops the buffered bytes.
  void discard_buffer() noexcept { pos_ = filled_ = 0; }

  class ReadOp;
  class FillBufOp;

  ReadOp read(std::span<std::byte> buf) noexcept { return ReadOp(*this, buf); }
  FillBufOp fill_buf() noexcept { return FillBufOp(*this); }
  // Marks n buffered bytes as used (clamped to what is buffered).
  void consume(std::size_t n) noexcept {
    pos_ = (n < filled_ - pos_) ? pos_ + n : filled_;
  }

  // Writes pass through to the inner stream.
  auto write(std::span<const std::byte> buf) requires AsyncWrite<Inner> { return inner_.write(buf); }
  auto write_vectored(std::span<const IoSlice> bufs) requires AsyncWriteVectored<Inner> {
    return inner_.write_vectored(bufs);
  }
  auto flush() requires AsyncWrite<Inner> { return inner_.flush(); }
  auto shutdown() requires AsyncWrite<Inner> { return inner_.shutdown(); }

 private:
  using InnerRead = detail::ChildOp<detail::read_op_t<Inner>>;

  // Refills the (empty) buffer through op. True when done; err set on failure.
  bool poll_refill(task::Context& cx, InnerRead& op, std::error_code& err) {
    if (!op.live()) op.start([&] { return inner_.read(std::span<std::byte>(buf_.get(), cap_)); });
    if (!op.poll(cx)) return false;
    Result<std::size_t> n = op.take();
    if (!n) {
      err = n.error();
      return true;
    }
    pos_ = 0;
    filled_ = detail::checked_count(*n, cap_);
    return true;
  }

  R inner_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_;
  std::size_t pos_ = 0;
  std::size_t filled_ = 0;

 public:
  class ReadOp : public detail::CompositeLeaf<ReadOp> {
   public:
    ReadOp(BufReader& br, std::span<std::byte> buf) noexcept : br_(&br), buf_(buf) {}

    bool step(task::Context& cx) {
      BufReader& b = *br_;
      if (buf_.empty()) return true;
      if (b.pos_ == b.filled_) {
        if (buf_.size() >= b.cap_) {  // large read, empty buffer: skip the copy
          if (!op_.live()) op_.start([&] { return b.inner_.read(buf_); });
          if (!op_.poll(cx)) return false;
          Result<std::size_t> n = op_.take();
          if (!n) err_ = n.error();
          else n_ = detail::checked_count(*n, buf_.size());
          return true;
        }
        if (!b.poll_refill(cx, op_, err_)) return false;
        if (err_) return true;
      }
      std::size_t avail = b.filled_ - b.pos_;
      n_ = avail < buf_.size() ? avail : buf_.size();
      if (n_) std::memcpy(buf_.data(), b.buf_.get() + b.pos_, n_);
      b.pos_ += n_;
      return true;
    }
    Result<std::size_t> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      return n_;
    }

   private:
    BufReader* br_;
    std::span<std::byte> buf_;
    std::size_t n_ = 0;
    std::error_code err_;
    InnerRead op_;
  };

  class FillBufOp : public detail::CompositeLeaf<FillBufOp> {
   public:
    explicit FillBufOp(BufReader& br) noexcept : br_(&br) {}

    bool step(task::Context& cx) {
      BufReader& b = *br_;
      if (b.pos_ == b.filled_) return b.poll_refill(cx, op_, err_);
      return true;
    }
    Result<std::span<const std::byte>> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      return br_->buffer();
    }

   private:
    BufReader* br_;
    std::error_code err_;
    InnerRead op_;
  };
};

template <class R>
BufReader(R&&, std::size_t = kDefaultBufSize) -> BufReader<std::remove_cvref_t<R>>;

}  // namespace tokio::io
