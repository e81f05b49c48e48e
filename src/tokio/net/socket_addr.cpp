#include "tokio/net/socket_addr.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "tokio/net/errors.hpp"

namespace tokio::net {

namespace net_socket_addr_impl {
template <class T>
io::Result<T> addr_error(AddrErrc e) {
  return tokio::unexpected(make_error_code(e));
}
}  // namespace net_socket_addr_impl

// --- Ipv4Addr / Ipv6Addr / IpAddr ---------------------------------------------------------
io::Result<Ipv4Addr> Ipv4Addr::parse(std::string_view s) {
  char buf[INET_ADDRSTRLEN];
  // A NUL inside would end inet_pton's string early: "127.0.0.1\0junk" is not an address.
  if (s.empty() || s.size() >= sizeof buf || s.find('\0') != std::string_view::npos)
    return net_socket_addr_impl::addr_error<Ipv4Addr>(AddrErrc::invalid_ip_address);
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  in_addr a;
  if (::inet_pton(AF_INET, buf, &a) != 1)
    return net_socket_addr_impl::addr_error<Ipv4Addr>(AddrErrc::invalid_ip_address);
  std::array<uint8_t, 4> o;
  std::memcpy(o.data(), &a, 4);
  return Ipv4Addr(o);
}

std::string Ipv4Addr::to_string() const {
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, o_.data(), buf, sizeof buf);
  return buf;
}

io::Result<Ipv6Addr> Ipv6Addr::parse(std::string_view s) {
  char buf[INET6_ADDRSTRLEN];
  if (s.empty() || s.size() >= sizeof buf || s.find('\0') != std::string_view::npos)
    return net_socket_addr_impl::addr_error<Ipv6Addr>(AddrErrc::invalid_ip_address);
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  in6_addr a;
  if (::inet_pton(AF_INET6, buf, &a) != 1)
    return net_socket_addr_impl::addr_error<Ipv6Addr>(AddrErrc::invalid_ip_address);
  std::array<uint8_t, 16> o;
  std::memcpy(o.data(), &a, 16);
  return Ipv6Addr(o);
}

// RFC 5952's text form, as Rust's std prints it: lowercase hex words without leading
// zeros, the longest run of two or more zero words (the first of equal runs) as "::", and
// a dotted IPv4 tail only for an IPv4-mapped address (::ffff:a.b.c.d). glibc's inet_ntop
// also prints the deprecated IPv4-compatible form (::7f00:1 as ::127.0.0.1) dotted.
std::string Ipv6Addr::to_string() const {
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(o_[2 * i] << 8 | o_[2 * i + 1]);
  if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0xFFFF) {
    return "::ffff:" + Ipv4Addr(o_[12], o_[13], o_[14], o_[15]).to_string();
  }
  int best = -1, best_len = 1;  // a run must be longer than one word
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  std::string out;
  out.reserve(INET6_ADDRSTRLEN);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (w[i] >> shift) & 0xF;
      if (d == 0 && !started && shift != 0) continue;
      started = true;
      out += kHex[d];
    }
  }
  return out;
}

io::Result<IpAddr> IpAddr::parse(std::string_view s) {
  if (s.find(':') != std::string_view::npos) {
    auto a = Ipv6Addr::parse(s);
    if (!a) return tokio::unexpected(a.error());
    return IpAddr(*a);
  }
  auto a = Ipv4Addr::parse(s);
  if (!a) return tokio::unexpected(a.error());
  return IpAddr(*a);
}

// --- SocketAddr ---------------------------------------------------------------------------
// Decimal digits only, any number of them (leading zeros included, as Rust's parser takes
// them: "1.2.3.4:0000080" is port 80), the value at most 65535.
bool detail_addr::parse_port(std::string_view s, uint16_t& out) noexcept {
  if (s.empty()) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint32_t(c - '0');
    if (v > 65535) return false;
  }
  out = static_cast<uint16_t>(v);
  return true;
}

io::Result<SocketAddr> detail_addr::parse_scoped_ipv6(std::string_view s, uint16_t port) {
  uint32_t scope = 0;
  if (auto pct = s.find('%'); pct != std::string_view::npos) {
    // A numeric scope id only, as Rust's parser: at most 10 digits and below 2^32.
    std::string_view sc = s.substr(pct + 1);
    if (sc.empty() || sc.size() > 10)
      return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
    uint64_t v = 0;
    for (char c : sc) {
      if (c < '0' || c > '9')
        return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
      v = v * 10 + uint64_t(c - '0');
    }
    if (v > 0xFFFFFFFFull)
      return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
    scope = static_cast<uint32_t>(v);
    s = s.substr(0, pct);
  }
  auto ip = Ipv6Addr::parse(s);
  if (!ip) return tokio::unexpected(ip.error());
  return SocketAddr(*ip, port, 0, scope);
}

io::Result<SocketAddr> SocketAddr::parse(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
    }
    uint16_t port;
    if (!detail_addr::parse_port(s.substr(close + 2), port)) {
      return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_port);
    }
    return detail_addr::parse_scoped_ipv6(s.substr(1, close - 1), port);
  }
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos)
    return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
  std::string_view host = s.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    // An IPv6 address with a port must be bracketed: "[::1]:80".
    return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_socket_address);
  }
  uint16_t port;
  if (!detail_addr::parse_port(s.substr(colon + 1), port)) {
    return net_socket_addr_impl::addr_error<SocketAddr>(AddrErrc::invalid_port);
  }
  auto ip = Ipv4Addr::parse(host);
  if (!ip) return tokio::unexpected(ip.error());
  return SocketAddr(*ip, port);
}

std::string SocketAddr::to_string() const {
  if (is_ipv4()) return ip_.to_string() + ":" + std::to_string(port_);
  std::string s = "[" + ip_.to_string();
  if (scope_id_) s += "%" + std::to_string(scope_id_);
  return s + "]:" + std::to_string(port_);
}

socklen_t SocketAddr::to_sockaddr(sockaddr_storage& out) const noexcept {
  std::memset(&out, 0, sizeof out);
  if (is_ipv4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port_);
    auto o = ip_.v4().octets();
    std::memcpy(&sin->sin_addr, o.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port_);
  sin6->sin6_flowinfo = htonl(flowinfo_);
  sin6->sin6_scope_id = scope_id_;
  auto o = ip_.v6().octets();
  std::memcpy(&sin6->sin6_addr, o.data(), 16);
  return sizeof(sockaddr_in6);
}

io::Result<SocketAddr> SocketAddr::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
  // The length first: sa_family itself lies past a buffer shorter than 2 bytes.
  if (sa && len >= static_cast<socklen_t>(sizeof(sockaddr_in)) && sa->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    std::array<uint8_t, 4> o;
    std::memcpy(o.data(), &sin.sin_addr, 4);
    return SocketAddr(Ipv4Addr(o), ntohs(sin.sin_port));
  }
  if (sa && len >= static_cast<socklen_t>(sizeof(sockaddr_in6)) && sa->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    std::array<uint8_t, 16> o;
    std::memcpy(o.data(), &sin6.sin6_addr, 16);
    return SocketAddr(Ipv6Addr(o), ntohs(sin6.sin6_port), ntohl(sin6.sin6_flowinfo),
                      sin6.sin6_scope_id);
  }
  return tokio::unexpected(std::make_error_code(std::errc::address_family_not_supported));
}

}  // namespace tokio::net
