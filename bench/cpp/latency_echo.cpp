// latency_echo: the tokio.hpp side of the tail-latency benchmark (issue 10), a TCP echo
// server written as examples/echo_server.cpp and the README show it: one task per
// connection, spawned as tokio::spawn(serve, std::move(stream)), on the multi-thread
// runtime. The Tokio twin is bench/tokio-rs/src/bin/latency_echo.rs; both are driven by
// bench/cpp/latency_loadgen.cpp from bench/run.py.
//
//   latency_echo serve WORKERS PORT     binds 127.0.0.1:PORT (0: any free port), prints
//                                       "listening on 127.0.0.1:PORT", serves until its
//                                       standard input reaches end of file (the driving
//                                       script closes it, or dies) or for 30 minutes.
#define TOKIO_IMPLEMENTATION
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::TcpListener;
using tokio::net::TcpStream;

namespace {

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
    std::fprintf(stderr, "latency_echo: bind %s: %s\n", addr.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn) {
      std::fprintf(stderr, "latency_echo: accept: %s (pausing)\n", conn.error().message().c_str());
      co_await tokio::time::sleep(std::chrono::milliseconds(100));
      continue;
    }
    tokio::spawn(serve, std::move(conn->first));
  }
}

// Ends the process when stdin closes or after 30 minutes, so a server is never left behind.
void watchdog() {
  std::thread([] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(30);
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = read(0, &c, 1);
      if (n <= 0) break;
    }
    std::_Exit(0);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::string(argv[1]) != "serve") {
    std::fprintf(stderr, "usage: %s serve WORKERS PORT\n", argv[0]);
    return 2;
  }
  watchdog();
  std::size_t workers = std::strtoul(argv[2], nullptr, 10);
  auto rt =
      tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
  return rt.block_on(amain(std::string("127.0.0.1:") + argv[3]));
}
