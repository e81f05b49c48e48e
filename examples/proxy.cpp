// proxy: a TCP proxy. Every connection accepted on LISTEN is relayed to UPSTREAM, both
// ways, until both sides have finished (a half-close is forwarded as a half-close).
//
//   proxy [LISTEN [UPSTREAM]]   defaults: 127.0.0.1:8081 -> 127.0.0.1:8080
//   proxy 127.0.0.1:0 example.test:80     ("host:port" or "[::1]:port"; port 0 = any)
//
// Prints "listening on ADDR" once bound (on stdout); one line per connection on stderr
// when it ends: bytes each way, or why it failed. One task per connection on the
// multi-thread runtime, relaying with io::copy_bidirectional. The upstream is resolved
// once at start-up; connect() tries each of its addresses in turn. A connection whose
// upstream cannot be reached is closed at once (the client reads end of stream); the proxy
// goes on serving the others. When accept() fails (EMFILE: out of file descriptors), the
// proxy waits a little before accepting again instead of spinning a core.
#define TOKIO_IMPLEMENTATION
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpStream;

Task<> relay(TcpStream client, SocketAddr peer, std::vector<SocketAddr> upstream) {
  std::string who = peer.to_string();
  auto server = co_await TcpStream::connect(upstream);
  if (!server) {
    // Dropping `client` closes it: the client sees end of stream.
    std::fprintf(stderr, "proxy: %s: upstream %s: %s\n", who.c_str(),
                 upstream[0].to_string().c_str(), server.error().message().c_str());
    co_return;
  }
  (void)client.set_nodelay(true);
  (void)server->set_nodelay(true);
  auto r = co_await tokio::io::copy_bidirectional(client, *server);
  if (r) {
    std::fprintf(stderr, "proxy: %s: closed, %llu bytes up, %llu bytes down\n", who.c_str(),
                 static_cast<unsigned long long>(r->first),
                 static_cast<unsigned long long>(r->second));
  } else {
    std::fprintf(stderr, "proxy: %s: %s\n", who.c_str(), r.error().message().c_str());
  }
}

Task<int> amain(std::string listen_addr, std::string upstream_addr) {
  auto upstream = co_await tokio::net::lookup_host(upstream_addr);
  if (!upstream || upstream->empty()) {
    std::fprintf(stderr, "proxy: upstream %s: %s\n", upstream_addr.c_str(),
                 upstream ? "no address" : upstream.error().message().c_str());
    co_return 1;
  }
  auto listener = co_await TcpListener::bind(listen_addr);
  if (!listener) {
    std::fprintf(stderr, "proxy: bind %s: %s\n", listen_addr.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn) {
      std::fprintf(stderr, "proxy: accept: %s (pausing)\n", conn.error().message().c_str());
      co_await tokio::time::sleep(std::chrono::milliseconds(100));
      continue;
    }
    tokio::spawn(relay, std::move(conn->first), conn->second, *upstream);
  }
}

int main(int argc, char** argv) {
  std::string listen_addr = argc > 1 ? argv[1] : "127.0.0.1:8081";
  std::string upstream_addr = argc > 2 ? argv[2] : "127.0.0.1:8080";
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  return rt.block_on(amain(listen_addr, upstream_addr));
}
