#include "tokio/net/unix_stream.hpp"

namespace tokio::net {

Task<io::Result<UnixStream>> UnixStream::connect_addr(io::Result<UnixSocketAddr> addr) {
  if (!addr) co_return tokio::unexpected(addr.error());
  auto fd = detail::new_socket(AF_UNIX, SOCK_STREAM);
  if (!fd) co_return tokio::unexpected(fd.error());
  auto sock = co_await detail::connect_socket(std::move(*fd), addr->raw(), addr->raw_len(),
                                              "UnixStream::connect");
  if (!sock) co_return tokio::unexpected(sock.error());
  co_return UnixStream(std::move(*sock));
}

io::Result<std::pair<UnixStream, UnixStream>> UnixStream::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    return io::last_os_error();
  }
  detail::OwnedFd a(fds[0]), b(fds[1]);
  auto sa = detail::PollSocket::adopt(std::move(a), detail::kReadWrite, "UnixStream::pair",
                                      io::Ready::kWritable);
  if (!sa) return tokio::unexpected(sa.error());
  auto sb = detail::PollSocket::adopt(std::move(b), detail::kReadWrite, "UnixStream::pair",
                                      io::Ready::kWritable);
  if (!sb) return tokio::unexpected(sb.error());
  return std::pair<UnixStream, UnixStream>(UnixStream(std::move(*sa)), UnixStream(std::move(*sb)));
}

io::Result<UnixSocketAddr> UnixStream::local_addr() const noexcept {
  return detail_unix::sock_name(sock_.fd());
}
io::Result<UnixSocketAddr> UnixStream::peer_addr() const noexcept {
  return detail_unix::peer_name(sock_.fd());
}
io::Result<UCred> UnixStream::peer_cred() const noexcept {
  return detail_unix::peer_cred(sock_.fd());
}

io::Result<UnixStream> UnixStream::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, detail::kReadWrite, "UnixStream::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return UnixStream(std::move(*sock));
}

std::pair<unix::ReadHalf, unix::WriteHalf> UnixStream::split() noexcept {
  return {unix::ReadHalf(*this), unix::WriteHalf(*this)};
}

Task<io::Result<UnixStream>> UnixStream::connect(std::string_view path) {
  return connect_addr(UnixSocketAddr::from_pathname(path));
}

}  // namespace tokio::net
