// task::JoinSet.
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <stdexcept>
#include <vector>

#include "test_util.hpp"

using tokio::Task;
using tokio::task::JoinSet;
namespace oneshot = tokio::sync::oneshot;

namespace {
Task<int> sleepy(int v, int yields) {
  for (int i = 0; i < yields; ++i) co_await tokio::task::yield_now();
  co_return v;
}
}  // namespace

TEST_CASE("join_next returns results in completion order, then nullopt") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    JoinSet<int> set;
    set.spawn(sleepy(3, 30));
    set.spawn(sleepy(1, 10));
    set.spawn(sleepy(2, 20));
    CHECK(set.len() == 3);
    std::vector<int> got;
    while (auto r = co_await set.join_next()) got.push_back(r->value());
    CHECK(got == std::vector<int>{1, 2, 3});
    CHECK(set.is_empty());
    CHECK_FALSE((co_await set.join_next()).has_value());
  }());
}

TEST_CASE("JoinSet on the multi-thread runtime with many tasks") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    JoinSet<int> set;
    const int n = static_cast<int>(test::scaled(10000));
    for (int i = 0; i < n; ++i) set.spawn(sleepy(i, i % 3));
    std::set<int> seen;
    while (auto r = co_await set.join_next()) seen.insert(r->value());
    CHECK(seen.size() == std::size_t(n));
  }());
}

TEST_CASE("try_join_next, errors and cancellation as values") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    JoinSet<int> set;
    CHECK_FALSE(set.try_join_next().has_value());
    set.spawn([]() -> Task<int> {
      throw std::runtime_error("x");
      co_return 0;
    });
    auto [tx, rx] = oneshot::channel<int>();
    auto ah = set.spawn(
        [](oneshot::Receiver<int> rx) -> Task<int> { co_return (co_await std::move(rx)).value(); },
        std::move(rx));
    for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
    auto first = set.try_join_next();
    REQUIRE(first.has_value());
    REQUIRE_FALSE(first->has_value());
    CHECK(first->error().is_panic());
    ah.abort();
    auto second = co_await set.join_next();
    REQUIRE(second.has_value());
    CHECK(second->error().is_cancelled());
  }());
}

TEST_CASE("abort_all, shutdown, detach_all and destruction") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    std::vector<oneshot::Sender<int>> keep;
    auto park = [&](JoinSet<void>& set) {
      auto [tx, rx] = oneshot::channel<int>();
      keep.push_back(std::move(tx));
      set.spawn(
          [](test::DropCounter d, oneshot::Receiver<int> rx) -> Task<> {
            (void)d;
            (void)co_await std::move(rx);
          },
          test::DropCounter(drops), std::move(rx));
    };
    {
      JoinSet<void> set;
      for (int i = 0; i < 10; ++i) park(set);
      co_await set.shutdown();
      CHECK(set.is_empty());
      CHECK(drops.load() == 10);
    }
    {
      JoinSet<void> set;
      for (int i = 0; i < 10; ++i) park(set);
      for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
    }  // destroyed: aborts
    while (drops.load() < 20) co_await tokio::task::yield_now();
    {
      JoinSet<void> set;
      park(set);
      set.detach_all();
      CHECK(set.is_empty());
      (void)keep.back().send(1);  // the detached task completes on its own
      while (drops.load() < 21) co_await tokio::task::yield_now();
    }
    {
      JoinSet<void> set;
      for (int i = 0; i < 3; ++i) park(set);
      set.abort_all();
      int cancelled = 0;
      while (auto r = co_await set.join_next()) cancelled += r->error().is_cancelled();
      CHECK(cancelled == 3);
    }
  }());
}

TEST_CASE("join_all collects values; on a failure it rethrows it and cancels the rest") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    rt.block_on([]() -> Task<> {
      JoinSet<int> set;
      for (int i = 0; i < 10; ++i) set.spawn(sleepy(i, 1));
      auto all = co_await set.join_all();
      CHECK(all.size() == 10);
      JoinSet<int> bad;
      auto [tx, rx] = oneshot::channel<int>();  // tx kept: the waiter never ends by itself
      auto waiter = bad.spawn(
          [](oneshot::Receiver<int> rx) -> Task<int> {
            co_return (co_await std::move(rx)).value();
          },
          std::move(rx));
      bad.spawn([]() -> Task<int> {
        co_await tokio::task::yield_now();
        throw std::logic_error("bad");
        co_return 0;
      });
      bool threw = false;
      try {
        (void)co_await bad.join_all();
      } catch (const std::logic_error&) {
        threw = true;
      }
      CHECK(threw);
      // As Tokio's join_all: the tasks still in the set are aborted, not left running.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!waiter.is_finished() && std::chrono::steady_clock::now() < deadline) {
        co_await tokio::task::yield_now();
      }
      REQUIRE(waiter.is_finished());
      auto r = co_await bad.join_next();
      REQUIRE(r.has_value());
      REQUIRE_FALSE(r->has_value());
      CHECK(r->error().is_cancelled());
      (void)tx;
    }());
  }
}

TEST_CASE("cancelling join_next loses nothing") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    JoinSet<int> set;
    auto [tx, rx] = oneshot::channel<int>();
    set.spawn(
        [](oneshot::Receiver<int> rx) -> Task<int> { co_return (co_await std::move(rx)).value(); },
        std::move(rx));
    // A select where join_next loses to an immediately ready branch.
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), set.join_next());
    CHECK(r.index() == 0);
    (void)tx.send(5);
    auto got = co_await set.join_next();
    REQUIRE(got.has_value());
    CHECK(got->value() == 5);
  }());
}

TEST_CASE("join_next_with_id / try_join_next_with_id pair each result with its task's id") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    JoinSet<int> set;
    auto a = set.spawn(sleepy(10, 2));
    auto b = set.spawn([]() -> Task<int> {
      throw std::runtime_error("b");
      co_return 0;
    });
    auto first = co_await set.join_next_with_id();  // b fails first (no yields)
    REQUIRE(first.has_value());
    REQUIRE_FALSE(first->has_value());
    CHECK(first->error().id() == b.id());
    auto second = co_await set.join_next_with_id();
    REQUIRE(second.has_value());
    REQUIRE(second->has_value());
    CHECK((*second)->first == a.id());
    CHECK((*second)->second == 10);
    CHECK_FALSE((co_await set.join_next_with_id()).has_value());
    // void tasks: the id alone.
    JoinSet<void> vset;
    auto v = vset.spawn([]() -> Task<> { co_return; });
    CHECK_FALSE(vset.try_join_next_with_id().has_value());  // not run yet
    for (int i = 0; i < 3; ++i) co_await tokio::task::yield_now();
    auto done = vset.try_join_next_with_id();
    REQUIRE(done.has_value());
    REQUIRE(done->has_value());
    CHECK(**done == v.id());
  }());
}

TEST_CASE("JoinSet::spawn_local runs !Send-style work on the LocalSet") {
  auto rt = test::current_thread();
  tokio::task::LocalSet local;
  int total = local.block_on(rt, []() -> Task<int> {
    JoinSet<int> set;
    for (int i = 1; i <= 3; ++i) set.spawn_local([](int v) -> Task<int> { co_return v * 2; }, i);
    int sum = 0;
    while (auto r = co_await set.join_next()) sum += r->value();
    co_return sum;
  }());
  CHECK(total == 12);
}

// Every way into a moved-from JoinSet throws the set's misuse error before anything is
// spawned; spawn() dereferenced the null shared state after spawning (found by a new-user
// hunt: a SEGV under UBSan's "member call on null pointer").
TEST_CASE("spawn and add on a moved-from JoinSet throw before anything is spawned") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::atomic<int> ran{0};
    auto count = [](std::atomic<int>* r) -> Task<int> {
      r->fetch_add(1);
      co_return 1;
    };
    JoinSet<int> set;
    JoinSet<int> other(std::move(set));
    auto says_moved = [](auto&& op) {
      try {
        op();
      } catch (const std::logic_error& e) {
        return std::string(e.what()).find("moved-from JoinSet") != std::string::npos;
      }
      return false;
    };
    CHECK(says_moved([&] { set.spawn(count, &ran); }));
    CHECK(says_moved([&] { set.spawn(count(&ran)); }));
    CHECK(says_moved([&] { set.spawn_blocking([&ran] { return ran.fetch_add(1); }); }));
    auto h = tokio::spawn(count, &ran);
    CHECK(says_moved([&] { set.add(std::move(h)); }));
    CHECK(co_await h == 1);  // the handle stayed the caller's
    for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    CHECK(ran.load() == 1);  // only the task spawned outside the set ran
    other.spawn(count, &ran);
    CHECK((co_await other.join_next())->value() == 1);
  }());
}
