// request/reply over mpsc + oneshot: Tokio's benches/sync_mpsc_oneshot.rs, on a
// current-thread runtime and on a multi-thread runtime (1 worker in Tokio's bench; the
// worker count is the second argument). Twin: bench/tokio-rs/src/bin/sync_mpsc_oneshot.rs.
#define TOKIO_IMPLEMENTATION
#include <cstdlib>
#include <variant>

#include "bench_common.hpp"

using tokio::Task;
namespace mpsc = tokio::sync::mpsc;
namespace oneshot = tokio::sync::oneshot;

namespace {

using Reply = oneshot::Sender<std::monostate>;

void request_reply(tokio::runtime::Runtime rt, std::size_t iters) {
  auto tx = rt.block_on([]() -> Task<mpsc::Sender<Reply>> {
    auto [tx, rx] = mpsc::channel<Reply>(10);
    tokio::spawn(
        [](mpsc::Receiver<Reply> rx) -> Task<> {
          for (;;) {
            auto reply = co_await rx.recv();
            if (!reply) break;
            if (!reply->send(std::monostate{})) std::abort();
          }
        },
        std::move(rx));
    co_return tx;
  }());
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](mpsc::Sender<Reply> task_tx) -> Task<> {
      for (int k = 0; k < 1000; ++k) {
        auto [o_tx, o_rx] = oneshot::channel<std::monostate>();
        if (!(co_await task_tx.send(std::move(o_tx)))) std::abort();
        (void)co_await o_rx;
      }
    }(tx));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  if (a.name == "request_reply/current_thread") {
    request_reply(tokio::runtime::Builder::new_current_thread().build(), a.iters);
  } else if (a.name == "request_reply/multi_thread") {
    request_reply(tokio::runtime::Builder::new_multi_thread().worker_threads(a.workers).build(),
                  a.iters);
  } else {
    bench::unknown(a);
  }
  return 0;
}
