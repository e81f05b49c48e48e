// sync::CancellationToken in tasks: awaiting before and after cancel, cancel from another
// worker, from a plain thread and from the waiting task itself; the tree (cascades, not
// upwards, grandchildren, late children); drop guards; cancelled() destroyed while waiting.
// (Single-threaded semantics are in sync_oneshot_cancel_test.cpp.)
#include <atomic>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::CancellationToken;
using tokio::sync::DropGuard;

namespace {

Task<> wait_and_count(CancellationToken t, std::atomic<int>* woke) {
  co_await t.cancelled();
  CHECK(t.is_cancelled());
  woke->fetch_add(1);
}

tokio::runtime::Runtime timed_mt() {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build();
}

}  // namespace

TEST_CASE(
    "cancellation token: cancelled() awaited after cancel completes at once, also on children") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    CancellationToken t;
    auto child = t.child_token();
    t.cancel();
    CHECK(t.is_cancelled());
    co_await t.cancelled();
    co_await child.cancelled();
    co_await t.child_token().cancelled();  // a child created after the cancel
    co_await t.cancelled_owned();
    auto r = co_await t.run_until_cancelled([]() -> Task<int> { co_return 1; }());
    CHECK_FALSE(r.has_value());  // cancellation is checked first
  }());
}

TEST_CASE("cancellation token: waiters on a tree are woken by a cancel from another worker") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    for (int round = 0; round < static_cast<int>(test::scaled(50)); ++round) {
      CancellationToken root;
      auto child = root.child_token();
      auto grandchild = child.child_token();
      auto sibling = root.child_token();
      std::atomic<int> woke{0};
      std::vector<tokio::JoinHandle<void>> hs;
      for (int i = 0; i < 3; ++i) {
        hs.push_back(tokio::spawn(wait_and_count(root, &woke)));
        hs.push_back(tokio::spawn(wait_and_count(child, &woke)));
        hs.push_back(tokio::spawn(wait_and_count(grandchild, &woke)));
        hs.push_back(tokio::spawn(wait_and_count(sibling, &woke)));
      }
      // Cancelling the child wakes the child's and grandchild's waiters only.
      auto c = tokio::spawn(
          [](CancellationToken t) -> Task<> {
            co_await tokio::task::yield_now();
            t.cancel();
          },
          child);
      co_await c;
      CHECK(child.is_cancelled());
      CHECK(grandchild.is_cancelled());
      CHECK_FALSE(root.is_cancelled());
      CHECK_FALSE(sibling.is_cancelled());
      for (int i = 0; i < 3; ++i) {
        co_await hs[4 * i + 1];
        co_await hs[4 * i + 2];
      }
      CHECK(woke.load() == 6);
      // The root wakes the rest.
      auto c2 = tokio::spawn(
          [](CancellationToken t) -> Task<> {
            t.cancel();
            co_return;
          },
          root);
      for (int i = 0; i < 3; ++i) {
        co_await hs[4 * i];
        co_await hs[4 * i + 3];
      }
      co_await c2;
      CHECK(woke.load() == 12);
      CHECK(sibling.is_cancelled());
    }
  }());
}

TEST_CASE("cancellation token: a plain thread cancels tasks waiting on grandchildren") {
  auto rt = test::multi_thread(2);
  for (int round = 0; round < static_cast<int>(test::scaled(50)); ++round) {
    CancellationToken root;
    std::atomic<int> woke{0};
    std::vector<tokio::JoinHandle<void>> hs;
    for (int i = 0; i < 4; ++i) {
      hs.push_back(rt.spawn(wait_and_count(root.child_token().child_token(), &woke)));
    }
    std::thread canceller([root] { root.cancel(); });
    rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
      for (auto& h : *hs) co_await h;
    }(&hs));
    canceller.join();
    CHECK(woke.load() == 4);
  }
  // And from a plain thread with no runtime at all: cancel() needs none.
  CancellationToken t;
  auto w = test::polled(t.child_token().cancelled());  // the temporary child is dropped...
  CHECK_FALSE(w.poll());
  std::thread([t] { t.cancel(); }).join();
  CHECK(w.woken());  // ...but its node lives as long as the waiting future
  CHECK(w.poll());
}

TEST_CASE("cancellation token: the waiting task cancels its own token (select, join)") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    CancellationToken t;
    auto r = co_await tokio::join(t.cancelled(), [](CancellationToken t) -> Task<int> {
      co_await tokio::task::yield_now();
      t.cancel();
      co_return 7;
    }(t));
    CHECK(std::get<1>(r) == 7);
    CHECK(t.is_cancelled());
  }());
}

TEST_CASE("cancellation token: drop guards cancel on destruction (and cascade), disarm does not") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    CancellationToken root;
    auto child = root.child_token();
    std::atomic<int> woke{0};
    auto waiter = tokio::spawn(wait_and_count(child, &woke));
    // A task holding the guard cancels the token when it ends, on whichever worker.
    auto holder = tokio::spawn(
        [](DropGuard g) -> Task<> {
          co_await tokio::task::yield_now();
          (void)g;
        },
        root.drop_guard());
    co_await holder;
    co_await waiter;
    CHECK(root.is_cancelled());
    CHECK(woke.load() == 1);
    // A guard moved around cancels exactly once, when its last owner goes.
    CancellationToken u;
    {
      auto g1 = u.drop_guard();
      auto g2 = std::move(g1);
      {
        auto g3 = std::move(g2);
        CHECK_FALSE(u.is_cancelled());
      }
      CHECK(u.is_cancelled());
    }
    // Disarmed: the token is handed back uncancelled, and a child is unaffected.
    CancellationToken v;
    auto vchild = v.child_token();
    CancellationToken back = v.drop_guard().disarm();
    CHECK_FALSE(v.is_cancelled());
    CHECK_FALSE(vchild.is_cancelled());
    CHECK(back.same_token(v));
    back.cancel();
    CHECK(vchild.is_cancelled());
  }());
}

TEST_CASE(
    "cancellation token: cancelled() destroyed in a select, a timeout or an abort leaves no "
    "waiter") {
  auto rt = timed_mt();
  rt.block_on([]() -> Task<> {
    CancellationToken root;
    auto child = root.child_token();
    auto grandchild = child.child_token();
    std::atomic<int> drops{0};
    for (int i = 0; i < static_cast<int>(test::scaled(100)); ++i) {
      // Losing a select.
      auto s = co_await tokio::select(grandchild.cancelled(), tokio::task::yield_now());
      CHECK(s.index() == 1);
      // An elapsed timeout.
      auto t = co_await tokio::time::timeout(std::chrono::microseconds(100), child.cancelled());
      CHECK_FALSE(t.has_value());
      // An aborted task (which may or may not have started).
      auto h = tokio::spawn(
          [](CancellationToken t, test::DropCounter) -> Task<> {
            co_await t.cancelled();
            CHECK_MESSAGE(false, "cancelled() completed although nothing was cancelled");
          },
          i % 2 ? root : grandchild, test::DropCounter(drops));
      if (i % 3 == 0) co_await tokio::task::yield_now();
      h.abort();
      auto jr = co_await h.result();
      CHECK_FALSE(jr.has_value());
    }
    CHECK(drops.load() == static_cast<int>(test::scaled(100)));
    // A waiter destroyed before the cancel is not woken (its waker was released), and the
    // cancel walks only live waiters (ASan would see a node left in a destroyed frame).
    auto gone = test::polled(grandchild.cancelled());
    CHECK_FALSE(gone.poll());
    auto& gone_waker = gone.waker();
    gone.cancel();
    CHECK(gone_waker.outstanding() == 0);
    std::atomic<int> woke{0};
    auto live = tokio::spawn(wait_and_count(grandchild, &woke));
    root.cancel();
    co_await live;
    CHECK(woke.load() == 1);
    CHECK(gone_waker.wakes.load() == 0);
  }());
}
