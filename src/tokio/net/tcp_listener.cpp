#include "tokio/net/tcp_listener.hpp"

#include <netinet/in.h>

#include "tokio/net/errors.hpp"

namespace tokio::net {

namespace net_tcp_listener_impl {
constexpr int kBacklog = 1024;  // as Tokio's TcpListener::bind

io::Result<void> tcp_bind_one(const SocketAddr& a, detail::PollSocket& out) {
  auto fd = detail::new_socket(a.family(), SOCK_STREAM);
  if (!fd) return tokio::unexpected(fd.error());
  if (auto r = detail::set_opt(fd->get(), SOL_SOCKET, SO_REUSEADDR, 1); !r) {
    return tokio::unexpected(r.error());
  }
  sockaddr_storage ss;
  socklen_t len = a.to_sockaddr(ss);
  if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return io::last_os_error();
  if (::listen(fd->get(), kBacklog) < 0) return io::last_os_error();
  auto sock =
      detail::PollSocket::adopt(std::move(*fd), io::Interest::READABLE, "TcpListener::bind");
  if (!sock) return tokio::unexpected(sock.error());
  out = std::move(*sock);
  return {};
}
}  // namespace net_tcp_listener_impl

Task<io::Result<TcpListener>> TcpListener::bind(ToSocketAddrs addr) {
  // A literal address resolves in lookup_host without a lookup (one small frame).
  io::Result<std::vector<SocketAddr>> addrs = co_await lookup_host(std::move(addr));
  if (!addrs) co_return tokio::unexpected(addrs.error());
  std::error_code last = make_error_code(AddrErrc::no_addresses);
  for (const SocketAddr& a : *addrs) {
    detail::PollSocket sock;
    auto r = net_tcp_listener_impl::tcp_bind_one(a, sock);
    if (r) co_return TcpListener(std::move(sock));
    last = r.error();
  }
  co_return tokio::unexpected(last);
}

io::Result<SocketAddr> TcpListener::local_addr() const noexcept {
  return detail::inet_sock_name(sock_.fd());
}

io::Result<TcpListener> TcpListener::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, io::Interest::READABLE, "TcpListener::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return TcpListener(std::move(*sock));
}

io::Result<std::pair<TcpStream, SocketAddr>> TcpListener::MakeAccepted::make(
    detail::OwnedFd fd, const sockaddr_storage& ss, socklen_t len) {
  auto peer = SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  if (!peer) return tokio::unexpected(peer.error());
  auto sock = detail::PollSocket::adopt(std::move(fd), detail::kReadWrite, "TcpListener::accept",
                                        detail::kConnected);
  if (!sock) return tokio::unexpected(sock.error());
  return std::pair<TcpStream, SocketAddr>(TcpStream(std::move(*sock)), *peer);
}

io::Result<uint32_t> TcpListener::ttl() const noexcept {
  return detail::get_uint(sock_.fd(), IPPROTO_IP, IP_TTL);
}

io::Result<void> TcpListener::set_ttl(uint32_t ttl) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IP, IP_TTL, static_cast<int>(ttl));
}

io::Result<std::optional<std::error_code>> TcpListener::take_error() const noexcept {
  return detail::take_socket_error(sock_.fd());
}

Task<io::Result<TcpListener>> TcpListener::bind(std::string_view host, uint16_t port) {
  return bind(ToSocketAddrs(host, port));
}

}  // namespace tokio::net
