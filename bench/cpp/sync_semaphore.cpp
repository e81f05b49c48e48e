// Semaphore benchmarks: Tokio's benches/sync_semaphore.rs (6 workers in Tokio's bench).
// Twin: bench/tokio-rs/src/bin/sync_semaphore.rs.
#define TOKIO_IMPLEMENTATION
#include <cstdlib>
#include <memory>

#include "bench_common.hpp"

using tokio::Task;
using tokio::sync::Semaphore;

namespace {

Task<> task(std::shared_ptr<Semaphore> s) {
  auto permit = co_await s->acquire();
  bench::black_box(permit);
}

void uncontended(std::size_t workers, std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  auto s = std::make_shared<Semaphore>(10);
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Semaphore> s) -> Task<> {
      for (int k = 0; k < 6; ++k) {
        auto permit = co_await s->acquire();
        bench::black_box(permit);
      }
    }(s));
  }
}

void concurrent_multi(std::size_t workers, std::size_t iters, std::size_t permits) {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  auto s = std::make_shared<Semaphore>(permits);
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Semaphore> s) -> Task<> {
      auto h1 = tokio::spawn(task(s));
      auto h2 = tokio::spawn(task(s));
      auto h3 = tokio::spawn(task(s));
      auto h4 = tokio::spawn(task(s));
      auto h5 = tokio::spawn(task(s));
      auto h6 = tokio::spawn(task(s));
      auto j = co_await tokio::try_join(h1.result(), h2.result(), h3.result(), h4.result(),
                                        h5.result(), h6.result());
      if (!j) std::abort();
    }(s));
  }
}

void concurrent_single(std::size_t iters, std::size_t permits) {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  auto s = std::make_shared<Semaphore>(permits);
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](std::shared_ptr<Semaphore> s) -> Task<> {
      co_await tokio::join(task(s), task(s), task(s), task(s), task(s), task(s));
    }(s));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  if (n == "uncontended/multi") uncontended(a.workers, a.iters);
  else if (n == "uncontended/concurrent_multi") concurrent_multi(a.workers, a.iters, 10);
  else if (n == "uncontended/concurrent_single") concurrent_single(a.iters, 10);
  else if (n == "contention/concurrent_multi") concurrent_multi(a.workers, a.iters, 5);
  else if (n == "contention/concurrent_single") concurrent_single(a.iters, 5);
  else bench::unknown(a);
  return 0;
}
