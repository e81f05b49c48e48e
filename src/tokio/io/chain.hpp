#pragma once
// io::chain(first, second): reads all of `first`, then all of `second` (Tokio's
// AsyncReadExt::chain). Lvalue readers are borrowed, rvalues owned. If both are buffered
// readers, the chain is one too. read is cancel-safe when both inner reads are.

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"

namespace tokio::io {

template <class A, class B>
class Chain {
  using First = std::remove_reference_t<A>;
  using Second = std::remove_reference_t<B>;

 public:
  static_assert(AsyncRead<First> && AsyncRead<Second>, "io::chain needs two io::AsyncReads");
  Chain(A a, B b) : a_(std::forward<A>(a)), b_(std::forward<B>(b)) {}

  First& first() noexcept { return a_; }
  Second& second() noexcept { return b_; }
  std::pair<First, Second> into_inner() && { return {std::move(a_), std::move(b_)}; }

  class ReadOp : public detail::CompositeLeaf<ReadOp> {
   public:
    ReadOp(Chain& c, std::span<std::byte> buf) noexcept : c_(&c), buf_(buf) {}
    bool step(task::Context& cx) {
      if (!c_->first_done_) {
        if (!a_op_.live()) a_op_.start([&] { return c_->a_.read(buf_); });
        if (!a_op_.poll(cx)) return false;
        res_ = a_op_.take();
        if (!res_ || *res_ > 0 || buf_.empty()) return true;
        c_->first_done_ = true;  // the first reader ended: go on with the second
      }
      if (!b_op_.live()) b_op_.start([&] { return c_->b_.read(buf_); });
      if (!b_op_.poll(cx)) return false;
      res_ = b_op_.take();
      return true;
    }
    Result<std::size_t> await_resume() {
      this->check();
      return std::move(res_);
    }

   private:
    Chain* c_;
    std::span<std::byte> buf_;
    Result<std::size_t> res_ = std::size_t{0};
    detail::ChildOp<detail::read_op_t<First>> a_op_;
    detail::ChildOp<detail::read_op_t<Second>> b_op_;
  };

  class FillBufOp : public detail::CompositeLeaf<FillBufOp> {
   public:
    explicit FillBufOp(Chain& c) noexcept : c_(&c) {}
    bool step(task::Context& cx) {
      if (!c_->first_done_) {
        if (!a_op_.live()) a_op_.start([&] { return c_->a_.fill_buf(); });
        if (!a_op_.poll(cx)) return false;
        res_ = a_op_.take();
        if (!res_ || !res_->empty()) return true;
        c_->first_done_ = true;
      }
      if (!b_op_.live()) b_op_.start([&] { return c_->b_.fill_buf(); });
      if (!b_op_.poll(cx)) return false;
      res_ = b_op_.take();
      return true;
    }
    Result<std::span<const std::byte>> await_resume() {
      this->check();
      return std::move(res_);
    }

   private:
    Chain* c_;
    Result<std::span<const std::byte>> res_ = std::span<const std::byte>();
    detail::ChildOp<detail::fill_buf_op_t<First>> a_op_;
    detail::ChildOp<detail::fill_buf_op_t<Second>> b_op_;
  };

  ReadOp read(std::span<std::byte> buf) noexcept { return ReadOp(*this, buf); }
  FillBufOp fill_buf() noexcept requires(AsyncBufRead<First> && AsyncBufRead<Second>) {
    return FillBufOp(*this);
  }
  void consume(std::size_t n) requires(AsyncBufRead<First> && AsyncBufRead<Second>) {
    if (!first_done_) a_.consume(n);
    else b_.consume(n);
  }

 private:
  A a_;
  B b_;
  bool first_done_ = false;
};

template <class A, class B>
Chain<A, B> chain(A&& a, B&& b) {
  return Chain<A, B>(std::forward<A>(a), std::forward<B>(b));
}

}  // namespace tokio::io
