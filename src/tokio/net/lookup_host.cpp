#include "tokio/net/lookup_host.hpp"

#include <netdb.h>

#include <algorithm>

#include "tokio/net/errors.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::net {

namespace net_lookup_host_impl {
io::Result<std::vector<SocketAddr>> lookup_one(SocketAddr a) { return std::vector<SocketAddr>{a}; }
io::Result<std::vector<SocketAddr>> lookup_fail(AddrErrc e) {
  return tokio::unexpected(make_error_code(e));
}

// A name getaddrinfo may see: letters, digits, '-', '_' and '.', at most 253 bytes (RFC 1123,
// plus the underscore real zones use). Anything else, a NUL above all, is refused before
// the resolver could cut the name short ("localhost\0.evil.example" must not resolve
// localhost).
bool valid_host_name(std::string_view h) noexcept {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Splits "host:port" (host may be "[v6]"). Returns false when malformed.
bool split_host_port(std::string_view s, std::string_view& host, uint16_t& port, AddrErrc& err) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    err = AddrErrc::invalid_socket_address;
    return false;
  }
  host = s.substr(0, colon);
  if (host.empty() || host.find(':') != std::string_view::npos || host.front() == '[') {
    err = AddrErrc::invalid_socket_address;
    return false;
  }
  if (!detail_addr::parse_port(s.substr(colon + 1), port)) {
    err = AddrErrc::invalid_port;
    return false;
  }
  return true;
}
}  // namespace net_lookup_host_impl

ToSocketAddrs::ToSocketAddrs(SocketAddr a) : kind_(Kind::List), addrs_{a} {}
ToSocketAddrs::ToSocketAddrs(IpAddr ip, uint16_t port)
    : kind_(Kind::List), addrs_{SocketAddr(ip, port)} {}
ToSocketAddrs::ToSocketAddrs(std::vector<SocketAddr> list)
    : kind_(Kind::List), addrs_(std::move(list)) {}
ToSocketAddrs::ToSocketAddrs(std::span<const SocketAddr> list)
    : kind_(Kind::List), addrs_(list.begin(), list.end()) {}
ToSocketAddrs::ToSocketAddrs(const char* host_port) : kind_(Kind::Text), text_(host_port) {}
ToSocketAddrs::ToSocketAddrs(std::string_view host_port) : kind_(Kind::Text), text_(host_port) {}
ToSocketAddrs::ToSocketAddrs(const std::string& host_port) : kind_(Kind::Text), text_(host_port) {}
ToSocketAddrs::ToSocketAddrs(std::string_view host, uint16_t port)
    : kind_(Kind::HostPort), text_(host), port_(port) {}
ToSocketAddrs::ToSocketAddrs(const char* host, uint16_t port)
    : ToSocketAddrs(std::string_view(host), port) {}
ToSocketAddrs::ToSocketAddrs(const ToSocketAddrs& o) = default;
ToSocketAddrs::ToSocketAddrs(ToSocketAddrs&& o) noexcept = default;
ToSocketAddrs& ToSocketAddrs::operator=(const ToSocketAddrs& o) = default;
ToSocketAddrs& ToSocketAddrs::operator=(ToSocketAddrs&& o) noexcept = default;
ToSocketAddrs::~ToSocketAddrs() = default;

std::optional<io::Result<std::vector<SocketAddr>>> ToSocketAddrs::try_resolve() const {
  switch (kind_) {
    case Kind::List: return io::Result<std::vector<SocketAddr>>(addrs_);
    case Kind::Text: {
      auto lit = SocketAddr::parse(text_);
      if (lit) return net_lookup_host_impl::lookup_one(*lit);
      std::string_view host;
      uint16_t port;
      AddrErrc err;
      if (!net_lookup_host_impl::split_host_port(text_, host, port, err))
        return net_lookup_host_impl::lookup_fail(err);
      if (!net_lookup_host_impl::valid_host_name(host)) {
        return net_lookup_host_impl::lookup_fail(AddrErrc::invalid_host_name);
      }
      return std::nullopt;  // a host name
    }
    case Kind::HostPort: {
      if (text_.empty()) return net_lookup_host_impl::lookup_fail(AddrErrc::invalid_socket_address);
      std::string_view h = text_;
      const bool bracketed = h.size() >= 2 && h.front() == '[' && h.back() == ']';
      if (bracketed) h = h.substr(1, h.size() - 2);
      // A ':' only ever belongs to an IPv6 literal, which may carry a scope id as in
      // "[fe80::1%3]:80" (Rust's ("fe80::1%3", 80).to_socket_addrs() gives scope id 3).
      // Anything else with one is most likely "host:port" given as the host.
      if (h.find(':') != std::string_view::npos) {
        auto v6 = detail_addr::parse_scoped_ipv6(h, port_);
        if (v6) return net_lookup_host_impl::lookup_one(*v6);
        return net_lookup_host_impl::lookup_fail(AddrErrc::host_has_colon);
      }
      if (auto ip = IpAddr::parse(h))
        return net_lookup_host_impl::lookup_one(SocketAddr(*ip, port_));
      // Brackets only ever enclose an IP literal: "[name]" must not reach the resolver.
      if (bracketed) return net_lookup_host_impl::lookup_fail(AddrErrc::invalid_ip_address);
      if (!net_lookup_host_impl::valid_host_name(h)) {
        return net_lookup_host_impl::lookup_fail(AddrErrc::invalid_host_name);
      }
      return std::nullopt;
    }
  }
  return net_lookup_host_impl::lookup_fail(AddrErrc::invalid_socket_address);
}

io::Result<std::vector<SocketAddr>> ToSocketAddrs::resolve_blocking() const {
  if (auto r = try_resolve()) return std::move(*r);
  std::string host;
  uint16_t port = port_;
  if (kind_ == Kind::Text) {
    std::string_view h;
    AddrErrc err;
    if (!net_lookup_host_impl::split_host_port(text_, h, port, err))
      return net_lookup_host_impl::lookup_fail(err);
    host.assign(h);
  } else {
    host = text_;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc == EAI_SYSTEM) return io::last_os_error();
  if (rc != 0) return tokio::unexpected(std::error_code(rc, gai_category()));
  std::vector<SocketAddr> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    auto a = SocketAddr::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (!a) continue;
    a->set_port(port);
    if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) return net_lookup_host_impl::lookup_fail(AddrErrc::no_addresses);
  return out;
}

Task<io::Result<std::vector<SocketAddr>>> lookup_host(std::string_view host, uint16_t port) {
  return lookup_host(ToSocketAddrs(host, port));
}

Task<io::Result<std::vector<SocketAddr>>> lookup_host(ToSocketAddrs target) {
  if (auto r = target.try_resolve()) co_return std::move(*r);
  auto h = tokio::task::spawn_blocking([t = std::move(target)] { return t.resolve_blocking(); });
  auto r = co_await h.result();
  if (!r) co_return tokio::unexpected(std::make_error_code(std::errc::operation_canceled));
  co_return std::move(*r);
}

}  // namespace tokio::net
