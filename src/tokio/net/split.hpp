#pragma once
// Read and write halves of a stream (TcpStream, UnixStream), as tokio::net::tcp / unix:
//
//   auto [rd, wr] = stream.split();                  // borrowed: `stream` must outlive them
//   auto [rd, wr] = std::move(stream).into_split();  // owned: move each to its own task
//
// The halves forward to the stream; a reading task and a writing task may use the two
// halves at the same time (on different threads). Dropping an OwnedWriteHalf shuts the
// write direction down (the peer reads end of stream), as in Tokio; forget() skips that.
// OwnedReadHalf::reunite(OwnedWriteHalf) gives the stream back when both came from it.

#include <memory>
#include <type_traits>
#include <span>
#include <string_view>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::net::detail_split {

template <class S>
class ReadHalf : public io::Ext<ReadHalf<S>> {
 public:
  explicit ReadHalf(S& s) noexcept : s_(&s) {}
  auto read(io::MutableBuffer b) noexcept { return s_->read(b); }
  auto read_vectored(std::span<const iovec> b) noexcept { return s_->read_vectored(b); }
  auto peek(io::MutableBuffer b) noexcept { return s_->peek(b); }
  auto try_read(io::MutableBuffer b) noexcept { return s_->try_read(b); }
  template <io::ByteContainer C>
  auto try_read_buf(C& c) {
    return s_->try_read_buf(c);
  }
  auto readable() noexcept { return s_->readable(); }
  auto ready(io::Interest i) noexcept { return s_->ready(i); }
  auto local_addr() const { return s_->local_addr(); }
  auto peer_addr() const { return s_->peer_addr(); }
  // The stream itself (Tokio's AsRef<TcpStream>): socket options, set_nodelay, set_linger.
  S& as_ref() const noexcept { return *s_; }

 private:
  S* s_;
};

template <class S>
class WriteHalf : public io::Ext<WriteHalf<S>> {
 public:
  explicit WriteHalf(S& s) noexcept : s_(&s) {}
  auto write(io::ConstBuffer b) noexcept { return s_->write(b); }
  auto write_vectored(std::span<const iovec> b) noexcept { return s_->write_vectored(b); }
  auto write_vectored(std::span<const io::IoSlice> b) noexcept { return s_->write_vectored(b); }
  auto write_all(io::ConstBuffer b) noexcept { return s_->write_all(b); }
  auto try_write(io::ConstBuffer b) noexcept { return s_->try_write(b); }
  auto flush() noexcept { return s_->flush(); }
  auto shutdown() noexcept { return s_->shutdown(); }
  auto writable() noexcept { return s_->writable(); }
  auto ready(io::Interest i) noexcept { return s_->ready(i); }
  auto local_addr() const { return s_->local_addr(); }
  auto peer_addr() const { return s_->peer_addr(); }
  // The stream itself (Tokio's AsRef<TcpStream>): socket options, set_nodelay, set_linger.
  S& as_ref() const noexcept { return *s_; }

 private:
  S* s_;
};

}  // namespace tokio::net::detail_split

namespace tokio::detail {
// The stream of an owned half; an empty half is a misuse (throws std::logic_error `what`).
template <class S>
S* checked_half(S* s, const char* what) {
  if (TOKIO_UNLIKELY(!s)) throw_misuse(what);
  return s;
}
}  // namespace tokio::detail

namespace tokio::net::detail_split {

template <class S>
class OwnedWriteHalf;

template <class S>
struct ReuniteError;

template <class S>
class OwnedReadHalf : public io::Ext<OwnedReadHalf<S>> {
 public:
  // An empty half (`h = {}` drops one); any other use of an empty or moved-from half throws
  // std::logic_error.
  OwnedReadHalf() noexcept = default;
  explicit OwnedReadHalf(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
  OwnedReadHalf(OwnedReadHalf&&) noexcept = default;
  OwnedReadHalf& operator=(OwnedReadHalf&&) noexcept = default;

  auto read(io::MutableBuffer b) { return sock()->read(b); }
  auto read_vectored(std::span<const iovec> b) { return sock()->read_vectored(b); }
  auto peek(io::MutableBuffer b) { return sock()->peek(b); }
  auto try_read(io::MutableBuffer b) { return sock()->try_read(b); }
  template <io::ByteContainer C>
  auto try_read_buf(C& c) {
    return sock()->try_read_buf(c);
  }
  auto readable() { return sock()->readable(); }
  auto ready(io::Interest i) { return sock()->ready(i); }
  auto local_addr() const { return sock()->local_addr(); }
  auto peer_addr() const { return sock()->peer_addr(); }
  // The stream both halves share (Tokio's AsRef<TcpStream>): socket options, set_nodelay,
  // set_linger. Reading through it bypasses this half, as in Tokio.
  S& as_ref() const { return *sock(); }

  // The original stream, when `w` is this half's partner; otherwise both halves back.
  Result<S, ReuniteError<S>> reunite(OwnedWriteHalf<S> w) &&;
  TOKIO_DETAIL_CONSUMES_SELF(reunite, (OwnedWriteHalf<S>),
                             "reunite() takes both halves over: write "
                             "std::move(read_half).reunite(std::move(write_half))")

 private:
  friend class OwnedWriteHalf<S>;
  S* sock() const {
    return detail::checked_half(s_.get(), "net: use of an empty (moved-from) OwnedReadHalf");
  }
  std::shared_ptr<S> s_;
};

template <class S>
class OwnedWriteHalf : public io::Ext<OwnedWriteHalf<S>> {
 public:
  // An empty half (`h = {}` drops one, shutting the write direction down as a drop does);
  // any other use of an empty or moved-from half throws std::logic_error.
  OwnedWriteHalf() noexcept : shutdown_on_drop_(false) {}
  explicit OwnedWriteHalf(std::shared_ptr<S> s) noexcept : s_(std::move(s)) {}
  OwnedWriteHalf(OwnedWriteHalf&& o) noexcept
      : s_(std::move(o.s_)), shutdown_on_drop_(detail::exchange(o.shutdown_on_drop_, false)) {}
  OwnedWriteHalf& operator=(OwnedWriteHalf&& o) noexcept {
    if (this != &o) {
      drop();
      s_ = std::move(o.s_);
      shutdown_on_drop_ = detail::exchange(o.shutdown_on_drop_, false);
    }
    return *this;
  }
  ~OwnedWriteHalf() { drop(); }

  auto write(io::ConstBuffer b) { return sock()->write(b); }
  auto write_vectored(std::span<const iovec> b) { return sock()->write_vectored(b); }
  auto write_vectored(std::span<const io::IoSlice> b) { return sock()->write_vectored(b); }
  auto write_all(io::ConstBuffer b) { return sock()->write_all(b); }
  auto try_write(io::ConstBuffer b) { return sock()->try_write(b); }
  auto flush() { return sock()->flush(); }
  auto shutdown() { return sock()->shutdown(); }
  auto writable() { return sock()->writable(); }
  auto ready(io::Interest i) { return sock()->ready(i); }
  auto local_addr() const { return sock()->local_addr(); }
  auto peer_addr() const { return sock()->peer_addr(); }
  // The stream both halves share (Tokio's AsRef<TcpStream>): socket options, set_nodelay,
  // set_linger. Writing through it bypasses this half, as in Tokio.
  S& as_ref() const { return *sock(); }

  // Drops this half without shutting the write direction down.
  void forget() && noexcept {
    shutdown_on_drop_ = false;
    s_.reset();
  }

 private:
  friend class OwnedReadHalf<S>;
  S* sock() const {
    return detail::checked_half(s_.get(), "net: use of an empty (moved-from) OwnedWriteHalf");
  }
  void drop() noexcept {
    if (s_ && shutdown_on_drop_) {
      (void)detail::shutdown_socket(s_->as_raw_fd(), Shutdown::Write);
    }
    shutdown_on_drop_ = false;
    s_.reset();
  }
  std::shared_ptr<S> s_;
  bool shutdown_on_drop_ = true;
};

template <class S>
struct ReuniteError {
  OwnedReadHalf<S> read;
  OwnedWriteHalf<S> write;
};

template <class S>
Result<S, ReuniteError<S>> OwnedReadHalf<S>::reunite(OwnedWriteHalf<S> w) && {
  if (s_ != w.s_) return tokio::unexpected(ReuniteError<S>{std::move(*this), std::move(w)});
  w.shutdown_on_drop_ = false;
  S s = std::move(*s_);
  w.s_.reset();
  s_.reset();
  return s;
}

// Splits into halves that share ownership of the stream.
template <class S>
std::pair<OwnedReadHalf<S>, OwnedWriteHalf<S>> into_split(S&& s) {
  static_assert(!std::is_lvalue_reference_v<S>,
                "into_split takes the stream over: pass std::move(stream)");
  auto p = std::make_shared<S>(std::forward<S>(s));
  return {OwnedReadHalf<S>(p), OwnedWriteHalf<S>(p)};
}

// The into_split() members of TcpStream and UnixStream (a base of each): owned halves two
// tasks can use at the same time. Rust's into_split(self) moves the stream; here it takes
// an rvalue, and on an lvalue the compiler stops with a message naming the fix.
template <class S>
class IntoSplit {
 public:
  std::pair<OwnedReadHalf<S>, OwnedWriteHalf<S>> into_split() && {
    return detail_split::into_split(std::move(static_cast<S&>(*this)));
  }
  template <class Self = S>
  std::pair<OwnedReadHalf<S>, OwnedWriteHalf<S>> into_split() const& {
    static_assert(detail::consumes_self<Self>,
                  "into_split() takes the stream over: write std::move(stream).into_split() "
                  "(Rust moves it implicitly)");
    __builtin_unreachable();  // never instantiated without failing above
  }
};

}  // namespace tokio::net::detail_split
