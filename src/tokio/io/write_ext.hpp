#pragma once
// Writing helpers over any io::AsyncWrite (Tokio's AsyncWriteExt as free functions):
//
//   co_await io::write(w, buf)                   -> Result<size_t>  one write (maybe partial)
//   co_await io::write_all(w, buf)               -> Result<void>    the whole buffer
//   co_await io::write_vectored(w, slices)       -> Result<size_t>  one gathering write
//   co_await io::write_all_vectored(w, slices)   -> Result<void>    every slice, in order
//   co_await io::flush(w) / io::shutdown(w)      -> Result<void>
//
// A writer that accepts 0 bytes of a non-empty buffer fails write_all with
// Errc::write_zero (retrying would spin).
//
// Cancel safety:
//   write, write_vectored   cancel-safe: a destroyed write wrote nothing.
//   write_all,              NOT cancel-safe: a prefix of the data may have been written
//   write_all_vectored      and the caller cannot tell how much.
//   flush, shutdown         safe to cancel and retry (the writer's own state records what
//                           was already done).
// The integer writers live in int_io.hpp.

#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::io {

// One write; returns how many bytes of buf were accepted (possibly fewer). Cancel-safe.
template <AsyncWrite W>
auto write(W& w, std::span<const std::byte> buf) {
  return w.write(buf);
}
template <AsyncWrite W>
auto write(W& w, std::string_view s) {
  return w.write(as_bytes(s));
}

// One gathering write of several buffers. Writers without write_vectored get the first
// non-empty buffer written, as Tokio's default poll_write_vectored does. Cancel-safe.
template <AsyncWrite W>
auto write_vectored(W& w, std::span<const IoSlice> bufs) {
  if constexpr (AsyncWriteVectored<W>) {
    return w.write_vectored(bufs);
  } else {
    for (const IoSlice& b : bufs) {
      if (!b.empty()) return w.write(b.bytes());
    }
    return w.write(std::span<const std::byte>());
  }
}

template <AsyncWrite W>
auto flush(W& w) {
  return w.flush();
}
template <AsyncWrite W>
auto shutdown(W& w) {
  return w.shutdown();
}

}  // namespace tokio::io

namespace tokio::detail {

template <class W>
class WriteAllOp : public CompositeLeaf<WriteAllOp<W>> {
 public:
  WriteAllOp(W& w, std::span<const std::byte> buf) noexcept : w_(&w), buf_(buf) {}

  bool step(task::Context& cx) {
    while (done_ < buf_.size()) {
      if (!op_.live()) op_.start([&] { return w_->write(buf_.subspan(done_)); });
      if (!op_.poll(cx)) return false;
      io::Result<std::size_t> n = op_.take();
      if (!n) {
        err_ = n.error();
        return true;
      }
      if (*n == 0) {
        err_ = io::Errc::write_zero;
        return true;
      }
      done_ += checked_count(*n, buf_.size() - done_);
    }
    return true;
  }
  io::Result<void> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return {};
  }

 private:
  W* w_;
  std::span<const std::byte> buf_;
  std::size_t done_ = 0;
  std::error_code err_;
  ChildOp<write_op_t<W>> op_;
};

template <class W>
class WriteAllVectoredOp : public CompositeLeaf<WriteAllVectoredOp<W>> {
 public:
  WriteAllVectoredOp(W& w, std::span<io::IoSlice> bufs) noexcept : w_(&w), bufs_(bufs) {}

  bool step(task::Context& cx) {
    for (;;) {
      if (!op_.live()) {
        while (!bufs_.empty() && bufs_.front().empty()) bufs_ = bufs_.subspan(1);
        if (bufs_.empty()) return true;
        op_.start([&] { return io::write_vectored(*w_, std::span<const io::IoSlice>(bufs_)); });
      }
      if (!op_.poll(cx)) return false;
      io::Result<std::size_t> n = op_.take();
      if (!n) {
        err_ = n.error();
        return true;
      }
      if (*n == 0) {
        err_ = io::Errc::write_zero;
        return true;
      }
      std::size_t left = *n;
      while (left > 0) {
        if (bufs_.empty()) throw_overlong_read();
        std::size_t k = bufs_.front().size() < left ? bufs_.front().size() : left;
        bufs_.front().advance(k);
        left -= k;
        if (bufs_.front().empty()) bufs_ = bufs_.subspan(1);
      }
    }
  }
  io::Result<void> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return {};
  }

 private:
  W* w_;
  std::span<io::IoSlice> bufs_;
  std::error_code err_;
  ChildOp<decltype(io::write_vectored(std::declval<W&>(), std::span<const io::IoSlice>()))> op_;
};

}  // namespace tokio::detail

namespace tokio::io {

// Writes the whole buffer (looping over partial writes). NOT cancel-safe.
template <AsyncWrite W>
detail::WriteAllOp<W> write_all(W& w, std::span<const std::byte> buf) {
  return {w, buf};
}
template <AsyncWrite W>
detail::WriteAllOp<W> write_all(W& w, std::string_view s) {
  return {w, as_bytes(s)};
}

// Writes every byte of every slice, in order, with as few writes as the writer allows.
// The slices are consumed as they are written (like Rust's write_all_vectored): afterwards
// they are all empty; after a failure they describe what was not written. NOT cancel-safe.
template <AsyncWrite W>
detail::WriteAllVectoredOp<W> write_all_vectored(W& w, std::span<IoSlice> bufs) {
  return {w, bufs};
}

}  // namespace tokio::io
