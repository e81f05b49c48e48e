#pragma once
// net::TcpStream: a TCP connection (io::AsyncRead + io::AsyncWrite).
//
//   auto s = co_await tokio::net::TcpStream::connect("127.0.0.1:8080");
//   if (!s) co_return tokio::unexpected(s.error());
//   co_await s->write_all("hello\n");
//   char buf[4096];
//   auto n = co_await s->read(buf);             // io::Result<size_t>, 0 = EOF
//
// connect() tries each address the target resolves to, in order, and returns the first
// connection (or the last error). A reset peer gives ECONNRESET, a refused connect
// ECONNREFUSED, writing to a closed peer EPIPE (never SIGPIPE). Half-close: shutdown()
// ends our direction, the peer keeps writing until it closes its own.
//
// Cancel safety: connect is cancel-safe in that destroying it closes the half-open
// socket; read, peek, write, readable and writable are cancel-safe (see net/stream.hpp);
// write_all is not. Moving a stream while an operation on it is suspended is allowed (the
// operation refers to the registration, not the object); destroying it is not (an
// operation must not outlive its object). If another task does it anyway, the waiting
// operation fails with io::ReactorErrc::shutdown: the registration's generation check
// keeps it from waiting on, or reading through, the entry a new socket reuses. (Only its
// raw descriptor number is not guarded: a syscall already past that check can still hit a
// socket that reuses the number in the same instant.)

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "tokio/io/async_io.hpp"
#include "tokio/core/result.hpp"
#include "tokio/net/lookup_host.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/socket_addr.hpp"
#include "tokio/net/split.hpp"
#include "tokio/net/detail/stream.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class TcpStream;

namespace tcp {
using ReadHalf = detail_split::ReadHalf<TcpStream>;
using WriteHalf = detail_split::WriteHalf<TcpStream>;
using OwnedReadHalf = detail_split::OwnedReadHalf<TcpStream>;
using OwnedWriteHalf = detail_split::OwnedWriteHalf<TcpStream>;
using ReuniteError = detail_split::ReuniteError<TcpStream>;
}  // namespace tcp

class TcpStream : public detail::StreamBase, public detail_split::IntoSplit<TcpStream> {
 public:
  // An empty stream (every operation fails with EBADF).
  TcpStream() noexcept = default;
  TcpStream(TcpStream&&) noexcept = default;
  TcpStream& operator=(TcpStream&&) noexcept = default;

  static Task<io::Result<TcpStream>> connect(ToSocketAddrs addr);
  static Task<io::Result<TcpStream>> connect(std::string_view host, uint16_t port);
  // Takes ownership of a connected TCP socket fd (made non-blocking) and registers it.
  static io::Result<TcpStream> from_std(int fd);
  // Deregisters and hands the fd to the caller (still non-blocking).
  int into_raw_fd() && noexcept { return sock_.release(); }

  // Reads without consuming (MSG_PEEK). Cancel-safe.
  auto peek(io::MutableBuffer buf) noexcept {
    return detail::IoOp<detail::RecvOp>(
        sock_.io(), io::Interest::READABLE,
        detail::RecvOp{{}, sock_.fd(), buf.data(), buf.size(), MSG_PEEK, false});
  }

  io::Result<SocketAddr> local_addr() const noexcept;
  io::Result<SocketAddr> peer_addr() const noexcept;

  io::Result<bool> nodelay() const noexcept;
  io::Result<void> set_nodelay(bool on) noexcept;
  // SO_LINGER: nullopt = off; zero seconds makes close() send a reset.
  io::Result<std::optional<std::chrono::seconds>> linger() const noexcept;
  io::Result<void> set_linger(std::optional<std::chrono::seconds> d) noexcept;
  io::Result<uint32_t> ttl() const noexcept;
  io::Result<void> set_ttl(uint32_t ttl) noexcept;

  // Borrowed halves (this stream must outlive them).
  std::pair<tcp::ReadHalf, tcp::WriteHalf> split() noexcept;
  // into_split() &&: from detail_split::IntoSplit.

 private:
  friend class TcpListener;
  friend class TcpSocket;
  explicit TcpStream(detail::PollSocket s) noexcept : StreamBase(std::move(s)) {}
  // Connects `fd` (a fresh socket) to `addr` and registers it.
  static Task<io::Result<TcpStream>> connect_fd(detail::OwnedFd fd, SocketAddr addr);
};

}  // namespace tokio::net
