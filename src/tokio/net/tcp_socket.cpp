#include "tokio/net/tcp_socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokio/net/errors.hpp"

namespace tokio::net {

namespace net_tcp_socket_impl {
// The address a socket of `family` uses from `addrs`: the first of its family; with none,
// the first address, so that the kernel refuses it with the errno Tokio's caller sees
// (EINVAL for an IPv4 address on an IPv6 socket, EAFNOSUPPORT the other way round); null
// when `addrs` is empty.
const SocketAddr* address_for(const std::vector<SocketAddr>& addrs, int family) noexcept {
  for (const SocketAddr& s : addrs) {
    if (s.family() == family) return &s;
  }
  return addrs.empty() ? nullptr : &addrs.front();
}

// bind()'s address: literal only.
io::Result<SocketAddr> tcp_socket_literal(const ToSocketAddrs& a, int family) {
  auto r = a.try_resolve();
  if (!r) return tokio::unexpected(make_error_code(AddrErrc::host_needs_lookup));
  if (!*r) return tokio::unexpected(r->error());
  if (const SocketAddr* s = address_for(**r, family)) return *s;
  return tokio::unexpected(std::make_error_code(std::errc::address_family_not_supported));
}

}  // namespace net_tcp_socket_impl

io::Result<TcpSocket> TcpSocket::new_v4() noexcept {
  auto fd = detail::new_socket(AF_INET, SOCK_STREAM);
  if (!fd) return tokio::unexpected(fd.error());
  return TcpSocket(std::move(*fd), AF_INET);
}

io::Result<TcpSocket> TcpSocket::new_v6() noexcept {
  auto fd = detail::new_socket(AF_INET6, SOCK_STREAM);
  if (!fd) return tokio::unexpected(fd.error());
  return TcpSocket(std::move(*fd), AF_INET6);
}

io::Result<TcpSocket> TcpSocket::from_std_stream(int fd) noexcept {
  detail::OwnedFd owned(fd);
  auto domain = detail::get_opt(fd, SOL_SOCKET, SO_DOMAIN);
  if (!domain) return tokio::unexpected(domain.error());
  auto type = detail::get_opt(fd, SOL_SOCKET, SO_TYPE);
  if (!type) return tokio::unexpected(type.error());
  if ((*domain != AF_INET && *domain != AF_INET6) || *type != SOCK_STREAM) {
    return tokio::unexpected(std::make_error_code(std::errc::invalid_argument));
  }
  if (auto r = detail::set_nonblocking(fd); !r) return tokio::unexpected(r.error());
  return TcpSocket(std::move(owned), *domain);
}

io::Result<void> TcpSocket::set_reuseaddr(bool on) noexcept {
  return detail::set_opt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, on);
}
io::Result<bool> TcpSocket::reuseaddr() const noexcept {
  return detail::get_flag(fd_.get(), SOL_SOCKET, SO_REUSEADDR);
}
io::Result<void> TcpSocket::set_reuseport(bool on) noexcept {
  return detail::set_opt(fd_.get(), SOL_SOCKET, SO_REUSEPORT, on);
}
io::Result<bool> TcpSocket::reuseport() const noexcept {
  return detail::get_flag(fd_.get(), SOL_SOCKET, SO_REUSEPORT);
}
io::Result<void> TcpSocket::set_keepalive(bool on) noexcept {
  return detail::set_opt(fd_.get(), SOL_SOCKET, SO_KEEPALIVE, on);
}
io::Result<bool> TcpSocket::keepalive() const noexcept {
  return detail::get_flag(fd_.get(), SOL_SOCKET, SO_KEEPALIVE);
}
io::Result<void> TcpSocket::set_nodelay(bool on) noexcept {
  return detail::set_opt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, on);
}
io::Result<bool> TcpSocket::nodelay() const noexcept {
  return detail::get_flag(fd_.get(), IPPROTO_TCP, TCP_NODELAY);
}
io::Result<void> TcpSocket::set_send_buffer_size(uint32_t n) noexcept {
  return detail::set_opt(fd_.get(), SOL_SOCKET, SO_SNDBUF, static_cast<int>(n));
}
io::Result<uint32_t> TcpSocket::send_buffer_size() const noexcept {
  return detail::get_uint(fd_.get(), SOL_SOCKET, SO_SNDBUF);
}
io::Result<void> TcpSocket::set_recv_buffer_size(uint32_t n) noexcept {
  return detail::set_opt(fd_.get(), SOL_SOCKET, SO_RCVBUF, static_cast<int>(n));
}
io::Result<uint32_t> TcpSocket::recv_buffer_size() const noexcept {
  return detail::get_uint(fd_.get(), SOL_SOCKET, SO_RCVBUF);
}

io::Result<void> TcpSocket::set_tos(uint32_t tos) noexcept {
  return detail::set_tos(fd_.get(), tos);
}
io::Result<SocketAddr> TcpSocket::local_addr() const noexcept {
  return detail::inet_sock_name(fd_.get());
}
io::Result<uint32_t> TcpSocket::tos() const noexcept { return detail::get_tos(fd_.get()); }
io::Result<void> TcpSocket::bind_device(std::optional<std::string_view> interface) noexcept {
  return detail::bind_device(fd_.get(), interface);
}
io::Result<std::optional<std::string>> TcpSocket::device() const {
  return detail::device(fd_.get());
}

io::Result<void> TcpSocket::bind(const ToSocketAddrs& addr) {
  auto a = net_tcp_socket_impl::tcp_socket_literal(addr, family_);
  if (!a) return tokio::unexpected(a.error());
  sockaddr_storage ss;
  socklen_t len = a->to_sockaddr(ss);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return io::last_os_error();
  return {};
}

io::Result<TcpListener> TcpSocket::listen(uint32_t backlog) && {
  if (::listen(fd_.get(), static_cast<int>(backlog)) < 0) return io::last_os_error();
  auto sock =
      detail::PollSocket::adopt(std::move(fd_), io::Interest::READABLE, "TcpSocket::listen");
  if (!sock) return tokio::unexpected(sock.error());
  return TcpListener(std::move(*sock));
}

Task<io::Result<TcpStream>> TcpSocket::connect(ToSocketAddrs addr) && {
  return connect_impl(std::move(fd_), family_, std::move(addr));
}

Task<io::Result<TcpStream>> TcpSocket::connect_impl(detail::OwnedFd fd, int family,
                                                    ToSocketAddrs addr) {
  // A literal address resolves in lookup_host without a lookup (one small frame).
  io::Result<std::vector<SocketAddr>> addrs = co_await lookup_host(std::move(addr));
  if (!addrs) co_return tokio::unexpected(addrs.error());
  // A socket can attempt one connection (net_tcp_socket_impl::address_for).
  if (const SocketAddr* a = net_tcp_socket_impl::address_for(*addrs, family)) {
    co_return co_await TcpStream::connect_fd(std::move(fd), *a);
  }
  co_return tokio::unexpected(std::make_error_code(std::errc::address_family_not_supported));
}

io::Result<void> TcpSocket::set_linger(std::optional<std::chrono::seconds> d) noexcept {
  return detail::set_linger(fd_.get(), d);
}
io::Result<std::optional<std::chrono::seconds>> TcpSocket::linger() const noexcept {
  return detail::get_linger(fd_.get());
}
io::Result<std::optional<std::error_code>> TcpSocket::take_error() const noexcept {
  return detail::take_socket_error(fd_.get());
}

}  // namespace tokio::net
