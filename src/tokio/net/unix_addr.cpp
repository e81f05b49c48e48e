#include "tokio/net/unix_addr.hpp"

#include <cstring>

#include "tokio/net/errors.hpp"

namespace tokio::net {

namespace net_unix_addr_impl {
constexpr socklen_t kUnixPathOffset = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
}

UnixSocketAddr::UnixSocketAddr() noexcept : sa_{}, len_(net_unix_addr_impl::kUnixPathOffset) {
  sa_.sun_family = AF_UNIX;
}

io::Result<UnixSocketAddr> UnixSocketAddr::from_pathname(std::string_view path) {
  UnixSocketAddr a;
  if (path.empty()) return tokio::unexpected(make_error_code(AddrErrc::empty_path));
  // A path needs room for its terminating NUL; an abstract name does not.
  std::size_t cap = sizeof a.sa_.sun_path - (path[0] == '\0' ? 0 : 1);
  if (path.size() > cap) return tokio::unexpected(make_error_code(AddrErrc::path_too_long));
  // bind/connect would stop at an inner NUL of a pathname: "/tmp/a\0b" must not mean "/tmp/a".
  if (path[0] != '\0' && path.find('\0') != std::string_view::npos) {
    return tokio::unexpected(make_error_code(AddrErrc::invalid_path));
  }
  std::memcpy(a.sa_.sun_path, path.data(), path.size());
  a.len_ = net_unix_addr_impl::kUnixPathOffset + static_cast<socklen_t>(path.size()) +
           (path[0] == '\0' ? 0 : 1);
  return a;
}

UnixSocketAddr UnixSocketAddr::from_raw(const sockaddr_un& sa, socklen_t len) noexcept {
  UnixSocketAddr a;
  if (len > static_cast<socklen_t>(sizeof sa)) len = sizeof sa;
  if (len < net_unix_addr_impl::kUnixPathOffset) len = net_unix_addr_impl::kUnixPathOffset;
  std::memcpy(&a.sa_, &sa, len);
  a.sa_.sun_family = AF_UNIX;
  a.len_ = len;
  return a;
}

UnixSocketAddr::Kind UnixSocketAddr::kind() const noexcept {
  if (len_ <= net_unix_addr_impl::kUnixPathOffset) return Kind::Unnamed;
  return sa_.sun_path[0] == '\0' ? Kind::Abstract : Kind::Path;
}

std::string_view UnixSocketAddr::name() const noexcept {
  std::size_t n = len_ - net_unix_addr_impl::kUnixPathOffset;
  if (kind() == Kind::Abstract) return {sa_.sun_path + 1, n - 1};
  std::string_view s(sa_.sun_path, n);
  if (auto z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);
  return s;
}

std::optional<std::string> UnixSocketAddr::as_pathname() const {
  if (kind() != Kind::Path) return std::nullopt;
  return std::string(name());
}

std::optional<std::string> UnixSocketAddr::as_abstract_name() const {
  if (kind() != Kind::Abstract) return std::nullopt;
  return std::string(name());
}

std::string UnixSocketAddr::to_string() const {
  switch (kind()) {
    case Kind::Unnamed: return "(unnamed)";
    case Kind::Abstract: return "@" + std::string(name());
    case Kind::Path: break;
  }
  return std::string(name());
}

std::optional<pid_t> UCred::pid() const noexcept {
  return pid_ ? std::optional<pid_t>(pid_) : std::nullopt;
}

bool operator==(const UnixSocketAddr& a, const UnixSocketAddr& b) noexcept {
  return a.kind() == b.kind() && a.name() == b.name();
}

namespace detail_unix {

io::Result<UnixSocketAddr> AddrConv::convert(const sockaddr_storage& ss, socklen_t len) noexcept {
  return UnixSocketAddr::from_raw(reinterpret_cast<const sockaddr_un&>(ss), len);
}

io::Result<UnixSocketAddr> sock_name(int fd) noexcept {
  sockaddr_un sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return io::last_os_error();
  return UnixSocketAddr::from_raw(sa, len);
}

io::Result<UnixSocketAddr> peer_name(int fd) noexcept {
  sockaddr_un sa{};
  socklen_t len = sizeof sa;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return io::last_os_error();
  return UnixSocketAddr::from_raw(sa, len);
}

io::Result<UCred> peer_cred(int fd) noexcept {
  ucred c{};
  socklen_t len = sizeof c;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) return io::last_os_error();
  UCred out;
  out.pid_ = c.pid;
  out.uid_ = c.uid;
  out.gid_ = c.gid;
  return out;
}

}  // namespace detail_unix

}  // namespace tokio::net
