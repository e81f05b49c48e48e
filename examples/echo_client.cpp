// echo_client: talks to an echo server.
//
//   echo_client ADDR            sends each line of stdin, prints each line that comes back
//   echo_client ADDR N R        load test: opens N connections (all open at once), then
//                               each does R round trips of a 64-byte message; prints
//                               "N connections x R round trips ok" or the first error
#define TOKIO_IMPLEMENTATION
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tokio.hpp"
#include "cli_args.hpp"

using tokio::Task;
using tokio::io::Result;
using tokio::net::TcpStream;

// Reads exactly buf.size() bytes (false on error or early end of stream).
Task<bool> read_full(TcpStream& s, std::span<char> buf) {
  for (std::size_t got = 0; got < buf.size();) {
    auto n = co_await s.read(buf.subspan(got));
    if (!n || *n == 0) co_return false;
    got += *n;
  }
  co_return true;
}

Task<int> interactive(std::string addr) {
  auto s = co_await TcpStream::connect(addr);
  if (!s) {
    std::fprintf(stderr, "echo_client: connect %s: %s\n", addr.c_str(),
                 s.error().message().c_str());
    co_return 1;
  }
  for (;;) {
    // std::getline blocks: run it on the blocking pool, not on a runtime thread.
    auto line = co_await tokio::task::spawn_blocking([]() -> std::optional<std::string> {
      std::string l;
      if (!std::getline(std::cin, l)) return std::nullopt;
      return l + "\n";
    });
    if (!line) co_return 0;
    if (!co_await s->write_all(*line)) co_return 1;
    std::string back(line->size(), '\0');
    if (!co_await read_full(*s, back)) co_return 1;
    std::fwrite(back.data(), 1, back.size(), stdout);
    std::fflush(stdout);
  }
}

Task<Result<void>> round_trips(TcpStream* s, int rounds) {
  char msg[64], back[64];
  for (int r = 0; r < rounds; ++r) {
    std::snprintf(msg, sizeof msg, "%063d", r);
    if (auto w = co_await s->write_all({msg, sizeof msg}); !w) co_return w;
    if (!co_await read_full(*s, back)) co_return tokio::io::os_error(ECONNRESET);
    if (std::string_view(msg, 64) != std::string_view(back, 64))
      co_return tokio::io::os_error(EPROTO);
  }
  co_return Result<void>();
}

Task<int> load(std::string addr, int n, int rounds) {
  std::vector<tokio::JoinHandle<Result<TcpStream>>> connecting;
  for (int i = 0; i < n; ++i) connecting.push_back(tokio::spawn(TcpStream::connect(addr)));
  std::vector<TcpStream> conns;  // every connection stays open until the end
  for (auto& h : connecting) {
    auto s = co_await h;
    if (!s) {
      std::fprintf(stderr, "echo_client: connect: %s\n", s.error().message().c_str());
      co_return 1;
    }
    conns.push_back(std::move(*s));
  }
  std::vector<tokio::JoinHandle<Result<void>>> echoing;
  for (auto& c : conns) echoing.push_back(tokio::spawn(round_trips(&c, rounds)));
  for (auto& h : echoing) {
    if (auto r = co_await h; !r) {
      std::fprintf(stderr, "echo_client: echo: %s\n", r.error().message().c_str());
      co_return 1;
    }
  }
  std::printf("%d connections x %d round trips ok\n", n, rounds);
  co_return 0;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: echo_client ADDR [CONNECTIONS ROUNDS]\n");
    return 2;
  }
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  if (argc == 2) return rt.block_on(interactive(argv[1]));
  // Every connection is a file descriptor: lift the soft limit to the hard one.
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  const auto connections =
      static_cast<int>(parse_number("echo_client", "CONNECTIONS", argv[2], 1, 1000000));
  const auto rounds =
      static_cast<int>(parse_number("echo_client", "ROUNDS", argv[3], 0, 1000000000));
  return rt.block_on(load(argv[1], connections, rounds));
}
