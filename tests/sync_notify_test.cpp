// sync::Notify, sync::Barrier, sync::OnceCell.
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::Barrier;
using tokio::sync::Notify;
using tokio::sync::OnceCell;

TEST_CASE("notify: notify_one with nobody waiting stores exactly one permit") {
  Notify n;
  n.notify_one();
  n.notify_one();  // absorbed: at most one permit
  auto a = test::polled(n.notified());
  CHECK(a.poll());
  auto b = test::polled(n.notified());
  CHECK_FALSE(b.poll());
  n.notify_one();
  CHECK(b.woken());
  CHECK(b.poll());
}

TEST_CASE("notify: notify_one wakes the oldest waiter, notify_last the newest") {
  Notify n;
  auto a = test::polled(n.notified());
  auto b = test::polled(n.notified());
  auto c = test::polled(n.notified());
  CHECK_FALSE(a.poll());
  CHECK_FALSE(b.poll());
  CHECK_FALSE(c.poll());
  n.notify_one();
  CHECK(a.woken());
  CHECK_FALSE(b.woken());
  n.notify_last();
  CHECK(c.woken());
  CHECK_FALSE(b.woken());
  CHECK(a.poll());
  CHECK(c.poll());
  CHECK_FALSE(b.poll());
  n.notify_one();
  CHECK(b.poll());
  // No permit was stored along the way.
  auto d = test::polled(n.notified());
  CHECK_FALSE(d.poll());
}

TEST_CASE("notify: notify_waiters wakes current waiters and created-not-polled futures only") {
  Notify n;
  auto a = test::polled(n.notified());
  CHECK_FALSE(a.poll());
  auto b = test::polled(n.notified());  // created, never polled before the call
  n.notify_waiters();
  auto c = test::polled(n.notified());  // created after the call
  CHECK(a.woken());
  CHECK(a.poll());
  CHECK(b.poll());
  CHECK_FALSE(c.poll());  // notify_waiters stores no permit
  n.notify_waiters();
  CHECK(c.poll());
}

namespace tokio::detail {
// Declared a friend by Notify (the one test access to its state word).
struct NotifyTestHook {
  static void set_waiters_calls(Notify& n, std::size_t calls) {
    n.state_.store(calls << Notify::CALLS_SHIFT, std::memory_order_seq_cst);
  }
  static void lock(Notify& n) { n.lock_.lock(); }
  static void unlock(Notify& n) { n.lock_.unlock(); }
};
}  // namespace tokio::detail

TEST_CASE("notify: the notify_waiters count wrapping past 2^32 still completes every future") {
  // A Notified keeps the low 32 bits of the count (to stay 40 bytes): the wrap from
  // 0xffffffff to 0 must read as a change, in both the waiting and the not-yet-polled case.
  if constexpr (sizeof(std::size_t) == 8) {
    Notify n;
    tokio::detail::NotifyTestHook::set_waiters_calls(n, (std::size_t{1} << 32) - 1);
    auto waiting = test::polled(n.notified());
    CHECK_FALSE(waiting.poll());
    auto fresh = test::polled(n.notified());  // created before the call, polled after it
    n.notify_waiters();                       // the count is now 2^32: low 32 bits 0
    CHECK(waiting.woken());
    CHECK(waiting.poll());
    CHECK(fresh.poll());
    auto after = test::polled(n.notified());  // created after the call: not completed
    CHECK_FALSE(after.poll());
    n.notify_waiters();
    CHECK(after.poll());
  }
}

TEST_CASE("notify: enable() makes a future count as a waiter before it is awaited") {
  Notify n;
  auto a = test::polled(n.notified());
  CHECK_FALSE(a.leaf().enable());
  n.notify_one();  // goes to `a`, not into a stored permit
  auto b = test::polled(n.notified());
  CHECK_FALSE(b.poll());
  CHECK(a.poll());
  n.notify_one();
  CHECK(b.woken());
  // enable() on an already-stored permit completes at once.
  n.notify_one();
  auto c = test::polled(n.notified());
  CHECK(c.leaf().enable());
  CHECK(c.poll());
}

TEST_CASE("notify: a notification given to a future that is dropped passes on") {
  Notify n;
  {
    auto a = test::polled(n.notified());
    auto b = test::polled(n.notified());
    CHECK_FALSE(a.poll());
    CHECK_FALSE(b.poll());
    n.notify_one();  // to a
    a.cancel();      // a never saw it: b gets it
    CHECK(b.woken());
    CHECK(b.poll());
  }
  {
    auto a = test::polled(n.notified());
    CHECK_FALSE(a.poll());
    n.notify_one();
    a.cancel();  // nobody else waits: the permit is stored
    auto c = test::polled(n.notified());
    CHECK(c.poll());
  }
  {
    // A notify_waiters notification is not passed on.
    auto a = test::polled(n.notified());
    CHECK_FALSE(a.poll());
    n.notify_waiters();
    auto b = test::polled(n.notified());
    CHECK_FALSE(b.poll());
    a.cancel();
    CHECK_FALSE(b.poll());
    n.notify_one();
    CHECK(b.poll());
  }
  {
    // A cancelled waiter that was never notified just leaves; its waker is released.
    auto a = test::polled(n.notified());
    CHECK_FALSE(a.poll());
    auto& w = a.waker();
    CHECK(w.outstanding() == 1);
    a.cancel();
    CHECK(w.outstanding() == 0);
    n.notify_one();
    auto c = test::polled(n.notified());
    CHECK(c.poll());
  }
}

TEST_CASE("notify: an enabled Notified may be moved; it stays queued") {
  Notify n;
  auto first = n.notified();
  CHECK_FALSE(first.enable());
  auto moved = std::make_unique<tokio::sync::Notified>(std::move(first));
  n.notify_one();  // reaches the moved future
  auto other = test::polled(n.notified());
  CHECK_FALSE(other.poll());
  auto w = test::CountingWaker::create();
  tokio::task::Context cx(w->raw());
  CHECK(moved->poll(cx));
}

TEST_CASE("notify: one Notified awaited by two tasks at once is an error, not a lost wake") {
  auto rt = test::either_flavour_all(false);  // current thread: the first task runs first
  rt.block_on([]() -> Task<> {
    auto n = std::make_shared<Notify>();
    auto f = std::make_shared<tokio::sync::Notified>(n->notified());
    auto first =
        tokio::spawn([](std::shared_ptr<tokio::sync::Notified> f) -> Task<> { co_await *f; }, f);
    co_await tokio::task::yield_now();  // the first task now waits on *f
    // A second await of the same object is refused: it would have replaced the first
    // task's waker, and the first would have waited for ever.
    CHECK_THROWS_WITH_AS((void)co_await tokio::time::timeout(10ms, *f),
                         doctest::Contains("a sync::Notified awaited by two operations at once"),
                         std::logic_error);
    n->notify_waiters();
    auto done = co_await tokio::time::timeout(10s, std::move(first));
    CHECK(done.has_value());  // the first was woken (had it thrown, the await rethrows)
    // A join naming one Notified twice is refused before either is polled; one await at a
    // time is fine, and the claim goes with the awaiter that lost a select.
    auto g = n->notified();
    CHECK_THROWS_AS((void)co_await tokio::join(g, g), std::logic_error);
    auto lost = co_await tokio::select(g, tokio::task::yield_now());
    CHECK(lost.index() == 1);
    n->notify_one();
    co_await g;
  }());
}

TEST_CASE("notify: wake from another thread and from inside the runtime") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    Notify n;
    std::thread t([&] {
      std::this_thread::sleep_for(5ms);
      n.notify_one();
    });
    co_await n.notified();
    t.join();
    auto h = tokio::spawn(
        [](Notify* n) -> Task<> {
          co_await tokio::task::yield_now();
          n->notify_one();
        },
        &n);
    co_await n.notified();
    co_await h;
  }());
}

TEST_CASE("notify: notified() losing a select loses no notify_one") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    Notify n;
    const int rounds = static_cast<int>(test::scaled(2000));
    std::atomic<int> got{0};
    // One notification at a time (Notify coalesces permits): the next is sent once the
    // previous was consumed, so a lost one would hang this test.
    auto h = tokio::spawn(
        [](Notify* n, std::atomic<int>* got, int rounds) -> Task<> {
          for (int i = 0; i < rounds; ++i) {
            n->notify_one();
            while (got->load() <= i) co_await tokio::task::yield_now();
          }
        },
        &n, &got, rounds);
    while (got.load() < rounds) {
      if (got.load() % 2 == 0) {
        co_await n.notified();
        got.fetch_add(1);
      } else {
        auto r = co_await tokio::select(n.notified(), tokio::task::yield_now());
        if (r.index() == 0) got.fetch_add(1);
      }
    }
    co_await h;
    CHECK(got.load() == rounds);
  }());
}

TEST_CASE("notify: notify_waiters with many waiters across threads") {
  auto rt = test::multi_thread(4);
  const int waiters = 100;
  auto n = std::make_shared<Notify>();
  std::atomic<int> woke{0};
  std::atomic<int> ready{0};
  std::vector<tokio::JoinHandle<void>> hs;
  for (int i = 0; i < waiters; ++i) {
    hs.push_back(rt.spawn(
        [](std::shared_ptr<Notify> n, std::atomic<int>* woke, std::atomic<int>* ready) -> Task<> {
          auto f = n->notified();
          f.enable();
          ready->fetch_add(1);
          co_await f;
          woke->fetch_add(1);
        },
        n, &woke, &ready));
  }
  REQUIRE(test::eventually([&] { return ready.load() == waiters; }));
  n->notify_waiters();
  rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&hs));
  CHECK(woke.load() == waiters);
}

// --- Barrier -----------------------------------------------------------------------------

TEST_CASE("barrier: releases groups of n, exactly one leader per generation") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    const int n = 5;
    Barrier b(n);
    std::atomic<int> leaders{0};
    std::atomic<int> passed{0};
    std::vector<tokio::JoinHandle<void>> hs;
    for (int gen = 0; gen < 3; ++gen) {
      for (int i = 0; i < n; ++i) {
        hs.push_back(tokio::spawn(
            [](Barrier* b, std::atomic<int>* leaders, std::atomic<int>* passed) -> Task<> {
              auto r = co_await b->wait();
              if (r.is_leader()) leaders->fetch_add(1);
              passed->fetch_add(1);
            },
            &b, &leaders, &passed));
      }
    }
    for (auto& h : hs) co_await h;
    CHECK(leaders.load() == 3);
    CHECK(passed.load() == 3 * n);
  }());
}

TEST_CASE("barrier: waits until the n-th arrival; n == 0 behaves like 1") {
  Barrier b(3);
  auto a = test::polled(b.wait());
  auto c = test::polled(b.wait());
  CHECK_FALSE(a.poll());
  CHECK_FALSE(c.poll());
  auto d = test::polled(b.wait());
  CHECK(d.poll());
  CHECK(d.take().is_leader());
  CHECK(a.woken());
  CHECK(c.woken());
  CHECK(a.poll());
  CHECK(c.poll());
  CHECK_FALSE(a.take().is_leader());
  Barrier zero(0);
  auto z = test::polled(zero.wait());
  CHECK(z.poll());
  CHECK(z.take().is_leader());
}

TEST_CASE("barrier: a cancelled wait still counts its arrival and leaves no waiter behind") {
  Barrier b(2);
  {
    auto a = test::polled(b.wait());
    CHECK_FALSE(a.poll());
    auto& w = a.waker();
    a.cancel();
    CHECK(w.outstanding() == 0);
  }
  auto c = test::polled(b.wait());
  CHECK(c.poll());  // the cancelled arrival counted
  CHECK(c.take().is_leader());
}

// --- OnceCell ----------------------------------------------------------------------------

TEST_CASE("once_cell: get_or_init runs one initializer among concurrent callers") {
  auto rt = test::multi_thread(4);
  auto cell = std::make_shared<OnceCell<std::string>>();
  std::atomic<int> inits{0};
  std::vector<tokio::JoinHandle<std::string>> hs;
  for (int i = 0; i < 16; ++i) {
    hs.push_back(rt.spawn(
        [](std::shared_ptr<OnceCell<std::string>> cell,
           std::atomic<int>* inits) -> Task<std::string> {
          const std::string& v = co_await cell->get_or_init([inits]() -> Task<std::string> {
            inits->fetch_add(1);
            co_await tokio::task::yield_now();
            co_return std::string("value");
          });
          co_return v;
        },
        cell, &inits));
  }
  rt.block_on([](std::vector<tokio::JoinHandle<std::string>>* hs) -> Task<> {
    for (auto& h : *hs) CHECK(co_await h == "value");
  }(&hs));
  CHECK(inits.load() == 1);
  CHECK(cell->initialized());
  CHECK(*cell->get() == "value");
}

TEST_CASE("once_cell: a failing or cancelled initializer lets the next caller initialize") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    OnceCell<int> cell;
    CHECK(cell.get() == nullptr);
    bool threw = false;
    try {
      (void)co_await cell.get_or_init([]() -> Task<int> {
        throw std::runtime_error("init failed");
        co_return 0;
      });
    } catch (const std::runtime_error&) {
      threw = true;
    }
    CHECK(threw);
    CHECK_FALSE(cell.initialized());
    // Cancelled mid-initialization (loses a select against a ready branch).
    auto r = co_await tokio::select_biased(cell.get_or_init([]() -> Task<int> {
      for (;;) co_await tokio::task::yield_now();
    }),
                                           tokio::task::yield_now());
    CHECK(r.index() == 1);
    CHECK_FALSE(cell.initialized());
    auto e = co_await cell.get_or_try_init([]() -> Task<tokio::Result<int, std::string>> {
      co_return tokio::unexpected(std::string("nope"));
    });
    CHECK(e.error() == "nope");
    const int& v = (co_await cell.get_or_try_init([]() -> Task<tokio::Result<int, std::string>> {
                     co_return 9;
                   })).value();
    CHECK(v == 9);
    CHECK((co_await cell.get_or_init([]() -> Task<int> { co_return 1; })).get() == 9);

    // The f, args... forms: the arguments are copied into the call (a capture-less lambda
    // with a shared_ptr argument is the g++ 12-safe way to hand an initializer state).
    auto base = std::make_shared<int>(41);
    OnceCell<int> c3;
    const int& w = co_await c3.get_or_init(
        [](std::shared_ptr<int> b, int add) -> Task<int> { co_return *b + add; }, base, 1);
    CHECK(w == 42);
    OnceCell<int> c4;
    auto t = co_await c4.get_or_try_init(
        [](std::shared_ptr<int> b) -> Task<tokio::Result<int, std::string>> { co_return *b; },
        base);
    CHECK(t.value().get() == 41);
    CHECK(base.use_count() == 1);  // every copy is gone again
    // A member function with its object (a pointer or a shared_ptr), as spawn takes it.
    struct Loader {
      int base;
      Task<int> load(int add) { co_return base + add; }
      Task<tokio::Result<int, std::string>> try_load() { co_return base; }
    };
    auto loader = std::make_shared<Loader>(Loader{30});
    OnceCell<int> c5;
    CHECK((co_await c5.get_or_init(&Loader::load, loader, 3)).get() == 33);
    OnceCell<int> c6;
    auto t6 = co_await c6.get_or_try_init(&Loader::try_load, loader.get());
    CHECK(t6.value().get() == 30);
    CHECK(loader.use_count() == 1);

    // set() while an initializer runs: InitializingError, the value comes back.
    OnceCell<int> c2;
    auto [tx, rx] = tokio::sync::oneshot::channel<int>();
    std::atomic<bool> started{false};
    auto h = tokio::spawn(
        [](OnceCell<int>* c, tokio::sync::oneshot::Receiver<int> rx,
           std::atomic<bool>* started) -> Task<int> {
          co_return (co_await c->get_or_init([&rx, started]() -> Task<int> {
            started->store(true);
            co_return (co_await rx).value();
          })).get();
        },
        &c2, std::move(rx), &started);
    while (!started.load()) co_await tokio::task::yield_now();
    auto busy = c2.set(5);
    REQUIRE_FALSE(busy.has_value());
    CHECK(busy.error().is_initializing_err());
    CHECK(busy.error().value == 5);
    (void)tx.send(6);
    CHECK(co_await h == 6);
  }());
}

TEST_CASE("once_cell: a waiter takes over when the running initializer's task is aborted") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    OnceCell<int> cell;
    std::atomic<int> ran_a{0}, ran_b{0};
    std::atomic<int> drops{0};
    // A starts initializing and never finishes on its own.
    auto a = tokio::spawn(
        [](OnceCell<int>* c, std::atomic<int>* ran, test::DropCounter) -> Task<int> {
          co_return (co_await c->get_or_init([ran]() -> Task<int> {
            ran->fetch_add(1);
            for (;;) co_await tokio::task::yield_now();
          })).get();
        },
        &cell, &ran_a, test::DropCounter(drops));
    while (ran_a.load() == 0) co_await tokio::task::yield_now();
    // B queues behind A's initializer.
    auto b = tokio::spawn(
        [](OnceCell<int>* c, std::atomic<int>* ran) -> Task<int> {
          co_return (co_await c->get_or_init([ran]() -> Task<int> {
            ran->fetch_add(1);
            co_return 42;
          })).get();
        },
        &cell, &ran_b);
    for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
    CHECK(ran_b.load() == 0);  // still waiting for A
    CHECK_FALSE(cell.initialized());
    a.abort();
    CHECK_FALSE((co_await a.result()).has_value());
    CHECK(drops.load() == 1);
    CHECK(co_await b == 42);  // B ran its own initializer
    CHECK(ran_b.load() == 1);
    CHECK(ran_a.load() == 1);
    CHECK(*cell.get() == 42);
  }());
}

TEST_CASE("once_cell: set, take and construction with a value") {
  OnceCell<std::unique_ptr<int>> cell;
  CHECK(cell.set(std::make_unique<int>(1)).has_value());
  auto again = cell.set(std::make_unique<int>(2));
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().is_already_init_err());
  CHECK(*again.error().value == 2);
  CHECK(**cell.get() == 1);
  auto taken = cell.take();
  REQUIRE(taken.has_value());
  CHECK(**taken == 1);
  CHECK_FALSE(cell.initialized());
  CHECK(cell.set(std::make_unique<int>(3)).has_value());
  OnceCell<int> preset(4);
  CHECK(*preset.get() == 4);
  CHECK(std::move(preset).into_inner() == std::optional<int>(4));
  CHECK(std::move(OnceCell<int>()).into_inner() == std::nullopt);
  CHECK(**std::move(cell).into_inner() == 3);
}

// notify_waiters() that saw a waiter queued, then found the queue empty once it had the
// lock (the last waiter left in between), still counts the call: a Notified created before
// it completes. The window is held open by holding the Notify's lock while notify_waiters()
// and the waiter's drop both wait for it; which of the two gets it first varies, so the
// round repeats (a mutation run found this path untested: the waiter-left rounds lost the
// notification of `before` when the count was not moved there).
TEST_CASE("notify: notify_waiters counts the call when the last waiter left meanwhile") {
  int lost = 0;
  for (int round = 0; round < 200; ++round) {
    Notify n;
    auto leaving = std::make_unique<tokio::sync::Notified>(n.notified());
    CHECK_FALSE(leaving->enable());  // queued: the state says WAITING
    auto before = n.notified();      // made before the call
    tokio::detail::NotifyTestHook::lock(n);
    std::atomic<int> started{0};
    std::thread notifier([&] {
      started.fetch_add(1);
      n.notify_waiters();
    });
    std::thread dropper([&] {
      started.fetch_add(1);
      leaving.reset();
    });
    while (started.load() < 2) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // both at the lock
    tokio::detail::NotifyTestHook::unlock(n);
    notifier.join();
    dropper.join();
    if (!before.try_poll()) ++lost;
  }
  CHECK(lost == 0);
}
