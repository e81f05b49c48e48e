#include "tokio/net/udp_socket.hpp"

#include <netinet/in.h>

#include <cstring>

#include "tokio/net/errors.hpp"

namespace tokio::net {

namespace net_udp_socket_impl {
io::Result<void> udp_v4_membership(int fd, int opt, Ipv4Addr group, Ipv4Addr iface) {
  ip_mreq m{};
  auto g = group.octets();
  auto i = iface.octets();
  std::memcpy(&m.imr_multiaddr, g.data(), 4);
  std::memcpy(&m.imr_interface, i.data(), 4);
  if (::setsockopt(fd, IPPROTO_IP, opt, &m, sizeof m) < 0) return io::last_os_error();
  return {};
}
io::Result<void> udp_v6_membership(int fd, int opt, const Ipv6Addr& group, uint32_t ifindex) {
  ipv6_mreq m{};
  auto g = group.octets();
  std::memcpy(&m.ipv6mr_multiaddr, g.data(), 16);
  m.ipv6mr_interface = ifindex;
  if (::setsockopt(fd, IPPROTO_IPV6, opt, &m, sizeof m) < 0) return io::last_os_error();
  return {};
}
}  // namespace net_udp_socket_impl

Task<io::Result<UdpSocket>> UdpSocket::bind(ToSocketAddrs addr) {
  // A literal address resolves in lookup_host without a lookup (one small frame).
  io::Result<std::vector<SocketAddr>> addrs = co_await lookup_host(std::move(addr));
  if (!addrs) co_return tokio::unexpected(addrs.error());
  std::error_code last = make_error_code(AddrErrc::no_addresses);
  for (const SocketAddr& a : *addrs) {
    auto fd = detail::new_socket(a.family(), SOCK_DGRAM);
    if (!fd) {
      last = fd.error();
      continue;
    }
    sockaddr_storage ss;
    socklen_t len = a.to_sockaddr(ss);
    if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      last = std::error_code(errno, std::system_category());
      continue;
    }
    auto sock = detail::PollSocket::adopt(std::move(*fd), detail::kReadWrite, "UdpSocket::bind",
                                          io::Ready::kWritable);
    if (!sock) co_return tokio::unexpected(sock.error());
    co_return UdpSocket(std::move(*sock));
  }
  co_return tokio::unexpected(last);
}

io::Result<UdpSocket> UdpSocket::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, detail::kReadWrite, "UdpSocket::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return UdpSocket(std::move(*sock));
}

Task<io::Result<void>> UdpSocket::connect(ToSocketAddrs addr) {
  // A literal address resolves in lookup_host without a lookup (one small frame).
  io::Result<std::vector<SocketAddr>> addrs = co_await lookup_host(std::move(addr));
  if (!addrs) co_return tokio::unexpected(addrs.error());
  std::error_code last = make_error_code(AddrErrc::no_addresses);
  for (const SocketAddr& a : *addrs) {
    sockaddr_storage ss;
    socklen_t len = a.to_sockaddr(ss);
    if (::connect(sock_.fd(), reinterpret_cast<sockaddr*>(&ss), len) == 0)
      co_return io::Result<void>();
    last = std::error_code(errno, std::system_category());
  }
  co_return tokio::unexpected(last);
}

Task<io::Result<std::size_t>> UdpSocket::send_to(io::ConstBuffer buf, ToSocketAddrs target) {
  io::Result<std::vector<SocketAddr>> addrs;
  if (auto lit = target.try_resolve()) {
    addrs = std::move(*lit);
  } else {
    addrs = co_await lookup_host(std::move(target));
  }
  if (!addrs) co_return tokio::unexpected(addrs.error());
  if (addrs->empty()) co_return tokio::unexpected(make_error_code(AddrErrc::no_addresses));
  // Prefer an address of the socket's own family ("localhost" may list ::1 first).
  const SocketAddr* pick = &addrs->front();
  if (auto local = local_addr()) {
    for (const SocketAddr& a : *addrs) {
      if (a.family() == local->family()) {
        pick = &a;
        break;
      }
    }
  }
  co_return co_await send_to(buf, *pick);
}

io::Result<std::size_t> UdpSocket::try_send(io::ConstBuffer buf) noexcept {
  detail::SendOp op{{}, sock_.fd(), buf.data(), buf.size(), false};
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
}

io::Result<std::size_t> UdpSocket::try_recv(io::MutableBuffer buf) noexcept {
  detail::RecvOp op{{}, sock_.fd(), buf.data(), buf.size(), 0, false};
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<std::size_t> UdpSocket::try_send_to(io::ConstBuffer buf,
                                               const SocketAddr& target) noexcept {
  detail::SendToOp op{{}, sock_.fd(), buf.data(), buf.size(), {}, 0};
  op.len = target.to_sockaddr(op.ss);
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
}

io::Result<std::pair<std::size_t, SocketAddr>> UdpSocket::try_recv_from(
    io::MutableBuffer buf) noexcept {
  detail::RecvFromOp<detail::InetAddrConv> op(sock_.fd(), buf.data(), buf.size(), 0);
  return op.finish(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<std::pair<std::size_t, SocketAddr>> UdpSocket::try_peek_from(
    io::MutableBuffer buf) noexcept {
  detail::RecvFromOp<detail::InetAddrConv> op(sock_.fd(), buf.data(), buf.size(), MSG_PEEK);
  return op.finish(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<SocketAddr> UdpSocket::try_peek_sender() noexcept {
  detail::PeekSenderOp<detail::InetAddrConv> op(sock_.fd());
  return op.finish(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<SocketAddr> UdpSocket::local_addr() const noexcept {
  return detail::inet_sock_name(sock_.fd());
}
io::Result<SocketAddr> UdpSocket::peer_addr() const noexcept {
  return detail::inet_peer_name(sock_.fd());
}
io::Result<void> UdpSocket::set_tos(uint32_t tos) noexcept {
  return detail::set_tos(sock_.fd(), tos);
}
io::Result<uint32_t> UdpSocket::tos() const noexcept { return detail::get_tos(sock_.fd()); }

io::Result<bool> UdpSocket::broadcast() const noexcept {
  return detail::get_flag(sock_.fd(), SOL_SOCKET, SO_BROADCAST);
}
io::Result<void> UdpSocket::set_broadcast(bool on) noexcept {
  return detail::set_opt(sock_.fd(), SOL_SOCKET, SO_BROADCAST, on);
}
io::Result<uint32_t> UdpSocket::ttl() const noexcept {
  return detail::get_uint(sock_.fd(), IPPROTO_IP, IP_TTL);
}
io::Result<void> UdpSocket::set_ttl(uint32_t ttl) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IP, IP_TTL, static_cast<int>(ttl));
}
io::Result<bool> UdpSocket::multicast_loop_v4() const noexcept {
  return detail::get_flag(sock_.fd(), IPPROTO_IP, IP_MULTICAST_LOOP);
}
io::Result<void> UdpSocket::set_multicast_loop_v4(bool on) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IP, IP_MULTICAST_LOOP, on);
}
io::Result<uint32_t> UdpSocket::multicast_ttl_v4() const noexcept {
  return detail::get_uint(sock_.fd(), IPPROTO_IP, IP_MULTICAST_TTL);
}
io::Result<void> UdpSocket::set_multicast_ttl_v4(uint32_t ttl) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IP, IP_MULTICAST_TTL, static_cast<int>(ttl));
}
io::Result<bool> UdpSocket::multicast_loop_v6() const noexcept {
  return detail::get_flag(sock_.fd(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP);
}
io::Result<void> UdpSocket::set_multicast_loop_v6(bool on) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on);
}
io::Result<void> UdpSocket::join_multicast_v4(Ipv4Addr multiaddr, Ipv4Addr iface) noexcept {
  return net_udp_socket_impl::udp_v4_membership(sock_.fd(), IP_ADD_MEMBERSHIP, multiaddr, iface);
}
io::Result<void> UdpSocket::leave_multicast_v4(Ipv4Addr multiaddr, Ipv4Addr iface) noexcept {
  return net_udp_socket_impl::udp_v4_membership(sock_.fd(), IP_DROP_MEMBERSHIP, multiaddr, iface);
}
io::Result<void> UdpSocket::join_multicast_v6(const Ipv6Addr& multiaddr,
                                              uint32_t ifindex) noexcept {
  return net_udp_socket_impl::udp_v6_membership(sock_.fd(), IPV6_ADD_MEMBERSHIP, multiaddr,
                                                ifindex);
}
io::Result<void> UdpSocket::leave_multicast_v6(const Ipv6Addr& multiaddr,
                                               uint32_t ifindex) noexcept {
  return net_udp_socket_impl::udp_v6_membership(sock_.fd(), IPV6_DROP_MEMBERSHIP, multiaddr,
                                                ifindex);
}

io::Result<std::optional<std::error_code>> UdpSocket::take_error() const noexcept {
  return detail::take_socket_error(sock_.fd());
}

io::Result<void> UdpSocket::bind_device(std::optional<std::string_view> interface) noexcept {
  return detail::bind_device(sock_.fd(), interface);
}
io::Result<std::optional<std::string>> UdpSocket::device() const {
  return detail::device(sock_.fd());
}

Task<io::Result<UdpSocket>> UdpSocket::bind(std::string_view host, uint16_t port) {
  return bind(ToSocketAddrs(host, port));
}

}  // namespace tokio::net
