// Runtime benchmarks: Tokio's rt_multi_threaded.rs, rt_current_thread.rs, spawn.rs,
// remote_spawn.rs and spawn_blocking.rs, with their constants. The Rust twin is
// bench/tokio-rs/src/bin/rt.rs; both take the same arguments.
#define TOKIO_IMPLEMENTATION
#include <atomic>
#include <barrier>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "bench_common.hpp"

using tokio::JoinHandle;
using tokio::Task;
namespace oneshot = tokio::sync::oneshot;

namespace {

constexpr std::size_t kNumSpawn = 10000;  // rt_multi_threaded.rs NUM_SPAWN
constexpr std::size_t kNumPings = 1000;
constexpr std::size_t kNumYield = 1000;
constexpr std::size_t kYieldTasks = 200;
constexpr std::size_t kChainIter = 1000;
constexpr std::size_t kCtNumSpawn = 1000;  // rt_current_thread.rs NUM_SPAWN
constexpr std::size_t kRemoteTotal = 12800;
constexpr std::size_t kBatches = 100;
constexpr std::size_t kBatchSize = 16;

using Done = bench::SyncChannel<int>;

// Cases named "<case>+obs" run with the observability of issue 15 on: every task spawned
// through OBS_SPAWN carries a name (task::Builder) and the runtime has a stall detector
// (100 ms). The Tokio twin runs the plain case (its task names need tokio_unstable).
// "+names" and "+stall" turn on one of the two (for bench/NOTES.md's breakdown).
bool g_names = false;
bool g_stall = false;

tokio::runtime::Runtime multi(std::size_t workers) {
  auto b = tokio::runtime::Builder::new_multi_thread();
  b.worker_threads(workers).enable_all();
  if (g_stall) b.stall_threshold(std::chrono::milliseconds(100));
  return b.build();
}
tokio::runtime::Runtime current() {
  auto b = tokio::runtime::Builder::new_current_thread();
  if (g_stall) b.stall_threshold(std::chrono::milliseconds(100));
  return b.build();
}

// As a user names a task: `Builder().name(n).spawn(coroutine(args...))`, the coroutine
// created in the spawn's argument (so its frame block can hold the name).
#define OBS_SPAWN(call) \
  (g_names ? tokio::task::Builder().name("bench task").spawn(call) : tokio::spawn(call))
#define OBS_SPAWN_ON(rt, call) \
  (g_names ? tokio::task::Builder().name("bench task").spawn_on(rt.handle(), call) : rt.spawn(call))

Task<> empty() { co_return; }

Task<> count_down(std::atomic<std::size_t>* rem, Done* done) {
  if (rem->fetch_sub(1, std::memory_order_relaxed) == 1) done->send(0);
  co_return;
}

// --- rt_multi_threaded.rs -----------------------------------------------------------------
void spawn_many_local(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  Done done;
  std::atomic<std::size_t> rem{0};
  for (std::size_t it = 0; it < iters; ++it) {
    rem.store(kNumSpawn, std::memory_order_relaxed);
    rt.block_on([](std::atomic<std::size_t>* rem, Done* done) -> Task<> {
      for (std::size_t i = 0; i < kNumSpawn; ++i) OBS_SPAWN(count_down(rem, done)).detach();
      done->recv();
      co_return;
    }(&rem, &done));
  }
}

void remote_spawn_and_await(tokio::runtime::Runtime& rt, std::size_t n) {
  auto h = rt.handle();
  std::vector<JoinHandle<void>> handles;
  handles.reserve(n);
  for (std::size_t i = 0; i < n; ++i) handles.push_back(h.spawn(empty()));
  rt.block_on([](std::vector<JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&handles));
}

void spawn_many_remote_idle(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  for (std::size_t it = 0; it < iters; ++it) remote_spawn_and_await(rt, kNumSpawn);
}

Task<> busy_yielder(std::atomic<bool>* flag) {
  while (flag->load(std::memory_order_relaxed)) {
    co_await tokio::task::yield_now();
    bench::stall();
  }
}

void spawn_many_remote_busy1(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  std::atomic<bool> flag{true};
  for (std::size_t i = 0; i < 2 * workers; ++i) rt.spawn(busy_yielder(&flag)).detach();
  for (std::size_t it = 0; it < iters; ++it) remote_spawn_and_await(rt, kNumSpawn);
  flag.store(false);
}

void busy_chain_iter(std::atomic<bool>* flag);
Task<> busy_chain_task(std::atomic<bool>* flag) {
  if (flag->load(std::memory_order_relaxed)) {
    bench::stall();
    busy_chain_iter(flag);
  }
  co_return;
}
void busy_chain_iter(std::atomic<bool>* flag) { tokio::spawn(busy_chain_task(flag)).detach(); }

void spawn_many_remote_busy2(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  std::atomic<bool> flag{true};
  for (std::size_t i = 0; i < workers; ++i) {
    rt.spawn(
          [](std::atomic<bool>* f) -> Task<> {
            busy_chain_iter(f);
            co_return;
          },
          &flag)
        .detach();
  }
  for (std::size_t it = 0; it < iters; ++it) remote_spawn_and_await(rt, 1000);
  flag.store(false);
}

Task<> pong(oneshot::Receiver<int> rx1, oneshot::Sender<int> tx2) {
  (void)(co_await std::move(rx1)).value();
  (void)tx2.send(0);
}
Task<> ping(std::atomic<std::size_t>* rem, Done* done) {
  auto [tx1, rx1] = oneshot::channel<int>();
  auto [tx2, rx2] = oneshot::channel<int>();
  tokio::spawn(pong(std::move(rx1), std::move(tx2))).detach();
  (void)tx1.send(0);
  (void)(co_await std::move(rx2)).value();
  if (rem->fetch_sub(1, std::memory_order_relaxed) == 1) done->send(0);
}

void ping_pong(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  Done done;
  std::atomic<std::size_t> rem{0};
  for (std::size_t it = 0; it < iters; ++it) {
    rem.store(kNumPings, std::memory_order_relaxed);
    rt.block_on([](std::atomic<std::size_t>* rem, Done* done) -> Task<> {
      tokio::spawn(
          [](std::atomic<std::size_t>* rem, Done* done) -> Task<> {
            for (std::size_t i = 0; i < kNumPings; ++i) tokio::spawn(ping(rem, done)).detach();
            co_return;
          },
          rem, done)
          .detach();
      done->recv();
      co_return;
    }(&rem, &done));
  }
}

Task<> yielder(Done* done) {
  for (std::size_t i = 0; i < kNumYield; ++i) co_await tokio::task::yield_now();
  done->send(0);
}

void yield_many(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  Done done;
  for (std::size_t it = 0; it < iters; ++it) {
    for (std::size_t i = 0; i < kYieldTasks; ++i) OBS_SPAWN_ON(rt, yielder(&done)).detach();
    for (std::size_t i = 0; i < kYieldTasks; ++i) done.recv();
  }
}

void chain_iter(Done* done, std::size_t n);
Task<> chain_task(Done* done, std::size_t n) {
  chain_iter(done, n);
  co_return;
}
void chain_iter(Done* done, std::size_t n) {
  if (n == 0) done->send(0);
  else OBS_SPAWN(chain_task(done, n - 1)).detach();
}

void chained_spawn(std::size_t workers, std::size_t iters) {
  auto rt = multi(workers);
  Done done;
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](Done* done) -> Task<> {
      tokio::spawn(chain_task(done, kChainIter)).detach();
      done->recv();
      co_return;
    }(&done));
  }
}

// --- rt_current_thread.rs -----------------------------------------------------------------
void ct_spawn_many_local(std::size_t iters) {
  auto rt = current();
  std::vector<JoinHandle<void>> handles;
  handles.reserve(kCtNumSpawn);
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](std::vector<JoinHandle<void>>* hs) -> Task<> {
      for (std::size_t i = 0; i < kCtNumSpawn; ++i) hs->push_back(tokio::spawn(empty()));
      for (auto& h : *hs) co_await h;
      hs->clear();
    }(&handles));
  }
}

void ct_spawn_many_remote_idle(std::size_t iters) {
  auto rt = current();
  for (std::size_t it = 0; it < iters; ++it) remote_spawn_and_await(rt, kCtNumSpawn);
}

Task<> respawn_forever();
void respawn_iter() { tokio::spawn(respawn_forever()).detach(); }
Task<> respawn_forever() {
  respawn_iter();
  co_return;
}

void ct_spawn_many_remote_busy(std::size_t iters) {
  auto rt = current();
  rt.spawn([]() -> Task<> {
      respawn_iter();
      co_return;
    }).detach();
  for (std::size_t it = 0; it < iters; ++it) remote_spawn_and_await(rt, kCtNumSpawn);
}

// --- spawn.rs -----------------------------------------------------------------------------
Task<std::size_t> work() {
  std::size_t val = 1 + 1;
  co_await tokio::task::yield_now();
  bench::black_box(val);
  co_return val;
}

void spawn_n(tokio::runtime::Runtime& rt, std::size_t n, std::size_t iters) {
  std::vector<JoinHandle<std::size_t>> hs;
  hs.reserve(n);
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](std::vector<JoinHandle<std::size_t>>* hs, std::size_t n) -> Task<> {
      for (std::size_t i = 0; i < n; ++i) hs->push_back(tokio::spawn(work()));
      for (auto& h : *hs) {
        if (co_await h != 2) std::abort();
      }
      hs->clear();
    }(&hs, n));
  }
}

// --- remote_spawn.rs ----------------------------------------------------------------------
void remote_spawn(std::size_t threads, std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_multi_thread().build();
  auto h = rt.handle();
  for (std::size_t it = 0; it < iters; ++it) {
    std::barrier sync(static_cast<std::ptrdiff_t>(threads));
    std::vector<std::vector<JoinHandle<void>>> handles(threads);
    std::vector<std::thread> ts;
    for (std::size_t t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        sync.arrive_and_wait();
        handles[t].reserve(kRemoteTotal / threads);
        for (std::size_t i = 0; i < kRemoteTotal / threads; ++i)
          handles[t].push_back(h.spawn(empty()));
      });
    }
    for (auto& t : ts) t.join();
    rt.block_on([](std::vector<std::vector<JoinHandle<void>>>* hs) -> Task<> {
      for (auto& v : *hs) {
        for (auto& jh : v) co_await jh;
      }
    }(&handles));
  }
}

// --- spawn_blocking.rs --------------------------------------------------------------------
Task<> blocking_batches() {
  std::vector<JoinHandle<int>> hs;
  hs.reserve(kBatchSize);
  for (std::size_t b = 0; b < kBatches; ++b) {
    for (std::size_t i = 0; i < kBatchSize; ++i) {
      hs.push_back(tokio::task::spawn_blocking([] {
        int v = 0;
        bench::black_box(v);
        return v;
      }));
    }
    for (auto& h : hs) (void)co_await h;
    hs.clear();
  }
}

void spawn_blocking(std::size_t concurrency, std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([](std::size_t n) -> Task<> {
      std::vector<JoinHandle<void>> hs;
      for (std::size_t i = 0; i < n; ++i) hs.push_back(tokio::spawn(blocking_batches()));
      for (auto& h : hs) co_await h;
    }(concurrency));
  }
}

// --- memory per parked task ---------------------------------------------------------------
Task<> park_on(oneshot::Receiver<int> rx) { (void)co_await std::move(rx); }

void parked_memory(std::size_t workers, std::size_t tasks) {
  auto rt = multi(workers);
  std::vector<oneshot::Sender<int>> senders;
  std::vector<JoinHandle<void>> handles;
  senders.reserve(tasks);
  handles.reserve(tasks);
  long before = bench::max_rss_kb();
  {
    auto g = rt.enter();
    for (std::size_t i = 0; i < tasks; ++i) {
      auto [tx, rx] = oneshot::channel<int>();
      senders.push_back(std::move(tx));
      // One coroutine frame per task, like Tokio's one future per task (spawn(f, args)
      // would add a frame owning f and args).
      handles.push_back(tokio::spawn(park_on(std::move(rx))));
    }
  }
  // Wait until every task has run and parked on its receiver.
  rt.block_on([]() -> Task<> {
    for (int i = 0; i < 50; ++i) co_await tokio::task::yield_now();
  }());
  while (rt.metrics().global_queue_depth() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  long after = bench::max_rss_kb();
  std::printf("tasks=%zu rss_kb=%ld bytes_per_task=%.1f\n", tasks, after,
              (after - before) * 1024.0 / static_cast<double>(tasks));
  for (auto& s : senders) (void)s.send(1);
  rt.block_on([](std::vector<JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&handles));
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  for (auto [suffix, names, stall] :
       {std::tuple{"+obs", true, true}, {"+names", true, false}, {"+stall", false, true}}) {
    std::string_view sfx = suffix;
    if (a.name.size() > sfx.size() && a.name.ends_with(sfx)) {
      g_names = names;
      g_stall = stall;
      a.name.resize(a.name.size() - sfx.size());
    }
  }
  const std::string& n = a.name;
  if (n == "multi/spawn_many_local") spawn_many_local(a.workers, a.iters);
  else if (n == "multi/spawn_many_remote_idle") spawn_many_remote_idle(a.workers, a.iters);
  else if (n == "multi/spawn_many_remote_busy1") spawn_many_remote_busy1(a.workers, a.iters);
  else if (n == "multi/spawn_many_remote_busy2") spawn_many_remote_busy2(a.workers, a.iters);
  else if (n == "multi/ping_pong") ping_pong(a.workers, a.iters);
  else if (n == "multi/yield_many") yield_many(a.workers, a.iters);
  else if (n == "multi/chained_spawn") chained_spawn(a.workers, a.iters);
  else if (n == "current/spawn_many_local") ct_spawn_many_local(a.iters);
  else if (n == "current/spawn_many_remote_idle") ct_spawn_many_remote_idle(a.iters);
  else if (n == "current/spawn_many_remote_busy") ct_spawn_many_remote_busy(a.iters);
  else if (n == "spawn/basic_scheduler_spawn") {
    auto rt = current();
    spawn_n(rt, 1, a.iters);
  } else if (n == "spawn/basic_scheduler_spawn10") {
    auto rt = current();
    spawn_n(rt, 10, a.iters);
  } else if (n == "spawn/threaded_scheduler_spawn") {
    auto rt = multi(1);
    spawn_n(rt, 1, a.iters);
  } else if (n == "spawn/threaded_scheduler_spawn10") {
    auto rt = multi(1);
    spawn_n(rt, 10, a.iters);
  } else if (n == "remote_spawn") remote_spawn(a.workers, a.iters);
  else if (n == "spawn_blocking") spawn_blocking(a.workers, a.iters);
  else if (n == "memory/parked_tasks") parked_memory(a.workers, a.iters);
  else bench::unknown(a);
  return 0;
}
