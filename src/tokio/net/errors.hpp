#pragma once
// Errors of address parsing and name resolution.
//
//   net::AddrErrc    malformed addresses: compare equal to std::errc::invalid_argument,
//                    except no_addresses (a name resolved to nothing usable)
//   gai_category()   getaddrinfo(3) failures (EAI_* codes, gai_strerror messages), e.g.
//                    "Name or service not known" for an unknown host

#include <system_error>
#include <type_traits>

namespace tokio::net {

enum class AddrErrc {
  invalid_socket_address = 1,  // not "ip:port", "[v6]:port" or "host:port"
  invalid_ip_address,          // not a dotted-quad IPv4 or an IPv6 literal
  invalid_port,                // missing, not decimal, or above 65535
  host_needs_lookup,           // a host name where only a literal address is accepted
  no_addresses,                // the name resolved, but to no address of a usable family
  path_too_long,               // a Unix socket path longer than sun_path
  invalid_host_name,           // a byte no host name has (NUL, space, '/'...)
  invalid_path,                // a Unix socket pathname with a NUL inside
  empty_path,                  // a Unix socket path of no bytes
  host_has_colon,              // a (host, port) host with a ':' that is no IPv6 literal
};

const std::error_category& addr_category() noexcept;
const std::error_category& gai_category() noexcept;

inline std::error_code make_error_code(AddrErrc e) noexcept {
  return {static_cast<int>(e), addr_category()};
}

}  // namespace tokio::net

template <>
struct std::is_error_code_enum<tokio::net::AddrErrc> : std::true_type {};
