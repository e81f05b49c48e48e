#pragma once
// net::UnixStream: a connected Unix domain stream socket (io::AsyncRead + io::AsyncWrite).
//
//   auto s = co_await tokio::net::UnixStream::connect("/run/app.sock");
//   auto [a, b] = tokio::net::UnixStream::pair().value();   // connected to each other
//
// I/O methods, halves and cancel safety are those of TcpStream (see net/stream.hpp).
// connect() on a listener whose backlog is full fails with EAGAIN (Linux does not queue
// non-blocking Unix connects), as with Tokio.

#include <string_view>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/split.hpp"
#include "tokio/net/detail/stream.hpp"
#include "tokio/net/unix_addr.hpp"
#include "tokio/core/task.hpp"

namespace tokio::net {

class UnixStream;

namespace unix {
using ReadHalf = detail_split::ReadHalf<UnixStream>;
using WriteHalf = detail_split::WriteHalf<UnixStream>;
using OwnedReadHalf = detail_split::OwnedReadHalf<UnixStream>;
using OwnedWriteHalf = detail_split::OwnedWriteHalf<UnixStream>;
using ReuniteError = detail_split::ReuniteError<UnixStream>;
}  // namespace unix

class UnixStream : public detail::StreamBase, public detail_split::IntoSplit<UnixStream> {
 public:
  UnixStream() noexcept = default;
  UnixStream(UnixStream&&) noexcept = default;
  UnixStream& operator=(UnixStream&&) noexcept = default;

  // The path is copied before the coroutine starts.
  static Task<io::Result<UnixStream>> connect(std::string_view path);
  // Two streams connected to each other (socketpair).
  static io::Result<std::pair<UnixStream, UnixStream>> pair();
  static io::Result<UnixStream> from_std(int fd);
  int into_raw_fd() && noexcept { return sock_.release(); }

  // (Out of line: inline, these would instantiate their io::Result classes in every user TU.)
  io::Result<UnixSocketAddr> local_addr() const noexcept;
  io::Result<UnixSocketAddr> peer_addr() const noexcept;
  io::Result<UCred> peer_cred() const noexcept;

  std::pair<unix::ReadHalf, unix::WriteHalf> split() noexcept;
  // into_split() &&: from detail_split::IntoSplit.

 private:
  friend class UnixListener;
  explicit UnixStream(detail::PollSocket s) noexcept : StreamBase(std::move(s)) {
    if (auto* st = inq_state()) st->store(detail::kInqOff, std::memory_order_relaxed);  // TCP only
  }
  static Task<io::Result<UnixStream>> connect_addr(io::Result<UnixSocketAddr> addr);
};

}  // namespace tokio::net
