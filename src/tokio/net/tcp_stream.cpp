#include "tokio/net/tcp_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "tokio/net/errors.hpp"

// Out of line so that the user part need not instantiate io::Result<std::optional<...>>.
namespace tokio::detail {
io::Result<std::optional<std::error_code>> StreamBase::take_error() const noexcept {
  return take_socket_error(sock_.fd());
}
}  // namespace tokio::detail

namespace tokio::net {

io::Result<SocketAddr> TcpStream::local_addr() const noexcept {
  return detail::inet_sock_name(sock_.fd());
}
io::Result<SocketAddr> TcpStream::peer_addr() const noexcept {
  return detail::inet_peer_name(sock_.fd());
}

Task<io::Result<TcpStream>> TcpStream::connect_fd(detail::OwnedFd fd, SocketAddr addr) {
  sockaddr_storage ss;
  socklen_t len = addr.to_sockaddr(ss);
  auto sock = co_await detail::connect_socket(std::move(fd), reinterpret_cast<sockaddr*>(&ss), len,
                                              "TcpStream::connect");
  if (!sock) co_return tokio::unexpected(sock.error());
  co_return TcpStream(std::move(*sock));
}

Task<io::Result<TcpStream>> TcpStream::connect(ToSocketAddrs addr) {
  // A literal address resolves in lookup_host without a lookup (one small frame).
  io::Result<std::vector<SocketAddr>> addrs = co_await lookup_host(std::move(addr));
  if (!addrs) co_return tokio::unexpected(addrs.error());
  std::error_code last = make_error_code(AddrErrc::no_addresses);
  for (const SocketAddr& a : *addrs) {
    auto fd = detail::new_socket(a.family(), SOCK_STREAM);
    if (!fd) {
      last = fd.error();
      continue;
    }
    auto s = co_await connect_fd(std::move(*fd), a);
    if (s) co_return std::move(*s);
    last = s.error();
  }
  co_return tokio::unexpected(last);
}

io::Result<TcpStream> TcpStream::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, detail::kReadWrite, "TcpStream::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return TcpStream(std::move(*sock));
}

io::Result<bool> TcpStream::nodelay() const noexcept {
  return detail::get_flag(sock_.fd(), IPPROTO_TCP, TCP_NODELAY);
}

io::Result<void> TcpStream::set_nodelay(bool on) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

io::Result<uint32_t> TcpStream::ttl() const noexcept {
  return detail::get_uint(sock_.fd(), IPPROTO_IP, IP_TTL);
}

io::Result<void> TcpStream::set_ttl(uint32_t ttl) noexcept {
  return detail::set_opt(sock_.fd(), IPPROTO_IP, IP_TTL, static_cast<int>(ttl));
}

io::Result<std::optional<std::chrono::seconds>> TcpStream::linger() const noexcept {
  return detail::get_linger(sock_.fd());
}
io::Result<void> TcpStream::set_linger(std::optional<std::chrono::seconds> d) noexcept {
  return detail::set_linger(sock_.fd(), d);
}

std::pair<tcp::ReadHalf, tcp::WriteHalf> TcpStream::split() noexcept {
  return {tcp::ReadHalf(*this), tcp::WriteHalf(*this)};
}

Task<io::Result<TcpStream>> TcpStream::connect(std::string_view host, uint16_t port) {
  return connect(ToSocketAddrs(host, port));
}

}  // namespace tokio::net
