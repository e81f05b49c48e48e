// linger.hpp: the staged close examples/chat.cpp and examples/http_server.cpp end a
// connection with when the client may still be sending (RFC 9112 9.6).
//
// Closing a socket with unread input makes the kernel reset the connection, and the client
// may then lose the reply it has not read yet (Tokio's examples just drop the socket). So
// the write side is shut first (the client reads the reply, then the end), then what comes
// is read and dropped until the client closes, for `most` at most and `max_bytes` at most.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "tokio.hpp"

namespace examples {

inline tokio::Task<> linger(tokio::net::TcpStream& s, std::chrono::milliseconds most,
                            std::size_t max_bytes) {
  if (!co_await s.shutdown()) co_return;
  const auto until = tokio::time::Instant::now() + most;
  std::vector<char> buf(std::min<std::size_t>(max_bytes, 64 * 1024));
  for (std::size_t left = max_bytes; left > 0;) {
    auto n = co_await tokio::time::timeout_at(until, s.read(buf));
    if (!n || !*n || **n == 0) co_return;  // time is up, an error, or the client closed
    left -= std::min(left, **n);
  }
}

}  // namespace examples
