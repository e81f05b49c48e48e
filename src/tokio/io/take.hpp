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
#include "tokio/io/ext.hpp"

namespace tokio::io {

template <class R>
class Take : public Ext<Take<R>> {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncRead<Inner>, "io::take needs an io::AsyncRead");
  Take(R inner, uint64_t limit) : inner_(std::forward<R>(inner)), limit_(limit) {}

  // Bytes that may still be read.
  uint64_t limit() const noexcept { return limit_; }
  // The inner reader's hint bounded by the limit (at most `limit` for any reader).
  SizeHint size_hint() const noexcept {
    SizeHint h;
    if constexpr (HasSizeHint<Inner>) h = inner_.size_hint();
    else h.upper = limit_;
    h.lower = h.lower < limit_ ? h.lower : limit_;
    h.upper = h.upper && *h.upper < limit_ ? *h.upper : limit_;
    return h;
  }
  void set_limit(uint64_t limit) noexcept { limit_ = limit; }
  Inner& get_ref() noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  Inner into_inner() && { return std::move(inner_); }

 private:
  struct ReadStep {
    Take* t;
    std::span<std::byte> buf;
    std::size_t asked = 0;
    detail::ChildOp<detail::read_op_t<Inner>> op{};

    detail::Poll<Result<std::size_t>> poll(task::Context& cx) {
      if (t->limit_ == 0 || buf.empty()) return std::size_t{0};
      auto n = op.poll_with(cx, [&] {
        asked = t->limit_ < buf.size() ? static_cast<std::size_t>(t->limit_) : buf.size();
        return t->inner_.read(buf.first(asked));
      });
      if (n && *n) t->limit_ -= detail::checked_count(**n, asked);
      return n;
    }
  };
  struct FillBufStep {
    Take* t;
    detail::ChildOp<detail::fill_buf_op_t<Inner>> op{};

    detail::Poll<Result<std::span<const std::byte>>> poll(task::Context& cx) {
      if (t->limit_ == 0) return std::span<const std::byte>();
      auto r = op.poll_with(cx, [&] { return t->inner_.fill_buf(); });
      if (r && *r && (*r)->size() > t->limit_)
        **r = (*r)->first(static_cast<std::size_t>(t->limit_));
      return r;
    }
  };

 public:
  using ReadOp = detail::AdaptorOp<ReadStep>;
  using FillBufOp = detail::AdaptorOp<FillBufStep>;

  ReadOp read(io::MutableBuffer buf) noexcept { return {{this, buf}}; }
  FillBufOp fill_buf() noexcept requires AsyncBufRead<Inner> { return {{this}}; }
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
