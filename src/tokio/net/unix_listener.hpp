#pragma once
// net::UnixListener: accepts Unix domain stream connections.
//
//   auto l = tokio::net::UnixListener::bind("/tmp/app.sock");    // io::Result<UnixListener>
//   auto c = co_await l->accept();        // io::Result<pair<UnixStream, UnixSocketAddr>>
//
// bind() does not remove an existing file at the path (EADDRINUSE), and dropping the
// listener does not unlink it, as with Tokio. accept() is cancel-safe; errors such as
// EMFILE are returned without clearing readiness (pause before retrying).

#include <string_view>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/unix_addr.hpp"
#include "tokio/net/unix_stream.hpp"

namespace tokio::net {

class UnixListener {
 public:
  UnixListener() noexcept = default;
  UnixListener(UnixListener&&) noexcept = default;
  UnixListener& operator=(UnixListener&&) noexcept = default;

  static io::Result<UnixListener> bind(std::string_view path);
  static io::Result<UnixListener> from_std(int fd);
  int into_raw_fd() && noexcept { return sock_.release(); }
  int as_raw_fd() const noexcept { return sock_.fd(); }

  struct MakeAccepted {
    static io::Result<std::pair<UnixStream, UnixSocketAddr>> make(detail::OwnedFd fd,
                                                                  const sockaddr_storage& ss,
                                                                  socklen_t len);
  };
  auto accept() noexcept {
    return detail::IoOp<detail::AcceptOp<MakeAccepted>>(sock_.io(), io::Interest::READABLE,
                                                        detail::AcceptOp<MakeAccepted>(sock_.fd()));
  }

  io::Result<UnixSocketAddr> local_addr() const noexcept;  // (out of line: see UnixStream)
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

 private:
  explicit UnixListener(detail::PollSocket s) noexcept : sock_(std::move(s)) {}
  detail::PollSocket sock_;
};

}  // namespace tokio::net
