#pragma once
// Reading helpers over any io::AsyncRead (Tokio's AsyncReadExt as free functions):
//
//   co_await io::read(r, buf)               -> Result<size_t>  one read; 0 = EOF
//   co_await io::read_exact(r, buf)         -> Result<size_t>  fills buf or fails
//   co_await io::read_to_end(r, vec)        -> Result<size_t>  appends until EOF
//   co_await io::read_to_string(r, str)     -> Result<size_t>  same, checked UTF-8
//   co_await io::read_buf(r, readbuf / vec) -> Result<size_t>  one read into spare room
//
// Cancel safety (what a select/abort/timeout that destroys the await leaves behind):
//   read, read_buf        cancel-safe: nothing was read unless the await completed.
//   read_exact            NOT cancel-safe: bytes already read into buf are not reported.
//   read_to_end           NOT cancel-safe in the count it returns, but loses no data: the
//                         bytes read so far stay appended to the container.
//   read_to_string        NOT cancel-safe: as read_to_end, and the string may then end in
//                         the middle of a UTF-8 sequence (it was not validated yet).
// The integer readers live in read_int.hpp.
//
// Every operation is a leaf (or drives the reader's own leaf in place): no allocation per
// call when the reader's read is a leaf.

#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/detail/utf8.hpp"

namespace tokio::io {

// A growable container of bytes that read_to_end / read_buf can append to:
// std::vector<std::byte>, std::vector<char>, std::vector<unsigned char>, std::string...
template <class C>
concept ByteContainer = requires(C& c, std::size_t n) {
  { c.data() };
  { c.size() } -> std::convertible_to<std::size_t>;
  { c.capacity() } -> std::convertible_to<std::size_t>;
  c.resize(n);
  c.reserve(n);
  requires sizeof(*c.data()) == 1;
};

// A caller-provided buffer with a fill cursor (Tokio's ReadBuf): read_buf appends to the
// unfilled part and advances the cursor.
class ReadBuf {
 public:
  explicit ReadBuf(std::span<std::byte> storage) noexcept : buf_(storage) {}
  explicit ReadBuf(std::span<char> storage) noexcept : buf_(as_writable_bytes(storage)) {}

  std::size_t capacity() const noexcept { return buf_.size(); }
  std::size_t remaining() const noexcept { return buf_.size() - filled_; }
  std::span<std::byte> filled() const noexcept { return buf_.first(filled_); }
  std::span<std::byte> unfilled() const noexcept { return buf_.subspan(filled_); }
  // Marks n more bytes of unfilled() as filled. Throws std::out_of_range past capacity.
  void advance(std::size_t n) {
    if (n > remaining()) throw std::out_of_range("io::ReadBuf::advance past the end of the buffer");
    filled_ += n;
  }
  void set_filled(std::size_t n) {
    if (n > capacity()) throw std::out_of_range("io::ReadBuf::set_filled past the end of the buffer");
    filled_ = n;
  }
  void clear() noexcept { filled_ = 0; }
  // Appends bytes; throws std::out_of_range when they do not fit.
  void put(std::span<const std::byte> src) {
    if (src.size() > remaining()) throw std::out_of_range("io::ReadBuf::put: not enough room");
    if (!src.empty()) std::memcpy(buf_.data() + filled_, src.data(), src.size());
    filled_ += src.size();
  }

 private:
  std::span<std::byte> buf_;
  std::size_t filled_ = 0;
};

}  // namespace tokio::io

namespace tokio::detail {

[[noreturn]] void throw_overlong_read();

// A reader that reports more bytes than the buffer it was given is broken; carrying on
// would read past the buffer. The exception surfaces from the await.
inline std::size_t checked_count(std::size_t n, std::size_t asked) {
  if (TOKIO_UNLIKELY(n > asked)) throw_overlong_read();
  return n;
}

template <class R>
class ReadExactOp : public CompositeLeaf<ReadExactOp<R>> {
 public:
  ReadExactOp(R& r, std::span<std::byte> buf) noexcept : r_(&r), buf_(buf) {}

  bool step(task::Context& cx) {
    while (filled_ < buf_.size()) {
      if (!op_.live()) op_.start([&] { return r_->read(buf_.subspan(filled_)); });
      if (!op_.poll(cx)) return false;
      io::Result<std::size_t> n = op_.take();
      if (!n) {
        err_ = n.error();
        return true;
      }
      if (*n == 0) {
        err_ = io::Errc::unexpected_eof;
        return true;
      }
      filled_ += checked_count(*n, buf_.size() - filled_);
    }
    return true;
  }
  io::Result<std::size_t> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return filled_;
  }

 private:
  R* r_;
  std::span<std::byte> buf_;
  std::size_t filled_ = 0;
  std::error_code err_;
  ChildOp<read_op_t<R>> op_;
};

// read_to_end / read_to_string. While the operation runs the container is sized to its
// capacity (so the spare room is only zero-filled once per growth) and valid_ counts the
// real bytes; completion, failure and cancellation all shrink it back to valid_.
template <class R, class C, bool Utf8>
class ReadToEndOp : public CompositeLeaf<ReadToEndOp<R, C, Utf8>> {
 public:
  ReadToEndOp(R& r, C& c) noexcept : r_(&r), c_(&c) {}
  ReadToEndOp(const ReadToEndOp& o) noexcept
      : CompositeLeaf<ReadToEndOp>(o), r_(o.r_), c_(o.c_) {}
  ~ReadToEndOp() {
    op_.reset();  // no read may still target the container
    if (started_ && !finished_) c_->resize(valid_);
  }

  bool step(task::Context& cx) {
    if (!started_) {
      started_ = true;
      start_ = valid_ = c_->size();
    }
    for (;;) {
      if (!op_.live()) {
        if (valid_ == c_->capacity()) {
          std::size_t cap = c_->capacity();
          c_->reserve(cap < 32 ? 32 : cap * 2);
        }
        if (c_->size() != c_->capacity()) c_->resize(c_->capacity());
        op_.start([&] {
          auto* p = reinterpret_cast<std::byte*>(c_->data()) + valid_;
          return r_->read(std::span<std::byte>(p, c_->size() - valid_));
        });
      }
      if (!op_.poll(cx)) return false;
      io::Result<std::size_t> n = op_.take();
      if (!n) {
        err_ = n.error();
        return finish();
      }
      if (*n == 0) return finish();
      valid_ += checked_count(*n, c_->size() - valid_);
    }
  }

  io::Result<std::size_t> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return valid_ - start_;
  }

 private:
  bool finish() {
    finished_ = true;
    if constexpr (Utf8) {
      // Like Tokio's read_to_string: on any failure the string is left as it was.
      const auto* p = reinterpret_cast<const unsigned char*>(c_->data()) + start_;
      if (!err_ && !utf8_valid(p, valid_ - start_)) {
        err_ = std::make_error_code(std::errc::illegal_byte_sequence);
      }
      if (err_) valid_ = start_;
    }
    c_->resize(valid_);
    return true;
  }

  R* r_;
  C* c_;
  std::size_t start_ = 0;
  std::size_t valid_ = 0;
  bool started_ = false;
  bool finished_ = false;
  std::error_code err_;
  ChildOp<read_op_t<R>> op_;
};

// One read into a ReadBuf's unfilled part.
template <class R>
class ReadIntoBufOp : public CompositeLeaf<ReadIntoBufOp<R>> {
 public:
  ReadIntoBufOp(R& r, io::ReadBuf& b) noexcept : r_(&r), b_(&b) {}
  bool step(task::Context& cx) {
    if (b_->remaining() == 0) return true;
    if (!op_.live()) op_.start([&] { return r_->read(b_->unfilled()); });
    if (!op_.poll(cx)) return false;
    res_ = op_.take();
    if (res_) b_->advance(checked_count(*res_, b_->remaining()));
    return true;
  }
  io::Result<std::size_t> await_resume() {
    this->check();
    return std::move(res_);
  }

 private:
  R* r_;
  io::ReadBuf* b_;
  io::Result<std::size_t> res_ = std::size_t{0};
  ChildOp<read_op_t<R>> op_;
};

// One read appended to a container's spare room (at most kReadBufWindow bytes per call:
// std containers zero-fill what they grow into).
inline constexpr std::size_t kReadBufWindow = 64 * 1024;

template <class R, class C>
class ReadIntoContainerOp : public CompositeLeaf<ReadIntoContainerOp<R, C>> {
 public:
  ReadIntoContainerOp(R& r, C& c) noexcept : r_(&r), c_(&c) {}
  ReadIntoContainerOp(const ReadIntoContainerOp& o) noexcept
      : CompositeLeaf<ReadIntoContainerOp>(o), r_(o.r_), c_(o.c_) {}
  ~ReadIntoContainerOp() {
    op_.reset();
    if (grown_) c_->resize(base_);
  }

  bool step(task::Context& cx) {
    if (!op_.live()) {
      base_ = c_->size();
      std::size_t spare = c_->capacity() - base_;
      if (spare < 64) {
        c_->reserve(base_ + (base_ < 64 ? 64 : base_));
        spare = c_->capacity() - base_;
      }
      c_->resize(base_ + (spare < kReadBufWindow ? spare : kReadBufWindow));
      grown_ = true;
      op_.start([&] {
        auto* p = reinterpret_cast<std::byte*>(c_->data()) + base_;
        return r_->read(std::span<std::byte>(p, c_->size() - base_));
      });
    }
    if (!op_.poll(cx)) return false;
    res_ = op_.take();
    std::size_t n = res_ ? checked_count(*res_, c_->size() - base_) : 0;
    grown_ = false;
    c_->resize(base_ + n);
    return true;
  }
  io::Result<std::size_t> await_resume() {
    this->check();
    return std::move(res_);
  }

 private:
  R* r_;
  C* c_;
  std::size_t base_ = 0;
  bool grown_ = false;
  io::Result<std::size_t> res_ = std::size_t{0};
  ChildOp<read_op_t<R>> op_;
};

}  // namespace tokio::detail

namespace tokio::io {

// One read into buf: the bytes read, 0 at end of stream (or for an empty buf).
// Cancel-safe.
template <AsyncRead R>
auto read(R& r, std::span<std::byte> buf) {
  return r.read(buf);
}
template <AsyncRead R>
auto read(R& r, std::span<char> buf) {
  return r.read(as_writable_bytes(buf));
}

// Reads exactly buf.size() bytes. End of stream first fails with Errc::unexpected_eof.
// NOT cancel-safe: bytes already read into buf are not reported on cancellation.
template <AsyncRead R>
detail::ReadExactOp<R> read_exact(R& r, std::span<std::byte> buf) {
  return {r, buf};
}
template <AsyncRead R>
detail::ReadExactOp<R> read_exact(R& r, std::span<char> buf) {
  return {r, as_writable_bytes(buf)};
}

// Reads until end of stream, appending to c; returns how many bytes were appended. On an
// error the bytes read before it stay appended. NOT cancel-safe (the count is lost; the
// data is not: it stays in c).
template <AsyncRead R, ByteContainer C>
detail::ReadToEndOp<R, C, false> read_to_end(R& r, C& c) {
  return {r, c};
}

// read_to_end into a string, then checks that what was appended is UTF-8: if not, fails
// with std::errc::illegal_byte_sequence. On any failure s is left as it was (the bytes
// read are dropped), as in Tokio. NOT cancel-safe (see the top of this file).
template <AsyncRead R>
detail::ReadToEndOp<R, std::string, true> read_to_string(R& r, std::string& s) {
  return {r, s};
}

// One read into the unfilled part of b, advancing its cursor. Cancel-safe.
template <AsyncRead R>
detail::ReadIntoBufOp<R> read_buf(R& r, ReadBuf& b) {
  return {r, b};
}
// One read appended to c's spare capacity (growing it when it has less than 64 bytes
// spare); returns the bytes appended, 0 at end of stream. Cancel-safe.
template <AsyncRead R, ByteContainer C>
detail::ReadIntoContainerOp<R, C> read_buf(R& r, C& c) {
  return {r, c};
}

}  // namespace tokio::io
