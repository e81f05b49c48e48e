// Timer benchmarks: Tokio's time_now.rs and time_timeout.rs with their constants, plus
// 200,000 tasks each sleeping 1-50 ms and 1,000,000 timers registered then cancelled
// (time and peak memory). The Rust twin is bench/tokio-rs/src/bin/time.rs; both take the
// same arguments.
#define TOKIO_IMPLEMENTATION
#include <vector>

#include "bench_common.hpp"

using tokio::JoinHandle;
using tokio::Task;
namespace ttime = tokio::time;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kSleepTasks = 200000;
constexpr std::size_t kTimers = 1000000;

// time_timeout.rs build_run_time: 1 worker -> current_thread, else multi_thread(workers).
tokio::runtime::Runtime build_run_time(std::size_t workers) {
  if (workers == 1) return tokio::runtime::Builder::new_current_thread().enable_all().build();
  return tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(workers).build();
}

// --- time_now.rs ---------------------------------------------------------------------------
void time_now(std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([]() -> Task<> {
      auto now = ttime::Instant::now();
      bench::black_box(now);
      co_return;
    }());
  }
}

// --- time_timeout.rs -----------------------------------------------------------------------
Task<std::size_t> quick_job() { co_return 1; }

void timeout_test(std::size_t workers, std::size_t iters) {
  auto rt = build_run_time(workers);
  rt.block_on([](std::size_t iters, std::size_t procs) -> Task<> {
    std::vector<JoinHandle<void>> handles;
    handles.reserve(procs);
    for (std::size_t p = 0; p < procs; ++p) {
      handles.push_back(tokio::spawn(
          [](std::size_t n) -> Task<> {
            for (std::size_t i = 0; i < n; ++i) {
              auto h = ttime::timeout(std::chrono::seconds(1), quick_job());
              auto r = co_await std::move(h);
              bench::black_box(r);
              if (r.value() != 1) std::abort();
            }
          },
          iters / procs));
    }
    for (auto& h : handles) co_await h;
  }(iters, workers));
}

void sleep_test(std::size_t workers, std::size_t iters) {
  auto rt = build_run_time(workers);
  rt.block_on([](std::size_t iters, std::size_t procs) -> Task<> {
    std::vector<JoinHandle<void>> handles;
    handles.reserve(procs);
    for (std::size_t p = 0; p < procs; ++p) {
      handles.push_back(tokio::spawn(
          [](std::size_t n) -> Task<> {
            for (std::size_t i = 0; i < n; ++i) {
              auto h = ttime::sleep(std::chrono::seconds(1));
              bench::black_box(h);
            }
            co_return;
          },
          iters / procs));
    }
    for (auto& h : handles) co_await h;
  }(iters, workers));
}

// --- 200,000 tasks each sleeping 1-50 ms ---------------------------------------------------
Task<> sleeper(std::size_t i) { co_await ttime::sleep(milliseconds(1 + i % 50)); }

void sleep_tasks(std::size_t workers, std::size_t iters) {
  auto rt = build_run_time(workers);
  for (std::size_t it = 0; it < iters; ++it) {
    rt.block_on([]() -> Task<> {
      std::vector<JoinHandle<void>> hs;
      hs.reserve(kSleepTasks);
      for (std::size_t i = 0; i < kSleepTasks; ++i) hs.push_back(tokio::spawn(sleeper(i)));
      for (auto& h : hs) co_await h;
    }());
  }
}

// --- 1,000,000 timers inserted, then cancelled ---------------------------------------------
// Registers every sleep in one poll (outside the coop budget, like Tokio's unconstrained).
class RegisterAll : public tokio::detail::Leaf<RegisterAll> {
 public:
  explicit RegisterAll(std::vector<ttime::Sleep>* v) : v_(v) {}
  bool poll(tokio::task::Context& cx) noexcept {
    for (auto& s : *v_) {
      if (s.poll(cx)) std::abort();  // every deadline is in the future
    }
    return true;
  }
  void await_resume() const noexcept {}

 private:
  std::vector<ttime::Sleep>* v_;
};

ttime::Instant spread(ttime::Instant now, std::size_t i) {
  // Deadlines from 1 s to ~1 h: every wheel level from 1 up is used.
  return now + milliseconds(1000 + (i * 7919) % 3600000);
}

void insert_cancel(std::size_t iters) {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([](std::size_t iters) -> Task<> {
    for (std::size_t it = 0; it < iters; ++it) {
      std::vector<ttime::Sleep> v;
      v.reserve(kTimers);
      auto now = ttime::Instant::now();
      for (std::size_t i = 0; i < kTimers; ++i) v.push_back(ttime::sleep_until(spread(now, i)));
      co_await tokio::task::unconstrained(RegisterAll(&v));
    }  // destroying the vector cancels every timer
  }(iters));
}

void timers_memory(std::size_t n) {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([](std::size_t n) -> Task<> {
    long before = bench::max_rss_kb();
    std::vector<ttime::Sleep> v;
    v.reserve(n);
    auto now = ttime::Instant::now();
    for (std::size_t i = 0; i < n; ++i) v.push_back(ttime::sleep_until(spread(now, i)));
    co_await tokio::task::unconstrained(RegisterAll(&v));
    long after = bench::max_rss_kb();
    std::printf("timers=%zu sizeof=%zu rss_kb=%ld bytes_per_task=%.1f\n", n, sizeof(ttime::Sleep),
                after, (after - before) * 1024.0 / static_cast<double>(n));
  }(n));
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  if (n == "now/current_thread") time_now(a.iters);
  else if (n == "timeout/single_thread_timeout") timeout_test(1, a.iters);
  else if (n == "timeout/multi_thread_timeout") timeout_test(a.workers, a.iters);
  else if (n == "timeout/single_thread_sleep") sleep_test(1, a.iters);
  else if (n == "timeout/multi_thread_sleep") sleep_test(a.workers, a.iters);
  else if (n == "sleep_tasks") sleep_tasks(a.workers, a.iters);
  else if (n == "insert_cancel") insert_cancel(a.iters);
  else if (n == "memory/timers") timers_memory(a.iters);
  else bench::unknown(a);
  return 0;
}
