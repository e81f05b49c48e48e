// echo_server: a TCP server that sends every byte back.
//
//   echo_server [ADDR]          ADDR defaults to 127.0.0.1:8080 ("host:port" or "[::1]:port")
//   nc 127.0.0.1 8080           type lines, they come back
//
// Prints "listening on ADDR" once bound. One task per connection on the multi-thread
// runtime. When accept() fails (EMFILE: out of file descriptors), the server waits a
// little before accepting again: connections being served close meanwhile, and it
// recovers without spinning a core at 100%.
#define TOKIO_IMPLEMENTATION
#include <chrono>
#include <cstdio>
#include <string>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::TcpListener;
using tokio::net::TcpStream;

Task<> serve(TcpStream stream) {
  char buf[16 * 1024];
  for (;;) {
    auto n = co_await stream.read(buf);
    if (!n || *n == 0) co_return;  // error or end of stream: close
    if (!co_await stream.write_all({buf, *n})) co_return;
  }
}

Task<int> amain(std::string addr) {
  auto listener = co_await TcpListener::bind(addr);
  if (!listener) {
    std::fprintf(stderr, "echo_server: bind %s: %s\n", addr.c_str(), listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn) {
      std::fprintf(stderr, "echo_server: accept: %s (pausing)\n", conn.error().message().c_str());
      co_await tokio::time::sleep(std::chrono::milliseconds(100));
      continue;
    }
    tokio::spawn(serve, std::move(conn->first));
  }
}

int main(int argc, char** argv) {
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  return rt.block_on(amain(addr));
}
