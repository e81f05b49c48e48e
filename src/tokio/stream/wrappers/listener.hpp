#pragma once
// wrappers::TcpListenerStream / UnixListenerStream: the incoming connections of a
// listener as a stream of io::Result<TcpStream> (io::Result<UnixStream>).
//
//   tokio::stream::wrappers::TcpListenerStream incoming(std::move(*listener));
//   for (;;) {
//     auto conn = co_await incoming.next();   // never nullopt: a listener does not end
//     if (!*conn) { /* accept error, e.g. EMFILE: back off */ continue; }
//     tokio::spawn(serve, std::move(**conn));
//   }
//
// Accept errors are items, not the end of the stream. next() is cancel-safe (accept is:
// a connection is taken from the kernel only by the poll that completes it).

#include <optional>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/net/tcp_listener.hpp"
#include "tokio/net/unix_listener.hpp"
#include "tokio/stream/detail/source_stream.hpp"

namespace tokio::detail {

template <class L, class S>
struct AcceptPolicy {
  using Item = io::Result<S>;
  auto op(L& l) { return l.accept(); }
  template <class R>
  bool map(R&& r, std::optional<Item>& out) {
    if (r) {
      out.emplace(std::move(r->first));
    } else {
      out.emplace(unexpected(r.error()));
    }
    return true;
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

class TcpListenerStream
    : public tokio::detail::SourceStream<
          net::TcpListener, tokio::detail::AcceptPolicy<net::TcpListener, net::TcpStream>> {
 public:
  explicit TcpListenerStream(net::TcpListener l) : SourceStream(std::move(l)) {}
  static TcpListenerStream new_(net::TcpListener l) { return TcpListenerStream(std::move(l)); }
};

class UnixListenerStream
    : public tokio::detail::SourceStream<
          net::UnixListener, tokio::detail::AcceptPolicy<net::UnixListener, net::UnixStream>> {
 public:
  explicit UnixListenerStream(net::UnixListener l) : SourceStream(std::move(l)) {}
  static UnixListenerStream new_(net::UnixListener l) { return UnixListenerStream(std::move(l)); }
};

}  // namespace tokio::stream::wrappers
