#pragma once
// net::TcpSocket: a TCP socket not yet connected or listening, for setting options first.
//
//   auto sock = tokio::net::TcpSocket::new_v4().value();
//   (void)sock.set_reuseaddr(true);
//   (void)sock.set_send_buffer_size(4096);
//   (void)sock.bind("127.0.0.1:0");
//   auto listener = std::move(sock).listen(128);          // io::Result<TcpListener>
//   // or: auto stream = co_await std::move(sock).connect(addr);
//
// bind() (synchronous) takes literal addresses (a SocketAddr, "1.2.3.4:80", "[::1]:80"): a
// host name gives AddrErrc::host_needs_lookup. connect() also resolves host names, and
// connects to the first address of the socket's family. With no address of its family,
// both hand the first address to the kernel, whose errno is Tokio's (EINVAL for IPv4 on an
// IPv6 socket, EAFNOSUPPORT for IPv6 on an IPv4 one).
// Cancel safety: destroying a pending connect closes the socket.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/net/lookup_host.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/tcp_listener.hpp"
#include "tokio/net/tcp_stream.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class TcpSocket {
 public:
  static io::Result<TcpSocket> new_v4() noexcept;
  static io::Result<TcpSocket> new_v6() noexcept;
  // Adopts a TCP socket that is not connected yet (Tokio's from_std_stream). The socket
  // owns `fd` from then on, and closes it if it is refused: not a socket (ENOTSOCK), or
  // not an IPv4/IPv6 stream socket (EINVAL).
  static io::Result<TcpSocket> from_std_stream(int fd) noexcept;
  TcpSocket(TcpSocket&&) noexcept = default;
  TcpSocket& operator=(TcpSocket&&) noexcept = default;

  io::Result<void> set_reuseaddr(bool on) noexcept;
  io::Result<bool> reuseaddr() const noexcept;
  io::Result<void> set_reuseport(bool on) noexcept;
  io::Result<bool> reuseport() const noexcept;
  io::Result<void> set_keepalive(bool on) noexcept;
  io::Result<bool> keepalive() const noexcept;
  io::Result<void> set_nodelay(bool on) noexcept;
  io::Result<bool> nodelay() const noexcept;
  // SO_SNDBUF / SO_RCVBUF. Linux doubles the value set and enforces a minimum.
  io::Result<void> set_send_buffer_size(uint32_t n) noexcept;
  io::Result<uint32_t> send_buffer_size() const noexcept;
  io::Result<void> set_recv_buffer_size(uint32_t n) noexcept;
  io::Result<uint32_t> recv_buffer_size() const noexcept;
  io::Result<void> set_linger(std::optional<std::chrono::seconds> d) noexcept;
  io::Result<std::optional<std::chrono::seconds>> linger() const noexcept;

  // The IP type-of-service byte (IP_TOS; IPV6_TCLASS on an IPv6 socket).
  io::Result<void> set_tos(uint32_t tos) noexcept;
  io::Result<uint32_t> tos() const noexcept;
  // Binds the socket to a network interface ("lo", "eth0"; SO_BINDTODEVICE, which needs
  // CAP_NET_RAW), or with nullopt / "" removes the binding. device(): nullopt when unbound.
  io::Result<void> bind_device(std::optional<std::string_view> interface) noexcept;
  io::Result<std::optional<std::string>> device() const;

  io::Result<void> bind(const ToSocketAddrs& addr);
  io::Result<SocketAddr> local_addr() const noexcept;
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

  // Consumes the socket.
  Task<io::Result<TcpStream>> connect(ToSocketAddrs addr) &&;
  io::Result<TcpListener> listen(uint32_t backlog) &&;
  template <class Self = TcpSocket>
  Task<io::Result<TcpStream>> connect(const ToSocketAddrs&) const& {
    static_assert(detail::consumes_self<Self>,
                  "TcpSocket::connect() consumes the socket: write "
                  "std::move(socket).connect(addr) (Rust moves it implicitly)");
    __builtin_unreachable();  // never instantiated without failing above
  }
  template <class Self = TcpSocket>
  detail::dependent_t<Self, io::Result<TcpListener>> listen(uint32_t) const& {
    static_assert(detail::consumes_self<Self>,
                  "TcpSocket::listen() consumes the socket: write "
                  "std::move(socket).listen(backlog) (Rust moves it implicitly)");
    __builtin_unreachable();  // never instantiated without failing above
  }

  int as_raw_fd() const noexcept { return fd_.get(); }
  int into_raw_fd() && noexcept { return fd_.release(); }

 private:
  explicit TcpSocket(detail::OwnedFd fd, int family) noexcept
      : fd_(std::move(fd)), family_(family) {}
  static Task<io::Result<TcpStream>> connect_impl(detail::OwnedFd fd, int family,
                                                  ToSocketAddrs addr);
  detail::OwnedFd fd_;
  int family_;
};

}  // namespace tokio::net
