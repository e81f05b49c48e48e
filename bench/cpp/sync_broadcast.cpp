// broadcast benchmark: Tokio's benches/sync_broadcast.rs (6 workers, channel(1000),
// N_TASKS subscribers doing do_work per value, N_ITERS = 100 sends per iteration, the
// sender waiting on a Notify until every subscriber is done). Cases contention/<N_TASKS>.
// Twin: bench/tokio-rs/src/bin/sync_broadcast.rs.
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <cstdlib>
#include <memory>

#include "bench_common.hpp"
#include "sync_work.hpp"

using tokio::Task;
namespace broadcast = tokio::sync::broadcast;

namespace {

constexpr std::size_t kIters = 100;

struct WaitGroup {
  std::atomic<std::size_t> n{0};
  tokio::sync::Notify notify;
};

void contention(std::size_t workers, std::size_t iters, std::size_t n_tasks) {
  auto wg = std::make_shared<WaitGroup>();
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  auto [tx, rx_keep] = broadcast::channel<std::size_t>(1000);
  for (std::size_t n = 0; n < n_tasks; ++n) {
    rt.spawn(
        [](broadcast::Receiver<std::size_t> rx, std::shared_ptr<WaitGroup> wg,
           uint64_t seed) -> Task<> {
          bench::Rng rng(seed);
          for (;;) {
            auto v = co_await rx.recv();
            if (!v) break;
            uint32_t r = bench::do_work(rng);
            bench::black_box(r);
            if (wg->n.fetch_sub(1, std::memory_order_relaxed) == 1) wg->notify.notify_one();
          }
        },
        tx.subscribe(), wg, n);
  }
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](std::shared_ptr<WaitGroup> wg, broadcast::Sender<std::size_t> tx,
                   std::size_t n_tasks) -> Task<> {
      for (std::size_t i = 0; i < kIters; ++i) {
        if (wg->n.fetch_add(n_tasks, std::memory_order_relaxed) != 0) std::abort();
        if (!tx.send(i)) std::abort();
        while (wg->n.load(std::memory_order_relaxed) > 0) co_await wg->notify.notified();
      }
    }(wg, tx, n_tasks));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string prefix = "contention/";
  if (a.name.rfind(prefix, 0) != 0) bench::unknown(a);
  std::size_t n = std::strtoul(a.name.c_str() + prefix.size(), nullptr, 10);
  if (n == 0) bench::unknown(a);
  contention(a.workers, a.iters, n);
  return 0;
}
