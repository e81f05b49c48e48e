// Process benchmarks: spawn and wait for children of /bin/true, 32 at a time, and collect
// large outputs (the Rust twin is bench/tokio-rs/src/bin/process.rs; both take the same
// arguments).
//
//   spawn_wait/true <workers> <iters>   iters children in total, 32 in flight, on a
//                                       multi-thread runtime with `workers` workers
//   output/10mb <workers> <iters>       iters children one after the other, each writing
//                                       10 MB on stdout and 10 MB on stderr, collected by
//                                       Command::output()
#define TOKIO_IMPLEMENTATION
#include <cstdio>
#include <cstdlib>

#include "bench_common.hpp"

using tokio::Task;
using tokio::process::Command;

namespace {

constexpr std::size_t kInFlight = 32;

// One of the 32 lanes: runs its share of the children one after the other.
Task<std::size_t> lane(std::size_t n) {
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto st = co_await Command("/bin/true").status();
    if (st && st->success()) ++ok;
  }
  co_return ok;
}

void spawn_wait(std::size_t workers, std::size_t iters) {
  auto rt =
      tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
  std::size_t ok = rt.block_on([](std::size_t iters) -> Task<std::size_t> {
    tokio::task::JoinSet<std::size_t> set;
    for (std::size_t l = 0; l < kInFlight; ++l) {
      set.spawn(lane, iters / kInFlight + (l < iters % kInFlight ? 1 : 0));
    }
    std::size_t total = 0;
    for (;;) {
      auto r = co_await set.join_next();
      if (!r) break;
      total += **r;
    }
    co_return total;
  }(iters));
  if (ok != iters) {
    std::fprintf(stderr, "only %zu of %zu children succeeded\n", ok, iters);
    std::exit(1);
  }
}

void output_10mb(std::size_t workers, std::size_t iters) {
  auto rt =
      tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
  std::size_t ok = rt.block_on([](std::size_t iters) -> Task<std::size_t> {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < iters; ++i) {
      auto out = co_await Command("sh")
                     .arg("-c")
                     .arg("head -c 10000000 /dev/zero; head -c 10000000 /dev/zero >&2")
                     .output();
      if (out && out->stdout.size() == 10000000 && out->stderr.size() == 10000000) ++ok;
    }
    co_return ok;
  }(iters));
  if (ok != iters) {
    std::fprintf(stderr, "only %zu of %zu outputs were complete\n", ok, iters);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto a = bench::parse(argc, argv);
  if (a.name == "spawn_wait/true") {
    spawn_wait(a.workers, a.iters);
  } else if (a.name == "output/10mb") {
    output_10mb(a.workers, a.iters);
  } else {
    bench::unknown(a);
  }
  return 0;
}
