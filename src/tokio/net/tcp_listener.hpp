#pragma once
// net::TcpListener: accepts TCP connections.
//
//   auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:8080");
//   for (;;) {
//     auto c = co_await l->accept();     // io::Result<std::pair<TcpStream, SocketAddr>>
//     if (!c) { /* EMFILE etc.: back off, then retry */ continue; }
//     tokio::spawn(serve, std::move(c->first));
//   }
//
// bind() tries each address the target resolves to and uses the first that binds; the
// socket gets SO_REUSEADDR (as Tokio does) and a backlog of 1024.
//
// accept() is cancel-safe: a connection is only taken from the kernel when the operation
// completes (one accepted by an operation destroyed at that instant is closed, never
// leaked). Errors such as EMFILE / ENFILE (out of file descriptors) are returned as they
// are and do not clear readiness, so calling accept() again retries at once: a server
// should pause before retrying (see examples/echo_server.cpp), as with Tokio.

#include <cstdint>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/net/lookup_host.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/socket_addr.hpp"
#include "tokio/net/tcp_stream.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class TcpListener {
 public:
  TcpListener() noexcept = default;
  TcpListener(TcpListener&&) noexcept = default;
  TcpListener& operator=(TcpListener&&) noexcept = default;

  static Task<io::Result<TcpListener>> bind(ToSocketAddrs addr);
  static Task<io::Result<TcpListener>> bind(std::string_view host, uint16_t port);
  // Takes ownership of a listening socket fd (made non-blocking) and registers it.
  static io::Result<TcpListener> from_std(int fd);
  int into_raw_fd() && noexcept { return sock_.release(); }
  int as_raw_fd() const noexcept { return sock_.fd(); }

  struct MakeAccepted {
    static io::Result<std::pair<TcpStream, SocketAddr>> make(detail::OwnedFd fd,
                                                             const sockaddr_storage& ss,
                                                             socklen_t len);
  };
  // Waits for a connection: io::Result<std::pair<TcpStream, SocketAddr>>. Cancel-safe.
  auto accept() noexcept {
    return detail::IoOp<detail::AcceptOp<MakeAccepted>>(sock_.io(), io::Interest::READABLE,
                                                        detail::AcceptOp<MakeAccepted>(sock_.fd()));
  }

  io::Result<SocketAddr> local_addr() const noexcept;
  io::Result<uint32_t> ttl() const noexcept;
  io::Result<void> set_ttl(uint32_t ttl) noexcept;
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

 private:
  friend class TcpSocket;
  explicit TcpListener(detail::PollSocket s) noexcept : sock_(std::move(s)) {}
  detail::PollSocket sock_;
};

}  // namespace tokio::net
