#pragma once
// net::UnixDatagram: Unix domain datagram sockets.
//
//   auto a = tokio::net::UnixDatagram::bind("/tmp/a.sock");     // io::Result<UnixDatagram>
//   auto [x, y] = tokio::net::UnixDatagram::pair().value();
//   co_await x.send("ping");  co_await y.recv(buf);
//   co_await a->send_to("hi", "/tmp/b.sock");
//
// A datagram larger than the buffer is truncated (the rest is discarded), as with recv(2):
// recv and recv_from return the buffer's size.
//
// Cancel safety: every operation is cancel-safe (no datagram is consumed or sent by an
// operation destroyed before it completes).

#include <cstring>
#include <span>
#include <system_error>
#include <string_view>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/detail/closure_op.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/unix_addr.hpp"

namespace tokio::net {

namespace detail_unix {
// Points `op` at `path` (its sockaddr and length): the path's error, or none.
inline std::error_code set_path(detail::SendToOp& op, std::string_view path) {
  auto a = UnixSocketAddr::from_pathname(path);
  if (!a) return a.error();
  std::memcpy(&op.ss, a->raw(), a->raw_len());
  op.len = a->raw_len();
  return {};
}

// sendto a path; a malformed path is reported when the operation completes.
struct SendToPathOp : detail::SendToOp {
  std::error_code addr_error;
  int64_t operator()() noexcept { return addr_error ? 0 : SendToOp::operator()(); }
  io::Result<std::size_t> finish(int64_t r) const noexcept {
    if (addr_error) return tokio::unexpected(addr_error);
    return detail::finish_size(r);
  }
};
}  // namespace detail_unix

class UnixDatagram : public detail::UserIo<UnixDatagram> {
 public:
  UnixDatagram() noexcept = default;
  UnixDatagram(UnixDatagram&&) noexcept = default;
  UnixDatagram& operator=(UnixDatagram&&) noexcept = default;

  static io::Result<UnixDatagram> bind(std::string_view path);
  // A socket with no address (it can still send_to, and receive replies if the peer
  // can address it: use bind for that).
  static io::Result<UnixDatagram> unbound();
  static io::Result<std::pair<UnixDatagram, UnixDatagram>> pair();
  static io::Result<UnixDatagram> from_std(int fd);
  int into_raw_fd() && noexcept { return sock_.release(); }
  int as_raw_fd() const noexcept { return sock_.fd(); }

  io::Result<void> connect(std::string_view path) noexcept;

  auto send(io::ConstBuffer buf) noexcept {
    return detail::IoOp<detail::SendOp>(
        sock_.io(), io::Interest::WRITABLE,
        detail::SendOp{{}, sock_.fd(), buf.data(), buf.size(), false});
  }
  auto recv(io::MutableBuffer buf) noexcept {
    return detail::IoOp<detail::RecvOp>(
        sock_.io(), io::Interest::READABLE,
        detail::RecvOp{{}, sock_.fd(), buf.data(), buf.size(), 0, false});
  }

  // io::Result<size_t>; an invalid path fails when awaited.
  auto send_to(io::ConstBuffer buf, std::string_view path) noexcept {
    detail_unix::SendToPathOp op{{{}, sock_.fd(), buf.data(), buf.size(), {}, 0}, {}};
    op.addr_error = detail_unix::set_path(op, path);
    return detail::IoOp<detail_unix::SendToPathOp>(sock_.io(), io::Interest::WRITABLE, op);
  }
  // io::Result<std::pair<std::size_t, UnixSocketAddr>>.
  auto recv_from(io::MutableBuffer buf) noexcept {
    using Op = detail::RecvFromOp<detail_unix::AddrConv>;
    return detail::IoOp<Op>(sock_.io(), io::Interest::READABLE,
                            Op(sock_.fd(), buf.data(), buf.size(), 0));
  }

  // Without waiting: would_block when the socket is not ready (as UdpSocket's).
  io::Result<std::size_t> try_send(io::ConstBuffer buf) noexcept;
  io::Result<std::size_t> try_recv(io::MutableBuffer buf) noexcept;
  io::Result<std::size_t> try_send_to(io::ConstBuffer buf, std::string_view path) noexcept;
  io::Result<std::pair<std::size_t, UnixSocketAddr>> try_recv_from(io::MutableBuffer buf) noexcept;
  // try_recv / try_recv_from appending to a growable container (Rust's BufMut), as
  // UdpSocket::try_recv_buf / try_recv_buf_from.
  template <io::ByteContainer C>
  io::Result<std::size_t> try_recv_buf(C& c) {
    return detail::try_read_into_spare(c, [&](std::span<std::byte> s) { return try_recv(s); });
  }
  template <io::ByteContainer C>
  detail::dependent_t<C, io::Result<std::pair<std::size_t, UnixSocketAddr>>> try_recv_buf_from(
      C& c) {
    return detail::try_read_into_spare(c, [&](std::span<std::byte> s) { return try_recv_from(s); });
  }

  auto readable() noexcept {
    return detail::ReadinessAwait<detail::FinishVoid>(sock_.io(), io::Interest::READABLE);
  }
  auto writable() noexcept {
    return detail::ReadinessAwait<detail::FinishVoid>(sock_.io(), io::Interest::WRITABLE);
  }
  auto ready(io::Interest interest) noexcept {
    return detail::ReadinessAwait<detail::FinishReady>(sock_.io(), interest);
  }

  // (Out of line: see UnixStream.)
  io::Result<UnixSocketAddr> local_addr() const noexcept;
  io::Result<UnixSocketAddr> peer_addr() const noexcept;
  io::Result<void> shutdown(Shutdown how) noexcept {
    return detail::shutdown_socket(sock_.fd(), how);
  }
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

 private:
  friend class detail::UserIo<UnixDatagram>;  // try_io / async_io reach sock_
  explicit UnixDatagram(detail::PollSocket s) noexcept : sock_(std::move(s)) {}
  detail::PollSocket sock_;
};

}  // namespace tokio::net
