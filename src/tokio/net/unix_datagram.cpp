#include "tokio/net/unix_datagram.hpp"

namespace tokio::net {

io::Result<UnixDatagram> UnixDatagram::bind(std::string_view path) {
  auto addr = UnixSocketAddr::from_pathname(path);
  if (!addr) return tokio::unexpected(addr.error());
  auto fd = detail::new_socket(AF_UNIX, SOCK_DGRAM);
  if (!fd) return tokio::unexpected(fd.error());
  if (::bind(fd->get(), addr->raw(), addr->raw_len()) < 0) return io::last_os_error();
  auto sock = detail::PollSocket::adopt(std::move(*fd), detail::kReadWrite, "UnixDatagram::bind",
                                        io::Ready::kWritable);
  if (!sock) return tokio::unexpected(sock.error());
  return UnixDatagram(std::move(*sock));
}

io::Result<UnixDatagram> UnixDatagram::unbound() {
  auto fd = detail::new_socket(AF_UNIX, SOCK_DGRAM);
  if (!fd) return tokio::unexpected(fd.error());
  auto sock = detail::PollSocket::adopt(std::move(*fd), detail::kReadWrite, "UnixDatagram::unbound",
                                        io::Ready::kWritable);
  if (!sock) return tokio::unexpected(sock.error());
  return UnixDatagram(std::move(*sock));
}

io::Result<std::pair<UnixDatagram, UnixDatagram>> UnixDatagram::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
    return io::last_os_error();
  }
  detail::OwnedFd a(fds[0]), b(fds[1]);
  auto sa = detail::PollSocket::adopt(std::move(a), detail::kReadWrite, "UnixDatagram::pair",
                                      io::Ready::kWritable);
  if (!sa) return tokio::unexpected(sa.error());
  auto sb = detail::PollSocket::adopt(std::move(b), detail::kReadWrite, "UnixDatagram::pair",
                                      io::Ready::kWritable);
  if (!sb) return tokio::unexpected(sb.error());
  return std::pair<UnixDatagram, UnixDatagram>(UnixDatagram(std::move(*sa)),
                                               UnixDatagram(std::move(*sb)));
}

io::Result<UnixSocketAddr> UnixDatagram::local_addr() const noexcept {
  return detail_unix::sock_name(sock_.fd());
}
io::Result<UnixSocketAddr> UnixDatagram::peer_addr() const noexcept {
  return detail_unix::peer_name(sock_.fd());
}

io::Result<UnixDatagram> UnixDatagram::from_std(int fd) {
  auto sock = detail::PollSocket::from_std(fd, detail::kReadWrite, "UnixDatagram::from_std");
  if (!sock) return tokio::unexpected(sock.error());
  return UnixDatagram(std::move(*sock));
}

io::Result<void> UnixDatagram::connect(std::string_view path) noexcept {
  auto addr = UnixSocketAddr::from_pathname(path);
  if (!addr) return tokio::unexpected(addr.error());
  if (::connect(sock_.fd(), addr->raw(), addr->raw_len()) < 0) return io::last_os_error();
  return {};
}

io::Result<std::size_t> UnixDatagram::try_send(io::ConstBuffer buf) noexcept {
  detail::SendOp op{{}, sock_.fd(), buf.data(), buf.size(), false};
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
}

io::Result<std::size_t> UnixDatagram::try_recv(io::MutableBuffer buf) noexcept {
  detail::RecvOp op{{}, sock_.fd(), buf.data(), buf.size(), 0, false};
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<std::size_t> UnixDatagram::try_send_to(io::ConstBuffer buf,
                                                  std::string_view path) noexcept {
  detail::SendToOp op{{}, sock_.fd(), buf.data(), buf.size(), {}, 0};
  if (std::error_code e = detail_unix::set_path(op, path)) return tokio::unexpected(e);
  return detail::finish_size(detail::try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
}

io::Result<std::pair<std::size_t, UnixSocketAddr>> UnixDatagram::try_recv_from(
    io::MutableBuffer buf) noexcept {
  detail::RecvFromOp<detail_unix::AddrConv> op(sock_.fd(), buf.data(), buf.size(), 0);
  return op.finish(detail::try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
}

io::Result<std::optional<std::error_code>> UnixDatagram::take_error() const noexcept {
  return detail::take_socket_error(sock_.fd());
}

}  // namespace tokio::net
