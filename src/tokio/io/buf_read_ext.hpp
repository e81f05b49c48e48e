#pragma once
// Helpers over any io::AsyncBufRead (BufReader, BufStream, SliceReader...), Tokio's
// AsyncBufReadExt as free functions:
//
//   co_await io::read_until(r, '\n', bytes)  -> Result<size_t>  appends through the delimiter
//   co_await io::read_line(r, str)           -> Result<size_t>  same for '\n', checked UTF-8
//   auto ls = io::lines(r);   co_await ls.next_line()      -> Result<optional<string>>
//   auto sp = io::split(r, ';'); co_await sp.next_segment() -> Result<optional<vector<byte>>>
//
// lines/split borrow an lvalue reader and own an rvalue one: io::lines(BufReader(...)).
//
// Cancel safety:
//   read_until       partially: bytes read before the cancellation stay appended to the
//                    container; calling it again continues the same line.
//   read_line        NOT cancel-safe: as read_until, but the appended bytes were not
//                    UTF-8-checked and the count is lost. Prefer lines().next_line().
//   next_line,       cancel-safe: a partial line is kept inside the Lines / Split object
//   next_segment     and completed by the next call (after an I/O error too, where Tokio
//                    1.24.2's Lines drops it: README, Tokio -> tokio.hpp).
// Invalid UTF-8 fails read_line / next_line with std::errc::illegal_byte_sequence; the
// offending line is dropped (read_line leaves the string as it was, as in Tokio).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/core/detail/utf8.hpp"

namespace tokio::detail {

template <class R>
using FillBufChild = ChildOp<fill_buf_op_t<R>>;

// Moves bytes from r's buffer into append(span) up to and including delim, or to end of
// stream. Ready with whether delim was seen, or the error. Always inlined into its two
// callers: g++ 12 had stopped inlining it into ChunkReader::Next once BufReader's
// fill_buf claim grew the body (callgrind, `io lines 1 3`: 240.6 M -> 236.4 M instructions).
template <class R, class Append>
TOKIO_ALWAYS_INLINE Poll<io::Result<bool>> poll_read_until(task::Context& cx, R& r,
                                                           FillBufChild<R>& op, std::byte delim,
                                                           Append&& append) {
  for (;;) {
    std::span<const std::byte> a;
    if constexpr (requires { requires R::kBufferIsFillBuf; }) {
      // Bytes already buffered (BufReader between refills: the common case in a line
      // loop, hundreds of lines per refill) are what fill_buf would return at once: take
      // them without starting and destroying a fill_buf operation. Not while a refill is
      // in flight. (Only types that say so: BufWriter's buffer() is its write buffer.)
      if (!op.live()) a = r.buffer();
    }
    if (a.empty()) {
      auto avail = op.poll_with(cx, [&] { return r.fill_buf(); });
      if (!avail) return pending;
      if (!*avail) return unexpected(avail->error());
      a = **avail;
      if (a.empty()) return false;  // end of stream
    }
    const void* hit = std::memchr(a.data(), std::to_integer<int>(delim), a.size());
    std::size_t used =
        hit ? static_cast<std::size_t>(static_cast<const std::byte*>(hit) - a.data()) + 1
            : a.size();
    append(a.first(used));
    r.consume(used);
    if (hit) return true;
  }
}

template <class R, class C, bool Line>
struct ReadUntil {
  R* r;
  std::byte delim;
  C* c;
  std::size_t start = SIZE_MAX;  // the container's size before the call (SIZE_MAX: not polled yet)
  FillBufChild<R> op{};

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    if (start == SIZE_MAX) start = c->size();
    auto found = poll_read_until(cx, *r, op, delim,
                                 [&](std::span<const std::byte> s) { append_bytes(*c, s); });
    if (!found) return pending;
    if constexpr (Line) {
      const auto* text = reinterpret_cast<const unsigned char*>(c->data());
      const std::size_t from = utf8_resume_point(text, start);
      if (!utf8_valid(text + from, c->size() - from)) {
        c->resize(start);
        if (*found) return unexpected(invalid_utf8());
      }
    }
    return map_ok(std::move(found), [&] { return c->size() - start; });
  }
};

// What next_line / next_segment yield once the owner's buffer holds a whole chunk (found:
// it ends with the delimiter) or the stream ended; the buffer is left empty. A line loses
// its "\n" or "\r\n" and must be UTF-8 (else std::errc::illegal_byte_sequence: the line
// is dropped); a segment loses its delimiter. nullopt: the stream ended.
io::Result<std::optional<std::string>> take_chunk(std::string& buf, bool found);
io::Result<std::optional<std::vector<std::byte>>> take_chunk(std::vector<std::byte>& buf,
                                                             bool found);

// Lines and Split: a buffered reader cut into chunks at a delimiter byte. A partial chunk
// stays in the object's buffer when next() is cancelled and is completed by the next call.
template <class R, class Buf>
class ChunkReader {
  using Inner = std::remove_reference_t<R>;

  // next(): appends to buf_ through the delimiter, then take_chunk turns what was
  // collected into the result.
  struct Next {
    ChunkReader* o;
    FillBufChild<Inner> op{};

    // (Buf, not o->buf_: the enclosing class is incomplete here, which clang 19 enforces.)
    auto poll(task::Context& cx) -> Poll<decltype(take_chunk(std::declval<Buf&>(), true))> {
      auto found = poll_read_until(cx, o->r_, op, o->delim_, [&](std::span<const std::byte> s) {
        // Usually the whole chunk is met in one piece: one allocation of its size, not a
        // growth step (buf_ is empty after every chunk handed out). Reserved in place:
        // a fresh string move-assigned in made g++ reload its size and capacity as one
        // 16-byte load right after two 8-byte stores, a store-forwarding stall that
        // took 13% of io lines' time (perf).
        if (o->buf_.empty()) o->buf_.reserve(s.size());
        append_bytes(o->buf_, s);
      });
      if (!found) return pending;
      if (!*found) return unexpected(found->error());
      return ready_from([&] { return take_chunk(o->buf_, **found); });
    }
  };

 public:
  static_assert(
      io::AsyncBufRead<Inner>,
      "io::lines / io::split(reader, delim) need an io::AsyncBufRead (wrap it in a BufReader)");
  ChunkReader(R r, std::byte delim) : r_(std::forward<R>(r)), delim_(delim) {}

  Inner& get_ref() noexcept { return r_; }
  Inner& get_mut() noexcept { return r_; }
  Inner into_inner() && { return std::move(r_); }

 protected:
  using NextOp = AdaptorOp<Next>;
  NextOp next() noexcept { return {{this}}; }

 private:
  R r_;
  std::byte delim_;
  Buf buf_;
};

}  // namespace tokio::detail

namespace tokio::io {

// Appends bytes to c until delim (included) or end of stream; returns how many were
// appended (0 = end of stream). On an error the bytes read before it stay appended.
template <AsyncBufRead R, ByteContainer C>
detail::AdaptorOp<detail::ReadUntil<R, C, false>> read_until(R& r, std::byte delim, C& c) {
  return {{&r, delim, &c}};
}
template <AsyncBufRead R, ByteContainer C>
detail::AdaptorOp<detail::ReadUntil<R, C, false>> read_until(R& r, char delim, C& c) {
  return {{&r, static_cast<std::byte>(delim), &c}};
}

// Appends one line (with its '\n', if the stream has one) to s; 0 = end of stream.
template <AsyncBufRead R>
detail::AdaptorOp<detail::ReadUntil<R, std::string, true>> read_line(R& r, std::string& s) {
  return {{&r, std::byte{'\n'}, &s}};
}

// The lines of a buffered reader, without their "\n" or "\r\n".
template <class R>
class Lines : public detail::ChunkReader<R, std::string> {
 public:
  explicit Lines(R r) : detail::ChunkReader<R, std::string>(std::forward<R>(r), std::byte{'\n'}) {}

  using NextLineOp = typename detail::ChunkReader<R, std::string>::NextOp;
  // The next line; nullopt once the stream has ended. Invalid UTF-8 fails with
  // std::errc::illegal_byte_sequence (that line is dropped). Cancel-safe: a partial line
  // stays buffered in this object.
  NextLineOp next_line() noexcept { return this->next(); }
};

// The segments of a buffered reader separated by a delimiter byte (not included).
template <class R>
class Split : public detail::ChunkReader<R, std::vector<std::byte>> {
 public:
  Split(R r, std::byte delim)
      : detail::ChunkReader<R, std::vector<std::byte>>(std::forward<R>(r), delim) {}

  using NextSegmentOp = typename detail::ChunkReader<R, std::vector<std::byte>>::NextOp;
  // The next segment; nullopt once the stream has ended. Cancel-safe: a partial segment
  // stays buffered in this object.
  NextSegmentOp next_segment() noexcept { return this->next(); }
};

template <class R>
Lines<R> lines(R&& r) {
  return Lines<R>(std::forward<R>(r));
}
template <class R>
Split<R> split(R&& r, std::byte delim) {
  return Split<R>(std::forward<R>(r), delim);
}
template <class R>
Split<R> split(R&& r, char delim) {
  return Split<R>(std::forward<R>(r), static_cast<std::byte>(delim));
}

}  // namespace tokio::io
