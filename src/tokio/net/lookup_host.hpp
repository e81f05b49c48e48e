#pragma once
// net::ToSocketAddrs (what every address-taking API accepts) and net::lookup_host.
//
//   co_await TcpStream::connect("127.0.0.1:8080");        // literal: no lookup
//   co_await TcpStream::connect("localhost:8080");        // host:port, resolved
//   co_await TcpStream::connect("example.test", 443);     // host and port
//   co_await TcpStream::connect(SocketAddr(...));
//   auto addrs = co_await tokio::net::lookup_host("localhost:80");  // io::Result<vector>
//
// Literal forms ("1.2.3.4:80", "[::1]:80", a SocketAddr, an IP and a port) resolve at once;
// in the (host, port) form an IPv6 host may be bracketed and scoped ("fe80::1%3" or
// "[fe80::1%3]", a numeric scope id), and any other host with a ':' is refused with
// AddrErrc::host_has_colon ("localhost:80" given as the host).
// a host name is resolved with getaddrinfo(3) on the blocking pool, so it never blocks a
// runtime thread. Malformed input gives an AddrErrc error (std::errc::invalid_argument),
// an unknown host a gai_category() error ("Name or service not known").
//
// Cancel safety: destroying a pending lookup_host detaches the lookup; it finishes on the
// blocking pool and its result is dropped.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/net/socket_addr.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class ToSocketAddrs {
 public:
  // (Defined in lookup_host.cpp, with the copy, move and destructor: made once per
  // connect/bind/lookup, and inline they would instantiate std::vector's members in every
  // TU that includes this header.)
  ToSocketAddrs(SocketAddr a);  // NOLINT
  ToSocketAddrs(IpAddr ip, uint16_t port);
  ToSocketAddrs(std::vector<SocketAddr> list);      // NOLINT
  ToSocketAddrs(std::span<const SocketAddr> list);  // NOLINT
  ToSocketAddrs(const char* host_port);             // NOLINT
  ToSocketAddrs(std::string_view host_port);        // NOLINT
  ToSocketAddrs(const std::string& host_port);      // NOLINT
  ToSocketAddrs(std::string_view host, uint16_t port);
  ToSocketAddrs(const char* host, uint16_t port);
  ToSocketAddrs(const ToSocketAddrs& o);
  ToSocketAddrs(ToSocketAddrs&& o) noexcept;
  ToSocketAddrs& operator=(const ToSocketAddrs& o);
  ToSocketAddrs& operator=(ToSocketAddrs&& o) noexcept;
  ~ToSocketAddrs();

  // The addresses when no DNS lookup is needed (or the parse error); nullopt when a host
  // name must be resolved with resolve_blocking().
  std::optional<io::Result<std::vector<SocketAddr>>> try_resolve() const;
  // Resolves with getaddrinfo (blocks: run it on the blocking pool).
  io::Result<std::vector<SocketAddr>> resolve_blocking() const;

 private:
  enum class Kind : uint8_t { List, Text, HostPort };
  Kind kind_;
  std::vector<SocketAddr> addrs_;
  std::string text_;
  uint16_t port_ = 0;
};

// Every address `target` stands for (literal at once, host names via the blocking pool).
Task<io::Result<std::vector<SocketAddr>>> lookup_host(ToSocketAddrs target);
Task<io::Result<std::vector<SocketAddr>>> lookup_host(std::string_view host, uint16_t port);

}  // namespace tokio::net
