// sync::mpsc: Sender::send_timeout (bounded channel) on the paused and the real clock.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"
#include "time_mock.hpp"

using timetest::ms;
using tokio::Task;
using tokio::time::Instant;
namespace mpsc = tokio::sync::mpsc;
namespace ttime = tokio::time;

TEST_CASE("mpsc send_timeout: sends at once when a slot is free; no timer is registered") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<std::string>(1);
    auto t0 = Instant::now();
    auto r = co_await tx.send_timeout("a", ms(100));
    CHECK(r.has_value());
    CHECK(Instant::now() == t0);
    CHECK(timetest::registered() == 0);
    CHECK(rx.try_recv().value() == "a");
    // A zero (or negative) timeout still sends when a slot is free...
    CHECK((co_await tx.send_timeout("b", ms(0))).has_value());
    // ...and times out at once when none is.
    auto full = co_await tx.send_timeout("c", ms(-5));
    REQUIRE_FALSE(full.has_value());
    CHECK(full.error().is_timeout());
    CHECK(full.error().value == "c");
    CHECK(Instant::now() == t0);
    CHECK(rx.try_recv().value() == "b");
    CHECK(rx.try_recv().error() == mpsc::TryRecvError::Empty);
  }());
}

TEST_CASE("mpsc send_timeout: the deadline fires on the paused clock and hands the value back") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<std::unique_ptr<int>>(1);
    REQUIRE(tx.try_send(std::make_unique<int>(1)).has_value());
    auto t0 = Instant::now();
    auto r = co_await tx.send_timeout(std::make_unique<int>(2), ms(100));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_timeout());
    CHECK_FALSE(r.error().is_closed());
    auto back = std::move(r.error()).into_inner();
    REQUIRE(back);
    CHECK(*back == 2);
    CHECK(Instant::now() - t0 == ms(100));  // auto-advance jumped exactly to the deadline
    CHECK(timetest::registered() == 0);
    // The timed-out sender left the queue: the freed slot is not handed to a ghost.
    CHECK(tx.capacity() == 0);
    CHECK(*rx.try_recv().value() == 1);
    CHECK(tx.capacity() == 1);
    CHECK(tx.try_send(std::move(back)).has_value());
    CHECK(*rx.try_recv().value() == 2);
  }());
}

TEST_CASE("mpsc send_timeout: succeeds when a slot frees before the deadline") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(1);
    REQUIRE(tx.try_send(1).has_value());
    auto h = tokio::spawn(
        [](mpsc::Receiver<int> rx) -> Task<std::vector<int>> {
          co_await ttime::sleep(ms(40));
          std::vector<int> got;
          for (;;) {
            auto v = co_await rx.recv();
            if (!v) break;
            got.push_back(*v);
          }
          co_return got;
        },
        std::move(rx));
    auto t0 = Instant::now();
    auto r = co_await tx.send_timeout(2, ms(1000));
    CHECK(r.has_value());
    CHECK(Instant::now() - t0 == ms(40));
    CHECK(timetest::registered() == 0);  // the send's timer left the wheel
    { auto drop = std::move(tx); }
    auto got = co_await h;
    CHECK(got == std::vector<int>{1, 2});
  }());
}

TEST_CASE("mpsc send_timeout: a slot that frees by the time it is polled beats a fired deadline") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(1);
    REQUIRE(tx.try_send(1).has_value());
    auto a = test::polled(tx.send_timeout(2, ms(10)));
    CHECK_FALSE(a.poll());
    co_await ttime::advance(ms(10));  // the deadline fires and wakes A
    CHECK(a.woken());
    CHECK(rx.try_recv().value() == 1);  // a slot frees before A runs
    CHECK(a.poll());
    CHECK(a.take().has_value());  // sent, not timed out
    CHECK(rx.try_recv().value() == 2);
    // Without a free slot the fired deadline is reported.
    REQUIRE(tx.try_send(3).has_value());
    auto b = test::polled(tx.send_timeout(4, ms(10)));
    CHECK_FALSE(b.poll());
    co_await ttime::advance(ms(10));
    CHECK(b.poll());
    auto r = b.take();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is_timeout());
    CHECK(r.error().value == 4);
  }());
}

TEST_CASE(
    "mpsc send_timeout: a closed receiver gives Closed with the value, before or while waiting") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    {
      auto [tx, rx] = mpsc::channel<std::string>(1);
      { auto drop = std::move(rx); }
      auto r = co_await tx.send_timeout("x", ms(100));
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().is_closed());
      CHECK(r.error().value == "x");
    }
    {
      auto [tx, rx] = mpsc::channel<std::string>(1);
      REQUIRE(tx.try_send("first").has_value());
      auto closer = tokio::spawn(
          [](mpsc::Receiver<std::string> rx) -> Task<> {
            co_await ttime::sleep(ms(10));
            rx.close();
            co_await ttime::sleep(ms(10));  // keeps rx alive: close() alone must wake the sender
          },
          std::move(rx));
      auto t0 = Instant::now();
      auto r = co_await tx.send_timeout("y", ms(500));
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().is_closed());
      CHECK(r.error().value == "y");
      CHECK(Instant::now() - t0 == ms(10));
      co_await closer;
      CHECK(timetest::registered() == 0);
    }
  }());
}

TEST_CASE("mpsc send_timeout: needs a runtime with timers") {
  auto rt = test::current_thread();  // no enable_time
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(1);
    CHECK_THROWS_AS((void)tx.send_timeout(1, ms(10)), std::logic_error);
    co_return;
  }());
}

TEST_CASE(
    "mpsc send_timeout: destroyed while waiting releases its place and its value; a granted slot "
    "is passed on") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    auto [tx, rx] = mpsc::channel<test::DropCounter>(1);
    REQUIRE(tx.try_send(test::DropCounter(drops)).has_value());
    // Polled by hand: A waits (with a deadline), then B waits behind it.
    auto a = test::polled(tx.send_timeout(test::DropCounter(drops), ms(1000)));
    auto b = test::polled(tx.send(test::DropCounter(drops)));
    CHECK_FALSE(a.poll());
    CHECK_FALSE(b.poll());
    CHECK(timetest::registered() == 1);
    // The slot frees up and is assigned to A (first in line)...
    {
      auto v = rx.try_recv();
      REQUIRE(v.has_value());
    }
    CHECK(drops == 1);
    CHECK(a.woken());
    CHECK_FALSE(b.woken());
    // ...but A is destroyed before it runs: its value is dropped unsent, its timer
    // unregistered, and the slot goes on to B.
    a.cancel();
    CHECK(drops == 2);
    CHECK(timetest::registered() == 0);
    CHECK(b.woken());
    CHECK(b.poll());
    CHECK(b.take().has_value());
    {
      auto v = rx.try_recv();
      REQUIRE(v.has_value());
    }
    CHECK(drops == 3);
    CHECK(rx.try_recv().error() == mpsc::TryRecvError::Empty);
    CHECK(tx.capacity() == 1);
    CHECK(a.waker().outstanding() == 0);
    co_return;
  }());
}

TEST_CASE("mpsc send_timeout: losing a select or an abort leaves no waiter and no timer behind") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    auto [tx, rx] = mpsc::channel<test::DropCounter>(1);
    REQUIRE(tx.try_send(test::DropCounter(drops)).has_value());
    // select: a shorter sleep wins.
    auto r = co_await tokio::select(tx.send_timeout(test::DropCounter(drops), ms(1000)),
                                    ttime::sleep(ms(5)));
    CHECK(r.index() == 1);
    CHECK(drops == 1);  // the unsent value was destroyed with the send
    CHECK(timetest::registered() == 0);
    // An outer timeout shorter than the send's own.
    auto t = co_await ttime::timeout(ms(5), tx.send_timeout(test::DropCounter(drops), ms(1000)));
    CHECK_FALSE(t.has_value());
    CHECK(drops == 2);
    CHECK(timetest::registered() == 0);
    // abort of a task waiting in send_timeout.
    auto h = tokio::spawn(
        [](mpsc::Sender<test::DropCounter> tx, std::atomic<int>* d) -> Task<> {
          (void)co_await tx.send_timeout(test::DropCounter(*d), ms(1000));
        },
        tx, &drops);
    co_await tokio::task::yield_now();
    co_await tokio::task::yield_now();
    CHECK(timetest::registered() == 1);
    h.abort();
    auto jr = co_await h.result();
    CHECK_FALSE(jr.has_value());
    CHECK(drops == 3);
    CHECK(timetest::registered() == 0);
    // Nothing queued behind: the slot, once freed, is free.
    {
      auto v = rx.try_recv();
      REQUIRE(v.has_value());
    }
    CHECK(drops == 4);
    CHECK(tx.capacity() == 1);
    CHECK(tx.try_send(test::DropCounter(drops)).has_value());
  }());
  // (the value left in the channel is destroyed with it)
}

TEST_CASE("mpsc send_timeout: many producers on the real clock never lose or duplicate a value") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build();
  const int kProducers = 4;
  const int kPer = static_cast<int>(test::scaled(300));
  rt.block_on([&]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(2);
    std::atomic<int> sent{0}, returned{0};
    std::vector<tokio::JoinHandle<void>> hs;
    for (int p = 0; p < kProducers; ++p) {
      hs.push_back(tokio::spawn(
          [](mpsc::Sender<int> tx, int base, int n, std::atomic<int>* sent,
             std::atomic<int>* returned) -> Task<> {
            for (int i = 0; i < n; ++i) {
              auto r = co_await tx.send_timeout(base + i, std::chrono::microseconds(200));
              if (r) {
                sent->fetch_add(1);
              } else {
                CHECK(r.error().is_timeout());
                CHECK(r.error().value == base + i);
                returned->fetch_add(1);
              }
            }
          },
          tx, p * 100000, kPer, &sent, &returned));
    }
    { auto drop = std::move(tx); }
    long received = 0;
    std::vector<int> last(kProducers, -1);
    for (;;) {
      auto v = co_await rx.recv();
      if (!v) break;
      ++received;
      int p = *v / 100000, i = *v % 100000;
      CHECK(i > last[p]);  // per-producer order, no duplicates
      last[p] = i;
      if (received % 7 == 0) co_await ttime::sleep(ms(1));  // a slow consumer now and then
    }
    for (auto& h : hs) co_await h;
    CHECK(sent + returned == kProducers * kPer);
    CHECK(received == sent);
  }());
}
