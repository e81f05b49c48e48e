// sync::watch: one value, many readers; each receiver sees the latest value and which
// versions it has seen.
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
namespace watch = tokio::sync::watch;

TEST_CASE("watch: borrow, changed, borrow_and_update, has_changed") {
  auto [tx, rx] = watch::channel<std::string>("init");
  CHECK(*rx.borrow() == "init");
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(rx.has_changed().value());
  auto c = test::polled(rx.changed());
  CHECK_FALSE(c.poll());
  CHECK(tx.send("one").has_value());
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  CHECK(*rx.borrow() == "one");
  CHECK_FALSE(rx.has_changed().value());  // changed() marked it seen
  (void)tx.send("two");
  (void)tx.send("three");  // intermediate values are skipped
  CHECK(rx.has_changed().value());
  {
    auto r = rx.borrow_and_update();
    CHECK(r.has_changed());
    CHECK(*r == "three");
  }
  CHECK_FALSE(rx.has_changed().value());
}

TEST_CASE("watch: send fails without receivers; send_replace, send_modify, send_if_modified") {
  auto [tx, rx] = watch::channel<int>(1);
  CHECK(tx.send_replace(2) == 1);
  tx.send_modify([](int& v) { v += 10; });
  CHECK(*tx.borrow() == 12);
  CHECK(rx.has_changed().value());
  (void)rx.borrow_and_update();
  CHECK_FALSE(tx.send_if_modified([](int&) { return false; }));
  CHECK_FALSE(rx.has_changed().value());
  CHECK(tx.send_if_modified([](int& v) {
    v = 20;
    return true;
  }));
  CHECK(rx.has_changed().value());
  CHECK_FALSE(tx.is_closed());
  { auto drop = std::move(rx); }
  CHECK(tx.is_closed());
  auto e = tx.send(5);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().value == 5);
  CHECK(*tx.borrow() == 20);  // a failed send stores nothing
  auto rx2 = tx.subscribe();
  CHECK_FALSE(rx2.has_changed().value());  // the current value counts as seen
  CHECK(tx.send(6).has_value());
}

// A value type with a const member (not assignable) is stored by moving the new one in.
TEST_CASE("watch: send and send_replace take a T that is not assignable") {
  struct Config {
    const int port;
    std::string name;
  };
  auto [tx, rx] = watch::channel<Config>(Config{1, "a"});
  REQUIRE(tx.send(Config{2, "b"}).has_value());
  Config old = tx.send_replace(Config{3, "c"});
  CHECK(old.port == 2);
  CHECK(old.name == "b");
  CHECK(rx.borrow()->port == 3);
  CHECK(rx.borrow()->name == "c");
}

TEST_CASE("watch: sender drop ends changed(); mark_changed / mark_unchanged") {
  auto [tx, rx] = watch::channel<int>(0);
  rx.mark_changed();
  CHECK(rx.has_changed().value());
  auto a = test::polled(rx.changed());
  CHECK(a.poll());
  rx.mark_unchanged();
  auto b = test::polled(rx.changed());
  CHECK_FALSE(b.poll());
  (void)tx.send(1);
  { auto drop = std::move(tx); }
  CHECK(b.woken());
  CHECK(b.poll());
  CHECK(b.take().has_value());  // the last value is still seen first
  auto c = test::polled(rx.changed());
  CHECK(c.poll());
  CHECK_FALSE(c.take().has_value());
  CHECK_FALSE(rx.has_changed().has_value());
  CHECK(*rx.borrow() == 1);
}

TEST_CASE("watch: wait_for, Sender::closed, clones of receivers") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = watch::channel<int>(0);
    auto rx2 = rx;  // clone: same version
    std::atomic<bool> closed_seen{false};
    auto h = tokio::spawn(
        [](watch::Sender<int> tx, std::atomic<bool>* seen) -> Task<> {
          for (int i = 1; i <= 10; ++i) {
            (void)tx.send(i);
            co_await tokio::task::yield_now();
          }
          co_await tx.closed();  // completes once both receivers are gone
          seen->store(true);
        },
        std::move(tx), &closed_seen);
    {
      auto r = co_await rx.wait_for([](const int& v) { return v >= 5; });
      REQUIRE(r.has_value());
      CHECK(**r >= 5);
    }
    {
      auto r = co_await rx2.wait_for([](const int& v) { return v == 10; });
      REQUIRE(r.has_value());
      CHECK(**r == 10);
    }
    CHECK_FALSE(closed_seen.load());
    {
      auto d1 = std::move(rx);
      auto d2 = std::move(rx2);
    }
    co_await h;
    CHECK(closed_seen.load());

    // wait_for on a channel whose sender is gone: checks the last value, then errors.
    auto [tx3, rx3] = watch::channel<int>(7);
    { auto drop = std::move(tx3); }
    auto ok = co_await rx3.wait_for([](const int& v) { return v == 7; });
    CHECK(ok.has_value());
    { auto drop = std::move(ok); }
    auto err = co_await rx3.wait_for([](const int& v) { return v == 8; });
    CHECK_FALSE(err.has_value());
  }());
}

TEST_CASE("watch: changed() losing selects and many receivers across threads") {
  auto rt = test::multi_thread(4);
  const int n = static_cast<int>(test::scaled(500));
  auto [tx, rx] = watch::channel<int>(0);
  std::vector<tokio::JoinHandle<int>> hs;
  for (int t = 0; t < 8; ++t) {
    hs.push_back(rt.spawn(
        [](watch::Receiver<int> rx, int t) -> Task<int> {
          int last = 0;
          for (;;) {
            tokio::Result<void, watch::RecvError> c;
            if (t % 2 == 0) {
              auto r = co_await tokio::select(rx.changed(), tokio::task::yield_now());
              if (r.index() == 1) continue;
              c = std::get<0>(r);
            } else {
              c = co_await rx.changed();
            }
            if (!c) break;
            int v = *rx.borrow_and_update();
            CHECK(v >= last);  // values only move forward
            last = v;
          }
          co_return last;
        },
        rx, t));
  }
  { auto drop = std::move(rx); }
  std::thread sender([&, tx = std::move(tx)]() mutable {
    for (int i = 1; i <= n; ++i) {
      (void)tx.send(i);
      if (i % 50 == 0) std::this_thread::sleep_for(1ms);
    }
  });
  sender.join();
  rt.block_on([](std::vector<tokio::JoinHandle<int>>* hs, int n) -> Task<> {
    for (auto& h : *hs) CHECK(co_await h == n);  // everyone saw the final value
  }(&hs, n));
}

TEST_CASE("watch: Sender clones: the channel closes with the last; sender_count, same_channel") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.sender_count() == 1);
  auto tx2 = tx.clone();
  watch::Sender<int> tx3 = tx2;  // a copy clones too
  CHECK(tx.sender_count() == 3);
  CHECK(tx3.sender_count() == 3);
  CHECK(tx2.same_channel(tx));
  CHECK(tx3.same_channel(tx));
  auto [otx, orx] = watch::channel<int>(0);
  CHECK_FALSE(otx.same_channel(tx));
  tx3 = otx;  // drops its sender of the first channel, takes one of the other
  CHECK(tx.sender_count() == 2);
  CHECK(otx.sender_count() == 2);
  CHECK(tx3.same_channel(otx));

  // Any clone sends, and the receivers see it.
  CHECK(tx2.send(1).has_value());
  CHECK(*tx.borrow() == 1);
  CHECK(rx.has_changed().value());
  CHECK(*rx.borrow_and_update() == 1);
  auto c = test::polled(rx.changed());
  CHECK_FALSE(c.poll());
  tx = {};  // not the last sender: the receiver stays open and is not woken
  CHECK_FALSE(c.woken());
  CHECK_FALSE(c.poll());
  CHECK(tx2.sender_count() == 1);
  CHECK_FALSE(rx.has_changed().value());
  tx2.send_modify([](int& v) { v += 10; });
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  CHECK(*rx.borrow() == 11);

  // subscribe, receiver_count and closed() from a clone.
  auto tx4 = tx2;
  auto rx2 = tx4.subscribe();
  CHECK(tx2.receiver_count() == 2);
  CHECK(tx4.send_replace(12) == 11);
  CHECK(rx2.has_changed().value());

  // The last value sent by a clone dropped first is still seen before the close.
  auto last = test::polled(rx.changed());
  CHECK(last.poll());
  CHECK(last.take().has_value());
  auto end = test::polled(rx.changed());
  CHECK_FALSE(end.poll());
  CHECK(tx4.send(13).has_value());
  tx4 = {};
  CHECK(tx2.sender_count() == 1);
  tx2 = {};  // the last sender: the receivers see the channel closed
  CHECK(end.woken());
  CHECK(end.poll());
  CHECK(end.take().has_value());  // 13 first
  CHECK(*rx.borrow() == 13);
  auto after = test::polled(rx.changed());
  CHECK(after.poll());
  CHECK_FALSE(after.take().has_value());
  CHECK_FALSE(rx.has_changed().has_value());
  CHECK_FALSE(rx2.has_changed().has_value());
  CHECK(*rx2.borrow_and_update() == 13);

  // Empty senders: counts 0, copies stay empty, and they are the same (no) channel.
  CHECK(tx.sender_count() == 0);
  CHECK(tx.is_closed());
  watch::Sender<int> copy_of_empty = tx.clone();
  CHECK(copy_of_empty.sender_count() == 0);
  CHECK(copy_of_empty.same_channel(tx));
  CHECK_FALSE(copy_of_empty.same_channel(otx));
  // The other channel: otx and tx3 are its senders; closed() from the clone tx3 once the
  // original is gone (a Closed must not outlive the sender it came from).
  CHECK(otx.sender_count() == 2);
  auto orx2 = tx3.subscribe();
  { auto drop = std::move(otx); }
  CHECK(orx.has_changed().has_value());
  {
    auto closed = test::polled(tx3.closed());
    CHECK_FALSE(closed.poll());
    orx = {};
    CHECK_FALSE(closed.poll());  // orx2 is left
    orx2 = {};
    CHECK(closed.woken());
    CHECK(closed.poll());
    CHECK(tx3.is_closed());
  }
  auto orx3 = tx3.subscribe();
  { auto drop = std::move(tx3); }
  CHECK_FALSE(orx3.has_changed().has_value());
}

TEST_CASE("watch: concurrent sends and subscribes from Sender clones on two workers") {
  auto rt = test::multi_thread(2);
  const int per = static_cast<int>(test::scaled(2000));
  constexpr int kSenders = 4;
  struct Tally {
    long count = 0;  // send_modify increments: none may be lost to a concurrent sender
    int last[kSenders] = {};
  };
  auto [tx, rx] = watch::channel<Tally>(Tally{});
  std::vector<tokio::JoinHandle<void>> hs;
  for (int k = 0; k < kSenders; ++k) {
    hs.push_back(rt.spawn(
        [](watch::Sender<Tally> tx, int k, int per) -> Task<> {
          for (int i = 1; i <= per; ++i) {
            tx.send_modify([&](Tally& t) {
              ++t.count;
              CHECK(t.last[k] == i - 1);  // this sender's own changes stay in order
              t.last[k] = i;
            });
            if (i % 64 == 0) {
              auto extra = tx.clone();  // clones come and go while others send
              auto r = extra.subscribe();
              CHECK(r.borrow()->last[k] == i);
              co_await tokio::task::yield_now();
            }
          }
        },
        tx.clone(), k, per));
  }
  tx = {};  // only the tasks' clones keep the channel open now
  long seen = rt.block_on([](watch::Receiver<Tally> rx) -> Task<long> {
    long prev = 0;
    while ((co_await rx.changed()).has_value()) {
      long n = rx.borrow_and_update()->count;
      CHECK(n >= prev);  // versions only move forward
      prev = n;
    }
    co_return rx.borrow()->count;  // closed: after the last sender's last change
  }(std::move(rx)));
  CHECK(seen == static_cast<long>(kSenders) * per);
  rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&hs));
}

// Which version each receiver has seen, through clones, borrow() and mark_unchanged() (a
// mutation run found each of these untested in one direction: a clone starting at version
// 0, borrow() never reporting a change, mark_unchanged() doing nothing all passed).
TEST_CASE("watch: a clone of a receiver has seen what the original had seen") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.send(1).has_value());
  (void)rx.borrow_and_update();
  auto copy = rx.clone();
  CHECK_FALSE(copy.has_changed().value());
  auto c = test::polled(copy.changed());
  CHECK_FALSE(c.poll());  // nothing new for it either
  CHECK(tx.send(2).has_value());
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  // A clone taken before the original saw a value sees it as new too.
  auto unseen = rx.clone();
  CHECK(unseen.has_changed().value());
  CHECK(rx.has_changed().value());
}

TEST_CASE("watch: borrow() reports a value new to the receiver and leaves it unseen") {
  auto [tx, rx] = watch::channel<std::string>("init");
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK(tx.send("one").has_value());
  {
    auto r = rx.borrow();
    CHECK(r.has_changed());
    CHECK(*r == "one");
  }
  CHECK(rx.has_changed().value());  // borrow() did not mark it seen
  CHECK(rx.borrow().has_changed());
  (void)rx.borrow_and_update();
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(tx.borrow().has_changed());  // always false for the sender's borrow
}

TEST_CASE("watch: mark_unchanged() marks the current value seen") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.send(1).has_value());
  CHECK(rx.has_changed().value());
  rx.mark_unchanged();
  CHECK_FALSE(rx.has_changed().value());
  auto c = test::polled(rx.changed());
  CHECK_FALSE(c.poll());  // waits for the next value
  CHECK(tx.send(2).has_value());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  CHECK(*rx.borrow() == 2);
}
