#pragma once
// net::SocketAddr: an IPv4 or IPv6 address with a port.
//
//   auto a = tokio::net::SocketAddr::parse("127.0.0.1:8080");   // io::Result<SocketAddr>
//   auto b = tokio::net::SocketAddr::parse("[::1]:80");
//   a->to_string();                                              // "127.0.0.1:8080"
//   tokio::net::SocketAddr(tokio::net::Ipv4Addr::localhost(), 0);
//
// parse() accepts literal addresses only ("ip:port", "[ipv6]:port", "[ipv6%scope]:port");
// host names go through net::lookup_host (every API taking an address does that itself).

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokio/core/result.hpp"
#include "tokio/net/ip_addr.hpp"

namespace tokio::net {

class SocketAddr {
 public:
  constexpr SocketAddr() noexcept = default;  // 0.0.0.0:0
  constexpr SocketAddr(IpAddr ip, uint16_t port) noexcept : ip_(ip), port_(port) {}
  constexpr SocketAddr(Ipv4Addr ip, uint16_t port) noexcept : ip_(ip), port_(port) {}
  constexpr SocketAddr(Ipv6Addr ip, uint16_t port, uint32_t flowinfo = 0,
                       uint32_t scope_id = 0) noexcept
      : ip_(ip), port_(port), flowinfo_(flowinfo), scope_id_(scope_id) {}

  static io::Result<SocketAddr> parse(std::string_view s);

  constexpr IpAddr ip() const noexcept { return ip_; }
  constexpr uint16_t port() const noexcept { return port_; }
  constexpr void set_ip(IpAddr ip) noexcept { ip_ = ip; }
  constexpr void set_port(uint16_t p) noexcept { port_ = p; }
  constexpr bool is_ipv4() const noexcept { return ip_.is_ipv4(); }
  constexpr bool is_ipv6() const noexcept { return ip_.is_ipv6(); }
  constexpr uint32_t flowinfo() const noexcept { return flowinfo_; }
  constexpr uint32_t scope_id() const noexcept { return scope_id_; }

  // "1.2.3.4:80", "[::1]:80", "[fe80::1%2]:80".
  std::string to_string() const;

  // Conversions to and from the C socket API.
  socklen_t to_sockaddr(sockaddr_storage& out) const noexcept;
  static io::Result<SocketAddr> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;
  int family() const noexcept { return is_ipv4() ? AF_INET : AF_INET6; }

  friend constexpr bool operator==(const SocketAddr& a, const SocketAddr& b) noexcept {
    return a.ip_ == b.ip_ && a.port_ == b.port_ && a.flowinfo_ == b.flowinfo_ &&
           a.scope_id_ == b.scope_id_;
  }

 private:
  IpAddr ip_{};
  uint16_t port_ = 0;
  uint32_t flowinfo_ = 0;
  uint32_t scope_id_ = 0;
};

namespace detail_addr {
// Parses a decimal port ("0".."65535").
bool parse_port(std::string_view s, uint16_t& out) noexcept;
// Parses an IPv6 literal with an optional numeric scope id ("fe80::1%3"), without
// brackets, into a SocketAddr with `port`: the one scope grammar of SocketAddr::parse's
// "[v6%scope]:port" and of the (host, port) form of ToSocketAddrs.
io::Result<SocketAddr> parse_scoped_ipv6(std::string_view s, uint16_t port);
}  // namespace detail_addr

}  // namespace tokio::net

namespace tokio::detail {
template <>
struct enable_display<net::SocketAddr> : std::true_type {};
}  // namespace tokio::detail

template <>
struct std::hash<tokio::net::SocketAddr> {
  std::size_t operator()(const tokio::net::SocketAddr& a) const noexcept {
    std::size_t h = a.port();
    auto mix = [&](uint8_t b) { h = h * 131 + b; };
    if (a.is_ipv4()) {
      for (uint8_t b : a.ip().v4().octets()) mix(b);
    } else {
      for (uint8_t b : a.ip().v6().octets()) mix(b);
      h ^= a.scope_id();
    }
    return h;
  }
};
