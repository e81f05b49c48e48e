// udp_echo: sends every datagram back to where it came from.
//
//   udp_echo [ADDR]             ADDR defaults to 127.0.0.1:8080
//   socat - UDP:127.0.0.1:8080  (or: nc -u 127.0.0.1 8080)
//
// Prints "listening on ADDR" once bound. Runs on the current-thread runtime: one socket,
// one task.
#define TOKIO_IMPLEMENTATION
#include <cstdio>
#include <string>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::UdpSocket;

Task<int> amain(std::string addr) {
  auto sock = co_await UdpSocket::bind(addr);
  if (!sock) {
    std::fprintf(stderr, "udp_echo: bind %s: %s\n", addr.c_str(), sock.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", sock->local_addr()->to_string().c_str());
  std::fflush(stdout);
  char buf[64 * 1024];
  for (;;) {
    auto got = co_await sock->recv_from(buf);
    if (!got) {
      std::fprintf(stderr, "udp_echo: recv_from: %s\n", got.error().message().c_str());
      continue;  // e.g. ECONNREFUSED reported for an earlier reply: keep serving
    }
    auto [n, from] = *got;
    if (auto sent = co_await sock->send_to({buf, n}, from); !sent) {
      std::fprintf(stderr, "udp_echo: send_to %s: %s\n", from.to_string().c_str(),
                   sent.error().message().c_str());
    }
  }
}

int main(int argc, char** argv) {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  return rt.block_on(amain(argc > 1 ? argv[1] : "127.0.0.1:8080"));
}
