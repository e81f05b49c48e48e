// User-shaped programs (issue 10): written the way the README tells users to write them,
// not tuned twins of Tokio's benches. Shared state travels in std::shared_ptr, tasks are
// spawned with the two forms the README shows, and the program is one block_on of an
// async main. The Rust twin is bench/tokio-rs/src/bin/user.rs, written as a Rust user
// would (Arc, async move blocks, #[tokio::main]-style block_on).
//
//   memory/idle_notify_callable   `iters` tasks, each spawned as
//                                 tokio::spawn(lambda, shared_ptr<Notify>, shared_ptr<...>),
//                                 bump a counter and await notify->notified(); once every
//                                 task has bumped it, notify_waiters() is called (again
//                                 every millisecond until all have woken: a task counted
//                                 may not be registered yet). Prints peak RSS and
//                                 bytes_per_task = peak RSS / tasks.
//   memory/idle_notify_coroutine  the same, spawned as tokio::spawn(waiter(notify, progress)).
//   chained_spawn/callable        Tokio's chained_spawn shape: each task spawns the next,
//                                 1,000 deep; the block_on thread waits on a std::future the
//                                 last task fulfils. `iters` chains. The task is spawned as
//                                 tokio::spawn(lambda, shared_ptr<promise>, depth).
//   chained_spawn/coroutine       the same, spawned as tokio::spawn(link(done, depth)).
//   mpsc_bounded                  channel of capacity 100, 5 producers x 1,000 sends (spawned
//                                 as tokio::spawn(lambda, Sender)), the async main receives
//                                 until the channel closes. `iters` rounds.
//   select_loop                   the same channel and producers; the async main receives in
//                                 a select loop, each message raced against a stop Notify
//                                 (`select(rx.recv(), stop.notified())`, the shape of a
//                                 server loop with a shutdown signal). `iters` rounds.
//   select_sleep_loop             the same, each message raced against a fresh 1 s sleep
//                                 (`select(rx.recv(), sleep(1s))`, a per-message idle
//                                 deadline). `iters` rounds.
//   joinset_rounds                `iters` rounds, each spawning 100,000 tasks on a JoinSet
//                                 (set.spawn(lambda, i), the task returns i * 2) and
//                                 draining it with join_next(): bursts of short tasks, the
//                                 memory of each round freed before the next.
//   joinset_rounds/current_thread the same on a current-thread runtime (workers ignored).
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <future>
#include <memory>

#include "bench_common.hpp"

using tokio::Task;
using tokio::sync::Notify;
namespace mpsc = tokio::sync::mpsc;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "user: %s\n", what);
  std::exit(1);
}

tokio::runtime::Runtime runtime(std::size_t workers) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
}

// --- 1,000,000 idle tasks on one Notify ---------------------------------------------------
struct Progress {
  std::atomic<std::size_t> waiting{0};
  std::atomic<std::size_t> woken{0};
};

Task<> waiter(std::shared_ptr<Notify> notify, std::shared_ptr<Progress> progress) {
  progress->waiting.fetch_add(1, std::memory_order_relaxed);
  co_await notify->notified();
  progress->woken.fetch_add(1, std::memory_order_relaxed);
}

Task<> idle_notify(std::size_t tasks, bool callable) {
  auto notify = std::make_shared<Notify>();
  auto progress = std::make_shared<Progress>();
  for (std::size_t i = 0; i < tasks; ++i) {
    if (callable) {
      tokio::spawn(
          [](std::shared_ptr<Notify> notify, std::shared_ptr<Progress> progress) -> Task<> {
            progress->waiting.fetch_add(1, std::memory_order_relaxed);
            co_await notify->notified();
            progress->woken.fetch_add(1, std::memory_order_relaxed);
          },
          notify, progress);
    } else {
      tokio::spawn(waiter(notify, progress));
    }
  }
  // Every loop is bounded (120 s) so a broken runtime fails instead of hanging the run.
  for (int ms = 0; progress->waiting.load(std::memory_order_relaxed) < tasks; ++ms) {
    if (ms > 120000) fail("tasks did not start waiting within 120 s");
    co_await tokio::time::sleep(std::chrono::milliseconds(1));
  }
  for (int ms = 0; progress->woken.load(std::memory_order_relaxed) < tasks; ++ms) {
    if (ms > 120000) fail("tasks were not woken within 120 s");
    notify->notify_waiters();
    co_await tokio::time::sleep(std::chrono::milliseconds(1));
  }
}

void idle_notify_main(std::size_t workers, std::size_t tasks, bool callable) {
  {
    auto rt = runtime(workers);
    rt.block_on(idle_notify(tasks, callable));
  }
  long rss = bench::max_rss_kb();
  std::printf("tasks=%zu rss_kb=%ld bytes_per_task=%.1f\n", tasks, rss,
              rss * 1024.0 / static_cast<double>(tasks));
}

// --- chained spawn ------------------------------------------------------------------------
constexpr std::size_t kChainDepth = 1000;
using Done = std::shared_ptr<std::promise<void>>;

void chain_callable(Done done, std::size_t n) {
  if (n == 0) {
    done->set_value();
    return;
  }
  tokio::spawn(
      [](Done done, std::size_t n) -> Task<> {
        chain_callable(std::move(done), n - 1);
        co_return;
      },
      std::move(done), n);
}

Task<> chain_link(Done done, std::size_t n);
void chain_coroutine(Done done, std::size_t n) {
  if (n == 0) {
    done->set_value();
    return;
  }
  tokio::spawn(chain_link(std::move(done), n - 1));
}
Task<> chain_link(Done done, std::size_t n) {
  chain_coroutine(std::move(done), n);
  co_return;
}

Task<> chained_once(bool callable) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  if (callable) {
    tokio::spawn(
        [](Done done, std::size_t n) -> Task<> {
          chain_callable(std::move(done), n);
          co_return;
        },
        std::move(done), kChainDepth);
  } else {
    tokio::spawn(chain_link(std::move(done), kChainDepth));
  }
  // As in Tokio's chained_spawn bench, the block_on thread blocks (not awaits) until the
  // chain ends.
  if (finished.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    fail("chain did not finish within 60 s");
  }
  co_return;
}

void chained_main(std::size_t workers, std::size_t iters, bool callable) {
  auto rt = runtime(workers);
  for (std::size_t i = 0; i < iters; ++i) rt.block_on(chained_once(callable));
}

// --- bounded mpsc -------------------------------------------------------------------------
constexpr std::size_t kProducers = 5;
constexpr std::size_t kSends = 1000;

// Spawns the producers; `tx` is dropped on return, so the receive ends with them.
void spawn_producers(mpsc::Sender<std::size_t> tx) {
  for (std::size_t p = 0; p < kProducers; ++p) {
    tokio::spawn(
        [](mpsc::Sender<std::size_t> tx) -> Task<> {
          for (std::size_t i = 0; i < kSends; ++i) {
            auto sent = co_await tx.send(i);
            if (!sent) fail("send on a closed channel");
          }
        },
        tx);
  }
}

Task<> mpsc_round() {
  auto [tx, rx] = mpsc::channel<std::size_t>(100);
  spawn_producers(std::move(tx));
  std::size_t received = 0;
  for (;;) {
    auto v = co_await rx.recv();
    if (!v) break;
    ++received;
  }
  if (received != kProducers * kSends) fail("lost messages");
}

Task<> mpsc_main(std::size_t rounds) {
  for (std::size_t i = 0; i < rounds; ++i) co_await mpsc_round();
}

// --- select loops -------------------------------------------------------------------------
// Each message is raced against a fresh operand from `other()`, which must never win.
template <class Other>
Task<> select_round(Other other) {
  auto [tx, rx] = mpsc::channel<std::size_t>(100);
  spawn_producers(std::move(tx));
  std::size_t received = 0;
  for (;;) {
    auto ev = co_await tokio::select(rx.recv(), other());
    if (ev.index() == 1) fail("the other branch won");
    if (!std::get<0>(ev)) break;
    ++received;
  }
  if (received != kProducers * kSends) fail("lost messages");
}

Task<> select_main(std::size_t rounds) {
  Notify stop;
  for (std::size_t i = 0; i < rounds; ++i) {
    co_await select_round([&stop] { return stop.notified(); });
  }
}

Task<> select_sleep_main(std::size_t rounds) {
  for (std::size_t i = 0; i < rounds; ++i) {
    co_await select_round([] { return tokio::time::sleep(std::chrono::seconds(1)); });
  }
}

// --- JoinSet rounds -----------------------------------------------------------------------
constexpr uint64_t kRoundTasks = 100000;

Task<> joinset_rounds(std::size_t rounds) {
  uint64_t total = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    tokio::task::JoinSet<uint64_t> set;
    for (uint64_t i = 0; i < kRoundTasks; ++i) {
      set.spawn([](uint64_t x) -> Task<uint64_t> { co_return x * 2; }, i);
    }
    while (auto r = co_await set.join_next()) total += r->value();
  }
  if (total != rounds * kRoundTasks * (kRoundTasks - 1)) fail("wrong total");
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  if (n == "memory/idle_notify_callable") idle_notify_main(a.workers, a.iters, true);
  else if (n == "memory/idle_notify_coroutine") idle_notify_main(a.workers, a.iters, false);
  else if (n == "chained_spawn/callable") chained_main(a.workers, a.iters, true);
  else if (n == "chained_spawn/coroutine") chained_main(a.workers, a.iters, false);
  else if (n == "mpsc_bounded") runtime(a.workers).block_on(mpsc_main(a.iters));
  else if (n == "select_loop") runtime(a.workers).block_on(select_main(a.iters));
  else if (n == "select_sleep_loop") runtime(a.workers).block_on(select_sleep_main(a.iters));
  else if (n == "joinset_rounds") runtime(a.workers).block_on(joinset_rounds(a.iters));
  else if (n == "joinset_rounds/current_thread") {
    tokio::runtime::Builder::new_current_thread().enable_all().build().block_on(
        joinset_rounds(a.iters));
  } else bench::unknown(a);
  return 0;
}
