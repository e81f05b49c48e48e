// task::LocalSet and spawn_local.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using tokio::Task;
using tokio::task::LocalSet;
namespace oneshot = tokio::sync::oneshot;

TEST_CASE("LocalSet tasks stay on their thread across awaits, on both runtimes") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    LocalSet local;
    auto me = std::this_thread::get_id();
    int ok = local.block_on(rt, [](std::thread::id me) -> Task<int> {
      std::vector<tokio::JoinHandle<int>> hs;
      for (int i = 0; i < 20; ++i) {
        // A non-thread-safe shared_ptr-like capture is fine here: local tasks never move.
        hs.push_back(tokio::task::spawn_local(
            [](std::thread::id me) -> Task<int> {
              int same = 0;
              for (int k = 0; k < 10; ++k) {
                same += std::this_thread::get_id() == me;
                co_await tokio::task::yield_now();
                // Work on the multi-thread runtime to invite migration.
                auto h = tokio::spawn([]() -> Task<int> { co_return 1; });
                same += co_await h - 1;
              }
              co_return same;
            },
            me));
      }
      int total = 0;
      for (auto& h : hs) total += co_await h;
      co_return total;
    }(me));
    CHECK(ok == 20 * 10);
  }
}

TEST_CASE("LocalSet::spawn_local before running, and co_await local runs them all") {
  auto rt = test::current_thread();
  LocalSet local;
  auto counter = std::make_shared<int>(0);  // not atomic: only this thread touches it
  for (int i = 0; i < 5; ++i) {
    (void)local.spawn_local(
        [](std::shared_ptr<int> c) -> Task<> {
          co_await tokio::task::yield_now();
          ++*c;
        },
        counter);
  }
  CHECK(local.len() == 5);
  rt.block_on([](LocalSet* l) -> Task<> { co_await *l; }(&local));
  CHECK(*counter == 5);
  CHECK(local.is_empty());
}

// Finished tasks whose JoinHandles are still held stay listed for dumps (completed, not
// joined) but do not keep the set busy: awaiting the set ends when every task has finished.
TEST_CASE("co_await local ends while handles of its finished tasks are still held") {
  auto rt = test::current_thread();
  LocalSet local;
  std::vector<tokio::task::JoinHandle<int>> hs;
  for (int i = 0; i < 5; ++i) {
    hs.push_back(local.spawn_local(
        [](int v) -> Task<int> {
          co_await tokio::task::yield_now();
          co_return v;
        },
        i));
  }
  rt.block_on([](LocalSet* l) -> Task<> { co_await *l; }(&local));
  CHECK(local.is_empty());
  CHECK(local.len() == 0);
  int sum = 0;
  rt.block_on([](std::vector<tokio::task::JoinHandle<int>>* hs, int* sum) -> Task<> {
    for (auto& h : *hs) *sum += co_await h;
  }(&hs, &sum));
  CHECK(sum == 10);
}

TEST_CASE("a foreign-thread wake drives the local task") {
  auto rt = test::multi_thread(2);
  LocalSet local;
  auto me = std::this_thread::get_id();
  auto [tx, rx] = oneshot::channel<int>();
  std::thread sender([tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(10ms);
    (void)tx.send(1);
  });
  bool same = local.block_on(rt, [](oneshot::Receiver<int> rx, std::thread::id me) -> Task<bool> {
    auto h = tokio::task::spawn_local(
        [](oneshot::Receiver<int> rx, std::thread::id me) -> Task<bool> {
          auto v = co_await std::move(rx);
          co_return v.value() == 1 && std::this_thread::get_id() == me;
        },
        std::move(rx), me);
    co_return co_await h;
  }(std::move(rx), me));
  sender.join();
  CHECK(same);
}

TEST_CASE("spawn_local outside a LocalSet is a clear error") {
  auto rt = test::current_thread();
  bool threw = rt.block_on([]() -> Task<bool> {
    try {
      (void)tokio::task::spawn_local([]() -> Task<> { co_return; });
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }());
  CHECK(threw);
}

// Tokio's run_until forbids block_in_place while it polls (its future and the local tasks
// it runs: they cannot move to another thread while this one blocks); a LocalSet awaited
// as a whole, a LocalEnterGuard and a task spawned from inside run_until allow it.
TEST_CASE("block_in_place inside LocalSet::run_until on a multi-thread block_on is refused") {
  auto rt = test::multi_thread(2);
  auto attempt = [] {
    try {
      return tokio::task::block_in_place([] { return 1; }) == 1 ? "ok" : "?";
    } catch (const std::logic_error&) {
      return "refused";
    }
  };
  std::string root = rt.block_on([](auto attempt) -> Task<std::string> {
    LocalSet local;
    co_return co_await local.run_until(
        [](auto attempt) -> Task<std::string> { co_return attempt(); }(attempt));
  }(attempt));
  CHECK(root == "refused");
  std::string local_task = rt.block_on([](auto attempt) -> Task<std::string> {
    LocalSet local;
    co_return co_await local.run_until([](auto attempt) -> Task<std::string> {
      co_return co_await tokio::task::spawn_local(
          [](auto attempt) -> Task<std::string> { co_return attempt(); }, attempt);
    }(attempt));
  }(attempt));
  CHECK(local_task == "refused");
  std::string spawned = rt.block_on([](auto attempt) -> Task<std::string> {
    LocalSet local;
    co_return co_await local.run_until([](auto attempt) -> Task<std::string> {
      co_return co_await tokio::spawn(
          [](auto attempt) -> Task<std::string> { co_return attempt(); }, attempt);
    }(attempt));
  }(attempt));
  CHECK(spawned == "ok");
  std::string awaited = rt.block_on([](auto attempt) -> Task<std::string> {
    LocalSet local;
    auto h =
        local.spawn_local([](auto attempt) -> Task<std::string> { co_return attempt(); }, attempt);
    co_await local;
    co_return co_await h;
  }(attempt));
  CHECK(awaited == "ok");
  std::string entered = rt.block_on([](auto attempt) -> Task<std::string> {
    LocalSet local;
    auto guard = local.enter();
    co_return attempt();
  }(attempt));
  CHECK(entered == "ok");
}

TEST_CASE("destroying a LocalSet cancels its unfinished tasks") {
  std::atomic<int> drops{0};
  std::vector<oneshot::Sender<int>> keep;
  tokio::JoinHandle<void> h;
  {
    auto rt = test::current_thread();
    LocalSet local;
    for (int i = 0; i < 10; ++i) {
      auto [tx, rx] = oneshot::channel<int>();
      keep.push_back(std::move(tx));
      auto jh = local.spawn_local(
          [](test::DropCounter d, oneshot::Receiver<int> rx) -> Task<> {
            (void)d;
            (void)co_await std::move(rx);
          },
          test::DropCounter(drops), std::move(rx));
      if (i == 0) h = std::move(jh);
    }
    rt.block_on(local.run_until(tokio::task::yield_now()));
    CHECK(drops.load() == 0);
  }
  CHECK(drops.load() == 10);
  auto rt2 = test::current_thread();
  auto r = rt2.block_on(h.result());
  CHECK(r.error().is_cancelled());
}

TEST_CASE(
    "LocalSet::enter: spawn_local outside run_until lands on the entered set; "
    "JoinSet::spawn_local_on and spawn_blocking_on") {
  auto rt = test::current_thread();
  LocalSet local;
  int ran = 0;
  tokio::task::JoinHandle<int> h;
  {
    auto guard = local.enter();  // Tokio's LocalSet::enter
    h = tokio::task::spawn_local([](int* ran) -> Task<int> {
      ++*ran;
      co_return 5;
    }(&ran));
  }
  CHECK(ran == 0);  // it runs when the set is driven
  CHECK_THROWS_AS((void)tokio::task::spawn_local([]() -> Task<> { co_return; }()),
                  std::logic_error);  // the guard ended: no set entered any more
  int got = local.block_on(rt, [](tokio::task::JoinHandle<int>* h) -> Task<int> {
    co_return co_await std::move(*h);
  }(&h));
  CHECK(got == 5);
  CHECK(ran == 1);

  tokio::task::JoinSet<int> set;
  set.spawn_local_on([]() -> Task<int> { co_return 7; }(), local);
  set.spawn_blocking_on([] { return 8; }, rt.handle());
  int sum = local.block_on(rt, [](tokio::task::JoinSet<int>* set) -> Task<int> {
    int s = 0;
    while (auto r = co_await set->join_next()) s += r->value();
    co_return s;
  }(&set));
  CHECK(sum == 15);
}

TEST_CASE("the runtime's task hooks see the spawn_local tasks of a LocalSet made inside it") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    std::mutex mu;
    std::vector<uint64_t> spawned, terminated, polled;
    auto note = [&](std::vector<uint64_t>& into) {
      return [&mu, &into](const tokio::task::TaskInfo& i) {
        std::lock_guard<std::mutex> g(mu);
        into.push_back(i.id.value);
      };
    };
    auto b = flavour == 0 ? tokio::runtime::Builder::new_current_thread()
                          : tokio::runtime::Builder::new_multi_thread();
    if (flavour == 1) b.worker_threads(2);
    auto rt = b.on_task_spawn(note(spawned))
                  .on_task_terminate(note(terminated))
                  .on_before_task_poll(note(polled))
                  .build();
    uint64_t id = rt.block_on([]() -> Task<uint64_t> {
      LocalSet local;  // made inside the runtime: it takes the runtime's hooks
      auto h = local.spawn_local([]() -> Task<int> {
        co_await tokio::task::yield_now();
        co_return 7;
      }());
      uint64_t id = h.id().value;
      CHECK(co_await local.run_until(std::move(h)) == 7);
      co_return id;
    }());
    std::lock_guard<std::mutex> g(mu);
    auto has = [id](const std::vector<uint64_t>& v) {
      return std::find(v.begin(), v.end(), id) != v.end();
    };
    CHECK(has(spawned));
    CHECK(has(terminated));
    CHECK(has(polled));
  }
}
