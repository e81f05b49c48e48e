// Notify benchmarks: Tokio's benches/sync_notify.rs (6 workers; N waiting tasks; the bench
// thread, outside the runtime, notifies until the waiters counted N_ITERS = 500 wake-ups).
// Cases notify_one/<N> and notify_waiters/<N>. Twin: bench/tokio-rs/src/bin/sync_notify.rs.
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <cstdlib>
#include <memory>

#include "bench_common.hpp"

using tokio::Task;
using tokio::sync::Notify;

namespace {

constexpr std::size_t kIters = 500;

void run(std::size_t workers, std::size_t iters, std::size_t n_waiters, bool all) {
  auto notify = std::make_shared<Notify>();
  auto counter = std::make_shared<std::atomic<std::size_t>>(0);
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  for (std::size_t i = 0; i < n_waiters; ++i) {
    rt.spawn(
        [](std::shared_ptr<Notify> notify,
           std::shared_ptr<std::atomic<std::size_t>> counter) -> Task<> {
          for (;;) {
            co_await notify->notified();
            counter->fetch_add(1, std::memory_order_relaxed);
          }
        },
        notify, counter);
  }
  for (std::size_t it = 0; it < iters; ++it) {
    counter->store(0, std::memory_order_relaxed);
    for (;;) {
      if (all) notify->notify_waiters();
      else notify->notify_one();
      if (counter->load(std::memory_order_relaxed) >= kIters) break;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  auto slash = a.name.find('/');
  std::string kind = a.name.substr(0, slash);
  std::size_t n =
      slash == std::string::npos ? 0 : std::strtoul(a.name.c_str() + slash + 1, nullptr, 10);
  if (n == 0) bench::unknown(a);
  if (kind == "notify_one") run(a.workers, a.iters, n, false);
  else if (kind == "notify_waiters") run(a.workers, a.iters, n, true);
  else bench::unknown(a);
  return 0;
}
