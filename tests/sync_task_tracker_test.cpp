// sync::TaskTracker (tokio-util's TaskTracker): wait() completes only once closed and empty;
// every spawn form counts until the task's body is destroyed (finished, aborted, cancelled at
// shutdown), not until its JoinHandle goes; tokens and track_future; close/reopen; wait()
// cancelled and awaited again; many tasks finishing on two workers while wait() races them.
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::TaskTracker;
using namespace std::chrono_literals;

namespace {

tokio::runtime::Runtime tracker_rt(std::size_t workers) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_time().build();
}

Task<> wait_for_rx(tokio::sync::oneshot::Receiver<int> rx, std::atomic<int>* done) {
  (void)co_await std::move(rx);
  done->fetch_add(1);
}

// True when `a` completes within `d` (the timeout's error otherwise).
template <class A>
Task<bool> completes_within(std::chrono::milliseconds d, A a) {
  auto r = co_await tokio::time::timeout(d, std::move(a));
  co_return r.has_value();
}

}  // namespace

TEST_CASE("TaskTracker: wait() completes once closed and empty, not while open") {
  auto rt = tracker_rt(1);
  rt.block_on([]() -> Task<> {
    TaskTracker tracker;
    CHECK(tracker.is_empty());
    CHECK_FALSE(tracker.is_closed());
    // Open and empty: wait() does not complete (a loop may still add tasks).
    CHECK_FALSE(co_await completes_within(20ms, tracker.wait()));
    CHECK(tracker.close());
    CHECK_FALSE(tracker.close());  // already closed
    CHECK(co_await completes_within(1000ms, tracker.wait()));
    CHECK(tracker.reopen());
    CHECK_FALSE(tracker.reopen());
    CHECK_FALSE(co_await completes_within(20ms, tracker.wait()));
    // Tokens count, copies count again.
    {
      auto t1 = tracker.token();
      auto t2 = t1;
      CHECK(tracker.len() == 2);
      tracker.close();
      CHECK_FALSE(co_await completes_within(20ms, tracker.wait()));
    }
    CHECK(tracker.len() == 0);
    CHECK(co_await completes_within(1000ms, tracker.wait()));
    // A clone is the same tracker.
    auto other = tracker.clone();
    CHECK(other.ptr_eq(tracker));
    auto tok = other.token();
    CHECK(tracker.len() == 1);
  }());
}

TEST_CASE("TaskTracker: a closed tracker's wait() is woken by the last task, whatever its form") {
  auto rt = tracker_rt(2);
  rt.block_on([]() -> Task<> {
    TaskTracker tracker;
    std::atomic<int> done{0};
    std::vector<tokio::sync::oneshot::Sender<int>> release;
    std::vector<tokio::JoinHandle<void>> handles;  // held: they must not keep the count
    for (int i = 0; i < 4; ++i) {
      auto [tx, rx] = tokio::sync::oneshot::channel<int>();
      release.push_back(std::move(tx));
      if (i % 2 == 0) {
        handles.push_back(tracker.spawn(wait_for_rx(std::move(rx), &done)));
      } else {
        handles.push_back(tracker.spawn(
            [](tokio::sync::oneshot::Receiver<int> r, std::atomic<int>* d) -> Task<> {
              (void)co_await std::move(r);
              d->fetch_add(1);
            },
            std::move(rx), &done));
      }
    }
    std::atomic<bool> blocking_may_finish{false};
    auto blocking = tracker.spawn_blocking([&blocking_may_finish] {
      while (!blocking_may_finish.load()) std::this_thread::sleep_for(1ms);
      return 5;
    });
    CHECK(tracker.len() == 5);
    tracker.close();
    auto waiter = tokio::spawn(tracker.wait());
    for (auto& tx : release) {
      (void)tx.send(1);
      co_await tokio::time::sleep(2ms);
      CHECK_FALSE(waiter.is_finished());
    }
    blocking_may_finish = true;
    CHECK(co_await completes_within(5000ms, std::move(waiter)));
    CHECK(done.load() == 4);
    CHECK(tracker.is_empty());
    CHECK(co_await blocking == 5);
  }());
}

TEST_CASE("TaskTracker: an aborted task stops counting; track_future counts while it exists") {
  auto rt = tracker_rt(1);
  rt.block_on([]() -> Task<> {
    TaskTracker tracker;
    auto h = tracker.spawn([]() -> Task<> { co_await tokio::time::sleep(1h); });
    CHECK(tracker.len() == 1);
    h.abort();
    auto r = co_await h.result();
    CHECK((!r.has_value() && r.error().is_cancelled()));
    CHECK(tracker.len() == 0);
    {
      auto fut = tracker.track_future(tokio::time::sleep(1ms));
      CHECK(tracker.len() == 1);  // counted before it is first polled
      co_await std::move(fut);
    }
    CHECK(tracker.len() == 0);
    {
      auto never_polled = tracker.track_future([]() -> Task<int> { co_return 1; }());
      CHECK(tracker.len() == 1);
    }
    CHECK(tracker.len() == 0);
    tracker.close();
    CHECK(co_await completes_within(1000ms, tracker.wait()));
  }());
}

TEST_CASE("TaskTracker: wait() lost to a select leaves nothing behind and can be awaited again") {
  auto rt = tracker_rt(1);
  rt.block_on([]() -> Task<> {
    TaskTracker tracker;
    auto [tx, rx] = tokio::sync::oneshot::channel<int>();
    std::atomic<int> done{0};
    tracker.spawn(wait_for_rx(std::move(rx), &done));
    tracker.close();
    for (int i = 0; i < 3; ++i) {
      auto ev = co_await tokio::select(tracker.wait(), tokio::time::sleep(1ms));
      CHECK(ev.index() == 1);
    }
    (void)tx.send(1);
    CHECK(co_await completes_within(1000ms, tracker.wait()));
    CHECK(done.load() == 1);
  }());
}

TEST_CASE("TaskTracker: spawn_local and spawn_on count like spawn") {
  auto rt = tracker_rt(1);
  rt.block_on([](tokio::runtime::Handle handle) -> Task<> {
    TaskTracker tracker;
    tokio::task::LocalSet local;
    std::atomic<int> done{0};
    co_await local.run_until([](TaskTracker t, std::atomic<int>* d) -> Task<> {
      auto local_task = t.spawn_local(
          [](std::atomic<int>* d2) -> Task<> {
            co_await tokio::time::sleep(1ms);
            d2->fetch_add(1);
          },
          d);
      CHECK(t.len() == 1);
      co_await std::move(local_task);
    }(tracker, &done));
    auto on = tracker.spawn_on(
        handle,
        [](std::atomic<int>* d) -> Task<> {
          co_await tokio::time::sleep(1ms);
          d->fetch_add(1);
        },
        &done);
    tracker.close();
    CHECK(co_await completes_within(1000ms, tracker.wait()));
    CHECK(done.load() == 2);
    co_await std::move(on);
  }(rt.handle()));
}

TEST_CASE("TaskTracker: runtime shutdown with tracked tasks in flight empties the tracker") {
  TaskTracker tracker;
  {
    auto rt = tracker_rt(2);
    rt.block_on([](TaskTracker t) -> Task<> {
      for (int i = 0; i < 20; ++i) {
        t.spawn([]() -> Task<> { co_await tokio::time::sleep(1h); });
      }
      co_return;
    }(tracker));
    CHECK(tracker.len() == 20);
  }  // the runtime drops its tasks: their bodies (and tokens) are destroyed
  CHECK(tracker.len() == 0);
}

TEST_CASE("TaskTracker: many tasks finishing on two workers never strand wait()") {
  auto rt = tracker_rt(2);
  rt.block_on([]() -> Task<> {
    for (std::size_t round = 0; round < test::scaled(200); ++round) {
      TaskTracker tracker;
      auto count = std::make_shared<std::atomic<int>>(0);
      for (int i = 0; i < 8; ++i) {
        tracker.spawn(
            [](std::shared_ptr<std::atomic<int>> c) -> Task<> {
              co_await tokio::task::yield_now();
              c->fetch_add(1);
            },
            count);
      }
      // close() races the tasks' ends; wait() runs on another task than the spawner.
      auto waiter = tokio::spawn(tracker.wait());
      tracker.close();
      REQUIRE(co_await completes_within(5000ms, std::move(waiter)));
      CHECK(count->load() == 8);
    }
  }());
}
