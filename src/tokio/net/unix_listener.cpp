#include "tokio/net/unix_listener.hpp"

namespace tokio::net {

io::Result<UnixListener> UnixListener::bind(std::string_view path) {
  auto addr = UnixSocketAddr::from_pathname(path);
  if (!addr) return tokio::unexpected(addr.error());
  auto fd = detail::new_socket(AF_UNIX, SOCK_STREAM);
  if (!fd) return tokio::unexpected(fd.error());
  if (::bind(fd->get(), addr->raw(), addr->raw_len()) < 0) return io::last_os_error();
  if (::listen(fd->get(), 1024) < 0) return io::last_os_error();
  auto sock =
      detail::PollSocket::adopt(std::move(*fd), io::Interest::READABLE, "UnixListener::bind");
  if (!sock) return tokio::unexpected(sock.error());
  return UnixListener(std::move(*sock));
}

io::Result<UnixSocketAddr> UnixListener::local_addr() const noexcept {
  return detail_unix::sock_name(sock_.fd());
}

io::Result<UnixListener> UnixListener::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, io::Interest::READABLE, "UnixListener::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return UnixListener(std::move(*sock));
}

io::Result<std::pair<UnixStream, UnixSocketAddr>> UnixListener::MakeAccepted::make(
    detail::OwnedFd fd, const sockaddr_storage& ss, socklen_t len) {
  auto peer = detail_unix::AddrConv::convert(ss, len);
  auto sock = detail::PollSocket::adopt(std::move(fd), detail::kReadWrite, "UnixListener::accept",
                                        detail::kConnected);
  if (!sock) return tokio::unexpected(sock.error());
  return std::pair<UnixStream, UnixSocketAddr>(UnixStream(std::move(*sock)), *peer);
}

io::Result<std::optional<std::error_code>> UnixListener::take_error() const noexcept {
  return detail::take_socket_error(sock_.fd());
}

}  // namespace tokio::net
