// Spawning, JoinHandle, AbortHandle and cancellation.
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using tokio::JoinHandle;
using tokio::Task;
namespace oneshot = tokio::sync::oneshot;

namespace {

Task<> chain(int remaining, oneshot::Sender<int> done) {
  if (remaining == 0) {
    (void)done.send(1);
    co_return;
  }
  tokio::spawn(chain(remaining - 1, std::move(done))).detach();
}

}  // namespace

TEST_CASE("1,000,000 tasks spawned and joined") {
  const std::size_t n = test::scaled(1000000);
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    uint64_t sum = rt.block_on([](std::size_t n) -> Task<uint64_t> {
      std::vector<JoinHandle<int>> hs;
      hs.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        hs.push_back(tokio::spawn(test::ready_value(static_cast<int>(i & 7))));
      uint64_t s = 0;
      for (auto& h : hs) s += static_cast<uint64_t>(co_await h);
      co_return s;
    }(n));
    uint64_t expect = 0;
    for (std::size_t i = 0; i < n; ++i) expect += i & 7;
    CHECK(sum == expect);
    CHECK(test::eventually([&] { return rt.metrics().num_alive_tasks() == 0; }));
  }
}

TEST_CASE("a chain of 100,000 spawns, each spawning the next, runs without stack growth") {
  const int n = static_cast<int>(test::scaled(100000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    auto [tx, rx] = oneshot::channel<int>();
    int got =
        rt.block_on([](int n, oneshot::Sender<int> tx, oneshot::Receiver<int> rx) -> Task<int> {
          tokio::spawn(chain(n, std::move(tx))).detach();
          auto r = co_await std::move(rx);
          co_return r.value();
        }(n, std::move(tx), std::move(rx)));
    CHECK(got == 1);
  }
}

TEST_CASE("8 foreign threads spawning at once") {
  auto rt = test::multi_thread(2);
  auto handle = rt.handle();
  const int per = static_cast<int>(test::scaled(20000));
  std::vector<std::thread> threads;
  std::vector<std::vector<JoinHandle<int>>> handles(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per; ++i) handles[t].push_back(handle.spawn(test::ready_value(1)));
    });
  }
  for (auto& th : threads) th.join();
  long total = rt.block_on([](std::vector<std::vector<JoinHandle<int>>>* hs) -> Task<long> {
    long s = 0;
    for (auto& v : *hs) {
      for (auto& h : v) s += co_await h;
    }
    co_return s;
  }(&handles));
  CHECK(total == 8L * per);
  CHECK(rt.metrics().remote_schedule_count() >= static_cast<uint64_t>(8 * per));
}

TEST_CASE("exceptions cross JoinHandles: rethrown by co_await, JoinError by result()") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    rt.block_on([]() -> Task<> {
      auto h = tokio::spawn([]() -> Task<int> {
        throw std::runtime_error("boom");
        co_return 1;
      });
      bool caught = false;
      try {
        (void)co_await h;
      } catch (const std::runtime_error& e) {
        caught = std::string(e.what()) == "boom";
      }
      CHECK(caught);

      auto h2 = tokio::spawn([]() -> Task<> {
        throw std::out_of_range("range");
        co_return;
      });
      auto r = co_await h2.result();
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().is_panic());
      CHECK_FALSE(r.error().is_cancelled());
      CHECK_THROWS_AS(std::rethrow_exception(r.error().panic_payload()), std::out_of_range);
      CHECK_THROWS_AS(std::rethrow_exception(r.error().into_panic()), std::out_of_range);
      auto payload = r.error().try_into_panic();
      REQUIRE(payload.has_value());
      CHECK(*payload == r.error().panic_payload());
      CHECK(r.error().id() == h2.id());
      // On a temporary handle (Rust: `spawn(f).await` as a Result).
      auto r3 = co_await tokio::spawn([]() -> Task<int> { co_return 7; }).result();
      CHECK(r3.value() == 7);
      auto r4 = co_await tokio::spawn([]() -> Task<> {
                  throw std::out_of_range("temp");
                  co_return;
                }).result();
      CHECK(r4.error().is_panic());
      auto cancelled = tokio::task::JoinError::cancelled(h2.id());
      CHECK_THROWS_AS((void)cancelled.into_panic(), std::logic_error);
      auto back = cancelled.try_into_panic();
      REQUIRE_FALSE(back.has_value());
      CHECK(back.error().is_cancelled());
    }());
  }
}

TEST_CASE("awaiting a JoinHandle twice is a clear error") {
  auto rt = test::current_thread();
  std::string msg = rt.block_on([]() -> Task<std::string> {
    auto h = tokio::spawn(test::ready_value(1));
    (void)co_await h;
    try {
      (void)co_await h;
    } catch (const std::logic_error& e) {
      co_return e.what();
    }
    co_return "";
  }());
  CHECK(msg.find("awaited twice") != std::string::npos);
}

TEST_CASE("abort: before start, while suspended, while running, after finishing") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    rt.block_on([](bool deterministic) -> Task<> {
      std::atomic<int> drops{0};
      std::atomic<bool> body_ran{false};
      // Aborted before it ever ran: the body never starts, its frame is destroyed. (On the
      // current-thread runtime nothing runs until this task awaits; on the multi-thread one
      // an idle worker may win the race and run it first, which must be equally clean.)
      auto h1 = tokio::spawn(
          [](test::DropCounter d, std::atomic<bool>* ran) -> Task<int> {
            (void)d;
            ran->store(true);
            co_return 1;
          },
          test::DropCounter(drops), &body_ran);
      h1.abort();
      auto r1 = co_await h1.result();
      if (deterministic || !body_ran.load()) {
        CHECK_FALSE(r1.has_value());
        CHECK(r1.error().is_cancelled());
        CHECK_FALSE(body_ran.load());
      } else {
        CHECK(r1.value() == 1);
      }

      // Aborted while suspended on a oneshot nobody will send.
      auto [tx, rx] = oneshot::channel<int>();
      auto h2 = tokio::spawn(
          [](test::DropCounter d, oneshot::Receiver<int> rx) -> Task<int> {
            (void)d;
            auto v = co_await std::move(rx);
            co_return v.value();
          },
          test::DropCounter(drops), std::move(rx));
      for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
      CHECK_FALSE(h2.is_finished());
      h2.abort();
      auto r2 = co_await h2.result();
      CHECK(r2.error().is_cancelled());
      CHECK(tx.is_closed());  // the receiver was destroyed with the frame

      // Finished: abort is a no-op and the value stays readable.
      auto h4 = tokio::spawn(test::ready_value(4));
      while (!h4.is_finished()) co_await tokio::task::yield_now();
      h4.abort();
      CHECK(co_await h4 == 4);
      CHECK(drops.load() == 2);
    }(flavour == 0));
  }
}

TEST_CASE("abort from inside the running task takes effect at its next await") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<tokio::task::AbortHandle>();
    std::atomic<int> reached{0};
    auto h = tokio::spawn(
        [](oneshot::Receiver<tokio::task::AbortHandle> rx, std::atomic<int>* reached) -> Task<> {
          auto self = (co_await std::move(rx)).value();
          self.abort();
          reached->store(1);  // still runs: cancellation waits for a suspension point
          co_await tokio::task::yield_now();
          reached->store(2);  // never runs
        },
        std::move(rx), &reached);
    (void)tx.send(h.abort_handle());
    auto r = co_await h.result();
    CHECK(r.error().is_cancelled());
    CHECK(reached.load() == 1);
  }());
}

TEST_CASE("abort at every suspension point destroys exactly the live frames") {
  // A task with 5 suspension points; abort it at each one in turn and check how far it got
  // and which locals were destroyed.
  for (int stop = 0; stop < 5; ++stop) {
    auto rt = test::current_thread();
    rt.block_on([](int stop) -> Task<> {
      std::atomic<int> progress{0};
      std::atomic<int> drops{0};
      auto h = tokio::spawn(
          [](std::atomic<int>* progress, std::atomic<int>* drops) -> Task<> {
            for (int i = 0; i < 5; ++i) {
              test::DropCounter local(*drops);
              progress->store(i + 1);
              co_await tokio::task::yield_now();
            }
            progress->store(100);
          },
          &progress, &drops);
      while (progress.load() < stop + 1) co_await tokio::task::yield_now();
      h.abort();
      auto r = co_await h.result();
      CHECK(r.error().is_cancelled());
      CHECK(progress.load() == stop + 1);
      CHECK(drops.load() == stop + 1);  // one per loop iteration entered
    }(stop));
  }
}

TEST_CASE("AbortHandle outlives and works independently of the JoinHandle") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    tokio::task::AbortHandle ah;
    {
      auto h = tokio::spawn(test::forever(std::move(rx)));
      ah = h.abort_handle();
      CHECK(ah.id() == h.id());
    }  // detached
    CHECK_FALSE(ah.is_finished());
    ah.abort();
    while (!ah.is_finished()) co_await tokio::task::yield_now();
    CHECK(tx.is_closed());
  }());
}

TEST_CASE("task ids are unique and task::id() names the running task") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    std::vector<JoinHandle<uint64_t>> hs;
    for (int i = 0; i < 100; ++i) {
      hs.push_back(tokio::spawn([]() -> Task<uint64_t> { co_return tokio::task::id().value; }));
    }
    std::set<uint64_t> seen;
    for (auto& h : hs) {
      uint64_t id = co_await h;
      CHECK(id == h.id().value);
      seen.insert(id);
    }
    CHECK(seen.size() == 100);
    CHECK_FALSE(tokio::task::try_id().has_value());  // block_on's root is not a task
    CHECK_THROWS_AS(tokio::task::id(), std::logic_error);
    // A spawn_blocking closure runs as a task with an id, as in Tokio (it had none).
    auto b = tokio::task::spawn_blocking([] {
      return std::pair{tokio::task::try_id().value_or(tokio::task::Id{0}).value,
                       tokio::task::id().value};
    });
    auto [tried, named] = co_await b;
    CHECK(tried == b.id().value);
    CHECK(named == b.id().value);
  }());
}

TEST_CASE("wake/suspend races: a foreign thread completes the await as the task suspends") {
  auto rt = test::multi_thread(2);
  const int rounds = static_cast<int>(test::scaled(20000));
  int ok = rt.block_on([](int rounds) -> Task<int> {
    int ok = 0;
    for (int i = 0; i < rounds; ++i) {
      auto [tx, rx] = oneshot::channel<int>();
      std::thread sender([tx = std::move(tx), i]() mutable { (void)tx.send(i); });
      auto h = tokio::spawn(
          [](oneshot::Receiver<int> rx) -> Task<int> {
            co_return (co_await std::move(rx)).value();
          },
          std::move(rx));
      if (co_await h == i) ++ok;
      sender.join();
    }
    co_return ok;
  }(rounds / 20));
  CHECK(ok == rounds / 20);

  // Many tasks woken concurrently from several threads while they suspend.
  const int n = static_cast<int>(test::scaled(2000));
  std::vector<oneshot::Sender<int>> senders;
  std::vector<JoinHandle<int>> handles;
  {
    auto guard = rt.enter();
    for (int i = 0; i < n; ++i) {
      auto [tx, rx] = oneshot::channel<int>();
      senders.push_back(std::move(tx));
      handles.push_back(tokio::spawn(
          [](oneshot::Receiver<int> rx) -> Task<int> {
            co_return (co_await std::move(rx)).value();
          },
          std::move(rx)));
    }
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += 4) (void)senders[i].send(i);
    });
  }
  for (auto& th : threads) th.join();
  long sum = rt.block_on([](std::vector<JoinHandle<int>>* hs) -> Task<long> {
    long s = 0;
    for (auto& h : *hs) s += co_await h;
    co_return s;
  }(&handles));
  CHECK(sum == static_cast<long>(n) * (n - 1) / 2);
}

TEST_CASE("spawn(callable, args...) keeps captures and arguments alive") {
  auto rt = test::multi_thread(2);
  int r = rt.block_on([]() -> Task<int> {
    std::string captured = "hello";
    // The lambda object (and its capture) is owned by the spawned task, not by this frame.
    auto h = tokio::spawn(
        [captured](std::string arg, const std::vector<int>& v) -> Task<int> {
          co_await tokio::task::yield_now();
          co_return static_cast<int>(captured.size() + arg.size() + v.size());
        },
        std::string("world!"), std::vector<int>{1, 2, 3});
    captured.clear();
    co_return co_await h;
  }());
  CHECK(r == 5 + 6 + 3);
}

TEST_CASE("dropping a JoinHandle detaches: the task still runs to completion") {
  auto rt = test::multi_thread(2);
  auto [tx, rx] = oneshot::channel<int>();
  rt.block_on([](oneshot::Sender<int> tx) -> Task<> {
    {
      auto h = tokio::spawn(
          [](oneshot::Sender<int> tx) -> Task<> {
            co_await tokio::task::yield_now();
            (void)tx.send(9);
          },
          std::move(tx));
    }
    co_return;
  }(std::move(tx)));
  auto v = rt.block_on(std::move(rx));
  CHECK(v.value() == 9);
}

TEST_CASE("a JoinHandle awaited by two operations at once is an error, not a lost wake") {
  // join(h, h) said the task was cancelled (and lost its value); two tasks awaiting one
  // shared handle left one waiting for ever. The second await now throws a logic_error.
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    // Held until both awaits are made: a task that had already finished would hand its
    // value to the first branch, and the second would then see it taken.
    auto gate = std::make_shared<tokio::sync::Notify>();
    auto h = tokio::spawn(
        [](std::shared_ptr<tokio::sync::Notify> gate) -> Task<int> {
          co_await gate->notified();
          co_return 5;
        },
        gate);
    CHECK_THROWS_WITH_AS((void)co_await tokio::join(h, h),
                         doctest::Contains("JoinHandle awaited by two operations at once"),
                         std::logic_error);
    gate->notify_one();
    // The handle is still good: awaited in one place, it yields the value.
    CHECK(co_await h == 5);
    // A select that lost let go of it.
    auto slow = tokio::spawn([]() -> Task<int> {
      for (int i = 0; i < 3; ++i) co_await tokio::task::yield_now();
      co_return 6;
    }());
    auto first = co_await tokio::select(slow, tokio::task::yield_now());
    if (first.index() == 1) CHECK(co_await slow == 6);
  }());
}
