#pragma once
// net::UnixSocketAddr (the address of a Unix domain socket: a path, an abstract name, or
// unnamed) and net::UCred (the credentials of the process at the other end).

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tokio/core/display.hpp"
#include "tokio/core/result.hpp"

namespace tokio::net {

class UnixSocketAddr {
 public:
  UnixSocketAddr() noexcept;  // unnamed
  // A filesystem path, or an abstract name when it starts with '\0'. Fails when longer
  // than sun_path (AddrErrc::path_too_long) or empty.
  static io::Result<UnixSocketAddr> from_pathname(std::string_view path);
  static UnixSocketAddr from_raw(const sockaddr_un& sa, socklen_t len) noexcept;

  bool is_unnamed() const noexcept { return kind() == Kind::Unnamed; }
  // The filesystem path, if the address is one.
  std::optional<std::string> as_pathname() const;
  // The abstract name (without the leading NUL), if the address is one.
  std::optional<std::string> as_abstract_name() const;
  // The path, "@name" for an abstract name, "(unnamed)" otherwise.
  std::string to_string() const;

  const sockaddr* raw() const noexcept { return reinterpret_cast<const sockaddr*>(&sa_); }
  socklen_t raw_len() const noexcept { return len_; }

  friend bool operator==(const UnixSocketAddr& a, const UnixSocketAddr& b) noexcept;

 private:
  enum class Kind { Unnamed, Path, Abstract };
  Kind kind() const noexcept;
  std::string_view name() const noexcept;  // path or abstract name bytes
  sockaddr_un sa_;
  socklen_t len_;
};

// SO_PEERCRED of a connected Unix socket.
struct UCred {
  pid_t pid_ = 0;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  std::optional<pid_t> pid() const noexcept;
  uid_t uid() const noexcept { return uid_; }
  gid_t gid() const noexcept { return gid_; }
};

// `os << addr` and (TOKIO_CONFIG_STD_FORMAT) std::format("{}", addr): the to_string() form.
using detail::operator<<;

namespace detail_unix {
io::Result<UnixSocketAddr> sock_name(int fd) noexcept;
io::Result<UnixSocketAddr> peer_name(int fd) noexcept;
io::Result<UCred> peer_cred(int fd) noexcept;
struct AddrConv {
  using type = UnixSocketAddr;
  // Out of line (unix_addr.cpp), as the other Result-returning members here: an inline
  // body would instantiate io::Result<UnixSocketAddr> in every user TU.
  static io::Result<UnixSocketAddr> convert(const sockaddr_storage& ss, socklen_t len) noexcept;
};
}  // namespace detail_unix

}  // namespace tokio::net

namespace tokio::detail {
template <>
struct enable_display<net::UnixSocketAddr> : std::true_type {};  // `os << addr`: to_string()
}  // namespace tokio::detail
