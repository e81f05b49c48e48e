#pragma once
// Writing helpers over any io::AsyncWrite (Tokio's AsyncWriteExt as free functions):
//
//   co_await io::write(w, buf)                   -> Result<size_t>  one write (maybe partial)
//   co_await io::write_all(w, buf)               -> Result<void>    the whole buffer
//   co_await io::write_vectored(w, slices)       -> Result<size_t>  one gathering write
//   co_await io::write_all_vectored(w, slices)   -> Result<void>    every slice, in order
//   co_await io::write_buf(w, b)                 -> Result<size_t>  one write from a Buf,
//                                                                   which it advances
//   co_await io::write_all_buf(w, b)             -> Result<void>    all of a Buf
//   co_await io::flush(w) / io::shutdown(w)      -> Result<void>
//
// A writer that accepts 0 bytes of a non-empty buffer fails write_all with
// Errc::write_zero (retrying would spin).
//
// Cancel safety:
//   write, write_vectored   cancel-safe: a destroyed write wrote nothing.
//   write_all,              NOT cancel-safe: a prefix of the data may have been written
//   write_all_vectored      and the caller cannot tell how much.
//   write_buf               cancel-safe: a destroyed write wrote nothing, b is unchanged.
//   write_all_buf           cancel-safe as Tokio's: after a cancel, b has been advanced past
//                           exactly the bytes that were written.
//   flush, shutdown         safe to cancel and retry (the writer's own state records what
//                           was already done).
// The integer writers live in int_io.hpp.

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::io {

// One write; returns how many bytes of buf were accepted (possibly fewer). Cancel-safe.
template <AsyncWrite W>
auto write(W& w, io::ConstBuffer buf) {
  return w.write(buf);
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

// Rust's bytes::Buf as write_buf needs it: the unread bytes (data(), size()) and advance(n)
// past the first n of them. codec::Bytes and codec::BytesMut are Bufs.
template <class B>
concept Buf = requires(B& b, std::size_t n) {
  { std::as_const(b).data() } -> std::convertible_to<const std::byte*>;
  { std::as_const(b).size() } -> std::convertible_to<std::size_t>;
  b.advance(n);
};

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

// Writes buf[done..] until all of buf is written; a writer accepting 0 bytes is
// Errc::write_zero.
template <class W>
Poll<io::Result<void>> poll_write_all(task::Context& cx, W& w, ChildOp<write_op_t<W>>& op,
                                      std::span<const std::byte> buf, std::size_t& done) {
  return poll_all(cx, op, buf, done, io::Errc::write_zero,
                  [&](std::span<const std::byte> b) { return w.write(b); });
}

template <class W>
struct WriteAll {
  W* w;
  std::span<const std::byte> buf;
  std::size_t done = 0;
  ChildOp<write_op_t<W>> op{};

  Poll<io::Result<void>> poll(task::Context& cx) { return poll_write_all(cx, *w, op, buf, done); }
};

template <class W>
using write_vectored_child_t =
    decltype(io::write_vectored(std::declval<W&>(), std::span<const io::IoSlice>()));

inline std::span<const io::IoSlice> as_const_slices(std::span<io::IoSlice> s) noexcept {
  return {s.data(), s.size()};
}

// The slices are consumed as they are written; empty ones are skipped.
template <class W>
struct WriteAllVectored {
  W* w;
  std::span<io::IoSlice> bufs;
  ChildOp<write_vectored_child_t<W>> op{};

  Poll<io::Result<void>> poll(task::Context& cx) {
    for (;;) {
      if (!op.live()) {
        while (!bufs.empty() && bufs.front().empty()) bufs = bufs.subspan(1);
        if (bufs.empty()) return io::Result<void>();
      }
      auto n = op.poll_with(cx, [&] { return io::write_vectored(*w, as_const_slices(bufs)); });
      if (!n) return pending;
      if (!*n) return unexpected(n->error());
      if (**n == 0) return unexpected(make_error_code(io::Errc::write_zero));
      for (std::size_t left = **n; left > 0;) {
        if (bufs.empty()) throw_overlong_read();
        std::size_t k = bufs.front().size() < left ? bufs.front().size() : left;
        bufs.front().advance(k);
        left -= k;
        if (bufs.front().empty()) bufs = bufs.subspan(1);
      }
    }
  }
};

template <class W>
using WriteAllOp = AdaptorOp<WriteAll<W>>;

// write_buf (once = true: one write) and write_all_buf: b is advanced past what each write
// took as it completes, and not touched while a write is in flight (it borrows b's bytes).
template <class W, class B, bool once>
struct WriteFromBuf {
  W* w;
  B* b;
  std::size_t total = 0;
  ChildOp<write_op_t<W>> op{};

  Poll<io::Result<std::conditional_t<once, std::size_t, void>>> poll(task::Context& cx) {
    for (;;) {
      if (!op.live() && b->size() == 0) {
        if constexpr (once) {
          return io::Result<std::size_t>(total);
        } else {
          return io::Result<void>();
        }
      }
      auto n = op.poll_with(cx, [&] {
        return w->write(std::span<const std::byte>(std::as_const(*b).data(), b->size()));
      });
      if (!n) return pending;
      if (!*n) return unexpected(n->error());
      if (**n > b->size()) throw_overlong_read();
      b->advance(**n);
      total += **n;
      if constexpr (once) {
        return io::Result<std::size_t>(total);
      } else {
        if (**n == 0) return unexpected(make_error_code(io::Errc::write_zero));
      }
    }
  }
};

}  // namespace tokio::detail

namespace tokio::io {

// Writes the whole buffer (looping over partial writes). NOT cancel-safe.
template <AsyncWrite W>
detail::WriteAllOp<W> write_all(W& w, io::ConstBuffer buf) {
  return {{&w, buf}};
}

// Writes every byte of every slice, in order, with as few writes as the writer allows.
// The slices are consumed as they are written (like Rust's write_all_vectored): afterwards
// they are all empty; after a failure they describe what was not written. NOT cancel-safe.
template <AsyncWrite W>
detail::AdaptorOp<detail::WriteAllVectored<W>> write_all_vectored(W& w, std::span<IoSlice> bufs) {
  return {{&w, bufs}};
}

// One write from b's bytes; b is advanced past what was written (Tokio's write_buf; an
// empty b returns 0 without writing). Cancel-safe: nothing was written unless it completed.
template <AsyncWrite W, Buf B>
detail::AdaptorOp<detail::WriteFromBuf<W, B, true>> write_buf(W& w, B& b) {
  return {{&w, &b}};
}

// Writes all of b, advancing it as each write completes (Tokio's write_all_buf). Cancel-safe
// in Tokio's sense: after a cancel, b still holds exactly what was not written.
template <AsyncWrite W, Buf B>
detail::AdaptorOp<detail::WriteFromBuf<W, B, false>> write_all_buf(W& w, B& b) {
  return {{&w, &b}};
}

}  // namespace tokio::io
