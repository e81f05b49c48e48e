#pragma once
// net::UdpSocket: datagrams.
//
//   auto sock = co_await tokio::net::UdpSocket::bind("127.0.0.1:0");
//   char buf[1500];
//   auto r = co_await sock->recv_from(buf);         // io::Result<pair<size_t, SocketAddr>>
//   co_await sock->send_to({buf, r->first}, r->second);
//
// One socket may be shared by several tasks (through a pointer or shared_ptr): each
// operation waits on its own waiter node. A datagram larger than the buffer is truncated
// (the rest is discarded), as with recv(2).
//
// Cancel safety: every operation is cancel-safe: a destroyed recv/recv_from/peek_from
// consumed no datagram, a destroyed send/send_to sent none.

#include <netinet/in.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/result.hpp"
#include "tokio/net/ip_addr.hpp"
#include "tokio/net/lookup_host.hpp"
#include "tokio/io/detail/closure_op.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/socket_addr.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class UdpSocket : public detail::UserIo<UdpSocket> {
 public:
  UdpSocket() noexcept = default;
  UdpSocket(UdpSocket&&) noexcept = default;
  UdpSocket& operator=(UdpSocket&&) noexcept = default;

  // Binds to the first address of `addr` that works.
  static Task<io::Result<UdpSocket>> bind(ToSocketAddrs addr);
  static Task<io::Result<UdpSocket>> bind(std::string_view host, uint16_t port);
  // Takes ownership of a UDP socket fd (made non-blocking) and registers it.
  static io::Result<UdpSocket> from_std(int fd);
  int into_raw_fd() && noexcept { return sock_.release(); }
  int as_raw_fd() const noexcept { return sock_.fd(); }

  // Sets the default destination (and the only accepted source): tries each address.
  Task<io::Result<void>> connect(ToSocketAddrs addr);

  // --- connected: send / recv
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

  // --- any peer
  auto send_to(io::ConstBuffer buf, const SocketAddr& target) noexcept {
    detail::SendToOp op{{}, sock_.fd(), buf.data(), buf.size(), {}, 0};
    op.len = target.to_sockaddr(op.ss);
    return detail::IoOp<detail::SendToOp>(sock_.io(), io::Interest::WRITABLE, op);
  }
  // With a host name to resolve first ("host:port"): io::Result<size_t>.
  Task<io::Result<std::size_t>> send_to(io::ConstBuffer buf, ToSocketAddrs target);
  // io::Result<std::pair<std::size_t, SocketAddr>>.
  auto recv_from(io::MutableBuffer buf) noexcept {
    using Op = detail::RecvFromOp<detail::InetAddrConv>;
    return detail::IoOp<Op>(sock_.io(), io::Interest::READABLE,
                            Op(sock_.fd(), buf.data(), buf.size(), 0));
  }
  // Like recv_from, leaving the datagram queued.
  auto peek_from(io::MutableBuffer buf) noexcept {
    using Op = detail::RecvFromOp<detail::InetAddrConv>;
    return detail::IoOp<Op>(sock_.io(), io::Interest::READABLE,
                            Op(sock_.fd(), buf.data(), buf.size(), MSG_PEEK));
  }

  // The source address of the next datagram, leaving it queued (io::Result<SocketAddr>).
  auto peek_sender() noexcept {
    using Op = detail::PeekSenderOp<detail::InetAddrConv>;
    return detail::IoOp<Op>(sock_.io(), io::Interest::READABLE, Op(sock_.fd()));
  }

  // Non-waiting forms: EAGAIN when not ready.
  io::Result<std::size_t> try_send(io::ConstBuffer buf) noexcept;
  io::Result<std::size_t> try_recv(io::MutableBuffer buf) noexcept;
  io::Result<std::size_t> try_send_to(io::ConstBuffer buf, const SocketAddr& target) noexcept;
  io::Result<std::pair<std::size_t, SocketAddr>> try_recv_from(io::MutableBuffer buf) noexcept;
  io::Result<std::pair<std::size_t, SocketAddr>> try_peek_from(io::MutableBuffer buf) noexcept;
  io::Result<SocketAddr> try_peek_sender() noexcept;
  // try_recv / try_recv_from appending to a growable container (std::vector<uint8_t>,
  // std::string, codec::BytesMut: Rust's BufMut) into its spare room (a full one grows by 64
  // bytes or double, as read_buf): a longer datagram is cut there, as with try_recv.
  // Reserve its size first for whole datagrams.
  template <io::ByteContainer C>
  io::Result<std::size_t> try_recv_buf(C& c) {
    return detail::try_read_into_spare(c, [&](std::span<std::byte> s) { return try_recv(s); });
  }
  template <io::ByteContainer C>
  detail::dependent_t<C, io::Result<std::pair<std::size_t, SocketAddr>>> try_recv_buf_from(C& c) {
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

  io::Result<SocketAddr> local_addr() const noexcept;
  io::Result<SocketAddr> peer_addr() const noexcept;
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

  // --- options
  io::Result<bool> broadcast() const noexcept;
  io::Result<void> set_broadcast(bool on) noexcept;
  // Binds the socket to a network interface ("lo", "eth0"; SO_BINDTODEVICE, which needs
  // CAP_NET_RAW), or with nullopt / "" removes the binding. device(): nullopt when unbound.
  io::Result<void> bind_device(std::optional<std::string_view> interface) noexcept;
  io::Result<std::optional<std::string>> device() const;
  io::Result<uint32_t> ttl() const noexcept;
  io::Result<void> set_ttl(uint32_t ttl) noexcept;
  // The IP type-of-service byte (IP_TOS; IPV6_TCLASS on an IPv6 socket).
  io::Result<void> set_tos(uint32_t tos) noexcept;
  io::Result<uint32_t> tos() const noexcept;
  io::Result<bool> multicast_loop_v4() const noexcept;
  io::Result<void> set_multicast_loop_v4(bool on) noexcept;
  io::Result<uint32_t> multicast_ttl_v4() const noexcept;
  io::Result<void> set_multicast_ttl_v4(uint32_t ttl) noexcept;
  io::Result<bool> multicast_loop_v6() const noexcept;
  io::Result<void> set_multicast_loop_v6(bool on) noexcept;
  // Joins / leaves group `multiaddr` on the interface with address `iface`
  // (Ipv4Addr::unspecified(): the system's choice) / index `ifindex` (0: any).
  io::Result<void> join_multicast_v4(Ipv4Addr multiaddr, Ipv4Addr iface) noexcept;
  io::Result<void> leave_multicast_v4(Ipv4Addr multiaddr, Ipv4Addr iface) noexcept;
  io::Result<void> join_multicast_v6(const Ipv6Addr& multiaddr, uint32_t ifindex) noexcept;
  io::Result<void> leave_multicast_v6(const Ipv6Addr& multiaddr, uint32_t ifindex) noexcept;

 private:
  friend class detail::UserIo<UdpSocket>;  // try_io / async_io reach sock_
  explicit UdpSocket(detail::PollSocket s) noexcept : sock_(std::move(s)) {}
  detail::PollSocket sock_;
};

}  // namespace tokio::net
