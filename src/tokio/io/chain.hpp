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
#include "tokio/io/ext.hpp"

namespace tokio::io {

template <class A, class B>
class Chain : public Ext<Chain<A, B>> {
  using First = std::remove_reference_t<A>;
  using Second = std::remove_reference_t<B>;

 public:
  static_assert(AsyncRead<First> && AsyncRead<Second>, "io::chain needs two io::AsyncReads");
  Chain(A a, B b) : a_(std::forward<A>(a)), b_(std::forward<B>(b)) {}

  // The sum of the two readers' hints (of the second alone once the first ended).
  SizeHint size_hint() const noexcept requires HasSizeHint<First> && HasSizeHint<Second> {
    SizeHint a = first_done_ ? SizeHint{0, 0} : a_.size_hint(), b = b_.size_hint();
    SizeHint h;
    h.lower = a.lower > UINT64_MAX - b.lower ? UINT64_MAX : a.lower + b.lower;
    if (a.upper && b.upper && *a.upper <= UINT64_MAX - *b.upper) h.upper = *a.upper + *b.upper;
    return h;
  }
  First& first() noexcept { return a_; }
  Second& second() noexcept { return b_; }
  std::pair<First, Second> into_inner() && { return {std::move(a_), std::move(b_)}; }

 private:
  // Polls an operation on the first reader until ended(result) says it reached its end,
  // then the same operation on the second.
  template <class AOp, class BOp, class MakeA, class MakeB, class Ended>
  auto poll_chain(task::Context& cx, AOp& a, BOp& b, MakeA&& ma, MakeB&& mb, Ended&& ended) {
    if (!first_done_) {
      auto r = a.poll_with(cx, ma);
      if (!r || !ended(*r)) return r;
      first_done_ = true;  // the first reader ended: go on with the second
    }
    return b.poll_with(cx, mb);
  }
  struct ReadStep {
    Chain* c;
    std::span<std::byte> buf;
    detail::ChildOp<detail::read_op_t<First>> a{};
    detail::ChildOp<detail::read_op_t<Second>> b{};

    detail::Poll<Result<std::size_t>> poll(task::Context& cx) {
      return c->poll_chain(
          cx, a, b, [&] { return c->a_.read(buf); }, [&] { return c->b_.read(buf); },
          [&](const Result<std::size_t>& r) { return r && *r == 0 && !buf.empty(); });
    }
  };
  struct FillBufStep {
    Chain* c;
    detail::ChildOp<detail::fill_buf_op_t<First>> a{};
    detail::ChildOp<detail::fill_buf_op_t<Second>> b{};

    detail::Poll<Result<std::span<const std::byte>>> poll(task::Context& cx) {
      return c->poll_chain(
          cx, a, b, [&] { return c->a_.fill_buf(); }, [&] { return c->b_.fill_buf(); },
          [](const Result<std::span<const std::byte>>& r) { return r && r->empty(); });
    }
  };

 public:
  using ReadOp = detail::AdaptorOp<ReadStep>;
  using FillBufOp = detail::AdaptorOp<FillBufStep>;

  ReadOp read(io::MutableBuffer buf) noexcept { return {{this, buf}}; }
  FillBufOp fill_buf() noexcept requires(AsyncBufRead<First>&& AsyncBufRead<Second>) {
    return {{this}};
  }
  void consume(std::size_t n) requires(AsyncBufRead<First>&& AsyncBufRead<Second>) {
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
