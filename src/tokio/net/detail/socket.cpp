#include "tokio/net/detail/socket.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tokio::detail {

void OwnedFd::reset() noexcept {
  if (fd_ >= 0) {
    // close(2) is not retried on EINTR: on Linux the fd is released even then.
    ::close(fd_);
    fd_ = -1;
  }
}

io::Result<OwnedFd> new_socket(int domain, int type, int protocol) noexcept {
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return io::last_os_error();
  return OwnedFd(fd);
}

io::Result<void> set_nonblocking(int fd) noexcept {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return io::last_os_error();
  if (!(fl & O_NONBLOCK) && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return io::last_os_error();
  return {};
}

io::Result<void> set_opt(int fd, int level, int name, int value) noexcept {
  if (::setsockopt(fd, level, name, &value, sizeof value) < 0) return io::last_os_error();
  return {};
}

io::Result<int> get_opt(int fd, int level, int name) noexcept {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, name, &v, &len) < 0) return io::last_os_error();
  return v;
}

io::Result<bool> get_flag(int fd, int level, int name) noexcept {
  auto v = get_opt(fd, level, name);
  if (!v) return tokio::unexpected(v.error());
  return *v != 0;
}

io::Result<uint32_t> get_uint(int fd, int level, int name) noexcept {
  auto v = get_opt(fd, level, name);
  if (!v) return tokio::unexpected(v.error());
  return static_cast<uint32_t>(*v);
}

io::Result<void> bind_device(int fd, std::optional<std::string_view> interface) noexcept {
  std::string_view name = interface.value_or(std::string_view());
  if (name.size() >= IFNAMSIZ || name.find('\0') != std::string_view::npos) {
    return io::os_error(EINVAL);  // what the kernel says of a name it cannot hold
  }
  char buf[IFNAMSIZ] = {};
  name.copy(buf, name.size());
  if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, static_cast<socklen_t>(name.size())) < 0) {
    return io::last_os_error();
  }
  return {};
}
io::Result<std::optional<std::string>> device(int fd) {
  char buf[IFNAMSIZ] = {};
  socklen_t len = sizeof buf;
  if (::getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, buf, &len) < 0) {
    return io::last_os_error();
  }
  if (len == 0 || buf[0] == '\0') return std::optional<std::string>();
  return std::optional<std::string>(std::string(buf, ::strnlen(buf, len)));
}

namespace net_socket_impl {
bool is_v6(int fd) noexcept {
  auto d = get_opt(fd, SOL_SOCKET, SO_DOMAIN);
  return d && *d == AF_INET6;
}
}  // namespace net_socket_impl

io::Result<void> set_tos(int fd, uint32_t tos) noexcept {
  if (net_socket_impl::is_v6(fd)) return set_opt(fd, IPPROTO_IPV6, IPV6_TCLASS, int(tos));
  return set_opt(fd, IPPROTO_IP, IP_TOS, static_cast<int>(tos));
}
io::Result<uint32_t> get_tos(int fd) noexcept {
  if (net_socket_impl::is_v6(fd)) return get_uint(fd, IPPROTO_IPV6, IPV6_TCLASS);
  return get_uint(fd, IPPROTO_IP, IP_TOS);
}

io::Result<net::SocketAddr> inet_sock_name(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return io::last_os_error();
  return net::SocketAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

io::Result<net::SocketAddr> inet_peer_name(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return io::last_os_error();
  return net::SocketAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

io::Result<std::optional<std::error_code>> take_socket_error(int fd) noexcept {
  auto e = get_opt(fd, SOL_SOCKET, SO_ERROR);
  if (!e) return tokio::unexpected(e.error());
  if (*e == 0) return std::optional<std::error_code>();
  return std::optional<std::error_code>(std::error_code(*e, std::system_category()));
}

io::Result<void> shutdown_socket(int fd, net::Shutdown how) noexcept {
  int h = how == net::Shutdown::Read ? SHUT_RD : how == net::Shutdown::Write ? SHUT_WR : SHUT_RDWR;
  if (::shutdown(fd, h) < 0) return io::last_os_error();
  return {};
}

io::Result<void> set_linger(int fd, std::optional<std::chrono::seconds> d) noexcept {
  linger l{};
  l.l_onoff = d.has_value();
  l.l_linger = d ? static_cast<int>(d->count()) : 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) return io::last_os_error();
  return {};
}

io::Result<std::optional<std::chrono::seconds>> get_linger(int fd) noexcept {
  linger l{};
  socklen_t len = sizeof l;
  if (::getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) < 0) return io::last_os_error();
  if (!l.l_onoff) return std::optional<std::chrono::seconds>();
  return std::optional<std::chrono::seconds>(std::chrono::seconds(l.l_linger));
}

int64_t RecvOp::recv_inq() noexcept {
  iovec iov{p, n};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  for (;;) {
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    long r = ::recvmsg(fd, &m, flags);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
          int left;
          std::memcpy(&left, CMSG_DATA(c), sizeof left);
          empty = left == 0;
        }
      }
    }
    return sys_result(r);
  }
}

void RecvOp::enable_inq() noexcept {
  int one = 1;
  bool ok = ::setsockopt(fd, SOL_TCP, TCP_INQ, &one, sizeof one) == 0;
  inq->store(ok ? kInqOn : kInqOff, std::memory_order_relaxed);
}

io::Result<PollSocket> PollSocket::adopt(OwnedFd fd, io::Interest interest, const char* what,
                                         uint32_t ready) {
  auto reg = Registration::create(fd.get(), interest, what, ready);
  if (!reg) return tokio::unexpected(reg.error());  // fd closes here
  PollSocket s;
  s.fd_ = std::move(fd);
  s.reg_ = std::move(*reg);
  return s;
}

io::Result<void> PollSocket::reregister_here(io::Interest interest, const char* what) {
  auto reg = Registration::create(fd_.get(), interest, what);
  if (!reg) return tokio::unexpected(reg.error());
  reg_ = std::move(*reg);  // the old registration leaves its reactor here
  return {};
}

io::Result<PollSocket> PollSocket::from_std(int fd, io::Interest interest, const char* what) {
  OwnedFd owned(fd);
  if (auto r = set_nonblocking(fd); !r) return tokio::unexpected(r.error());  // fd closes here
  return adopt(std::move(owned), interest, what);
}

Task<io::Result<PollSocket>> connect_socket(OwnedFd fd, const sockaddr* addr, socklen_t len,
                                            const char* what) {
  int r = ::connect(fd.get(), addr, len);
  // EINTR: the connection attempt goes on asynchronously, exactly like EINPROGRESS.
  bool pending = r < 0 && (errno == EINPROGRESS || errno == EINTR);
  if (r < 0 && !pending) co_return io::last_os_error();
  if (pending) {
    // Over loopback the handshake has usually completed inside connect() already: one
    // getpeername spares the wait for the driver (and the park it implies). ENOTCONN
    // means still in progress, or failed (then SO_ERROR says why).
    sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    if (::getpeername(fd.get(), reinterpret_cast<sockaddr*>(&peer), &plen) == 0) {
      pending = false;
    } else {
      auto e = take_socket_error(fd.get());
      if (!e) co_return tokio::unexpected(e.error());
      if (*e) co_return tokio::unexpected(**e);
    }
  }
  auto sock =
      PollSocket::adopt(std::move(fd), kReadWrite, what, pending ? 0 : io::Ready::kWritable);
  if (!sock) co_return tokio::unexpected(sock.error());
  if (pending) {
    // Writable (or an error / hang-up) once the handshake finished either way.
    auto w = co_await ReadinessAwait<FinishVoid>(sock->io(), io::Interest::WRITABLE);
    if (!w) co_return tokio::unexpected(w.error());
    auto e = take_socket_error(sock->fd());
    if (!e) co_return tokio::unexpected(e.error());
    if (*e) co_return tokio::unexpected(**e);
  }
  co_return std::move(*sock);
}

io::Result<net::SocketAddr> InetAddrConv::convert(const sockaddr_storage& ss,
                                                  socklen_t len) noexcept {
  return net::SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

}  // namespace tokio::detail
