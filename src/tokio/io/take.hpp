#pragma once
// io::take(reader, limit): a reader that ends after `limit` bytes of the inner reader
// (Tokio's AsyncReadExt::take). Buffered readers stay buffered (fill_buf/consume).
//
//   auto body = io::take(conn, content_length);   // borrows conn (an lvalue)
//   auto zeros = io::take(io::repeat(0), 1024);   // owns the repeat (an rvalue)
//
// read is cancel-safe when the inner read is.

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::io {

template <class R>
class Take {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncRead<Inner>, "io::take needs an io::AsyncRead");
  Take(R inner, uint64_t limit) : inner_(std::forward<R>(inner)), limit_(limit) {}

  // Bytes that may still be read.
  uint64_t limit() const noexcept { return limit_; }
  void set_limit(uint64_t limit) noexcept { limit_ = limit; }
  Inner& get_ref() noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  Inner into_inner() && { return std::move(inner_); }

  class ReadOp : public detail::CompositeLeaf<ReadOp> {
   public:
    ReadOp(Take& t, std::span<std::byte> buf) noexcept : t_(&t), buf_(buf) {}
    bool step(task::Context& cx) {
      if (t_->limit_ == 0 || buf_.empty()) return true;
      if (!op_.live()) {
        std::size_t n = t_->limit_ < buf_.size() ? static_cast<std::size_t>(t_->limit_) : buf_.size();
        op_.start([&] { return t_->inner_.read(buf_.first(n)); });
        asked_ = n;
      }
      if (!op_.poll(cx)) return false;
      res_ = op_.take();
      if (res_) t_->limit_ -= detail::checked_count(*res_, asked_);
      return true;
    }
    Result<std::size_t> await_resume() {
      this->check();
      return std::move(res_);
    }

   private:
    Take* t_;
    std::span<std::byte> buf_;
    std::size_t asked_ = 0;
    Result<std::size_t> res_ = std::size_t{0};
    detail::ChildOp<detail::read_op_t<Inner>> op_;
  };

  class FillBufOp : public detail::CompositeLeaf<FillBufOp> {
   public:
    explicit FillBufOp(Take& t) noexcept : t_(&t) {}
    bool step(task::Context& cx) {
      if (t_->limit_ == 0) return true;
      if (!op_.live()) op_.start([&] { return t_->inner_.fill_buf(); });
      if (!op_.poll(cx)) return false;
      res_ = op_.take();
      return true;
    }
    Result<std::span<const std::byte>> await_resume() {
      this->check();
      if (!res_) return std::move(res_);
      std::span<const std::byte> s = *res_;
      if (s.size() > t_->limit_) s = s.first(static_cast<std::size_t>(t_->limit_));
      return s;
    }

   private:
    Take* t_;
    Result<std::span<const std::byte>> res_ = std::span<const std::byte>();
    detail::ChildOp<detail::fill_buf_op_t<Inner>> op_;
  };

  ReadOp read(std::span<std::byte> buf) noexcept { return ReadOp(*this, buf); }
  FillBufOp fill_buf() noexcept requires AsyncBufRead<Inner> { return FillBufOp(*this); }
  void consume(std::size_t n) requires AsyncBufRead<Inner> {
    if (n > limit_) n = static_cast<std::size_t>(limit_);
    inner_.consume(n);
    limit_ -= n;
  }

 private:
  R inner_;
  uint64_t limit_;
};

// Borrows an lvalue reader, owns an rvalue one.
template <class R>
Take<R> take(R&& r, uint64_t limit) {
  return Take<R>(std::forward<R>(r), limit);
}

}  // namespace tokio::io
