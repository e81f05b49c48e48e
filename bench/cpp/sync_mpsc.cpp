// mpsc benchmarks: Tokio's benches/sync_mpsc.rs with its constants (6 workers in Tokio;
// the worker count is the second argument). The Rust twin is
// bench/tokio-rs/src/bin/sync_mpsc.rs.
#define TOKIO_IMPLEMENTATION
#include <cstdlib>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
namespace mpsc = tokio::sync::mpsc;

namespace {

struct Medium {
  std::size_t a[64] = {};
};
struct Large {
  Medium a[64] = {};
};

tokio::runtime::Runtime rt(std::size_t workers) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
}

void create_medium(std::size_t size, std::size_t iters) {
  for (std::size_t i = 0; i < iters; ++i) {
    auto ch = mpsc::channel<Medium>(size);
    bench::black_box(ch);
  }
}

template <class T>
void send_data(std::size_t workers, std::size_t iters) {
  auto r = rt(workers);
  for (std::size_t i = 0; i < iters; ++i) {
    auto [tx, rx] = mpsc::channel<T>(1000);
    (void)r.block_on(tx.send(T{}));
    if (!r.block_on(rx.recv())) std::abort();
  }
}

Task<> bounded_producer(mpsc::Sender<std::size_t> tx) {
  for (std::size_t i = 0; i < 1000; ++i) {
    if (!(co_await tx.send(i))) std::abort();
  }
}
Task<> unbounded_producer(mpsc::UnboundedSender<std::size_t> tx) {
  for (std::size_t i = 0; i < 1000; ++i) {
    if (!tx.send(i)) std::abort();
  }
  co_return;
}

template <class Rx>
Task<> consume(Rx& rx, bool many) {
  if (many) {
    std::vector<std::size_t> buffer;
    buffer.reserve(5000);
    std::size_t total = 0;
    while (total < 1000 * 5) total += co_await rx.recv_many(buffer, 5000);
  } else {
    for (int i = 0; i < 1000 * 5; ++i) (void)co_await rx.recv();
  }
}

void contention_bounded(std::size_t workers, std::size_t iters, std::size_t cap, bool many) {
  auto r = rt(workers);
  for (std::size_t i = 0; i < iters; ++i) {
    r.block_on([](std::size_t cap, bool many) -> Task<> {
      auto [tx, rx] = mpsc::channel<std::size_t>(cap);
      for (int p = 0; p < 5; ++p) tokio::spawn(bounded_producer(tx));
      co_await consume(rx, many);
    }(cap, many));
  }
}

void contention_unbounded(std::size_t workers, std::size_t iters, bool many) {
  auto r = rt(workers);
  for (std::size_t i = 0; i < iters; ++i) {
    r.block_on([](bool many) -> Task<> {
      auto [tx, rx] = mpsc::unbounded_channel<std::size_t>();
      for (int p = 0; p < 5; ++p) tokio::spawn(unbounded_producer(tx));
      co_await consume(rx, many);
    }(many));
  }
}

void uncontented_bounded(std::size_t workers, std::size_t iters, bool many) {
  auto r = rt(workers);
  for (std::size_t i = 0; i < iters; ++i) {
    r.block_on([](bool many) -> Task<> {
      auto [tx, rx] = mpsc::channel<std::size_t>(1000000);
      for (std::size_t v = 0; v < 5000; ++v) {
        if (!(co_await tx.send(v))) std::abort();
      }
      co_await consume(rx, many);
    }(many));
  }
}

void uncontented_unbounded(std::size_t workers, std::size_t iters, bool many) {
  auto r = rt(workers);
  for (std::size_t i = 0; i < iters; ++i) {
    r.block_on([](bool many) -> Task<> {
      auto [tx, rx] = mpsc::unbounded_channel<std::size_t>();
      for (std::size_t v = 0; v < 5000; ++v) {
        if (!tx.send(v)) std::abort();
      }
      co_await consume(rx, many);
    }(many));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  std::size_t w = a.workers, it = a.iters;
  if (n == "create_medium/1") create_medium(1, it);
  else if (n == "create_medium/100") create_medium(100, it);
  else if (n == "create_medium/100000") create_medium(100000, it);
  else if (n == "send/medium_1000") send_data<Medium>(w, it);
  else if (n == "send/large_1000") send_data<Large>(w, it);
  else if (n == "contention/bounded") contention_bounded(w, it, 1000000, false);
  else if (n == "contention/bounded_recv_many") contention_bounded(w, it, 1000000, true);
  else if (n == "contention/bounded_full") contention_bounded(w, it, 100, false);
  else if (n == "contention/bounded_full_recv_many") contention_bounded(w, it, 100, true);
  else if (n == "contention/unbounded") contention_unbounded(w, it, false);
  else if (n == "contention/unbounded_recv_many") contention_unbounded(w, it, true);
  else if (n == "uncontented/bounded") uncontented_bounded(w, it, false);
  else if (n == "uncontented/bounded_recv_many") uncontented_bounded(w, it, true);
  else if (n == "uncontented/unbounded") uncontented_unbounded(w, it, false);
  else if (n == "uncontented/unbounded_recv_many") uncontented_unbounded(w, it, true);
  else bench::unknown(a);
  return 0;
}
