// make demo: a tour of the runtime in one screen. Spawns tasks on a work-stealing runtime,
// joins them, races two branches with select, and fans work out over a JoinSet.
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
  std::printf("runtime: %zu worker threads\n", tokio::runtime::Handle::current().metrics().num_workers());

  // Spawn two tasks and await both.
  auto a = tokio::spawn(sum_to(100000));
  auto b = tokio::spawn([](std::string who) -> Task<std::string> {
    co_return "hello from " + who;
  }, std::string("a spawned lambda"));
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
  bool other_thread = co_await tokio::task::spawn_blocking([main_id] {
    return std::this_thread::get_id() != main_id;
  });
  std::printf("spawn_blocking ran on another thread: %s\n", other_thread ? "yes" : "no");
  co_return 0;
}

int main() {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  int rc = rt.block_on(amain());
  std::printf("done\n");
  return rc;
}
