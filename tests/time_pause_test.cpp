// The paused clock: pause/resume/advance, start_paused, auto-advance (held back by
// spawn_blocking), determinism, and the ordering of 100,000 timers.
#include <algorithm>
#include <random>
#include <vector>

#include "net_test_util.hpp"  // nt::Watchdog
#include "time_mock.hpp"

using timetest::MockWaker;
using timetest::ms;
using timetest::poll_with;
using tokio::Task;
using tokio::time::Duration;
using tokio::time::Instant;
namespace ttime = tokio::time;
using std::chrono::microseconds;

TEST_CASE("pause: misuse is a clear std::logic_error") {
  auto what = [](auto f) {
    try {
      f();
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  CHECK(what([] { ttime::pause(); }).find("outside a tokio runtime") != std::string::npos);
  {
    auto rt = timetest::time_mt(2);
    auto msg = what([&] {
      rt.block_on([]() -> Task<> {
        ttime::pause();
        co_return;
      }());
    });
    CHECK(msg.find("current-thread") != std::string::npos);
  }
  {
    auto rt = tokio::runtime::Builder::new_current_thread().build();
    auto msg = what([&] {
      rt.block_on([]() -> Task<> {
        ttime::pause();
        co_return;
      }());
    });
    CHECK(msg.find("enable_time") != std::string::npos);
  }
  auto rt = timetest::time_rt();
  rt.block_on([&]() -> Task<> {
    CHECK(what([] { ttime::resume(); }).find("not paused") != std::string::npos);
    bool threw = false;
    try {
      co_await ttime::advance(ms(1));
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("not paused") != std::string::npos;
    }
    CHECK(threw);
    ttime::pause();
    CHECK(what([] { ttime::pause(); }).find("already paused") != std::string::npos);
    CHECK_THROWS_AS(co_await ttime::advance(ms(-1)), std::invalid_argument);
    ttime::resume();
  }());
  // start_paused is validated by the Builder.
  CHECK_THROWS_AS(
      tokio::runtime::Builder::new_multi_thread().enable_time().start_paused(true).build(),
      std::invalid_argument);
  CHECK_THROWS_AS(tokio::runtime::Builder::new_current_thread().start_paused(true).build(),
                  std::invalid_argument);
}

TEST_CASE("pause: a paused clock stands still; resume continues from where it stood") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    ttime::pause();
    auto t0 = Instant::now();
    std::this_thread::sleep_for(ms(5));
    CHECK(Instant::now() == t0);
    co_await ttime::advance(ms(100));
    CHECK(Instant::now() == t0 + ms(100));
    ttime::resume();
    auto t1 = Instant::now();
    CHECK(t1 >= t0 + ms(100));
    CHECK(t1 < t0 + ms(100) + std::chrono::seconds(5));  // not back on the real clock
    std::this_thread::sleep_for(ms(3));
    CHECK(Instant::now() >= t1 + ms(3));
    // Other threads (no runtime) keep reading the real clock.
    std::atomic<bool> ok{false};
    ttime::pause();
    auto real0 = std::chrono::steady_clock::now();
    std::thread([&] {
      std::this_thread::sleep_for(ms(2));
      ok = Instant::now().into_std() >= real0 + ms(2);
    }).join();
    CHECK(ok.load());
  }());
}

TEST_CASE("pause: advance by exact sub-millisecond amounts") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    for (auto d : {microseconds(51592), microseconds(1), microseconds(3141592),
                   microseconds(3123456), microseconds(1000)}) {
      auto now = Instant::now();
      co_await ttime::advance(d);
      CHECK(now.elapsed() == d);
    }
  }());
}

// Each scenario on a fresh paused runtime: its clock starts on a millisecond tick.
TEST_CASE("pause: advance fires what is due, and only that") {
  timetest::paused_rt().block_on([]() -> Task<> {  // advance_once_with_timer
    MockWaker w;
    auto s = ttime::sleep(ms(1));
    CHECK_FALSE(poll_with(s, w));
    co_await ttime::advance(microseconds(250));
    CHECK_FALSE(poll_with(s, w));
    co_await ttime::advance(microseconds(1500));
    CHECK(w.is_woken());
    CHECK(poll_with(s, w));
  }());
  timetest::paused_rt().block_on([]() -> Task<> {  // advance_multi_with_timer
    MockWaker w;
    auto s = ttime::sleep(ms(1));
    CHECK_FALSE(poll_with(s, w));
    for (int i = 0; i < 3; ++i) {
      co_await ttime::advance(microseconds(250));
      CHECK_FALSE(poll_with(s, w));
    }
    co_await ttime::advance(microseconds(250));
    CHECK(w.is_woken());
    CHECK(poll_with(s, w));
  }());
  timetest::paused_rt().block_on([]() -> Task<> {  // advance_after_poll, sleep_no_poll, #3710
    co_await ttime::sleep(ms(1));
    auto start = Instant::now();
    MockWaker w;
    auto polled = ttime::sleep_until(start + ms(300));
    auto unpolled = ttime::sleep_until(start + ms(300));
    CHECK_FALSE(poll_with(polled, w));
    co_await ttime::advance(ms(100));
    CHECK(start.elapsed() == ms(100));
    CHECK_FALSE(poll_with(polled, w));
    CHECK_FALSE(poll_with(unpolled, w));
    co_await ttime::advance(microseconds(51592));
    CHECK_FALSE(poll_with(polled, w));
    CHECK_FALSE(w.is_woken());
  }());
}

TEST_CASE("pause: an idle runtime jumps to the next timer (auto-advance)") {
  auto rt = timetest::paused_rt();
  auto real0 = std::chrono::steady_clock::now();
  rt.block_on([]() -> Task<> {
    auto t0 = Instant::now();
    co_await ttime::sleep(std::chrono::hours(24));
    CHECK(Instant::now() == t0 + std::chrono::hours(24));
    auto r = co_await ttime::timeout(std::chrono::seconds(30), ttime::sleep(std::chrono::hours(1)));
    CHECK_FALSE(r.has_value());
    CHECK(Instant::now() == t0 + std::chrono::hours(24) + std::chrono::seconds(30));
    // Sleeping tasks: the clock visits each deadline in turn.
    auto a = tokio::spawn([]() -> Task<Instant> {
      co_await ttime::sleep(ms(700));
      co_return Instant::now();
    }());
    auto b = tokio::spawn([]() -> Task<Instant> {
      co_await ttime::sleep(ms(300));
      co_return Instant::now();
    }());
    auto base = Instant::now();
    CHECK(co_await a == base + ms(700));
    CHECK(co_await b == base + ms(300));
  }());
  CHECK(std::chrono::steady_clock::now() - real0 < std::chrono::seconds(10));
}

TEST_CASE("pause: running spawn_blocking work holds auto-advance back") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto t0 = Instant::now();
    std::atomic<int64_t> seen_end{-1};
    // A blocking task that runs ~30 ms of real time while the async side sleeps an hour.
    auto h = tokio::task::spawn_blocking([&] {
      std::this_thread::sleep_for(ms(30));
      seen_end = (Instant::now() - t0).count();
      return 5;
    });
    co_await ttime::sleep(std::chrono::hours(1));
    // The jump happened only after the blocking work ended: it saw the clock unmoved.
    CHECK(seen_end.load() == 0);
    CHECK(Instant::now() == t0 + std::chrono::hours(1));
    CHECK(co_await h == 5);

    // A detached blocking task also holds the clock until it finishes.
    std::atomic<bool> done{false};
    auto t1 = Instant::now();
    (void)tokio::task::spawn_blocking([&] {
      std::this_thread::sleep_for(ms(20));
      done = true;
    });
    co_await ttime::sleep(ms(1));
    CHECK(done.load());
    CHECK(Instant::now() == t1 + ms(1));
  }());
}

TEST_CASE("pause: paused runs are deterministic") {
  auto run = []() {
    auto rt = timetest::paused_rt();
    return rt.block_on([]() -> Task<std::vector<Duration>> {
      std::mt19937_64 rng(1);
      std::vector<Duration> times;
      auto start = Instant::now();
      for (std::size_t i = 0; i < test::scaled(10000); ++i) {
        co_await ttime::sleep(microseconds(rng() % 1000000));
        times.push_back(start.elapsed());
      }
      co_return times;
    }());
  };
  auto a = run();
  auto b = run();
  CHECK(a == b);
  // Each sleep ended on a millisecond boundary at or after its deadline.
  for (std::size_t i = 1; i < a.size(); ++i) CHECK(a[i] >= a[i - 1]);
}

TEST_CASE("pause: 100,000 timers with random deadlines fire in exact deadline order") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    const std::size_t n = test::scaled(100000);
    std::mt19937_64 rng(42);
    struct Rec {
      std::vector<int64_t> fired_tick;  // in completion order
      std::size_t late_or_early = 0;
    } rec;
    rec.fired_tick.reserve(n);
    Instant start = Instant::now();
    std::vector<tokio::JoinHandle<void>> hs;
    hs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      // Spread over ~17 minutes, at sub-millisecond precision, with many ties.
      auto d = microseconds(static_cast<int64_t>(rng() % 1000000000ull));
      hs.push_back(tokio::spawn(
          [](Instant deadline, Instant start, Rec* rec) -> Task<> {
            co_await ttime::sleep_until(deadline);
            // The deadline rounded up to the millisecond tick: exactly now.
            auto tick = ((deadline - start).count() + 999999) / 1000000;
            if (Instant::now() != start + ms(tick)) ++rec->late_or_early;
            rec->fired_tick.push_back(tick);
          },
          start + d, start, &rec));
    }
    for (auto& h : hs) co_await h;
    CHECK(rec.fired_tick.size() == n);
    CHECK(rec.late_or_early == 0);
    CHECK(std::is_sorted(rec.fired_tick.begin(), rec.fired_tick.end()));
    CHECK(timetest::registered() == 0);
  }());
}

// The ends of the Instant range. A deadline at the latest Instant was rounded up to a tick
// the clock can never reach (it saturates first): a paused runtime spun on it at full
// CPU forever. One at the earliest (time_point::min(), a huge saturating_sub) overflowed
// the difference to the start into a far-future tick (UBSan: signed overflow).
TEST_CASE("pause: deadlines at the latest and the earliest Instant") {
  nt::Watchdog wd("pause: Instant extremes", std::chrono::seconds(30));
  auto rt = timetest::paused_rt();
  auto real0 = std::chrono::steady_clock::now();
  rt.block_on([]() -> Task<> {
    auto t0 = Instant::now();
    co_await ttime::sleep_until(Instant(std::chrono::steady_clock::time_point::min()));
    CHECK(Instant::now() == t0);  // in the past: at once
    auto late = co_await ttime::timeout_at(Instant(std::chrono::steady_clock::time_point::min()),
                                           ttime::sleep(ms(1000)));
    CHECK_FALSE(late.has_value());  // the deadline has passed: Elapsed, at once
    CHECK(Instant::now() == t0);
    auto iv = ttime::interval_at(t0.saturating_sub(std::chrono::nanoseconds::max()), ms(10));
    co_await iv.tick();
    CHECK(Instant::now() == t0);
    // The far end: reached, not spun toward.
    co_await ttime::sleep_until(Instant(std::chrono::steady_clock::time_point::max()));
    CHECK(Instant::now() > t0 + std::chrono::hours(24 * 365 * 200));
    co_await ttime::sleep_until(Instant::now().saturating_add(std::chrono::nanoseconds::max()));
  }());
  CHECK(std::chrono::steady_clock::now() - real0 < std::chrono::seconds(10));
}

// The real time that passed while the clock was paused is not added when it resumes
// (a mutation run found the 5 ms pause above too short to tell).
TEST_CASE("pause: resume does not add the real time spent paused") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    ttime::pause();
    auto t0 = Instant::now();
    std::this_thread::sleep_for(ms(300));
    co_await ttime::advance(ms(100));
    ttime::resume();
    auto t1 = Instant::now();
    CHECK(t1 >= t0 + ms(100));
    CHECK(t1 < t0 + ms(250));  // 400 ms or more if the 300 ms paused counted
  }());
}

TEST_CASE("pause: a sleep whose deadline is exactly now reports is_elapsed before its poll") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto s = ttime::sleep(ms(10));
    CHECK_FALSE(s.is_elapsed());
    co_await ttime::advance(ms(9));
    CHECK_FALSE(s.is_elapsed());
    co_await ttime::advance(ms(1));
    CHECK(s.is_elapsed());  // the driver fires at deadline <= now, and so does is_elapsed
    co_await s;
  }());
}
