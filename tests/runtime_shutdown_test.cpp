// Shutting a runtime down from awkward places: inside asynchronous code (its own or another
// runtime's), while an EnterGuard is alive, and while another thread's Handle::block_on holds
// a current-thread runtime's core.
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "test_util.hpp"

using tokio::Task;
namespace rt = tokio::runtime;

namespace {

// Sets its flag when destroyed (a task's frame was destroyed: the task was cancelled).
struct DropFlag {
  std::atomic<bool>* flag;
  explicit DropFlag(std::atomic<bool>* f) : flag(f) {}
  DropFlag(DropFlag&& o) noexcept : flag(std::exchange(o.flag, nullptr)) {}
  ~DropFlag() {
    if (flag) flag->store(true);
  }
};

Task<> sleep_holding(DropFlag f, std::chrono::milliseconds d) {
  DropFlag held = std::move(f);
  co_await tokio::time::sleep(d);
}

// Timers on: the cases sleep.
rt::Runtime make(int flavour, std::size_t workers = 1) {
  return flavour == 0
             ? rt::Builder::new_current_thread().enable_all().build()
             : rt::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
}

// A thread in Handle::block_on of a current-thread runtime, holding its core: the future
// runs `busy` in one synchronous poll (no turn of the run loop meanwhile), then sleeps 3 s.
// The constructor returns once the future runs; join() says how that block_on ended.
class CoreHolder {
 public:
  CoreHolder(const rt::Handle& h, std::chrono::milliseconds busy)
      : thread_([this, h, busy] {
          try {
            h.block_on(hold(&started_, busy));
            returned_ = true;
          } catch (const std::runtime_error& e) {
            error_ = e.what();
          }
        }) {
    started_.get_future().wait();
  }
  CoreHolder(const CoreHolder&) = delete;
  CoreHolder& operator=(const CoreHolder&) = delete;
  ~CoreHolder() {
    if (thread_.joinable()) thread_.join();
  }

  struct Outcome {
    bool returned = false;
    std::string error;
  };
  Outcome join() {
    thread_.join();
    return {returned_, error_};
  }

 private:
  static Task<> hold(std::promise<void>* started, std::chrono::milliseconds busy) {
    started->set_value();
    if (busy.count() > 0) std::this_thread::sleep_for(busy);
    co_await tokio::time::sleep(3s);
  }

  std::promise<void> started_;
  bool returned_ = false;  // written by the thread, read after join()
  std::string error_;
  std::thread thread_;  // last: started once the members it uses exist
};

// A current-thread runtime whose one spawned task holds `dropped` for an hour.
std::optional<rt::Runtime> runtime_with_sleeper(std::atomic<bool>& dropped) {
  std::optional<rt::Runtime> r(make(0));
  (void)r->spawn(sleep_holding(DropFlag(&dropped), std::chrono::hours(1)));
  return r;
}

}  // namespace

TEST_CASE("shutdown_background inside asynchronous code shuts another runtime down") {
  // Tokio's own doc example: an inner runtime shut down inside the outer's block_on. It
  // used to abort ("dropped (or shut down) from inside an asynchronous context").
  for (int outer_flavour = 0; outer_flavour < 2; ++outer_flavour) {
    for (int inner_flavour = 0; inner_flavour < 2; ++inner_flavour) {
      CAPTURE(outer_flavour);
      CAPTURE(inner_flavour);
      auto outer = make(outer_flavour);
      std::atomic<bool> dropped{false};
      outer.block_on([](int inner_flavour, std::atomic<bool>* dropped) -> Task<> {
        auto inner = make(inner_flavour);
        (void)inner.spawn(sleep_holding(DropFlag(dropped), std::chrono::hours(1)));
        auto t0 = std::chrono::steady_clock::now();
        inner.shutdown_background();
        CHECK(std::chrono::steady_clock::now() - t0 < 2s);
        // The inner runtime's task was cancelled by the time the call returned.
        CHECK(dropped->load());
        co_return;
      }(inner_flavour, &dropped));
      CHECK(dropped.load());
    }
  }
}

TEST_CASE("shutdown_timeout inside asynchronous code throws and leaves the runtime usable") {
  auto outer = test::multi_thread(2);
  auto inner = test::multi_thread(1);
  outer.block_on([](rt::Runtime* inner) -> Task<> {
    CHECK_THROWS_WITH_AS(inner->shutdown_timeout(50ms), doctest::Contains("shutdown_background()"),
                         std::logic_error);
    co_return;
  }(&inner));
  CHECK(inner.block_on(test::ready_value(7)) == 7);
  inner.shutdown_timeout(1s);
}

TEST_CASE("shutdown_background from inside the runtime's own tasks and block_on") {
  SUBCASE("multi-thread: from one of its tasks") {
    std::optional<rt::Runtime> r(make(1, 2));
    std::atomic<bool> dropped{false};
    (void)r->spawn(sleep_holding(DropFlag(&dropped), std::chrono::hours(1)));
    std::atomic<bool> called{false};
    (void)r->spawn([](rt::Runtime* self, std::atomic<bool>* called) -> Task<> {
      self->shutdown_background();
      called->store(true);
      co_return;
    }(&*r, &called));
    // The shutdown runs on a thread of its own: the other task is cancelled soon after.
    CHECK(test::eventually([&] { return called.load() && dropped.load(); }));
    CHECK_THROWS_AS(r->block_on(test::ready_value(1)), std::logic_error);  // shut down
  }
  SUBCASE("current-thread: from its block_on, which then ends with an error") {
    std::optional<rt::Runtime> r(make(0));
    std::atomic<bool> dropped{false};
    (void)r->spawn(sleep_holding(DropFlag(&dropped), std::chrono::hours(1)));
    CHECK_THROWS_WITH_AS(r->block_on([](rt::Runtime* self) -> Task<> {
      self->shutdown_background();
      co_await tokio::time::sleep(std::chrono::hours(1));
    }(&*r)),
                         doctest::Contains("shut down"), std::runtime_error);
    CHECK(dropped.load());
  }
}

TEST_CASE("an EnterGuard keeps its runtime's state alive after a shutdown") {
  // The guard used to hold a raw pointer: spawning through it after the runtime shut down
  // was a heap-use-after-free (ASan).
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    std::optional<rt::Runtime> r(make(flavour));
    auto guard = r->enter();
    if (flavour == 0) {
      r.reset();  // dropped outright
    } else {
      r->shutdown_timeout(1s);
    }
    auto jh = tokio::spawn([]() -> Task<int> { co_return 1; });
    auto live = test::current_thread();
    auto res = live.block_on(jh.result());
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error().is_cancelled());
  }
}

TEST_CASE("EnterGuards nested in order restore the current runtime") {
  // Dropped out of order they abort (the next case).
  auto r1 = test::current_thread();
  auto r2 = test::multi_thread(1);
  CHECK_FALSE(rt::Handle::try_current().has_value());
  {
    auto g1 = r1.enter();
    {
      auto g2 = r2.enter();
      CHECK(rt::Handle::current() == r2.handle());
      {
        auto g3 = r1.handle().enter();
        CHECK(rt::Handle::current() == r1.handle());
      }
      CHECK(rt::Handle::current() == r2.handle());
    }
    CHECK(rt::Handle::current() == r1.handle());
  }
  CHECK_FALSE(rt::Handle::try_current().has_value());
}

// As Tokio panics there: a thread left "inside" the runtime of a guard dropped out of order
// could later reach a freed runtime. A guard cannot throw from its destructor, so it says
// what went wrong on stderr and aborts (checked in a child process).
constexpr const char* kGuardsOutOfOrder =
    "EnterGuards dropped out of order abort with Tokio's message";
constexpr const char* kGuardsOutOfOrderEnv = "TOKIO_TEST_GUARDS_OUT_OF_ORDER_CHILD";
TEST_CASE(kGuardsOutOfOrder) {
  if (test::in_child(kGuardsOutOfOrderEnv)) {
    auto r1 = test::current_thread();
    auto r2 = test::current_thread();
    // On the heap to end them in any order.
    auto* g1 = new rt::EnterGuard(r1.enter());
    auto* g2 = new rt::EnterGuard(r2.enter());
    delete g1;  // before g2: aborts here
    delete g2;
    ::_exit(0);
  }
  auto child = test::run_self_as_child(kGuardsOutOfOrder, kGuardsOutOfOrderEnv);
  CHECK(WIFSIGNALED(child.status));
  CHECK(child.err.find("EnterGuard values dropped out of order") != std::string::npos);
}

// A guard moves (into a std::optional, out of a function): the moved-from one does nothing
// when destroyed, the moved-to one ends the entry.
TEST_CASE("an EnterGuard moves; the moved-from one does nothing") {
  auto r1 = test::current_thread();
  auto r2 = test::current_thread();
  {
    std::optional<rt::EnterGuard> g;
    g.emplace(r1.enter());
    CHECK(rt::Handle::current() == r1.handle());
    rt::EnterGuard moved(std::move(*g));
    g.reset();  // moved from: the thread stays in r1
    CHECK(rt::Handle::current() == r1.handle());
    {
      auto inner = r2.enter();
      CHECK(rt::Handle::current() == r2.handle());
    }
    CHECK(rt::Handle::current() == r1.handle());
  }
  CHECK_FALSE(rt::Handle::try_current().has_value());
}

// Moved to another thread and dropped there: that thread's current runtime is not the
// guard's to restore, so it aborts with the same message.
constexpr const char* kGuardOtherThread = "an EnterGuard dropped on another thread aborts";
constexpr const char* kGuardOtherThreadEnv = "TOKIO_TEST_GUARD_OTHER_THREAD_CHILD";
TEST_CASE(kGuardOtherThread) {
  if (test::in_child(kGuardOtherThreadEnv)) {
    auto r1 = test::current_thread();
    rt::EnterGuard g = r1.enter();
    std::thread t([moved = std::move(g)]() mutable {
      auto gone = std::move(moved);  // destroyed here, on the wrong thread: aborts
    });
    t.join();
    ::_exit(0);
  }
  auto child = test::run_self_as_child(kGuardOtherThread, kGuardOtherThreadEnv);
  CHECK(WIFSIGNALED(child.status));
  CHECK(child.err.find("EnterGuard values dropped out of order") != std::string::npos);
}

TEST_CASE("current-thread: shutting down while another thread's Handle::block_on holds the core") {
  // The shutdown used to wait for that block_on's future to finish (here 3 s; an hour in
  // the bug report). Now the holder gives the core back at its next turn and its block_on
  // throws; the shutdown returns at once.
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);  // 0: drop, 1: shutdown_background, 2: shutdown_timeout(50ms)
    std::atomic<bool> dropped{false};
    std::optional<rt::Runtime> r = runtime_with_sleeper(dropped);
    auto h = r->handle();
    CoreHolder holder(h, 0ms);
    auto t0 = std::chrono::steady_clock::now();
    if (mode == 0) r.reset();
    else if (mode == 1) r->shutdown_background();
    else r->shutdown_timeout(50ms);
    auto took = std::chrono::steady_clock::now() - t0;
    CoreHolder::Outcome out = holder.join();
    CHECK(took < 1s);
    CHECK_FALSE(out.returned);
    CHECK(out.error.find("shut down") != std::string::npos);
    CHECK(dropped.load());  // the runtime's tasks were cancelled
    // A later block_on through the handle is refused.
    CHECK_THROWS_AS(h.block_on(test::ready_value(1)), std::logic_error);
  }
}

TEST_CASE("current-thread: a shutdown that cannot wait leaves the rest to the core's holder") {
  // The holder is busy in a synchronous poll: shutdown_background returns at once and
  // shutdown_timeout within its time; the holder completes the shutdown when it gives
  // the core back.
  for (int mode = 0; mode < 2; ++mode) {
    CAPTURE(mode);  // 0: shutdown_background, 1: shutdown_timeout(50ms)
    std::atomic<bool> dropped{false};
    std::optional<rt::Runtime> r = runtime_with_sleeper(dropped);
    CoreHolder holder(r->handle(), 600ms);
    auto t0 = std::chrono::steady_clock::now();
    if (mode == 0) r->shutdown_background();
    else r->shutdown_timeout(50ms);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 400ms);
    r.reset();
    CoreHolder::Outcome out = holder.join();
    CHECK_FALSE(out.returned);
    CHECK(out.error.find("shut down") != std::string::npos);
    CHECK(dropped.load());
  }
}

// A runtime halted by UnhandledException::ShutdownRuntime while other threads wait in
// Handle::block_on without the core: each such block_on throws, and its thread may exit
// at once. Its parker used to stay listed among the core's waiters (the throw came between
// listing and unlisting), and the next release of the core woke freed memory
// (heap-use-after-free under ASan, 5 runs in 5 of the helper's repro).
TEST_CASE("current-thread: a halt while threads wait in Handle::block_on leaves no waiter listed") {
  for (int round = 0; round < 4; ++round) {
    std::optional<rt::Runtime> r(rt::Builder::new_current_thread()
                                     .enable_all()
                                     .unhandled_exception(rt::UnhandledException::ShutdownRuntime)
                                     .build());
    auto h = r->handle();
    r->spawn([]() -> Task<> {
       co_await tokio::time::sleep(std::chrono::milliseconds(3));
       throw std::runtime_error("task failure");
     }())
        .detach();
    std::atomic<int> threw{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 4; ++i) {
      waiters.emplace_back([h, i, &threw] {
        for (int k = 0; k < 20; ++k) {
          try {
            h.block_on([](int n) -> Task<> {
              co_await tokio::time::sleep(std::chrono::microseconds(200 * (n + 1)));
            }(i));
          } catch (const std::exception&) {
            threw.fetch_add(1);
          }
        }
      });
    }
    for (auto& t : waiters) t.join();
    CHECK(threw.load() > 0);  // the halt reached them
    r.reset();
  }
}

TEST_CASE(
    "multi-thread: shutdown_timeout and shutdown_background return on time while a "
    "worker is stuck in a poll, with every other task already cancelled") {
  // A task blocking its worker (a blocking call in async code) kept its core, and the
  // shutdown waited for it without limit (the whole 1.5 s here; Tokio returns at the
  // deadline). Now the call waits for the cores at most max(timeout, 250 ms), then cancels
  // every task itself, so nothing but the stuck task outlives the call: not a task sleeping
  // elsewhere, not the child the stuck task spawned into its own worker's queue. The stuck
  // task is cancelled on its worker when its poll returns. Mode 2 is the inner-runtime
  // case of Tokio's shutdown_background doc, from inside another runtime's block_on.
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);  // 0: shutdown_timeout(50ms), 1: shutdown_background, 2: inside block_on
    std::atomic<bool> stuck_started{false};
    std::atomic<bool> stuck_done{false};
    std::atomic<bool> stuck_dropped{false};
    std::atomic<bool> sleeper_dropped{false};
    std::atomic<bool> child_dropped{false};
    std::optional<rt::Runtime> r(
        rt::Builder::new_multi_thread().worker_threads(2).enable_all().build());
    (void)r->spawn(sleep_holding(DropFlag(&sleeper_dropped), std::chrono::hours(1)));
    (void)r->spawn([](DropFlag held, std::atomic<bool>* child, std::atomic<bool>* started,
                      std::atomic<bool>* done) -> Task<> {
      DropFlag mine = std::move(held);
      (void)tokio::spawn(sleep_holding(DropFlag(child), std::chrono::hours(1)));
      started->store(true);
      std::this_thread::sleep_for(1500ms);
      done->store(true);
      co_await tokio::time::sleep(std::chrono::hours(1));
    }(DropFlag(&stuck_dropped), &child_dropped, &stuck_started, &stuck_done));
    REQUIRE(test::eventually([&] { return stuck_started.load(); }));
    auto t0 = std::chrono::steady_clock::now();
    if (mode == 0) {
      r->shutdown_timeout(50ms);
    } else if (mode == 1) {
      r->shutdown_background();
    } else {
      auto outer = make(0);
      outer.block_on([](std::optional<rt::Runtime>* inner) -> Task<> {
        (*inner)->shutdown_background();
        co_return;
      }(&r));
    }
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 1000ms);
    CHECK_FALSE(stuck_done.load());  // returned while the worker was still stuck
    CHECK(sleeper_dropped.load());   // cancelled before the call returned
    CHECK(child_dropped.load());     // even from the stuck worker's own queue
    CHECK_FALSE(stuck_dropped.load());
    r.reset();
    // The stuck task is cancelled when its poll returns; its worker releases the cores.
    CHECK(test::eventually([&] { return stuck_done.load() && stuck_dropped.load(); }));
  }
}

TEST_CASE("shutdown cancels queued spawn_blocking closures: none starts while the runtime stops") {
  // One pool thread, busy; four closures queued behind it. Stopping the workers used to
  // hand their threads back to the pool, which started the queued closures (three at
  // once, past max_blocking_threads) before the pool itself was told to shut down.
  for (int flavour = 0; flavour < 2; ++flavour) {
    for (bool drop : {false, true}) {
      CAPTURE(flavour);
      CAPTURE(drop);
      std::atomic<int> started{0};
      std::atomic<bool> release{false};
      std::vector<tokio::task::JoinHandle<void>> hs;
      std::thread releaser;
      {
        auto r =
            flavour == 0
                ? rt::Builder::new_current_thread().max_blocking_threads(1).build()
                : rt::Builder::new_multi_thread().worker_threads(2).max_blocking_threads(1).build();
        for (int i = 0; i < 5; ++i) {
          hs.push_back(r.spawn_blocking([&] {
            started.fetch_add(1);
            for (int k = 0; k < 2000 && !release.load(); ++k)
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }));
        }
        for (int k = 0; k < 2000 && started.load() == 0; ++k)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        REQUIRE(started.load() == 1);
        if (!drop) {
          r.shutdown_timeout(std::chrono::milliseconds(50));
          release = true;
        } else {
          // Dropped below, which waits for the running closure: let it finish from outside
          // once the drop is under way.
          releaser = std::thread([&release] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            release = true;
          });
        }
      }
      if (releaser.joinable()) releaser.join();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      CHECK(started.load() == 1);
      for (auto& h : hs) h = {};
    }
  }
}

// A shutdown cancels the tasks still alive oldest first, as Tokio's does (its one owned
// list is walked from the oldest): teardown logs and guards that assume an earlier task
// goes first see the same order. The lists keep the newest at their heads, over shards,
// and were walked from there (newest first).
namespace {
struct OrderGuard {
  std::vector<int>* log;
  std::mutex* mu;
  int n;
  ~OrderGuard() {
    std::lock_guard<std::mutex> g(*mu);
    log->push_back(n);
  }
};
Task<> hold_forever(std::vector<int>* log, std::mutex* mu, int n, std::atomic<int>* started) {
  OrderGuard g{log, mu, n};
  started->fetch_add(1);
  co_await tokio::time::sleep(std::chrono::hours(1));
}
}  // namespace

TEST_CASE("shutdown cancels the tasks left oldest first (runtimes and LocalSet)") {
  constexpr int kTasks = 40;
  std::vector<int> expected(kTasks);
  for (int i = 0; i < kTasks; ++i) expected[i] = i;
  for (int where = 0; where < 3; ++where) {  // current-thread, multi-thread, LocalSet
    CAPTURE(where);
    std::vector<int> log;
    std::mutex mu;
    std::atomic<int> started{0};
    {
      auto r = where == 1 ? rt::Builder::new_multi_thread().worker_threads(2).enable_all().build()
                          : rt::Builder::new_current_thread().enable_all().build();
      std::optional<tokio::task::LocalSet> local;
      if (where == 2) local.emplace();
      r.block_on([](int where, tokio::task::LocalSet* ls, std::vector<int>* log, std::mutex* mu,
                    std::atomic<int>* started) -> Task<> {
        for (int i = 0; i < kTasks; ++i) {
          if (where == 2) ls->spawn_local(hold_forever(log, mu, i, started));
          else tokio::spawn(hold_forever(log, mu, i, started));
        }
        if (where == 2) {
          co_await ls->run_until([](std::atomic<int>* s) -> Task<> {
            while (s->load() < kTasks) co_await tokio::task::yield_now();
          }(started));
        } else {
          while (started->load() < kTasks)
            co_await tokio::time::sleep(std::chrono::milliseconds(1));
        }
      }(where, local ? &*local : nullptr, &log, &mu, &started));
      local.reset();  // the LocalSet's tasks go here; the runtime's with the runtime
    }
    CHECK(log == expected);
  }
}

TEST_CASE("shutdown_timeout waits for running spawn_blocking work that ends within the limit") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    rt.block_on([](std::atomic<bool>* started, std::atomic<bool>* finished) -> Task<> {
      (void)tokio::task::spawn_blocking([started, finished] {
        started->store(true);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        finished->store(true);
      });
      // Running, not queued (a shutdown cancels only queued closures).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!started->load() && std::chrono::steady_clock::now() < deadline) {
        co_await tokio::task::yield_now();
      }
    }(&started, &finished));
    REQUIRE(started.load());
    auto t0 = std::chrono::steady_clock::now();
    rt.shutdown_timeout(std::chrono::seconds(10));
    // The closure ended within the limit, so shutdown_timeout returned after it.
    CHECK(finished.load());
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  }
}
