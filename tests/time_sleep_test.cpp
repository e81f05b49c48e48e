// time::sleep / sleep_until / Sleep: registration, reset, cancellation in every state,
// durations, accuracy, errors.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "time_mock.hpp"

using timetest::MockWaker;
using timetest::ms;
using timetest::poll_with;
using tokio::Task;
using tokio::time::Instant;
using tokio::time::Sleep;
namespace ttime = tokio::time;

TEST_CASE("sleep: completes after its duration on a real clock, never early") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    for (long d : {0L, 1L, 5L, 20L}) {
      auto start = Instant::now();
      co_await ttime::sleep(ms(d));
      CHECK(start.elapsed() >= ms(d));
    }
    auto deadline = Instant::now() + ms(15);
    co_await ttime::sleep_until(deadline);
    CHECK(Instant::now() >= deadline);
  }());
}

TEST_CASE("sleep: accuracy when idle (lenient: never early, best-of-5 late by < 10 ms)") {
  for (int flavor = 0; flavor < 2; ++flavor) {
    auto rt = flavor == 0 ? timetest::time_rt() : timetest::time_mt(2);
    rt.block_on([]() -> Task<> {
      for (long d : {3L, 10L, 30L}) {
        auto best = std::chrono::nanoseconds::max();
        for (int i = 0; i < 5; ++i) {
          auto start = std::chrono::steady_clock::now();
          co_await ttime::sleep(ms(d));
          auto took = std::chrono::steady_clock::now() - start;
          CHECK(took >= ms(d));  // never early
          best = std::min<std::chrono::nanoseconds>(best, took - ms(d));
        }
        CHECK(best < ms(10));  // 1 ms wheel resolution; room for a loaded CI machine
      }
    }());
  }
}

TEST_CASE("sleep: zero, negative, past, huge and maximal durations") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    co_await ttime::sleep(ms(0));
    co_await ttime::sleep(std::chrono::seconds(-5));
    co_await ttime::sleep_until(start - std::chrono::hours(1));
    CHECK(Instant::now() == start);  // none of them waited
    CHECK(timetest::registered() == 0);

    // Saturating durations: registered far away (the wheel's top level), never fire.
    Sleep huge = ttime::sleep(std::chrono::hours::max());
    Sleep big = ttime::sleep(std::chrono::duration<double>(1e30));
    CHECK(huge.deadline() > start + std::chrono::hours(24 * 365 * 29));
    CHECK(big.deadline() > start + std::chrono::hours(24 * 365 * 29));
    MockWaker w;
    CHECK_FALSE(poll_with(huge, w));
    CHECK_FALSE(poll_with(big, w));
    CHECK(timetest::registered() == 2);
    // Exactly at and just beyond the wheel's range (2^36 ms).
    Sleep at_max = ttime::sleep(std::chrono::milliseconds(int64_t{1} << 36));
    Sleep past_max = ttime::sleep(std::chrono::milliseconds((int64_t{1} << 36) + 5));
    CHECK_FALSE(poll_with(at_max, w));
    CHECK_FALSE(poll_with(past_max, w));
    CHECK(timetest::registered() == 4);
    co_await ttime::advance(std::chrono::hours(24 * 800));  // ~2.2 years: wheel range
    CHECK(poll_with(at_max, w));
    CHECK(poll_with(past_max, w));
    CHECK_FALSE(poll_with(huge, w));
  }());
}

TEST_CASE("sleep: a timer beyond the wheel's range fires at its deadline (paused)") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    auto d = std::chrono::milliseconds((int64_t{1} << 37) + 12345);  // ~4.4 years
    co_await ttime::sleep(d);
    CHECK(Instant::now() - start == d);
  }());
}

TEST_CASE("sleep: an unawaited Sleep never registers; destroying it is free") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    for (int i = 0; i < 1000; ++i) {
      Sleep s = ttime::sleep(std::chrono::seconds(1));
      CHECK_FALSE(s.is_elapsed());
    }
    CHECK(timetest::registered() == 0);
    co_return;
  }());
}

TEST_CASE("sleep: cancel in every state: unregistered, registered, firing, fired") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    MockWaker w;
    {  // unregistered
      Sleep s = ttime::sleep_until(start + ms(10));
    }
    CHECK(timetest::registered() == 0);
    {  // registered: destroying it unregisters it and returns the waker reference
      Sleep s = ttime::sleep_until(start + ms(10));
      CHECK_FALSE(poll_with(s, w));
      CHECK(timetest::registered() == 1);
      CHECK(w.refs.load() == 1);
    }
    CHECK(timetest::registered() == 0);
    CHECK(w.refs.load() == 0);
    {  // fired, never polled again
      Sleep s = ttime::sleep_until(start + ms(10));
      CHECK_FALSE(poll_with(s, w));
      co_await ttime::advance(ms(10));
      CHECK(w.is_woken());
      CHECK(w.refs.load() == 0);
      CHECK(timetest::registered() == 0);
    }
    // Firing: 100 timers due at the same tick; the first wake destroys every other one,
    // some still in the wheel's pending list waiting for their batch (see the 32-wake
    // batches in the driver). Destroyed ones are never woken.
    struct Group {
      std::vector<std::unique_ptr<Sleep>> sleeps;
      std::vector<std::unique_ptr<MockWaker>> wakers;
      int destroyed_by_wake = 0;
    } g;
    Instant at = Instant::now() + ms(5);
    for (int i = 0; i < 100; ++i) {
      g.sleeps.push_back(std::make_unique<Sleep>(ttime::sleep_until(at)));
      g.wakers.push_back(std::make_unique<MockWaker>());
      g.wakers.back()->arg = &g;
      g.wakers.back()->on_wake = [](MockWaker* self, void* arg) {
        auto* gr = static_cast<Group*>(arg);
        if (gr->destroyed_by_wake) return;
        for (std::size_t k = 0; k < gr->sleeps.size(); ++k) {
          if (gr->wakers[k].get() == self) continue;
          if (gr->sleeps[k] && !gr->sleeps[k]->is_elapsed()) {
            gr->sleeps[k].reset();
            ++gr->destroyed_by_wake;
          }
        }
      };
      CHECK_FALSE(poll_with(*g.sleeps.back(), *g.wakers.back()));
    }
    CHECK(timetest::registered() == 100);
    co_await ttime::advance(ms(5));
    CHECK(timetest::registered() == 0);
    int woken = 0;
    for (auto& mw : g.wakers) {
      woken += mw->wakes.load();
      CHECK(mw->refs.load() == 0);
    }
    // Every timer was woken once or destroyed before its wake, none both.
    int destroyed = 0;
    for (auto& s : g.sleeps) destroyed += s ? 0 : 1;
    CHECK(destroyed == g.destroyed_by_wake);
    CHECK(woken + destroyed >= 100);
    CHECK(woken <= 100 - destroyed + 32);  // at most the batch already collected
  }());
}

TEST_CASE("sleep: reset earlier and later, before and after firing") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    MockWaker w;
    // Later while registered (lock-free path): fires at the new deadline only.
    Sleep s = ttime::sleep_until(start + ms(10));
    CHECK_FALSE(poll_with(s, w));
    s.reset(start + ms(30));
    CHECK(s.deadline() == start + ms(30));
    co_await ttime::advance(ms(10));
    CHECK_FALSE(w.is_woken());
    CHECK_FALSE(poll_with(s, w));
    co_await ttime::advance(ms(19));
    CHECK_FALSE(poll_with(s, w));
    co_await ttime::advance(ms(1));
    CHECK(w.is_woken());
    CHECK(poll_with(s, w));
    CHECK(s.is_elapsed());

    // Earlier while registered: fires at the new deadline.
    start = Instant::now();
    s.reset(start + ms(100));  // after firing: unregistered again with a new deadline
    CHECK_FALSE(s.is_elapsed());
    CHECK_FALSE(poll_with(s, w));
    s.reset(start + ms(20));
    co_await ttime::advance(ms(20));
    CHECK(w.is_woken());
    CHECK(poll_with(s, w));

    // Reset into the past while registered: wakes at once, no driver turn needed.
    start = Instant::now();
    s.reset(start + ms(50));
    CHECK_FALSE(poll_with(s, w));
    s.reset(start - ms(1));
    CHECK(w.is_woken());
    CHECK(poll_with(s, w));

    // Reset an unregistered Sleep: just a new deadline.
    Sleep u = ttime::sleep_until(start + ms(1000));
    u.reset(start + ms(3));
    co_await u;
    CHECK(Instant::now() == start + ms(3));
    CHECK(w.refs.load() == 0);
    CHECK(timetest::registered() == 0);
  }());
}

TEST_CASE("sleep: a select loop re-arming one Sleep by reference") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    auto [tx, rx] = tokio::sync::oneshot::channel<int>();
    tokio::spawn(
        [](tokio::sync::oneshot::Sender<int> tx) -> Task<> {
          co_await ttime::sleep(ms(35));
          (void)tx.send(1);
        },
        std::move(tx));
    Sleep tick = ttime::sleep(ms(10));
    int ticks = 0;
    for (;;) {
      auto r = co_await tokio::select_biased(rx, tick);
      if (r.index() == 0) break;
      ++ticks;
      tick.reset(Instant::now() + ms(10));
    }
    CHECK(ticks == 3);
    CHECK(Instant::now() == start + ms(35));
  }());
}

TEST_CASE("sleep: moving between wakers and copies of a registered Sleep") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    MockWaker a, b;
    Sleep s = ttime::sleep_until(start + ms(5));
    CHECK_FALSE(poll_with(s, a));
    CHECK_FALSE(poll_with(s, b));  // the waker moves to b
    CHECK(a.refs.load() == 0);
    Sleep copy = s;  // a copy is unregistered, same deadline
    CHECK(copy.deadline() == s.deadline());
    CHECK(timetest::registered() == 1);
    co_await ttime::advance(ms(5));
    CHECK_FALSE(a.is_woken());
    CHECK(b.is_woken());
    CHECK(poll_with(copy, a));  // its deadline has passed: ready without registering
    CHECK(timetest::registered() == 0);
    Sleep assigned = ttime::sleep(ms(50));
    CHECK_FALSE(poll_with(assigned, a));
    assigned = ttime::sleep(ms(7));  // assignment unregisters the old timer
    CHECK(timetest::registered() == 0);
    CHECK(a.refs.load() == 0);
    co_await assigned;
    CHECK(Instant::now() == start + ms(12));
  }());
}

TEST_CASE("sleep: awaits draw on the coop budget (a ready-sleep loop cannot starve others)") {
  auto rt = timetest::time_rt();
  rt.block_on([]() -> Task<> {
    std::atomic<bool> other_ran{false};
    auto h = tokio::spawn(
        [](std::atomic<bool>* f) -> Task<> {
          f->store(true);
          co_return;
        },
        &other_ran);
    int spins = 0;
    while (!other_ran.load()) {
      co_await ttime::sleep(ms(0));  // always ready: only the budget forces a yield
      REQUIRE(++spins < 100000);
    }
    CHECK(spins <= 200);
    co_await h;
  }());
}

TEST_CASE("sleep: timers disabled, no runtime, and sleeps created outside block_on") {
  {
    auto rt = tokio::runtime::Builder::new_current_thread().build();  // no enable_time
    bool threw = false;
    try {
      rt.block_on([]() -> Task<> { co_await ttime::sleep(ms(1)); }());
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("enable_time") != std::string::npos;
    }
    CHECK(threw);
    CHECK_THROWS_AS(rt.block_on([]() -> Task<> {
      (void)ttime::interval(ms(1));
      co_return;
    }()),
                    std::logic_error);
  }
  // Created outside any runtime: binds to the runtime it is first awaited on.
  Sleep s = ttime::sleep(ms(2));
  auto start = Instant::now();
  auto rt = timetest::time_rt();
  rt.block_on(std::move(s));
  CHECK(start.elapsed() >= ms(2));
  rt.block_on(ttime::sleep(ms(1)));
}

TEST_CASE("sleep: many sleeps of mixed durations complete in deadline order (paused)") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto start = Instant::now();
    std::vector<int> order;
    std::vector<tokio::JoinHandle<void>> hs;
    for (int d : {50, 10, 300, 1, 70000, 64, 65, 4096, 4097}) {
      hs.push_back(tokio::spawn(
          [](int d, std::vector<int>* o, Instant st) -> Task<> {
            co_await ttime::sleep(ms(d));
            CHECK(Instant::now() == st + ms(d));
            o->push_back(d);
          },
          d, &order, start));
    }
    for (auto& h : hs) co_await h;
    CHECK(order == std::vector<int>{1, 10, 50, 64, 65, 300, 4096, 4097, 70000});
  }());
}

// As in Tokio, sleeps that end at the same instant wake in the order they were
// registered, however far away that instant is (the wheel level does not matter).
TEST_CASE("sleep: equal deadlines wake in registration order at every distance (paused)") {
  auto rt = timetest::paused_rt();
  rt.block_on([]() -> Task<> {
    for (int d : {5, 100, 5000, 300000}) {
      CAPTURE(d);
      std::vector<int> order;
      std::vector<tokio::JoinHandle<void>> hs;
      for (int i = 0; i < 4; ++i) {
        hs.push_back(tokio::spawn(
            [](int d, int i, std::vector<int>* o) -> Task<> {
              co_await ttime::sleep(ms(d));
              o->push_back(i);
            },
            d, i, &order));
      }
      for (auto& h : hs) co_await h;
      CHECK(order == std::vector<int>{0, 1, 2, 3});
    }
  }());
}

TEST_CASE("sleep: runtime shutdown with registered timers; a Sleep outliving its runtime") {
  std::unique_ptr<Sleep> survivor;
  {
    auto rt = timetest::time_rt();
    for (int i = 0; i < 10; ++i) {
      rt.spawn([]() -> Task<> { co_await ttime::sleep(std::chrono::seconds(100)); }());
    }
    survivor = rt.block_on([]() -> Task<std::unique_ptr<Sleep>> {
      auto s = std::make_unique<Sleep>(ttime::sleep(std::chrono::seconds(100)));
      // Register it (a select loser stays registered), then hand it out of the runtime.
      co_await tokio::select_biased(ttime::sleep(ms(1)), *s);
      CHECK(timetest::registered() >= 1);
      co_return s;
    }());
  }
  // Shutdown unlinked every registered timer (destroying it touches no driver) without
  // completing it: its deadline is 100 s away.
  CHECK_FALSE(survivor->is_elapsed());
  survivor.reset();
}

// A Sleep binds to the runtime that awaits it (registers there), not the one it was made
// in: that one may be gone. Before, the driver pointer taken at construction was used, and
// awaiting a Sleep made in a dropped runtime read freed memory (ASan: heap-use-after-free
// in TimeDriver::is_shut_down).
TEST_CASE("sleep: a Sleep made in a dropped runtime, or in another one, sleeps where awaited") {
  std::optional<Sleep> made_before;
  std::unique_ptr<Sleep> fired_by_shutdown;
  {
    auto first = timetest::time_rt();
    first.block_on([](std::optional<Sleep>* s, std::unique_ptr<Sleep>* f) -> Task<> {
      s->emplace(ttime::sleep(ms(40)));  // never polled here
      *f = std::make_unique<Sleep>(ttime::sleep(ms(500)));
      co_await tokio::select_biased(ttime::sleep(ms(1)), **f);  // registered here
    }(&made_before, &fired_by_shutdown));
  }
  // Left registered when the first runtime shut down: woken, not completed (before, it
  // completed there, and awaiting it here returned at once, early). Checked while its
  // deadline is still ahead: a loaded host can take longer than that to shut the runtime
  // down (CI 157: more than the 150 ms this deadline then was), and then it has elapsed.
  if (Instant::now() + ms(10) < fired_by_shutdown->deadline()) {
    CHECK_FALSE(fired_by_shutdown->is_elapsed());
  }
  auto second = timetest::time_rt();
  const Instant deadline = made_before->deadline();
  second.block_on([](Sleep* s) -> Task<> {
    auto waiting = tokio::spawn([](Sleep* s) -> Task<> { co_await *s; }, s);
    co_await tokio::task::yield_now();
    // In this runtime's wheel, unless a loaded host let the deadline pass first (a Sleep
    // past its deadline completes without registering): checked only when it has not.
    const bool early = Instant::now() < s->deadline();
    const std::size_t n = timetest::registered();
    if (early) CHECK(n == 1);
    co_await waiting;
  }(&*made_before));
  CHECK(Instant::now() >= deadline);  // it slept to its deadline, not less
  // The one the first runtime's shutdown woke waits here for its own deadline.
  const Instant orphan_deadline = fired_by_shutdown->deadline();
  second.block_on([](Sleep* s) -> Task<> { co_await *s; }(fired_by_shutdown.get()));
  CHECK(Instant::now() >= orphan_deadline);
  CHECK(fired_by_shutdown->is_elapsed());
  // Reset, it sleeps again, here.
  fired_by_shutdown->reset(Instant::now() + ms(3));
  auto start = Instant::now();
  second.block_on([](Sleep* s) -> Task<> { co_await *s; }(fired_by_shutdown.get()));
  CHECK(start.elapsed() >= ms(3));
  // Made in a runtime that is still alive, awaited in another: registers with the latter.
  auto third = timetest::time_rt();
  Sleep s = third.block_on([]() -> Task<Sleep> { co_return ttime::sleep(ms(40)); }());
  const Instant third_deadline = s.deadline();
  second.block_on([](Sleep* s) -> Task<> {
    auto waiting = tokio::spawn([](Sleep* s) -> Task<> { co_await *s; }, s);
    co_await tokio::task::yield_now();
    const bool early = Instant::now() < s->deadline();  // as above
    const std::size_t n = timetest::registered();
    if (early) CHECK(n == 1);
    co_await waiting;
  }(&s));
  CHECK(Instant::now() >= third_deadline);
  third.block_on([]() -> Task<> {
    CHECK(timetest::registered() == 0);
    co_return;
  }());
}

// A Handle::block_on on another thread goes on polling its future after the Runtime is
// dropped: a sleep, a timeout or an interval tick waiting there is woken by the shutdown
// with its deadline still ahead. Before, each then completed as if the deadline had come (a
// 10 s sleep returned 20 ms after the drop; the timeout reported Elapsed). Now each throws
// (Tokio panics there).
TEST_CASE("sleep: timers woken by their runtime's shutdown throw where no runtime runs") {
  for (int kind = 0; kind < 3; ++kind) {
    CAPTURE(kind);
    std::optional<tokio::runtime::Runtime> rt(timetest::time_mt());
    tokio::runtime::Handle h = rt->handle();
    std::atomic<bool> waiting{false};
    bool returned = false;
    std::string error;
    std::thread outside([&] {
      try {
        h.block_on([](int k, std::atomic<bool>* w) -> Task<> {
          const auto far = std::chrono::seconds(10);
          w->store(true);
          if (k == 0) {
            co_await ttime::sleep(far);
          } else if (k == 1) {
            tokio::sync::Notify never;
            auto r = co_await ttime::timeout(
                far, [](tokio::sync::Notify* n) -> Task<> { co_await n->notified(); }(&never));
            CHECK(false);  // neither Elapsed nor a value: the deadline has not come
            (void)r;
          } else {
            auto iv = ttime::interval_at(Instant::now() + far, far);
            (void)co_await iv.tick();
          }
        }(kind, &waiting));
        returned = true;
      } catch (const std::runtime_error& e) {
        error = e.what();
      }
    });
    while (!waiting.load()) std::this_thread::sleep_for(ms(1));
    std::this_thread::sleep_for(ms(20));  // registered by now
    const Instant dropped = Instant::now();
    rt.reset();
    outside.join();
    CHECK_FALSE(returned);
    CHECK(error.find("shut down before its deadline") != std::string::npos);
    CHECK(dropped.elapsed() < std::chrono::seconds(5));
  }
}

// An orphaned Sleep polled (poll form) on a runtime without timers: nothing may take it
// over there, and the driver it was registered with is gone. It used to register with
// that freed driver (heap-use-after-free under ASan); now it throws, as when awaited.
TEST_CASE("sleep: an orphaned Sleep polled where no runtime has timers throws") {
  std::unique_ptr<Sleep> orphan;
  {
    auto first = timetest::time_rt();
    first.block_on([](std::unique_ptr<Sleep>* o) -> Task<> {
      *o = std::make_unique<Sleep>(ttime::sleep(std::chrono::seconds(100)));
      co_await tokio::select_biased(ttime::sleep(ms(1)), **o);  // registered
    }(&orphan));
  }
  auto no_timers = tokio::runtime::Builder::new_current_thread().enable_io().build();
  bool threw = false;
  try {
    no_timers.block_on([](Sleep* s) -> Task<> {
      auto poll_once = [](tokio::task::Context& cx, Sleep* sl) -> std::optional<bool> {
        if (sl->poll(cx)) return true;
        return std::nullopt;
      };
      co_await tokio::task::poll_fn(poll_once, s);
    }(orphan.get()));
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()).find("shut down before its deadline") != std::string::npos;
  }
  CHECK(threw);
  CHECK_FALSE(orphan->is_elapsed());
}

// A timer is only ever registered with the polling thread's runtime. Polled (poll form)
// where no runtime with timers runs, it completes with a logic_error naming the cause,
// whatever runtime it was made in: it used to register with that runtime's driver, which
// for a runtime already dropped was freed memory (heap-use-after-free under ASan).
TEST_CASE("sleep: a Sleep polled where no runtime has timers throws, never touching its maker") {
  auto poll_error = [](Sleep& s) {
    timetest::MockWaker w;
    auto cx = w.cx();
    try {
      (void)s.poll(cx);
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("no logic_error");
  };
  // Made in a runtime that is dropped before the poll; polled by a plain thread.
  std::unique_ptr<Sleep> made_in_dead;
  {
    auto first = timetest::time_rt();
    first.block_on([](std::unique_ptr<Sleep>* o) -> Task<> {
      *o = std::make_unique<Sleep>(ttime::sleep(std::chrono::seconds(100)));
      co_return;
    }(&made_in_dead));
  }
  CHECK(poll_error(*made_in_dead).find("outside a tokio runtime") != std::string::npos);
  CHECK_FALSE(made_in_dead->is_elapsed());
  // Polled again: the same error (the state is kept), not a completion.
  CHECK(poll_error(*made_in_dead).find("outside a tokio runtime") != std::string::npos);

  // Made in a runtime that still runs; polled from a runtime without timers.
  auto alive = timetest::time_rt();
  std::unique_ptr<Sleep> made_in_alive;
  alive.block_on([](std::unique_ptr<Sleep>* o) -> Task<> {
    *o = std::make_unique<Sleep>(ttime::sleep(ms(5)));
    co_return;
  }(&made_in_alive));
  auto no_timers = tokio::runtime::Builder::new_current_thread().enable_io().build();
  std::string in_no_timers;
  no_timers.block_on([](Sleep* s, std::string* out, std::string (*err)(Sleep&)) -> Task<> {
    *out = err(*s);
    co_return;
  }(made_in_alive.get(), &in_no_timers, +poll_error));
  CHECK(in_no_timers.find("enable_time") != std::string::npos);
  // Then awaited on a runtime with timers: it registers there and sleeps to its deadline.
  alive.block_on([](Sleep* s) -> Task<> { co_await *s; }(made_in_alive.get()));
  CHECK(made_in_alive->is_elapsed());
  CHECK(Instant::now() >= made_in_alive->deadline());
}

TEST_CASE("sleep: a block_on on a multi-thread runtime wakes the driver it registers with") {
  auto rt = timetest::time_mt(2);
  // Let the workers go idle (one parks in the driver with no deadline).
  std::this_thread::sleep_for(ms(20));
  auto start = std::chrono::steady_clock::now();
  rt.block_on(ttime::sleep(ms(10)));
  CHECK(std::chrono::steady_clock::now() - start >= ms(10));
  // A long timer parks the driver until its deadline; a shorter one registered later from
  // outside must unpark it.
  rt.spawn([]() -> Task<> { co_await ttime::sleep(std::chrono::seconds(30)); }());
  std::this_thread::sleep_for(ms(20));
  start = std::chrono::steady_clock::now();
  rt.block_on(ttime::sleep(ms(10)));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= ms(10));
  CHECK(took < std::chrono::seconds(10));
}

TEST_CASE("a Sleep or an Interval's tick awaited by two operations at once is an error") {
  // One timer entry holds one waker: a second task's await replaced the first's waker and
  // the first never woke. The second await now throws; one at a time is fine.
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    rt.block_on([]() -> Task<> {
      // Durations are long enough that a loaded host cannot let a deadline pass before the
      // second await is made (CI runs with other jobs).
      Sleep s = ttime::sleep(ms(2000));  // never awaited to the end
      CHECK_THROWS_WITH_AS((void)co_await tokio::join(s, s),
                           doctest::Contains("a time::Sleep awaited by two operations at once"),
                           std::logic_error);
      // Two tasks awaiting one shared Sleep: whichever comes second is refused (the first
      // holds it for 200 ms, so the two overlap), and the other completes.
      auto shared = std::make_shared<Sleep>(ttime::sleep(ms(200)));
      auto h = tokio::spawn(
          [](std::shared_ptr<Sleep> s) -> Task<bool> {
            try {
              co_await *s;
            } catch (const std::logic_error&) {
              co_return true;
            }
            co_return false;
          },
          shared);
      co_await tokio::task::yield_now();
      bool refused_here = false;
      try {
        co_await *shared;
      } catch (const std::logic_error&) {
        refused_here = true;
      }
      bool refused_there = co_await h;
      CHECK(refused_here + refused_there == 1);
      co_await *shared;  // free again once both are done
      CHECK(shared->is_elapsed());
      // After a lost select, the Sleep is free: awaited again, it completes.
      Sleep s2 = ttime::sleep(ms(100));
      auto r = co_await tokio::select(s2, tokio::task::yield_now());
      CHECK(r.index() == 1);
      co_await s2;
      CHECK(s2.is_elapsed());

      auto iv = ttime::interval(ms(50));
      (void)co_await iv.tick();  // the first tick is immediate: both of the join's pend
      CHECK_THROWS_WITH_AS((void)co_await tokio::join(iv.tick(), iv.tick()),
                           doctest::Contains("time::Interval's tick() awaited by two"),
                           std::logic_error);
      (void)co_await iv.tick();
      // A Tick claims when first awaited, so one kept across a select loop can be replaced
      // by the next (Tick is assignable), and making one is never refused.
      auto spare = iv.tick();
      auto tick = iv.tick();
      int ticks = 0;
      const auto give_up = Instant::now() + ms(5000);
      while (ticks < 3 && Instant::now() < give_up) {
        auto r = co_await tokio::select(tick, tokio::task::yield_now());
        if (r.index() == 0) {
          ++ticks;
          tick = iv.tick();
        }
      }
      CHECK(ticks == 3);
      (void)spare;
    }());
  }
}
