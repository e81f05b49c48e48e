// Timers on the multi-thread runtime: cross-worker firing, and fire / cancel / reset
// races (meant for TSan: `make test-tsan`).
#include <random>
#include <vector>

#include "time_mock.hpp"

using timetest::MockWaker;
using timetest::ms;
using tokio::Task;
using tokio::time::Instant;
namespace ttime = tokio::time;

TEST_CASE("mt: many tasks sleeping 1-50 ms across workers all wake, none early") {
  auto rt = timetest::time_mt(2);
  rt.block_on([]() -> Task<> {
    const int n = static_cast<int>(test::scaled(20000));
    std::atomic<int> early{0};
    std::vector<tokio::JoinHandle<void>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      hs.push_back(tokio::spawn(
          [](int d, std::atomic<int>* early) -> Task<> {
            auto start = Instant::now();
            co_await ttime::sleep(ms(d));
            if (start.elapsed() < ms(d)) early->fetch_add(1);
          },
          1 + i % 50, &early));
    }
    for (auto& h : hs) co_await h;
    CHECK(early.load() == 0);
    CHECK(timetest::registered() == 0);
  }());
}

TEST_CASE("mt: a timer registered on one thread fires on another (waker on the far side)") {
  auto rt = timetest::time_mt(2);
  auto h = rt.handle();
  // Poll sleeps from a plain thread with a mock waker: registration happens off the
  // runtime, firing on whichever worker drives the timers.
  std::vector<std::unique_ptr<ttime::Sleep>> sleeps;
  std::vector<std::unique_ptr<MockWaker>> wakers;
  {
    auto g = rt.enter();
    for (int i = 0; i < 50; ++i) {
      sleeps.push_back(std::make_unique<ttime::Sleep>(ttime::sleep(ms(1 + i % 7))));
      wakers.push_back(std::make_unique<MockWaker>());
      CHECK_FALSE(timetest::poll_with(*sleeps.back(), *wakers.back()));
    }
  }
  CHECK(test::eventually([&] {
    for (auto& w : wakers) {
      if (w->wakes.load() == 0) return false;
    }
    return true;
  }));
  for (std::size_t i = 0; i < sleeps.size(); ++i) {
    CHECK(timetest::poll_with(*sleeps[i], *wakers[i]));
    CHECK(wakers[i]->refs.load() == 0);
  }
}

// Resetting a registered timer to an earlier deadline wakes the worker parked in the
// driver (it sleeps until the old deadline otherwise): the reregistration's unpark, which
// a mutation run found untested (the first registration's was).
TEST_CASE("mt: a registered timer reset earlier wakes the worker parked in the driver") {
  auto rt = timetest::time_mt(2);
  auto g = rt.enter();
  auto s = ttime::sleep(std::chrono::seconds(30));
  MockWaker w;
  CHECK_FALSE(timetest::poll_with(s, w));  // on the wheel, due in 30 s
  // Let the workers go idle: the one holding the driver then parks until that deadline.
  std::this_thread::sleep_for(ms(50));
  s.reset(Instant::now() + ms(20));
  CHECK(test::eventually([&] { return w.wakes.load() > 0; }));  // within 5 s, not 30
  CHECK(timetest::poll_with(s, w));
  CHECK(w.refs.load() == 0);
}

TEST_CASE("mt: fire / cancel / reset races") {
  auto rt = timetest::time_mt(2);
  rt.block_on([]() -> Task<> {
    const int n = static_cast<int>(test::scaled(12000));
    std::vector<tokio::JoinHandle<void>> hs;
    for (int i = 0; i < n; ++i) {
      hs.push_back(tokio::spawn(
          [](int i) -> Task<> {
            std::minstd_rand rng(static_cast<unsigned>(i));
            for (int k = 0; k < 6; ++k) {
              switch (rng() % 4) {
                case 0: {  // two timers due together; the loser is cancelled as the other fires
                  (void)co_await tokio::select(ttime::sleep(ms(1)), ttime::sleep(ms(1)));
                  break;
                }
                case 1: {  // a timeout racing the operand's own timer
                  (void)co_await ttime::timeout(ms(rng() % 3), ttime::sleep(ms(rng() % 3)));
                  break;
                }
                case 2: {  // reset later / earlier while the driver may be firing it
                  auto s = ttime::sleep(ms(1));
                  auto r = co_await tokio::select_biased(ttime::sleep(ms(1)), s);
                  if (r.index() == 0) {
                    s.reset(Instant::now() + ms(rng() % 2));
                    s.reset(Instant::now() + ms(2));
                    s.reset(Instant::now() + ms(rng() % 2));
                    co_await s;
                  }
                  break;
                }
                default: {  // cancel a registered timer right around its deadline
                  auto s = ttime::sleep(ms(1));
                  (void)co_await tokio::select_biased(tokio::task::yield_now(), s);
                  co_await ttime::sleep(ms(1));
                  break;
                }
              }
            }
          },
          i));
    }
    // Abort some tasks from outside while their timers are firing.
    for (int i = 0; i < n; i += 7) hs[static_cast<std::size_t>(i)].abort();
    for (auto& h : hs) (void)co_await h.result();
    CHECK(timetest::registered() == 0);
  }());
}

TEST_CASE("mt: aborting sleeping tasks from another thread") {
  auto rt = timetest::time_mt(2);
  std::vector<tokio::JoinHandle<void>> hs;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 200; ++i) {
      hs.push_back(rt.spawn([](int d) -> Task<> { co_await ttime::sleep(ms(d)); }(i % 4)));
    }
    std::this_thread::sleep_for(ms(1));
    for (auto& h : hs) h.abort();
    rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
      for (auto& h : *hs) (void)co_await h.result();
      CHECK(timetest::registered() == 0);
    }(&hs));
    hs.clear();
  }
}
