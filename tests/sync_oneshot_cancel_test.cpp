// sync::oneshot (the full channel) and sync::CancellationToken.
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::CancellationToken;
namespace oneshot = tokio::sync::oneshot;

// --- oneshot -----------------------------------------------------------------------------

TEST_CASE("oneshot: Sender::closed() completes when the receiver is dropped or closed") {
  {
    auto [tx, rx] = oneshot::channel<int>();
    auto c = test::polled(tx.closed());
    CHECK_FALSE(c.poll());
    CHECK_FALSE(c.poll());  // same waker: stays registered
    { auto drop = std::move(rx); }
    CHECK(c.woken());
    CHECK(c.poll());
  }
  {
    auto [tx, rx] = oneshot::channel<int>();
    auto c = test::polled(tx.closed());
    CHECK_FALSE(c.poll());
    rx.close();
    CHECK(c.woken());
    CHECK(c.poll());
    CHECK(tx.is_closed());
  }
  {
    // The closed() future moves to another waker: the new one is woken.
    auto [tx, rx] = oneshot::channel<int>();
    auto c = test::polled(tx.closed());
    CHECK_FALSE(c.poll());
    auto w2 = test::CountingWaker::create();
    tokio::task::Context cx(w2->raw());
    CHECK_FALSE(c.leaf().poll(cx));
    rx.close();
    CHECK(w2->take_woken());
  }
}

TEST_CASE("oneshot: receive wakes, is_empty / is_terminated, close then try_recv") {
  auto [tx, rx] = oneshot::channel<std::string>();
  CHECK(rx.is_empty());
  {
    auto r = test::polled(rx.operator co_await());
    CHECK_FALSE(r.poll());
    CHECK(tx.send("v").has_value());
    CHECK(r.woken());
    CHECK_FALSE(rx.is_empty());
    CHECK(r.poll());
    CHECK(r.take().value() == "v");
  }
  CHECK(rx.is_terminated());
  // A value sent before close() stays receivable.
  auto [tx2, rx2] = oneshot::channel<int>();
  (void)tx2.send(3);
  rx2.close();
  CHECK(rx2.try_recv().value() == 3);
  // close() before the send: the sender gets its value back, the receiver sees Closed.
  auto [tx3, rx3] = oneshot::channel<std::unique_ptr<int>>();
  rx3.close();
  auto back = tx3.send(std::make_unique<int>(4));
  REQUIRE_FALSE(back.has_value());
  CHECK(*back.error() == 4);
  CHECK(rx3.try_recv().error() == oneshot::TryRecvError::Closed);
  // A sender dropped without sending leaves the receiver empty, not terminated.
  auto [tx4, rx4] = oneshot::channel<int>();
  { auto drop = std::move(tx4); }
  CHECK(rx4.is_empty());
  CHECK_FALSE(rx4.is_terminated());
  CHECK(rx4.try_recv().error() == oneshot::TryRecvError::Closed);
}

TEST_CASE("oneshot: close racing send from another thread never loses or doubles the value") {
  // One sending thread for every round (a thread started per round made this case 14 s
  // under ASan, and its start-up put the send after the close in all but 0.1% of rounds).
  // Each round hands the sender a Sender; once it has taken it, this thread spins 0-15
  // times (round % 16) and closes the receiver, so the close falls before, during and after
  // the send (two runs: 36 and 637 of the 20,000 values went back to the sender).
  using Tx = oneshot::Sender<std::unique_ptr<test::DropCounter>>;
  const int n = static_cast<int>(test::scaled(20000));
  std::atomic<int> drops{0};
  std::atomic<int> round{0};  // the round the sender may start (it then owns `slot`)
  std::atomic<int> taken{0};  // the round whose Sender the sender has taken
  std::atomic<int> sent{0};   // the round the sender finished
  std::optional<Tx> slot;
  std::atomic<int> returned{0};
  std::thread sender([&] {
    for (int i = 1; i <= n; ++i) {
      while (round.load(std::memory_order_acquire) < i) std::this_thread::yield();
      Tx tx = std::move(*slot);
      slot.reset();
      taken.store(i, std::memory_order_release);
      auto r = tx.send(std::make_unique<test::DropCounter>(drops));
      if (!r.has_value()) returned.fetch_add(1, std::memory_order_relaxed);
      sent.store(i, std::memory_order_release);
    }
  });
  int received = 0;
  std::atomic<int> spins{0};  // the wait before the close (an atomic: not optimised away)
  for (int i = 1; i <= n; ++i) {
    auto [tx, rx] = oneshot::channel<std::unique_ptr<test::DropCounter>>();
    slot.emplace(std::move(tx));
    round.store(i, std::memory_order_release);
    while (taken.load(std::memory_order_acquire) < i) std::this_thread::yield();
    for (int spin = 0; spin < i % 16; ++spin) spins.fetch_add(1, std::memory_order_relaxed);
    rx.close();
    auto v = rx.try_recv();
    while (sent.load(std::memory_order_acquire) < i) std::this_thread::yield();
    if (v.has_value()) ++received;
  }
  sender.join();
  INFO("received " << received << ", returned to the sender " << returned.load());
  CHECK(received + returned.load() == n);  // exactly one side ended up with each value
  CHECK(drops.load() == n);
}

TEST_CASE("oneshot: blocking_recv from a plain thread; refused on a runtime thread") {
  auto [tx, rx] = oneshot::channel<int>();
  std::thread t([rx = std::move(rx)]() mutable { CHECK(rx.blocking_recv().value() == 8); });
  std::this_thread::sleep_for(5ms);
  (void)tx.send(8);
  t.join();
  auto [tx2, rx2] = oneshot::channel<int>();
  std::thread t2([rx = std::move(rx2)]() mutable { CHECK_FALSE(rx.blocking_recv().has_value()); });
  { auto drop = std::move(tx2); }
  t2.join();
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    CHECK_THROWS_AS((void)rx.blocking_recv(), std::logic_error);
    co_return;
  }());
}

TEST_CASE("oneshot: awaiting in a select that loses keeps the value for later") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), rx);
    CHECK(r.index() == 0);
    (void)tx.send(5);
    CHECK((co_await rx).value() == 5);
  }());
}

// --- CancellationToken -------------------------------------------------------------------

TEST_CASE("cancellation: cancel wakes cancelled() waiters; child tokens follow parents") {
  CancellationToken root;
  auto child = root.child_token();
  auto grandchild = child.child_token();
  auto other = root.child_token();
  CHECK_FALSE(grandchild.is_cancelled());
  auto w = test::polled(grandchild.cancelled());
  CHECK_FALSE(w.poll());
  child.cancel();  // a child does not cancel its parent or siblings
  CHECK(child.is_cancelled());
  CHECK(grandchild.is_cancelled());
  CHECK_FALSE(root.is_cancelled());
  CHECK_FALSE(other.is_cancelled());
  CHECK(w.woken());
  CHECK(w.poll());
  root.cancel();
  CHECK(other.is_cancelled());
  auto late = root.child_token();  // child of a cancelled token: cancelled at once
  CHECK(late.is_cancelled());
  auto done = test::polled(late.cancelled());
  CHECK(done.poll());
  root.cancel();  // idempotent
}

TEST_CASE("cancellation: dropping a middle token keeps its children linked to the parent") {
  CancellationToken root;
  auto grandchild = [&] {
    auto middle = root.child_token();
    return middle.child_token();
  }();  // `middle` is gone
  auto w = test::polled(grandchild.cancelled());
  CHECK_FALSE(w.poll());
  root.cancel();
  CHECK(grandchild.is_cancelled());
  CHECK(w.woken());
  // Dropping the root leaves the children as roots of their own.
  auto child = [] {
    CancellationToken r;
    return r.child_token();
  }();
  CHECK_FALSE(child.is_cancelled());
  child.cancel();
  CHECK(child.is_cancelled());
}

TEST_CASE("cancellation: drop guard, disarm, copies share the signal, cancelled_owned") {
  CancellationToken t;
  { auto g = t.drop_guard(); }
  CHECK(t.is_cancelled());
  CancellationToken u;
  {
    auto g = u.drop_guard();
    auto back = g.disarm();
    CHECK(back.same_token(u));
  }
  CHECK_FALSE(u.is_cancelled());
  auto copy = u;
  copy.cancel();
  CHECK(u.is_cancelled());
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    CancellationToken t;
    auto waiter = tokio::spawn(t.cancelled_owned());
    co_await tokio::task::yield_now();
    t.cancel();
    co_await waiter;
  }());
}

TEST_CASE("cancellation: run_until_cancelled; cancelled() across threads") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    CancellationToken t;
    auto quick = co_await t.run_until_cancelled([]() -> Task<int> { co_return 4; }());
    CHECK(quick.value() == 4);
    std::thread canceller([t]() {
      std::this_thread::sleep_for(5ms);
      t.cancel();
    });
    std::atomic<int> drops{0};
    auto slow = co_await t.run_until_cancelled([](test::DropCounter d) -> Task<int> {
      (void)d;
      for (;;) co_await tokio::task::yield_now();
    }(test::DropCounter(drops)));
    CHECK_FALSE(slow.has_value());
    CHECK(drops.load() == 1);  // the losing future was destroyed
    canceller.join();
  }());
}

TEST_CASE("cancellation: concurrent child creation, drops and cancel leave no waiter behind") {
  auto rt = test::multi_thread(4);
  const int rounds = static_cast<int>(test::scaled(200));
  for (int round = 0; round < rounds; ++round) {
    CancellationToken root;
    std::atomic<int> woke{0};
    std::vector<tokio::JoinHandle<void>> hs;
    for (int t = 0; t < 8; ++t) {
      hs.push_back(rt.spawn(
          [](CancellationToken root, std::atomic<int>* woke, int t) -> Task<> {
            CancellationToken tok = t % 2 ? root.child_token().child_token() : root.child_token();
            for (int i = 0; i < 5; ++i) {
              auto tmp = tok.child_token();  // created and dropped while cancel may run
              (void)tmp;
            }
            co_await tok.cancelled();
            woke->fetch_add(1);
          },
          root, &woke, t));
    }
    std::thread c([root] { root.cancel(); });
    rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
      for (auto& h : *hs) co_await h;
    }(&hs));
    c.join();
    CHECK(woke.load() == 8);
  }
}
