// Compiled by `make check-strict` with the warnings users turn on (-Wshadow -Wconversion
// -Wsign-conversion -Wold-style-cast ... -Werror), by g++ and clang++: including tokio.hpp
// (implementation section too) and instantiating its templates must stay clean. The code
// below is written to be clean itself under those flags.
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace strict {

using tokio::Task;

Task<int> child(int v) {
  co_await tokio::time::sleep(std::chrono::milliseconds(1));
  co_return v;
}

Task<int> io_round_trip() {
  auto [a, b] = tokio::io::duplex(256);
  (void)co_await a.write_all("hi\n");
  (void)co_await tokio::io::write_u32(a, 7u);
  std::vector<std::byte> buf(3);
  auto n = co_await b.read_exact(std::span<std::byte>(buf));
  auto v = co_await b.read_u32();
  (void)co_await a.shutdown();
  std::string rest;
  (void)co_await tokio::io::read_to_string(b, rest);
  co_return static_cast<int>(n.value_or(0)) + static_cast<int>(v.value_or(0));
}

Task<int> amain(int argc, char**) {
  auto [tx, rx] = tokio::sync::mpsc::channel<int>(4);
  auto h = tokio::spawn(
      [](tokio::sync::mpsc::Sender<int> s) -> Task<> {
        for (int i = 0; i < 3; ++i) (void)co_await s.send(i);
      },
      std::move(tx));
  int sum = 0;
  for (;;) {
    auto m = co_await rx.recv();
    if (!m) break;
    sum += *m;
  }
  co_await h;
  auto [x, y] = co_await tokio::join(child(1), child(2));
  auto pinned = tokio::pin(child(3));
  auto s = co_await tokio::select(tokio::when(argc > 0, pinned), child(4), tokio::select_else);
  auto t = co_await tokio::time::timeout(std::chrono::seconds(1), child(5));
  tokio::sync::Mutex<int> mu(0);
  {
    auto g = co_await mu.lock();
    *g += 1;
  }
  tokio::sync::CancellationToken tok;
  auto st = tok.stop_token();
  (void)st;
  tokio::Result<int, std::string> r = 3;
  auto r2 = r.and_then([](int q) -> tokio::Result<int, std::string> {
               return q + 1;
             }).transform([](int q) { return q * 2; });
  auto addr = tokio::net::SocketAddr::parse("127.0.0.1:1");
  std::string text = addr ? addr->to_string() : std::string();
  std::printf("%d %d %d %zu %d %d %s %s\n", sum, x, y, s.index(), t ? *t : 0, r2.value_or(0),
              text.c_str(), tokio::time::format_duration(std::chrono::milliseconds(3)).c_str());
  co_return co_await io_round_trip();
}

}  // namespace strict

TOKIO_MAIN(strict::amain)
