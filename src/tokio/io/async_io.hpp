#pragma once
// io::AsyncRead / io::AsyncWrite: the byte-stream concepts every I/O utility is written
// against (TcpStream, UnixStream, DuplexStream, BufReader, stdin/stdout...).
//
//   AsyncRead   `co_await r.read(std::span<std::byte>)`        -> io::Result<std::size_t>
//               (0 bytes = end of stream; cancel-safe: no data is lost when the await is
//               destroyed before it completes)
//   AsyncWrite  `co_await w.write(std::span<const std::byte>)` -> io::Result<std::size_t>
//               `co_await w.flush()`                           -> io::Result<void>
//               `co_await w.shutdown()`                        -> io::Result<void>
//               (write is cancel-safe: a destroyed write wrote nothing)

#include <cstddef>
#include <span>
#include <type_traits>

#include "tokio/core/result.hpp"
#include "tokio/task/task.hpp"

namespace tokio::io {

template <class R>
concept AsyncRead = requires(R& r, std::span<std::byte> buf) {
  requires std::is_same_v<detail::await_result_t<decltype(r.read(buf))>, Result<std::size_t>>;
};

template <class W>
concept AsyncWrite = requires(W& w, std::span<const std::byte> buf) {
  requires std::is_same_v<detail::await_result_t<decltype(w.write(buf))>, Result<std::size_t>>;
  requires std::is_same_v<detail::await_result_t<decltype(w.flush())>, Result<void>>;
  requires std::is_same_v<detail::await_result_t<decltype(w.shutdown())>, Result<void>>;
};

// Views a char buffer as bytes (the convenience overloads take these).
inline std::span<std::byte> as_writable_bytes(std::span<char> s) noexcept {
  return {reinterpret_cast<std::byte*>(s.data()), s.size()};
}
inline std::span<const std::byte> as_bytes(std::span<const char> s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace tokio::io
