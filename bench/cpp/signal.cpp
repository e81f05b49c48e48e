// Signal benchmark: delivery latency from raise() to the listening task resuming (the Rust
// twin is bench/tokio-rs/src/bin/signal.rs; both take the same arguments).
//
//   latency/raise <workers> <iters>   workers 1 = current-thread runtime, else multi-thread.
//     A plain thread stamps t0 and raises SIGUSR1 (the handler runs on that thread); the
//     listener, a spawned task blocked in recv(), stamps t1 when it resumes and hands it
//     back; the thread waits for it before the next raise (so nothing coalesces). Prints
//     the p50 / p99 / max of t1 - t0 in microseconds.
#define TOKIO_IMPLEMENTATION
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
using tokio::signal::unix::Signal;
using tokio::signal::unix::SignalKind;
using Clock = std::chrono::steady_clock;

namespace {

void latency(std::size_t workers, std::size_t iters) {
  auto rt = workers == 1 ? tokio::runtime::Builder::new_current_thread().enable_all().build()
                         : tokio::runtime::Builder::new_multi_thread()
                               .worker_threads(workers)
                               .enable_all()
                               .build();
  bench::SyncChannel<Clock::time_point> acks;
  std::vector<double> us =
      rt.block_on([](std::size_t iters,
                     bench::SyncChannel<Clock::time_point>* acks) -> Task<std::vector<double>> {
        auto sig = tokio::signal::unix::signal(SignalKind::user_defined1());
        if (!sig) std::abort();
        auto listener = tokio::spawn(
            [](Signal s, std::size_t n, bench::SyncChannel<Clock::time_point>* acks) -> Task<> {
              for (std::size_t i = 0; i < n; ++i) {
                (void)co_await s.recv();
                acks->send(Clock::now());
              }
            },
            std::move(*sig), iters, acks);
        std::vector<double> out;
        out.reserve(iters);
        std::thread raiser([&out, iters, acks] {
          for (std::size_t i = 0; i < iters; ++i) {
            auto t0 = Clock::now();
            ::raise(SIGUSR1);
            auto t1 = acks->recv();
            out.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
          }
        });
        co_await listener;
        raiser.join();
        co_return out;
      }(iters, &acks));
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    return us[std::min(us.size() - 1, static_cast<std::size_t>(p * us.size()))];
  };
  std::printf("p50_us=%.2f p99_us=%.2f max_us=%.2f n=%zu\n", pct(0.50), pct(0.99), us.back(),
              us.size());
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parse(argc, argv);
  if (a.name == "latency/raise") {
    latency(a.workers, a.iters);
  } else {
    bench::unknown(a);
  }
  return 0;
}
