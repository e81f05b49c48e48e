// time::interval: every MissedTickBehavior as Tokio documents it (ported from Tokio's
// tests/time_interval.rs and time_pause.rs scenarios), reset, period, errors.
#include <vector>

#include "time_mock.hpp"

using timetest::MockWaker;
using timetest::ms;
using tokio::Task;
using tokio::time::Instant;
using tokio::time::Interval;
using tokio::time::MissedTickBehavior;
namespace ttime = tokio::time;

namespace {
// Polls until pending; returns the ready ticks as milliseconds after `start`.
std::vector<long> ready_ticks(Interval& iv, MockWaker& w, Instant start) {
  std::vector<long> out;
  Instant t;
  while (timetest::poll_tick(iv, w, t)) {
    out.push_back(static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t - start).count()));
    REQUIRE(out.size() < 100);
  }
  return out;
}
using V = std::vector<long>;
}  // namespace

// Expected ticks every 300 ms; the task is late for ticks 3 and 4.
TEST_CASE("interval: Burst fires missed ticks back to back, keeping the schedule") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    co_await ttime::advance(ms(1));
    auto iv = ttime::interval_at(start, ms(300));
    CHECK(iv.missed_tick_behavior() == MissedTickBehavior::Burst);
    MockWaker w;
    CHECK(ready_ticks(iv, w, start) == V{0});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(200));
    CHECK(w.is_woken());
    CHECK(ready_ticks(iv, w, start) == V{300});
    co_await ttime::advance(ms(650));
    CHECK(ready_ticks(iv, w, start) == V{600, 900});
    co_await ttime::advance(ms(200));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{1200});
    co_await ttime::advance(ms(250));
    CHECK(ready_ticks(iv, w, start) == V{1500});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1800});
  }());
}

TEST_CASE("interval: Delay shifts the schedule to one period after the late tick") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    co_await ttime::advance(ms(1));
    auto iv = ttime::interval_at(start, ms(300));
    iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
    MockWaker w;
    CHECK(ready_ticks(iv, w, start) == V{0});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(200));
    CHECK(ready_ticks(iv, w, start) == V{300});
    co_await ttime::advance(ms(650));
    CHECK(ready_ticks(iv, w, start) == V{600});  // late (at 951): next = 951 + 300
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(201));
    CHECK(ready_ticks(iv, w, start) == V{1251});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1551});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1851});
  }());
}

TEST_CASE("interval: Skip drops missed ticks and stays on the original schedule") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    co_await ttime::advance(ms(1));
    auto iv = ttime::interval_at(start, ms(300));
    iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
    MockWaker w;
    CHECK(ready_ticks(iv, w, start) == V{0});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(200));
    CHECK(ready_ticks(iv, w, start) == V{300});
    co_await ttime::advance(ms(650));
    CHECK(ready_ticks(iv, w, start) == V{600});  // 900 is skipped
    co_await ttime::advance(ms(250));
    CHECK(ready_ticks(iv, w, start) == V{1200});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1500});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1800});
  }());
}

TEST_CASE("interval: ticks within 5 ms of schedule are not 'missed'") {
  for (auto b : {MissedTickBehavior::Burst, MissedTickBehavior::Delay, MissedTickBehavior::Skip}) {
    auto rt = timetest::paused_rt();
    rt.block_on([](MissedTickBehavior b) -> Task<> {
      auto start = Instant::now();
      auto iv = ttime::interval_at(start, ms(100));
      iv.set_missed_tick_behavior(b);
      MockWaker w;
      CHECK(ready_ticks(iv, w, start) == V{0});
      co_await ttime::advance(ms(104));  // 4 ms late: the schedule is kept by all three
      CHECK(ready_ticks(iv, w, start) == V{100});
      co_await ttime::advance(ms(96));
      CHECK(ready_ticks(iv, w, start) == V{200});
    }(b));
  }
}

TEST_CASE("interval: reset, reset_immediately, reset_after, reset_at and period") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    co_await ttime::advance(ms(1));
    auto iv = ttime::interval_at(start, ms(300));
    CHECK(iv.period() == ms(300));
    MockWaker w;
    CHECK(ready_ticks(iv, w, start) == V{0});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(200));
    CHECK(ready_ticks(iv, w, start) == V{300});
    co_await ttime::advance(ms(100));
    CHECK(ready_ticks(iv, w, start) == V{});  // registered for 600
    iv.reset();                               // now 401: next tick at 701
    co_await ttime::advance(ms(250));
    CHECK(ready_ticks(iv, w, start) == V{});
    co_await ttime::advance(ms(50));
    CHECK(ready_ticks(iv, w, start) == V{701});
    co_await ttime::advance(ms(300));
    CHECK(ready_ticks(iv, w, start) == V{1001});
    iv.reset_immediately();
    CHECK(ready_ticks(iv, w, start) == V{1001});  // now
    iv.reset_after(ms(10));
    co_await ttime::advance(ms(10));
    CHECK(ready_ticks(iv, w, start) == V{1011});
    iv.reset_at(start + ms(2000));
    co_await ttime::advance(ms(2000 - 1011));
    CHECK(ready_ticks(iv, w, start) == V{2000});
    CHECK(w.refs.load() == 1);  // registered for the tick at 2300
    iv.reset_at(start + ms(5000));
    CHECK(w.refs.load() == 1);  // moved in the wheel, same waker
  }());
}

TEST_CASE("interval: awaited in a task loop (paused: exact instants)") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    auto iv = ttime::interval(ms(25));
    std::vector<Instant> got;
    for (int i = 0; i < 5; ++i) {
      Instant t = co_await iv.tick();
      CHECK(Instant::now() == t);
      got.push_back(t);
    }
    for (int i = 0; i < 5; ++i) CHECK(got[static_cast<std::size_t>(i)] == start + ms(25 * i));
  }());
}

TEST_CASE("interval: real clock, a tick per period; a cancelled tick loses nothing") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    auto iv = ttime::interval_at(start, ms(10));
    CHECK(co_await iv.tick() == start);
    // Lose a select against a shorter sleep: the tick is not consumed.
    auto r = co_await tokio::select_biased(ttime::sleep(ms(2)), iv.tick());
    CHECK(r.index() == 0);
    Instant t = co_await iv.tick();
    CHECK(t == start + ms(10));
    CHECK(Instant::now() >= t);
  }());
}

TEST_CASE("interval: a zero or negative period is rejected") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    CHECK_THROWS_AS(ttime::interval(ms(0)), std::invalid_argument);
    CHECK_THROWS_AS(ttime::interval_at(Instant::now(), ms(-3)), std::invalid_argument);
    co_return;
  }());
}
