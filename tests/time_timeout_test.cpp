// time::timeout / timeout_at: value, Elapsed, cancellation of the operand, budget.
#include <memory>
#include <stdexcept>

#include "time_mock.hpp"

using timetest::ms;
using tokio::Task;
using tokio::time::Elapsed;
using tokio::time::Instant;
namespace oneshot = tokio::sync::oneshot;
namespace ttime = tokio::time;

namespace {
Task<int> quick_job() { co_return 1; }
Task<int> slow_job(long d) {
  co_await ttime::sleep(ms(d));
  co_return 2;
}
Task<int> guarded_forever(std::atomic<int>* drops, oneshot::Receiver<int> rx) {
  test::DropCounter guard(*drops);
  (void)co_await std::move(rx);
  co_return 3;
}
}  // namespace

TEST_CASE("timeout: the operand's value when it finishes first; no timer registered") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    for (int i = 0; i < 100; ++i) {
      auto r = co_await ttime::timeout(std::chrono::seconds(1), quick_job());
      REQUIRE(r.has_value());
      CHECK(*r == 1);
    }
    CHECK(timetest::registered() == 0);  // a ready operand never touches the wheel
    auto r = co_await ttime::timeout(ms(200), slow_job(5));
    CHECK(r.value() == 2);
    CHECK(timetest::registered() == 0);  // the deadline's timer was unregistered
  }());
}

TEST_CASE("timeout: Elapsed, and the operand is destroyed before the caller resumes") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    std::atomic<int> drops{0};
    auto [tx, rx] = oneshot::channel<int>();
    auto r = co_await ttime::timeout(ms(50), guarded_forever(&drops, std::move(rx)));
    CHECK_FALSE(r.has_value());
    CHECK(r.error() == Elapsed{});
    CHECK(drops.load() == 1);  // the never-finishing operand was cancelled
    CHECK(tx.is_closed());     // ...and its receiver dropped
    CHECK(Instant::now() == start + ms(50));
    CHECK_THROWS_AS((void)r.value(), Elapsed);
    CHECK(std::string(Elapsed{}.what()) == "deadline has elapsed");

    auto r2 = co_await ttime::timeout(ms(10), slow_job(20));
    CHECK_FALSE(r2.has_value());
    CHECK(Instant::now() == start + ms(60));
    CHECK(timetest::registered() == 0);  // the operand's own sleep was unregistered
  }());
}

TEST_CASE("timeout_at: past deadlines, simultaneous completion, huge durations") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto now = Instant::now();
    // A ready operand wins even against a deadline in the past.
    auto a = co_await ttime::timeout_at(now - ms(10), quick_job());
    CHECK(a.value() == 1);
    // A pending operand against a deadline of now: elapsed at once, no clock movement.
    auto [tx, rx] = oneshot::channel<int>();
    auto b = co_await ttime::timeout_at(now, test::forever(std::move(rx)));
    CHECK_FALSE(b.has_value());
    CHECK(Instant::now() == now);
    // Operand and deadline due at the same instant: the operand is polled first.
    auto c = co_await ttime::timeout(ms(30), slow_job(30));
    CHECK(c.value() == 2);
    // Durations that overflow saturate instead of failing.
    auto d = co_await ttime::timeout(std::chrono::hours::max(), slow_job(5));
    CHECK(d.value() == 2);
    auto e = co_await ttime::timeout(std::chrono::seconds(-1), quick_job());
    CHECK(e.value() == 1);
  }());
}

TEST_CASE("timeout: void operands, exceptions, leaf operands by reference") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto v = co_await ttime::timeout(ms(5), []() -> Task<> { co_return; }());
    CHECK(v.has_value());
    bool caught = false;
    try {
      (void)co_await ttime::timeout(ms(5), []() -> Task<int> {
        throw std::runtime_error("boom");
        co_return 0;
      }());
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "boom";
    }
    CHECK(caught);

    // A receiver awaited by reference: a timeout leaves it usable (cancel-safe recv).
    auto [tx, rx] = oneshot::channel<int>();
    auto r1 = co_await ttime::timeout(ms(5), rx);
    CHECK_FALSE(r1.has_value());
    (void)tx.send(9);
    auto r2 = co_await ttime::timeout(ms(5), rx);
    REQUIRE(r2.has_value());
    CHECK(r2->value() == 9);

    // A Timeout held in a variable is awaited in place.
    auto held = ttime::timeout(ms(50), slow_job(5));
    CHECK(held.deadline() == Instant::now() + ms(50));
    auto r4 = co_await held;
    CHECK(r4.value() == 2);

    // Awaiting a sleep under a timeout (both timers registered, the shorter wins).
    auto start = Instant::now();
    auto r3 = co_await ttime::timeout(ms(7), ttime::sleep(ms(100)));
    CHECK_FALSE(r3.has_value());
    CHECK(Instant::now() == start + ms(7));
    CHECK(timetest::registered() == 0);
  }());
}

TEST_CASE("timeout: an operand that exhausts the coop budget still times out") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    auto r = co_await ttime::timeout(ms(2), []() -> Task<> {
      for (;;) co_await tokio::task::consume_budget();
    }());
    CHECK_FALSE(r.has_value());
  }());
}

TEST_CASE("timeout: aborting the task that awaits a timeout unregisters everything") {
  auto rt = timetest::time_mt(2);
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    auto [tx, rx] = oneshot::channel<int>();
    auto h = tokio::spawn(
        [](std::atomic<int>* d, oneshot::Receiver<int> rx) -> Task<> {
          (void)co_await ttime::timeout(std::chrono::seconds(100),
                                        guarded_forever(d, std::move(rx)));
        },
        &drops, std::move(rx));
    CHECK(test::eventually([] { return timetest::registered() == 1; }));
    h.abort();
    auto res = co_await h.result();
    CHECK_FALSE(res.has_value());
    CHECK(drops.load() == 1);
    CHECK(tx.is_closed());
    CHECK(timetest::registered() == 0);
  }());
}

TEST_CASE("timeout: operand running on another worker (multi-thread)") {
  auto rt = timetest::time_mt(2);
  rt.block_on([]() -> Task<> {
    for (int i = 0; i < 20; ++i) {
      auto h = tokio::spawn(slow_job(1));
      auto r = co_await ttime::timeout(std::chrono::seconds(10), std::move(h));
      CHECK(r.value() == 2);
    }
    auto slow = tokio::spawn(slow_job(10000));
    auto r = co_await ttime::timeout(ms(5), slow);
    CHECK_FALSE(r.has_value());
    slow.abort();
  }());
}

TEST_CASE("timeout: a Timeout in a variable keeps its operand past the deadline; awaited again") {
  // Found by a differential run against Tokio 1.24.2: awaiting a held Timeout again after
  // Elapsed (Tokio: `(&mut t).await`) polls the operand first, so it is Elapsed until the
  // operand finishes, then the value. Here the first Elapsed destroyed a Task operand and
  // the second await resumed its freed chain (a crash under ASan); a leaf operand gave
  // Elapsed for good.
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    auto t = ttime::timeout(ms(5), slow_job(10));
    auto r1 = co_await t;
    CHECK_FALSE(r1.has_value());
    CHECK(Instant::now() == start + ms(5));
    auto r2 = co_await t;  // the deadline has passed and the operand still waits
    CHECK_FALSE(r2.has_value());
    CHECK(Instant::now() == start + ms(5));
    co_await ttime::sleep(ms(7));
    auto r3 = co_await t;  // the operand finished meanwhile: its value wins
    REQUIRE(r3.has_value());
    CHECK(*r3 == 2);
    CHECK_THROWS_AS((void)co_await t, std::logic_error);  // its value was handed out

    // A leaf operand the Timeout owns (a Sleep) continues the same way.
    auto t2 = ttime::timeout(ms(5), ttime::sleep(ms(10)));
    CHECK_FALSE((co_await t2).has_value());
    CHECK(Instant::now() == start + ms(17));
    co_await ttime::sleep(ms(6));
    CHECK((co_await t2).has_value());

    // Awaited as a temporary, the operand still goes before the Elapsed is handed out.
    std::atomic<int> drops{0};
    auto [tx, rx] = oneshot::channel<int>();
    auto r4 = co_await ttime::timeout(ms(5), guarded_forever(&drops, std::move(rx)));
    CHECK_FALSE(r4.has_value());
    CHECK(drops.load() == 1);
    // Held: the operand lives on until the Timeout goes.
    auto [tx2, rx2] = oneshot::channel<int>();
    {
      auto t3 = ttime::timeout(ms(5), guarded_forever(&drops, std::move(rx2)));
      CHECK_FALSE((co_await t3).has_value());
      CHECK(drops.load() == 1);
      CHECK_FALSE(tx2.is_closed());
    }
    CHECK(drops.load() == 2);
    CHECK(tx2.is_closed());
    // Held but awaited as an rvalue (`co_await std::move(t)`): the operand goes at the
    // Elapsed, as for a temporary, with the variable still in scope (a mutation run found
    // only temporaries tested, which die at the end of the statement either way).
    auto [tx3, rx3] = oneshot::channel<int>();
    auto t4 = ttime::timeout(ms(5), guarded_forever(&drops, std::move(rx3)));
    CHECK_FALSE((co_await std::move(t4)).has_value());
    CHECK(drops.load() == 3);
    CHECK(tx3.is_closed());
  }());
}
