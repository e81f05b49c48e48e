#include "tokio/net/errors.hpp"

#include <netdb.h>

#include <string>

namespace tokio::net {

namespace net_errors_impl {

class AddrCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.net.addr"; }
  std::string message(int c) const override {
    switch (static_cast<AddrErrc>(c)) {
      case AddrErrc::invalid_socket_address:
        return "invalid socket address: expected \"1.2.3.4:80\", \"[::1]:80\" or \"host:80\"";
      case AddrErrc::invalid_ip_address:
        return "invalid IP address: expected a dotted-quad IPv4 address or an IPv6 address";
      case AddrErrc::invalid_port: return "invalid port: expected a decimal number from 0 to 65535";
      case AddrErrc::host_needs_lookup:
        return "a host name needs a DNS lookup here: pass an IP address (or resolve it first "
               "with net::lookup_host)";
      case AddrErrc::no_addresses: return "the host name resolved to no usable address";
      case AddrErrc::path_too_long: return "Unix socket path too long (at most 107 bytes)";
      case AddrErrc::invalid_host_name:
        return "invalid host name: only letters, digits, '-', '_' and '.' are allowed (a NUL "
               "or any other byte would be cut off or misread by the resolver)";
      case AddrErrc::invalid_path:
        return "invalid Unix socket path: a pathname cannot contain a NUL byte (only an "
               "abstract name, which starts with one, may)";
      case AddrErrc::empty_path:
        return "invalid Unix socket path: it is empty (give a file name, or an abstract name "
               "starting with a NUL byte)";
      case AddrErrc::host_has_colon:
        return "invalid host: it contains a ':' but is not an IPv6 address (a port belongs in "
               "the port argument, not in the host; or the IPv6 literal is malformed)";
    }
    return "unknown address error";
  }
  std::error_condition default_error_condition(int c) const noexcept override {
    if (static_cast<AddrErrc>(c) == AddrErrc::no_addresses) {
      return std::errc::address_not_available;
    }
    return std::errc::invalid_argument;
  }
};

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int c) const override { return ::gai_strerror(c); }
};

}  // namespace net_errors_impl

const std::error_category& addr_category() noexcept {
  static const net_errors_impl::AddrCategory c;
  return c;
}

const std::error_category& gai_category() noexcept {
  static const net_errors_impl::GaiCategory c;
  return c;
}

}  // namespace tokio::net
