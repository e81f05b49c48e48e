// Task dumps, runtime metrics and task hooks: what a running program can learn about its
// tasks (the failure-reporting half is observability_test.cpp).
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "internals.hpp"  // detail::debug_quoted
#include "test_util.hpp"
#include "net_test_util.hpp"  // nt::Watchdog

namespace {
namespace rt = tokio::runtime;
}  // namespace

// The lines of the co_awaits the dump test's tasks are suspended at.
namespace {
unsigned g_line_inner = 0;
unsigned g_line_outer = 0;
}  // namespace

TEST_CASE("dump: names, states, leaves and chain depth of live tasks") {
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  r.block_on([](rt::Handle handle) -> tokio::Task<> {
    auto notify = std::make_shared<tokio::sync::Notify>();
    auto mutex = std::make_shared<tokio::sync::Mutex<int>>(0);
    auto [tx, rx] = tokio::sync::mpsc::channel<int>(4);
    auto held = co_await mutex->lock();  // so the locker waits
    (void)held;
    auto inner = [](std::shared_ptr<tokio::sync::Notify> n) -> tokio::Task<> {
      g_line_inner = __LINE__ + 1;
      co_await n->notified();
    };
    auto a = tokio::task::Builder()
                 .name("notified")
                 .spawn(
                     [](std::shared_ptr<tokio::sync::Notify> n, auto in) -> tokio::Task<> {
                       g_line_outer = __LINE__ + 1;
                       co_await in(n);
                     },
                     notify, inner);
    auto b = tokio::task::Builder().name("locker").spawn(
        [](std::shared_ptr<tokio::sync::Mutex<int>> m) -> tokio::Task<> {
          (void)co_await m->lock();
        },
        mutex);
    auto c = tokio::task::Builder()
                 .name("receiver")
                 .spawn(
                     [](tokio::sync::mpsc::Receiver<int> rx) -> tokio::Task<> {
                       (void)co_await rx.recv();
                     },
                     std::move(rx));
    auto d = tokio::task::Builder().name("sleeper").spawn(
        []() -> tokio::Task<> { co_await tokio::time::sleep(std::chrono::hours(1)); });
    auto e = tokio::task::Builder().name("done").spawn([]() -> tokio::Task<int> { co_return 5; });
    // Waits on I/O: a read with nothing to read, an accept with nobody connecting, and a join.
    auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
    auto client = (co_await tokio::net::TcpStream::connect(listener.local_addr().value())).value();
    auto [server, peer] = (co_await listener.accept()).value();
    (void)peer;
    auto f = tokio::task::Builder().name("reader").spawn(
        [](tokio::net::TcpStream s) -> tokio::Task<> {
          std::byte buf[16];
          (void)co_await s.read(buf);
        },
        std::move(server));
    auto g =
        tokio::task::Builder()
            .name("acceptor")
            .spawn([](tokio::net::TcpListener l) -> tokio::Task<> { (void)co_await l.accept(); },
                   std::move(listener));
    auto j = tokio::task::Builder().name("joiner").spawn(
        [](std::shared_ptr<tokio::sync::Notify> n) -> tokio::Task<> {
          co_await tokio::join(n->notified(), tokio::time::sleep(std::chrono::hours(1)));
        },
        notify);
    // Let every task reach its wait.
    for (int i = 0; i < 200; ++i) {
      co_await tokio::time::sleep(1ms);
      if (e.is_finished()) break;
    }
    co_await tokio::time::sleep(20ms);
    auto dump = handle.dump();
    std::string text = dump.to_string();
    INFO(text);
    auto find = [&](const std::string& name) -> const rt::TaskDump* {
      for (const auto& t : dump.tasks())
        if (t.name == name) return &t;
      return nullptr;
    };
    for (std::string n :
         {"notified", "locker", "receiver", "sleeper", "reader", "acceptor", "joiner"}) {
      CAPTURE(n);
      CHECK(find(n) != nullptr);
    }
    if (auto* t = find("notified")) {
      CHECK(t->state == rt::TaskDump::State::Idle);
      CHECK(t->waiting_on == "sync::Notify::notified");
      CHECK(t->depth >= 3);  // wrapper, the callable's coroutine, inner
      // The async backtrace: the co_await each frame is suspended at, innermost first; the
      // spawn wrapper is left out.
      REQUIRE(t->backtrace.size() == 2);
      // The text says how many of its frames have a line (the wrapper has none).
      CHECK(text.find(" (" + std::to_string(t->depth) + " frames, 2 shown)") != std::string::npos);
      CHECK(t->backtrace[0].find("observability_dump_test.cpp:" + std::to_string(g_line_inner)) !=
            std::string::npos);
      CHECK(t->backtrace[1].find("observability_dump_test.cpp:" + std::to_string(g_line_outer)) !=
            std::string::npos);
#if defined(__cpp_lib_source_location) && !defined(__clang__)
      // g++ names the function: the lambda's call operator, not the lowered coroutine body.
      CHECK(t->backtrace[0].find("lambda") != std::string::npos);
      CHECK(t->backtrace[0].find(".Frame") == std::string::npos);
#endif
    }
    if (auto* t = find("sleeper")) {
      CHECK(t->waiting_on == "time::sleep");
      // The time left on its one-hour sleep, read from the timer's state word.
      REQUIRE(t->time_left.has_value());
      CHECK(*t->time_left > std::chrono::seconds(3500));
      CHECK(*t->time_left <= std::chrono::hours(1));
      std::string shown = std::to_string(t->time_left->count() / 1000) + ".";
      CHECK(text.find("waiting on time::sleep, " + shown) != std::string::npos);
      // Idle since before the 20 ms sleep above (the coarse clock may lag by one batch).
      CHECK(t->time_in_state >= 15ms);
      CHECK(t->time_in_state < 60s);
    }
    if (auto* t = find("receiver")) {
      CHECK(t->waiting_on == "sync::mpsc::Receiver::recv");
      CHECK_FALSE(t->time_left.has_value());  // a leaf without a deadline
    }
    if (auto* t = find("locker")) CHECK(t->waiting_on == "sync::Mutex::lock");
    if (auto* t = find("reader")) CHECK(t->waiting_on == "socket read (recv)");
    if (auto* t = find("acceptor")) CHECK(t->waiting_on == "accept");
    if (auto* t = find("joiner")) CHECK(t->waiting_on == "join");
    // A finished task stays listed while its JoinHandle has not read it.
    if (auto* t = find("done")) {
      CHECK(t->state == rt::TaskDump::State::Completed);
      CHECK(t->waiting_on.empty());
      CHECK(t->time_in_state >= 15ms);  // its one poll began before the 20 ms sleep
      CHECK(t->time_in_state < 60s);
    } else {
      FAIL("the completed, not joined task is missing from the dump");
    }
    CHECK(text.find("\"done\" completed, not joined for ") != std::string::npos);
    CHECK(text.find("\"sleeper\" idle for ") != std::string::npos);
    CHECK(text.find(", waiting on ") != std::string::npos);
    CHECK(text.find("    at ") != std::string::npos);
    a.abort();
    b.abort();
    c.abort();
    d.abort();
    f.abort();
    g.abort();
    j.abort();
    (void)client;
    CHECK(co_await e == 5);
    // Joined: gone from the list.
    for (const auto& t : handle.dump().tasks()) CHECK(t.name != "done");
    (void)tx;
  }(r.handle()));
}

// A task that finished while its JoinHandle exists stays listed (as completed, not joined)
// until the handle reads it or is dropped; it no longer counts as alive; a detached one
// leaves at once; a runtime shut down with such tasks, and handles that outlive it, neither
// leak (ASan) nor hang.
TEST_CASE("dump: completed tasks are listed until their JoinHandle lets go") {
  auto count = [](const rt::Dump& d, const std::string& name) {
    int n = 0;
    for (const auto& t : d.tasks())
      if (t.name == name && t.state == rt::TaskDump::State::Completed) ++n;
    return n;
  };
  for (auto flavor : {0, 1}) {
    CAPTURE(flavor);
    auto r = flavor ? rt::Builder::new_multi_thread().worker_threads(2).enable_all().build()
                    : rt::Builder::new_current_thread().enable_all().build();
    std::vector<tokio::task::JoinHandle<int>> kept;
    r.block_on([](rt::Handle h, std::vector<tokio::task::JoinHandle<int>>* kept,
                  decltype(count) count) -> tokio::Task<> {
      for (int i = 0; i < 50; ++i) {
        kept->push_back(tokio::task::Builder().name("kept").spawn(
            [](int v) -> tokio::Task<int> { co_return v; }, i));
        tokio::task::Builder()
            .name("detached")
            .spawn([]() -> tokio::Task<> { co_return; })
            .detach();
        auto dropped =
            tokio::task::Builder().name("dropped").spawn([]() -> tokio::Task<int> { co_return 1; });
        while (!dropped.is_finished()) co_await tokio::task::yield_now();
      }  // each `dropped` handle goes here, after its task finished
      for (auto& k : *kept)
        while (!k.is_finished()) co_await tokio::task::yield_now();
      for (int i = 0; i < 100 && h.metrics().num_alive_tasks() > 0; ++i)
        co_await tokio::time::sleep(1ms);
      CHECK(h.metrics().num_alive_tasks() == 0);  // completed ones are not alive
      rt::Dump d = h.dump();
      CHECK(count(d, "kept") == 50);
      CHECK(count(d, "dropped") == 0);
      for (const auto& t : d.tasks()) CHECK(t.name != "detached");
      // Joining half of them takes those out.
      for (int i = 0; i < 25; ++i) CHECK(co_await (*kept)[static_cast<std::size_t>(i)] == i);
      CHECK(count(h.dump(), "kept") == 25);
      CHECK((*kept)[0].is_finished());  // an awaited handle still answers
      CHECK((*kept)[0].id().value != 0);
      tokio::task::JoinSet<int> set;
      CHECK_THROWS_WITH_AS(set.add(std::move((*kept)[0])), doctest::Contains("already awaited"),
                           std::logic_error);
    }(r.handle(), &kept, count));
    // The runtime goes with 25 completed tasks listed; their handles still read the output.
    r.shutdown_background();
    for (std::size_t i = 25; i < kept.size(); ++i) {
      CHECK(kept[i].is_finished());
    }
    kept.resize(40);  // dropped after the runtime: unlinked from the dead runtime's list
  }
}

TEST_CASE("dump: a running task's time in state counts from the start of its poll") {
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  r.block_on([](rt::Handle handle) -> tokio::Task<> {
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto busy = tokio::task::Builder().name("busy").spawn(
        [](std::shared_ptr<std::atomic<bool>> s) -> tokio::Task<> {
          s->store(true);
          std::this_thread::sleep_for(300ms);  // blocks its worker on purpose
          co_return;
        },
        started);
    for (int i = 0; i < 1000 && !started->load(); ++i) co_await tokio::time::sleep(1ms);
    std::this_thread::sleep_for(100ms);
    auto dump = handle.dump();
    INFO(dump.to_string());
    bool seen = false;
    for (const auto& t : dump.tasks()) {
      if (t.name != "busy") continue;
      seen = true;
      CHECK(t.state == rt::TaskDump::State::Running);
      CHECK(t.time_in_state >= 80ms);
      CHECK(t.time_in_state < 10s);
    }
    CHECK(seen);
    co_await busy;
  }(r.handle()));
}

TEST_CASE("metrics: I/O driver counters and the poll-time histogram") {
  auto r = rt::Builder::new_multi_thread()
               .worker_threads(2)
               .enable_all()
               .enable_metrics_poll_time_histogram()
               .metrics_poll_time_histogram_configuration(std::chrono::milliseconds(1), 4)
               .build();
  auto m = r.metrics();
  uint64_t reg0 = m.io_driver_fd_registered_count();
  uint64_t dereg0 = m.io_driver_fd_deregistered_count();
  r.block_on([]() -> tokio::Task<> {
    auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
    auto addr = listener.local_addr().value();
    auto client = (co_await tokio::net::TcpStream::connect(addr)).value();
    auto [server, peer] = (co_await listener.accept()).value();
    (void)peer;
    (void)co_await client.write_all(std::as_bytes(std::span("ping", 4)));
    std::byte buf[4];
    (void)co_await server.read(buf);
    // Polls of every length: fast ones, and one blocking for 3 ms (bucket 3: >= 3 ms).
    auto h = tokio::spawn([]() -> tokio::Task<> {
      std::this_thread::sleep_for(3ms);
      co_return;
    });
    co_await h;
  }());
  CHECK(m.io_driver_fd_registered_count() >= reg0 + 3);
  CHECK(m.io_driver_fd_deregistered_count() >= dereg0 + 3);
  CHECK(m.io_driver_ready_count() > 0);
  REQUIRE(m.poll_time_histogram_enabled());
  REQUIRE(m.poll_time_histogram_num_buckets() == 4);
  CHECK(m.poll_time_histogram_bucket_range(1).first == 1ms);
  CHECK(m.poll_time_histogram_bucket_range(1).second == 2ms);
  CHECK(m.poll_time_histogram_bucket_range(3).second == std::chrono::nanoseconds::max());
  uint64_t slow = 0, all = 0;
  for (std::size_t w = 0; w < m.num_workers(); ++w) {
    slow += m.poll_time_histogram_bucket_count(w, 3);
    for (std::size_t b = 0; b < 4; ++b) all += m.poll_time_histogram_bucket_count(w, b);
  }
  CHECK(slow >= 1);
  CHECK(all >= 1);
  auto off = rt::Builder::new_current_thread().build();
  CHECK_FALSE(off.metrics().poll_time_histogram_enabled());
  CHECK(off.metrics().io_driver_ready_count() == 0);
}

// As Tokio's (which holds a Handle), a RuntimeMetrics keeps its runtime's shared state
// alive: read after the Runtime was dropped it gives the final figures. Before, it held a
// plain pointer and every read after the drop was a use after free (ASan checks each).
TEST_CASE("metrics: a RuntimeMetrics outlives its runtime and reads the final figures") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    INFO("flavour " << flavour);
    std::optional<rt::RuntimeMetrics> kept;
    {
      auto r = flavour == 0 ? rt::Builder::new_current_thread()
                                  .enable_all()
                                  .enable_metrics_poll_time_histogram()
                                  .build()
                            : rt::Builder::new_multi_thread()
                                  .worker_threads(2)
                                  .enable_all()
                                  .enable_metrics_poll_time_histogram()
                                  .build();
      r.block_on([]() -> tokio::Task<> {
        for (int i = 0; i < 5; ++i) co_await tokio::spawn([]() -> tokio::Task<> { co_return; });
        co_await tokio::task::spawn_blocking([] {});
        auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
        (void)listener;
      }());
      kept.emplace(r.metrics());
      rt::RuntimeMetrics copy = *kept;  // copies hold their own reference
      kept = copy;
    }
    const rt::RuntimeMetrics& m = *kept;
    CHECK(m.num_workers() == (flavour == 0 ? 1u : 2u));
    CHECK(m.spawned_tasks_count() == 5);
    CHECK(m.num_alive_tasks() == 0);
    CHECK(m.global_queue_depth() == 0);
    CHECK(m.blocking_queue_depth() == 0);
    (void)m.num_blocking_threads();
    (void)m.num_idle_blocking_threads();
    (void)m.remote_schedule_count();
    (void)m.budget_forced_yield_count();
    (void)m.stall_count();
    CHECK(m.io_driver_fd_registered_count() >= 1);
    CHECK(m.io_driver_fd_deregistered_count() >= 1);
    (void)m.io_driver_ready_count();
    REQUIRE(m.poll_time_histogram_enabled());
    uint64_t polls = 0;
    for (std::size_t w = 0; w < m.num_workers(); ++w) {
      for (std::size_t b = 0; b < m.poll_time_histogram_num_buckets(); ++b)
        polls += m.poll_time_histogram_bucket_count(w, b);
      // Read after the drop (ASan checks each read); the values are the runtime's own.
      uint64_t counters = m.worker_park_count(w) + m.worker_park_unpark_count(w) +
                          m.worker_noop_count(w) + m.worker_steal_count(w) +
                          m.worker_steal_operations(w) + m.worker_local_schedule_count(w) +
                          m.worker_overflow_count(w) + m.worker_local_queue_depth(w) +
                          m.worker_poll_count(w);
      (void)counters;
      (void)m.worker_total_busy_duration(w);
    }
    CHECK(polls >= 5);
  }
}

TEST_CASE("metrics: the poll-time histogram under Tokio's poll_count_histogram names") {
  std::string spawned_name;  // through Tokio's spelling of the hooks' argument
  auto r = rt::Builder::new_current_thread()
               .on_task_spawn([&](const rt::TaskMeta& meta) { spawned_name = meta.name; })
               .enable_metrics_poll_count_histogram()
               .metrics_poll_count_histogram_resolution(std::chrono::milliseconds(2))
               .metrics_poll_count_histogram_buckets(3)
               .build();
  auto m = r.metrics();
  REQUIRE(m.poll_count_histogram_enabled());
  CHECK(m.poll_count_histogram_num_buckets() == 3);
  CHECK(m.poll_count_histogram_bucket_range(1).first == 2ms);
  CHECK(m.poll_count_histogram_bucket_range(1).second == 4ms);
  r.block_on([]() -> tokio::Task<> {
    auto h = tokio::task::Builder().name("sleeper").spawn([]() -> tokio::Task<> {
      std::this_thread::sleep_for(5ms);  // bucket 2 (>= 4 ms)
      co_return;
    });
    co_await h;
  }());
  CHECK(spawned_name == "sleeper");
  CHECK(m.poll_count_histogram_bucket_count(0, 2) >= 1);
  CHECK(m.poll_count_histogram_bucket_count(0, 2) == m.poll_time_histogram_bucket_count(0, 2));
  // The one-at-a-time setters keep the same limits.
  CHECK_THROWS_AS(rt::Builder::new_current_thread().metrics_poll_count_histogram_buckets(1),
                  std::invalid_argument);
  CHECK_THROWS_AS(rt::Builder::new_current_thread().metrics_poll_count_histogram_resolution(0ms),
                  std::invalid_argument);
}

TEST_CASE("hooks: spawn and terminate exactly once per task under 8 threads") {
  std::atomic<int> spawned{0}, terminated{0}, before{0}, after{0};
  const int per_thread = static_cast<int>(test::scaled(2000));
  {
    auto r = rt::Builder::new_multi_thread()
                 .worker_threads(4)
                 .on_task_spawn([&](const tokio::task::TaskInfo&) { spawned.fetch_add(1); })
                 .on_task_terminate([&](const tokio::task::TaskInfo&) { terminated.fetch_add(1); })
                 .on_before_task_poll([&](const tokio::task::TaskInfo&) { before.fetch_add(1); })
                 .on_after_task_poll([&](const tokio::task::TaskInfo&) { after.fetch_add(1); })
                 .build();
    auto handle = r.handle();
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&handle, per_thread] {
        std::vector<tokio::task::JoinHandle<int>> hs;
        for (int j = 0; j < per_thread; ++j) {
          hs.push_back(handle.spawn(
              [](int v) -> tokio::Task<int> {
                co_await tokio::task::yield_now();
                co_return v;
              },
              j));
        }
        handle.block_on([](std::vector<tokio::task::JoinHandle<int>> v) -> tokio::Task<> {
          for (auto& h : v) (void)co_await h;
        }(std::move(hs)));
      });
    }
    for (auto& t : threads) t.join();
  }
  CHECK(spawned.load() == 8 * per_thread);
  CHECK(terminated.load() == 8 * per_thread);
  CHECK(before.load() == after.load());
  CHECK(before.load() >= 2 * 8 * per_thread);  // each task polls at least twice (it yields)
}

namespace {
tokio::Task<int> dump_race_leaf(int i) {
  co_await tokio::task::yield_now();
  co_return i;
}
tokio::Task<int> dump_race_mid(int i) {
  int a = co_await dump_race_leaf(i);
  co_await tokio::time::sleep(std::chrono::microseconds(100));
  co_return a + 1;
}
tokio::Task<> dump_race_top(int i, std::atomic<bool>* stop) {
  while (!stop->load(std::memory_order_relaxed)) (void)co_await dump_race_mid(i);
}
}  // namespace

// A dump from another thread while tasks keep finishing the inner frames of their chains
// on the workers: a suspended task is claimed while its frames are read, so none is freed
// under the dump. It once read them unclaimed: a heap-use-after-free under ASan (frames
// come from operator new there) and data races under TSan. Aborts during the dump are
// passed on: every task ends cancelled.
TEST_CASE(
    "dump: taken from another thread while chains run and are aborted, reads no freed frame") {
  nt::Watchdog wd("dump race", 60s);
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  auto h = r.handle();
  std::atomic<bool> stop{false};
  std::vector<tokio::task::JoinHandle<void>> tasks;
  for (int i = 0; i < 64; ++i) tasks.push_back(h.spawn(dump_race_top(i, &stop)));
  std::atomic<bool> done{false};
  std::size_t dumps = 0, idle_read = 0;
  std::thread dumper([&] {
    while (!done.load()) {
      auto d = h.dump();
      ++dumps;
      for (const auto& t : d.tasks()) {
        if (t.state == rt::TaskDump::State::Idle && !t.backtrace.empty()) ++idle_read;
      }
    }
  });
  std::this_thread::sleep_for(test::scale() > 1 ? 300ms : 800ms);
  for (auto& t : tasks) t.abort();  // aborts land while tasks may be claimed by the dumper
  for (auto& t : tasks) {
    auto res = r.block_on(std::move(t).result());
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().is_cancelled());
  }
  done = true;
  dumper.join();
  stop = true;
  CHECK(dumps > 0);
  CHECK(idle_read > 0);  // suspended chains were read, with their locations
}

// A current-thread runtime's first batch stamps its transitions with this thread's coarse
// clock, which was never set on a fresh thread: a task idle for 50 ms showed "idle for
// 16013.828 s". Checked on a fresh thread.
TEST_CASE("dump: time in state on a current-thread runtime's first run is the real one") {
  std::chrono::milliseconds shown{-1};
  std::thread fresh([&shown] {
    auto r = rt::Builder::new_current_thread().enable_all().build();
    shown = r.block_on([](rt::Handle h) -> tokio::Task<std::chrono::milliseconds> {
      auto n = std::make_shared<tokio::sync::Notify>();
      auto w = tokio::spawn(
          [](std::shared_ptr<tokio::sync::Notify> n) -> tokio::Task<> { co_await n->notified(); },
          n);
      co_await tokio::time::sleep(50ms);
      std::chrono::milliseconds idle{-1};
      for (const auto& t : h.dump().tasks()) {
        if (t.state == rt::TaskDump::State::Idle) idle = t.time_in_state;
      }
      n->notify_one();
      co_await std::move(w);
      co_return idle;
    }(r.handle()));
  });
  fresh.join();
  CHECK(shown >= 40ms);
  CHECK(shown < 10s);
}

// Tokio's meaning of worker_park_unpark_count: up by one as a worker parks and by one as it
// wakes, so odd while parked; zero-timeout turns of the drivers are not parks. It was
// bumped once per park, and on every zero-timeout turn.
TEST_CASE("metrics: park and park/unpark counts follow Tokio's meaning") {
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  auto m = r.metrics();
  // Idle workers park: each count odd once both have parked.
  bool parked = false;
  for (int i = 0; i < 500 && !parked; ++i) {
    std::this_thread::sleep_for(2ms);
    parked = m.worker_park_unpark_count(0) % 2 == 1 && m.worker_park_unpark_count(1) % 2 == 1;
  }
  CHECK(parked);
  for (std::size_t w = 0; w < 2; ++w) {
    CAPTURE(w);
    CHECK(m.worker_park_count(w) >= 1);
    CHECK(m.worker_park_unpark_count(w) == 2 * m.worker_park_count(w) - 1);
  }
  // A current-thread runtime that ran 100 spawn-and-await rounds without waiting: no park
  // counted for them; after block_on returned, the count is even (not parked).
  auto c = rt::Builder::new_current_thread().enable_all().build();
  c.block_on([]() -> tokio::Task<> {
    for (int i = 0; i < 100; ++i) co_await tokio::spawn([]() -> tokio::Task<> { co_return; });
  }());
  auto cm = c.metrics();
  CHECK(cm.worker_park_count(0) < 10);
  CHECK(cm.worker_park_unpark_count(0) % 2 == 0);
}

// Tokio's worker_noop_count: a park with no task polled since the previous park. The
// current-thread runtime never counted one, and the multi-thread one counted only
// wake-ups that found nothing to do (helper-87: a block_on sleeping ten times gave
// noop 0 where Tokio gives one per park).
TEST_CASE("metrics: worker_noop_count counts parks with no poll since the previous park") {
  auto c = rt::Builder::new_current_thread().enable_all().build();
  auto cm = c.metrics();
  c.block_on([]() -> tokio::Task<> {
    for (int i = 0; i < 10; ++i) co_await tokio::time::sleep(2ms);
  }());
  // No task was ever polled: every park is a no-op one.
  CHECK(cm.worker_park_count(0) >= 10);
  CHECK(cm.worker_noop_count(0) == cm.worker_park_count(0));
  uint64_t parks0 = cm.worker_park_count(0);
  uint64_t noops0 = cm.worker_noop_count(0);
  // A task sleeping ten times: each park follows its poll.
  c.block_on([]() -> tokio::Task<> {
    co_await tokio::spawn([]() -> tokio::Task<> {
      for (int i = 0; i < 10; ++i) co_await tokio::time::sleep(2ms);
    });
  }());
  // (A park may end before its timer is due and be followed by another: a few no-ops.)
  CHECK(cm.worker_park_count(0) >= parks0 + 10);
  CHECK(cm.worker_noop_count(0) - noops0 <= (cm.worker_park_count(0) - parks0) / 2);

  auto m = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  auto mm = m.metrics();
  bool parked = false;
  for (int i = 0; i < 500 && !parked; ++i) {
    std::this_thread::sleep_for(2ms);
    parked = mm.worker_park_count(0) >= 1 && mm.worker_park_count(1) >= 1;
  }
  REQUIRE(parked);
  for (std::size_t w = 0; w < 2; ++w) {
    CAPTURE(w);
    CHECK(mm.worker_poll_count(w) == 0);
    CHECK(mm.worker_noop_count(w) == mm.worker_park_count(w));
  }
}

// A current-thread runtime busy with tasks published its counters only when it parked:
// a thread sampling them saw poll 0 throughout, and a task reading them saw the figures of
// the last park (helper-87; Tokio publishes at every driver turn).
TEST_CASE("metrics: a busy current-thread runtime's counters are seen while it runs") {
  auto c = rt::Builder::new_current_thread().enable_all().build();
  auto cm = c.metrics();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> seen{0};
  std::thread sampler([&] {
    while (!done.load()) {
      seen.store(std::max(seen.load(), cm.worker_poll_count(0)));
      std::this_thread::sleep_for(1ms);
    }
  });
  uint64_t inside = c.block_on([](rt::RuntimeMetrics m) -> tokio::Task<uint64_t> {
    for (int i = 0; i < 10; ++i) co_await tokio::spawn([]() -> tokio::Task<> { co_return; });
    uint64_t polls_inside = m.worker_poll_count(0);
    std::vector<tokio::JoinHandle<void>> hs;
    for (int t = 0; t < 4; ++t) {
      hs.push_back(tokio::spawn([]() -> tokio::Task<> {
        auto until = std::chrono::steady_clock::now() + 100ms;
        while (std::chrono::steady_clock::now() < until) co_await tokio::task::yield_now();
      }));
    }
    for (auto& h : hs) co_await h;
    co_return polls_inside;
  }(cm));
  done = true;
  sampler.join();
  CHECK(inside >= 10);
  CHECK(seen.load() > 10);
}

// resolution * (buckets - 1) overflowed nanoseconds (UBSan: signed overflow) and the
// ranges went negative; a bucket past the last got a range made up from its index.
TEST_CASE("metrics: poll-time histogram configuration and bucket ranges stay in range") {
  CHECK_THROWS_AS(rt::Builder::new_current_thread().metrics_poll_time_histogram_configuration(
                      std::chrono::hours(1000000), 10),
                  std::invalid_argument);
  auto r = rt::Builder::new_current_thread()
               .enable_metrics_poll_time_histogram()
               .metrics_poll_time_histogram_configuration(std::chrono::hours(1000), 10)
               .build();
  auto m = r.metrics();
  auto last = m.poll_time_histogram_bucket_range(9);
  CHECK(last.first == std::chrono::hours(9000));
  CHECK(last.second == std::chrono::nanoseconds::max());
  CHECK(m.poll_time_histogram_bucket_range(10) == last);
  CHECK(m.poll_time_histogram_bucket_range(1000) == last);
  // Tokio 1.2x's names for two figures.
  CHECK(m.active_tasks_count() == m.num_alive_tasks());
  CHECK(m.injection_queue_depth() == m.global_queue_depth());
}

// Names and paths in reports are quoted as Rust's Debug output quotes them. Control bytes
// were written \u{01} (Rust: \u{1}), and NEL, U+2028 (which some log viewers break lines
// at), U+202E (which reorders what follows) and zero-width characters passed raw
// (helper-87). The expected strings are what Rust 1.63 prints for the same text.
TEST_CASE("quoting: reports escape as Rust's Debug does") {
  using tokio::detail::debug_quoted;
  CHECK(debug_quoted("a\x01\x1f\x7f\"\\\t\n\r") == "\"a\\u{1}\\u{1f}\\u{7f}\\\"\\\\\\t\\n\\r\"");
  // NEL, U+2028, U+2029, U+202E, U+200B, soft hyphen, BOM, a tag, NBSP, private use.
  CHECK(
      debug_quoted("\xc2\x85\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xae\xe2\x80\x8b\xc2\xad\xef\xbb\xbf"
                   "\xf3\xa0\x81\x81\xc2\xa0\xee\x80\x80") ==
      "\"\\u{85}\\u{2028}\\u{2029}\\u{202e}\\u{200b}\\u{ad}\\u{feff}\\u{e0041}\\u{a0}\\u{e000}\"");
  // Printable text passes as it is; bytes that are not UTF-8 are \xNN.
  CHECK(debug_quoted("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \xff") ==
        "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \\xff\"");
  CHECK(debug_quoted(std::string_view("\0x", 2)) == "\"\\0x\"");
}
