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
  static constexpr const char* kTypeName = "stream::wrappers listener stream";
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

// One template for both (an alias each below): a class template is instantiated where a
// program uses it, so a TU that names neither pays nothing for their SourceStream bases
// (15 ms of clang for the two as plain classes).
template <class L, class S>
class ListenerStream : public tokio::detail::SourceStream<L, tokio::detail::AcceptPolicy<L, S>> {
  using Base = tokio::detail::SourceStream<L, tokio::detail::AcceptPolicy<L, S>>;

 public:
  explicit ListenerStream(L l) : Base(std::move(l)) {}
  static ListenerStream new_(L l) { return ListenerStream(std::move(l)); }
};

using TcpListenerStream = ListenerStream<net::TcpListener, net::TcpStream>;
using UnixListenerStream = ListenerStream<net::UnixListener, net::UnixStream>;

}  // namespace tokio::stream::wrappers
