// unix_echo: an echo server on a Unix domain socket.
//
//   unix_echo PATH              e.g. unix_echo /tmp/echo.sock
//   socat - UNIX-CONNECT:/tmp/echo.sock   (or: nc -U /tmp/echo.sock)
//
// Replaces a stale socket file at PATH, prints "listening on PATH", and greets each
// client with its process id (peer credentials) before echoing.
#define TOKIO_IMPLEMENTATION
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::UnixListener;
using tokio::net::UnixStream;

Task<> serve(UnixStream stream) {
  if (auto cred = stream.peer_cred(); cred && cred->pid()) {
    std::string hello = "hello pid " + std::to_string(*cred->pid()) + "\n";
    if (!co_await stream.write_all(hello)) co_return;
  }
  char buf[16 * 1024];
  for (;;) {
    auto n = co_await stream.read(buf);
    if (!n || *n == 0) co_return;
    if (!co_await stream.write_all({buf, *n})) co_return;
  }
}

Task<int> amain(std::string path) {
  ::unlink(path.c_str());
  auto listener = UnixListener::bind(path);
  if (!listener) {
    std::fprintf(stderr, "unix_echo: bind %s: %s\n", path.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", path.c_str());
  std::fflush(stdout);
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn) {  // e.g. EMFILE: pause instead of retrying in a tight loop
      std::fprintf(stderr, "unix_echo: accept: %s (pausing)\n", conn.error().message().c_str());
      co_await tokio::task::spawn_blocking(
          [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
      continue;
    }
    tokio::spawn(serve, std::move(conn->first));
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: unix_echo PATH\n");
    return 2;
  }
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  return rt.block_on(amain(argv[1]));
}
