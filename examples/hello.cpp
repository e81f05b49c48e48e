// make demo: a tour of the runtime in one screen. Spawns tasks on a work-stealing runtime,
// joins them, races two branches with select, fans work out over a JoinSet, echoes over
// TCP under a timeout, and passes messages through an mpsc channel.
#define TOKIO_IMPLEMENTATION
#include <cstdio>
#include <string>
#include <thread>

#include "tokio.hpp"

using tokio::Task;

Task<long> sum_to(long n) {
  long s = 0;
  for (long i = 1; i <= n; ++i) {
    s += i;
    if (i % 1000 == 0) co_await tokio::task::yield_now();  // be a good neighbour
  }
  co_return s;
}

Task<int> amain() {
  std::printf("runtime: %zu worker threads\n",
              tokio::runtime::Handle::current().metrics().num_workers());

  // Spawn two tasks and await both.
  auto a = tokio::spawn(sum_to(100000));
  auto b = tokio::spawn([](std::string who) -> Task<std::string> { co_return "hello from " + who; },
                        std::string("a spawned lambda"));
  std::printf("sum_to(100000) = %ld\n", co_await a);
  std::printf("%s\n", (co_await b).c_str());

  // Fan out over a JoinSet, results in completion order.
  tokio::task::JoinSet<long> set;
  for (long n = 1; n <= 5; ++n) set.spawn(sum_to(n * 10));
  long total = 0;
  while (auto r = co_await set.join_next()) total += r->value();
  std::printf("JoinSet of 5 tasks summed to %ld\n", total);

  // Race: the loser is cancelled (its frame destroyed) before select returns.
  auto [tx, rx] = tokio::sync::oneshot::channel<int>();
  auto winner = co_await tokio::select(std::move(rx), sum_to(10));
  std::printf("select: branch %zu won\n", winner.index());
  (void)tx;

  // Blocking work goes to the blocking pool, not a worker.
  auto main_id = std::this_thread::get_id();
  // (The callable takes its arguments from spawn_blocking: no capturing lambda temporary
  // inside a co_await, which g++ 12 destroys twice; README, "Compilers".)
  bool other_thread = co_await tokio::task::spawn_blocking(
      [](std::thread::id main) { return std::this_thread::get_id() != main; }, main_id);
  std::printf("spawn_blocking ran on another thread: %s\n", other_thread ? "yes" : "no");

  // A TCP echo over loopback: a listener task, a client, a deadline on the whole exchange.
  auto listener = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
  if (!listener) co_return 1;
  auto addr = listener->local_addr().value();
  auto server = tokio::spawn(
      [](tokio::net::TcpListener l) -> Task<> {
        auto conn = co_await l.accept();
        if (!conn) co_return;
        auto& [stream, peer] = *conn;
        char buf[64];
        auto n = co_await stream.read(std::span(buf));
        if (n && *n > 0) (void)co_await stream.write_all({buf, *n});
      },
      std::move(*listener));
  auto echoed = co_await tokio::time::timeout(
      std::chrono::seconds(2), [](tokio::net::SocketAddr a) -> Task<std::string> {
        auto s = co_await tokio::net::TcpStream::connect(a);
        if (!s) co_return "connect failed: " + s.error().message();
        (void)co_await s->write_all(std::string_view("ping"));
        std::string back(4, '\0');
        auto r = co_await tokio::io::read_exact(*s, std::span(back.data(), back.size()));
        co_return r ? back : "read failed: " + r.error().message();
      }(addr));
  co_await server;
  std::printf("TCP echo via %s: %s\n", addr.to_string().c_str(),
              echoed ? echoed->c_str() : "timed out");

  // Messages through a bounded mpsc channel from three producers.
  auto [mtx, mrx] = tokio::sync::mpsc::channel<int>(4);
  for (int p = 0; p < 3; ++p) {
    tokio::spawn(
        [](tokio::sync::mpsc::Sender<int> tx, int p) -> Task<> {
          for (int i = 0; i < 10; ++i) (void)co_await tx.send(p * 100 + i);
        },
        mtx, p);
  }
  { auto drop = std::move(mtx); }  // the receiver ends when every sender is gone
  int received = 0;
  for (;;) {
    auto v = co_await mrx.recv();
    if (!v) break;
    ++received;
  }
  std::printf("mpsc: received %d messages from 3 producers\n", received);
  co_return 0;
}

int main() {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  int rc = rt.block_on(amain());
  std::printf("done\n");
  return rc;
}
