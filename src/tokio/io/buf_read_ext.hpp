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
//   next_segment     and completed by the next call.
// Invalid UTF-8 fails read_line / next_line with std::errc::illegal_byte_sequence; the
// offending line is dropped (read_line leaves the string as it was, as in Tokio).

#include <cstddef>
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
#include "tokio/io/detail/utf8.hpp"

namespace tokio::detail {

template <class R>
using FillBufChild = ChildOp<fill_buf_op_t<R>>;

// Moves bytes from r's buffer into append(span) up to and including delim, or to end of
// stream. Ready with whether delim was seen, or the error.
template <class R, class Append>
Poll<io::Result<bool>> poll_read_until(task::Context& cx, R& r, FillBufChild<R>& op, std::byte delim,
                                       Append&& append) {
  for (;;) {
    auto avail = op.poll_with(cx, [&] { return r.fill_buf(); });
    if (!avail) return pending;
    if (!*avail) return unexpected(avail->error());
    std::span<const std::byte> a = **avail;
    if (a.empty()) return false;  // end of stream
    const void* hit = std::memchr(a.data(), std::to_integer<int>(delim), a.size());
    std::size_t used = hit ? static_cast<std::size_t>(static_cast<const std::byte*>(hit) - a.data()) + 1
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
  bool started = false;
  std::size_t start = 0;
  FillBufChild<R> op{};

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    if (!started) {
      started = true;
      start = c->size();
    }
    auto found = poll_read_until(cx, *r, op, delim, [&](std::span<const std::byte> s) { append_bytes(*c, s); });
    if (!found) return pending;
    if constexpr (Line) {
      const auto* p = reinterpret_cast<const unsigned char*>(c->data()) + start;
      if (!utf8_valid(p, c->size() - start)) {
        c->resize(start);
        if (*found) return unexpected(std::make_error_code(std::errc::illegal_byte_sequence));
      }
    }
    return map_ok(std::move(found), [&] { return c->size() - start; });
  }
};

// next_line / next_segment: appends to the owner's buffer through the delimiter, then
// owner.take_chunk(found) turns what was collected into the result. A partial chunk stays
// in the owner when the call is cancelled.
template <class Owner, class R>
struct NextChunk {
  Owner* o;
  FillBufChild<R> op{};

  auto poll(task::Context& cx) -> Poll<decltype(o->take_chunk(true))> {
    auto found = poll_read_until(cx, o->r_, op, o->delim(), [&](std::span<const std::byte> s) {
      append_bytes(o->buf_, s);
    });
    if (!found) return pending;
    if (!*found) return unexpected(found->error());
    return o->take_chunk(**found);
  }
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
class Lines {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncBufRead<Inner>, "io::lines needs an io::AsyncBufRead (wrap it in a BufReader)");
  explicit Lines(R r) : r_(std::forward<R>(r)) {}

  using NextLineOp = detail::AdaptorOp<detail::NextChunk<Lines, Inner>>;

  // Cancel-safe: a partial line stays buffered in this object.
  NextLineOp next_line() noexcept { return {{this}}; }

  Inner& get_ref() noexcept { return r_; }
  Inner& get_mut() noexcept { return r_; }
  Inner into_inner() && { return std::move(r_); }

 private:
  friend struct detail::NextChunk<Lines, Inner>;
  std::byte delim() const noexcept { return std::byte{'\n'}; }
  // The next line; nullopt once the stream has ended. Invalid UTF-8 fails with
  // std::errc::illegal_byte_sequence (that line is dropped).
  Result<std::optional<std::string>> take_chunk(bool found) {
    if (!found && buf_.empty()) return std::optional<std::string>();
    if (found) {
      buf_.pop_back();
      if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
    }
    std::string line = std::exchange(buf_, std::string());
    if (!detail::utf8_valid(reinterpret_cast<const unsigned char*>(line.data()), line.size())) {
      return unexpected(std::make_error_code(std::errc::illegal_byte_sequence));
    }
    return std::optional<std::string>(std::move(line));
  }

  R r_;
  std::string buf_;
};

// The segments of a buffered reader separated by a delimiter byte (not included).
template <class R>
class Split {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncBufRead<Inner>, "io::split(reader, delim) needs an io::AsyncBufRead");
  Split(R r, std::byte delim) : r_(std::forward<R>(r)), delim_(delim) {}

  using NextSegmentOp = detail::AdaptorOp<detail::NextChunk<Split, Inner>>;

  // Cancel-safe: a partial segment stays buffered in this object.
  NextSegmentOp next_segment() noexcept { return {{this}}; }

  Inner& get_ref() noexcept { return r_; }
  Inner& get_mut() noexcept { return r_; }
  Inner into_inner() && { return std::move(r_); }

 private:
  friend struct detail::NextChunk<Split, Inner>;
  std::byte delim() const noexcept { return delim_; }
  // The next segment; nullopt once the stream has ended.
  Result<std::optional<std::vector<std::byte>>> take_chunk(bool found) {
    if (!found && buf_.empty()) return std::optional<std::vector<std::byte>>();
    if (found) buf_.pop_back();
    return std::optional<std::vector<std::byte>>(std::exchange(buf_, std::vector<std::byte>()));
  }

  R r_;
  std::byte delim_;
  std::vector<std::byte> buf_;
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
