// watch benchmark: Tokio's benches/sync_watch.rs (6 workers, N_TASKS receivers that wait
// for changed(), borrow the value and do_work; a spawned task sends N_ITERS = 100 values
// per iteration, waiting on a Notify until every receiver is done). Cases
// contention_resubscribe/<N_TASKS>. Twin: bench/tokio-rs/src/bin/sync_watch.rs.
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <cstdlib>
#include <memory>

#include "bench_common.hpp"
#include "sync_work.hpp"

using tokio::Task;
namespace watch = tokio::sync::watch;

namespace {

constexpr std::size_t kIters = 100;

struct WaitGroup {
  std::atomic<uint64_t> n{0};
  tokio::sync::Notify notify;
};

void contention_resubscribe(std::size_t workers, std::size_t iters, std::size_t n_tasks) {
  auto wg = std::make_shared<WaitGroup>();
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  auto [snd0, rcv0] = watch::channel<int>(0);
  auto snd = std::make_shared<watch::Sender<int>>(std::move(snd0));
  { auto drop = std::move(rcv0); }
  for (std::size_t n = 0; n < n_tasks; ++n) {
    rt.spawn(
        [](watch::Receiver<int> rcv, std::shared_ptr<WaitGroup> wg, uint64_t seed) -> Task<> {
          bench::Rng rng(seed);
          for (;;) {
            auto c = co_await rcv.changed();
            if (!c) break;
            {
              auto v = rcv.borrow();  // contend on the value's lock
              int x = *v;
              bench::black_box(x);
            }
            uint32_t r = bench::do_work(rng);
            bench::black_box(r);
            if (wg->n.fetch_sub(1, std::memory_order_release) == 1) wg->notify.notify_one();
          }
        },
        snd->subscribe(), wg, n);
  }
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](std::shared_ptr<watch::Sender<int>> snd, std::shared_ptr<WaitGroup> wg,
                   std::size_t n_tasks) -> Task<> {
      co_await tokio::spawn(
          [](std::shared_ptr<watch::Sender<int>> snd, std::shared_ptr<WaitGroup> wg,
             std::size_t n_tasks) -> Task<> {
            for (std::size_t i = 0; i < kIters; ++i) {
              if (wg->n.fetch_add(n_tasks, std::memory_order_relaxed) != 0) std::abort();
              int v = 42;
              bench::black_box(v);
              (void)snd->send(v);
              while (wg->n.load(std::memory_order_acquire) > 0) co_await wg->notify.notified();
            }
          },
          snd, wg, n_tasks);
    }(snd, wg, n_tasks));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string prefix = "contention_resubscribe/";
  if (a.name.rfind(prefix, 0) != 0) bench::unknown(a);
  std::size_t n = std::strtoul(a.name.c_str() + prefix.size(), nullptr, 10);
  if (n == 0) bench::unknown(a);
  contention_resubscribe(a.workers, a.iters, n);
  return 0;
}
