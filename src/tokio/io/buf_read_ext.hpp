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
// stream. True when done: found says whether delim was seen; err is set on failure.
template <class R, class Append>
bool poll_read_until(task::Context& cx, R& r, FillBufChild<R>& op, std::byte delim,
                     Append&& append, bool& found, std::error_code& err) {
  for (;;) {
    if (!op.live()) op.start([&] { return r.fill_buf(); });
    if (!op.poll(cx)) return false;
    io::Result<std::span<const std::byte>> avail = op.take();
    if (!avail) {
      err = avail.error();
      return true;
    }
    std::span<const std::byte> a = *avail;
    if (a.empty()) return true;  // end of stream
    const void* hit = std::memchr(a.data(), std::to_integer<int>(delim), a.size());
    std::size_t used = hit ? static_cast<std::size_t>(static_cast<const std::byte*>(hit) - a.data()) + 1
                           : a.size();
    append(a.first(used));
    r.consume(used);
    if (hit) {
      found = true;
      return true;
    }
  }
}

template <class C>
void append_bytes(C& c, std::span<const std::byte> s) {
  using T = std::remove_cv_t<std::remove_reference_t<decltype(*c.data())>>;
  const T* p = reinterpret_cast<const T*>(s.data());
  if constexpr (requires { c.insert(c.end(), p, p + s.size()); }) {
    c.insert(c.end(), p, p + s.size());  // one copy, no zero-fill
  } else {
    std::size_t old = c.size();
    c.resize(old + s.size());
    std::memcpy(reinterpret_cast<std::byte*>(c.data()) + old, s.data(), s.size());
  }
}

template <class R, class C, bool Line>
class ReadUntilOp : public CompositeLeaf<ReadUntilOp<R, C, Line>> {
 public:
  ReadUntilOp(R& r, std::byte delim, C& c) noexcept : r_(&r), c_(&c), delim_(delim) {}

  bool step(task::Context& cx) {
    if (!started_) {
      started_ = true;
      start_ = c_->size();
    }
    bool found = false;
    if (!poll_read_until(cx, *r_, op_, delim_, [&](std::span<const std::byte> s) { append_bytes(*c_, s); },
                         found, err_)) {
      return false;
    }
    if constexpr (Line) {
      const auto* p = reinterpret_cast<const unsigned char*>(c_->data()) + start_;
      if (!utf8_valid(p, c_->size() - start_)) {
        c_->resize(start_);
        if (!err_) err_ = std::make_error_code(std::errc::illegal_byte_sequence);
      }
    }
    return true;
  }
  io::Result<std::size_t> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return c_->size() - start_;
  }

 private:
  R* r_;
  C* c_;
  std::byte delim_;
  bool started_ = false;
  std::size_t start_ = 0;
  std::error_code err_;
  FillBufChild<R> op_;
};

}  // namespace tokio::detail

namespace tokio::io {

// Appends bytes to c until delim (included) or end of stream; returns how many were
// appended (0 = end of stream). On an error the bytes read before it stay appended.
template <AsyncBufRead R, ByteContainer C>
detail::ReadUntilOp<R, C, false> read_until(R& r, std::byte delim, C& c) {
  return {r, delim, c};
}
template <AsyncBufRead R, ByteContainer C>
detail::ReadUntilOp<R, C, false> read_until(R& r, char delim, C& c) {
  return {r, static_cast<std::byte>(delim), c};
}

// Appends one line (with its '\n', if the stream has one) to s; 0 = end of stream.
template <AsyncBufRead R>
detail::ReadUntilOp<R, std::string, true> read_line(R& r, std::string& s) {
  return {r, std::byte{'\n'}, s};
}

// The lines of a buffered reader, without their "\n" or "\r\n".
template <class R>
class Lines {
  using Inner = std::remove_reference_t<R>;

 public:
  static_assert(AsyncBufRead<Inner>, "io::lines needs an io::AsyncBufRead (wrap it in a BufReader)");
  explicit Lines(R r) : r_(std::forward<R>(r)) {}

  class NextLineOp : public detail::CompositeLeaf<NextLineOp> {
   public:
    explicit NextLineOp(Lines& l) noexcept : l_(&l) {}
    bool step(task::Context& cx) {
      found_ = false;
      return detail::poll_read_until(
          cx, l_->r_, op_, std::byte{'\n'},
          [&](std::span<const std::byte> s) { detail::append_bytes(l_->buf_, s); }, found_, err_);
    }
    // The next line; nullopt once the stream has ended. Invalid UTF-8 fails with
    // std::errc::illegal_byte_sequence (that line is dropped).
    Result<std::optional<std::string>> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      std::string& b = l_->buf_;
      if (!found_ && b.empty()) return std::optional<std::string>();
      if (found_) {
        b.pop_back();
        if (!b.empty() && b.back() == '\r') b.pop_back();
      }
      std::string line = std::move(b);
      b.clear();
      if (!detail::utf8_valid(reinterpret_cast<const unsigned char*>(line.data()), line.size())) {
        return unexpected(std::make_error_code(std::errc::illegal_byte_sequence));
      }
      return std::optional<std::string>(std::move(line));
    }

   private:
    Lines* l_;
    bool found_ = false;
    std::error_code err_;
    detail::FillBufChild<Inner> op_;
  };

  // Cancel-safe: a partial line stays buffered in this object.
  NextLineOp next_line() noexcept { return NextLineOp(*this); }

  Inner& get_ref() noexcept { return r_; }
  Inner& get_mut() noexcept { return r_; }
  Inner into_inner() && { return std::move(r_); }

 private:
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

  class NextSegmentOp : public detail::CompositeLeaf<NextSegmentOp> {
   public:
    explicit NextSegmentOp(Split& s) noexcept : s_(&s) {}
    bool step(task::Context& cx) {
      found_ = false;
      return detail::poll_read_until(
          cx, s_->r_, op_, s_->delim_,
          [&](std::span<const std::byte> b) { detail::append_bytes(s_->buf_, b); }, found_, err_);
    }
    // The next segment; nullopt once the stream has ended.
    Result<std::optional<std::vector<std::byte>>> await_resume() {
      this->check();
      if (err_) return unexpected(err_);
      std::vector<std::byte>& b = s_->buf_;
      if (!found_ && b.empty()) return std::optional<std::vector<std::byte>>();
      if (found_) b.pop_back();
      std::vector<std::byte> seg = std::move(b);
      b.clear();
      return std::optional<std::vector<std::byte>>(std::move(seg));
    }

   private:
    Split* s_;
    bool found_ = false;
    std::error_code err_;
    detail::FillBufChild<Inner> op_;
  };

  // Cancel-safe: a partial segment stays buffered in this object.
  NextSegmentOp next_segment() noexcept { return NextSegmentOp(*this); }

  Inner& get_ref() noexcept { return r_; }
  Inner& get_mut() noexcept { return r_; }
  Inner into_inner() && { return std::move(r_); }

 private:
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
