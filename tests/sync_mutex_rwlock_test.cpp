// sync::Mutex and sync::RwLock.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::Mutex;
using tokio::sync::RwLock;

TEST_CASE("mutex: lock, try_lock, guard access, get_mut, into_inner") {
  Mutex<std::string> m("a");
  {
    auto g = m.try_lock();
    REQUIRE(g.has_value());
    **g += "b";
    CHECK_FALSE(m.try_lock().has_value());
  }
  auto g = m.try_lock();
  REQUIRE(g.has_value());
  CHECK(**g == "ab");
  CHECK((*g)->size() == 2);
  { auto drop = std::move(*g); }
  m.get_mut() += "c";
  CHECK(std::move(m).into_inner() == "abc");
}

TEST_CASE("mutex: lockers are served in FIFO order, the unlock hands over directly") {
  Mutex<int> m(0);
  auto g = m.try_lock().value();
  auto a = test::polled(m.lock());
  auto b = test::polled(m.lock());
  auto c = test::polled(m.lock());
  CHECK_FALSE(a.poll());
  CHECK_FALSE(b.poll());
  CHECK_FALSE(c.poll());
  { auto drop = std::move(g); }
  CHECK(a.woken());
  CHECK_FALSE(b.woken());
  CHECK_FALSE(m.try_lock().has_value());  // already handed to `a`: no barging
  CHECK(a.poll());
  {
    auto ga = a.take();
    *ga = 1;
  }
  CHECK(b.woken());
  CHECK(b.poll());
  (void)b.take();  // guard destroyed at once
  CHECK(c.woken());
  c.cancel();  // c was handed the lock and cancelled: it must pass it on (to nobody)
  CHECK(m.try_lock().has_value());
}

TEST_CASE("mutex: a cancelled lock() passes the lock to the next waiter") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    Mutex<int> m(0);
    auto g = co_await m.lock();
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), m.lock());
    CHECK(r.index() == 0);
    std::atomic<int> order{0};
    auto h1 = tokio::spawn(
        [](Mutex<int>* m) -> Task<> {
          auto g = co_await m->lock();
          *g += 1;
        },
        &m);
    auto h2 = tokio::spawn(
        [](Mutex<int>* m) -> Task<> {
          auto g = co_await m->lock();
          *g += 10;
        },
        &m);
    for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    h1.abort();
    { auto drop = std::move(g); }
    (void)co_await h1.result();
    co_await h2;
    auto g2 = co_await m.lock();
    CHECK((*g2 == 10 || *g2 == 11));
    (void)order;
  }());
}

TEST_CASE("mutex: owned guard moves into another task and keeps the mutex alive") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto m = std::make_shared<Mutex<std::vector<int>>>();
    auto g = co_await Mutex<std::vector<int>>::lock_owned(m);
    std::weak_ptr<Mutex<std::vector<int>>> weak = m;
    m.reset();
    auto h = tokio::spawn(
        [](tokio::sync::OwnedMutexGuard<std::vector<int>> g) -> Task<std::size_t> {
          g->push_back(1);
          co_await tokio::task::yield_now();
          co_return g->size();
        },
        std::move(g));
    CHECK(co_await h == 1);
    CHECK(weak.expired());
    auto m2 = std::make_shared<Mutex<int>>(5);
    auto t = Mutex<int>::try_lock_owned(m2);
    REQUIRE(t.has_value());
    CHECK_FALSE(Mutex<int>::try_lock_owned(m2).has_value());
  }());
}

TEST_CASE("mutex: map narrows a guard") {
  struct P {
    int x = 0;
    int y = 0;
  };
  Mutex<P> m;
  {
    auto g = m.try_lock().value();
    auto y = tokio::sync::MutexGuard<P>::map(std::move(g), [](P& p) { return &p.y; });
    *y = 7;
    CHECK_FALSE(m.try_lock().has_value());
  }
  CHECK(m.try_lock().value()->y == 7);
}

TEST_CASE("guards: owned and rwlock map forms, one set of move rules") {
  struct P {
    int x = 0;
    int y = 0;
  };
  using tokio::sync::MutexGuard;
  using tokio::sync::OwnedMutexGuard;
  using tokio::sync::OwnedRwLockReadGuard;
  using tokio::sync::OwnedRwLockWriteGuard;
  using tokio::sync::RwLockReadGuard;
  using tokio::sync::RwLockWriteGuard;
  // Move-assigning over a guard releases what it held first; a moved-from guard releases
  // nothing.
  Mutex<int> m1(1);
  Mutex<int> m2(2);
  {
    auto a = m1.try_lock().value();
    auto b = m2.try_lock().value();
    CHECK(a.mutex() == &m1);
    a = std::move(b);
    CHECK(m1.try_lock().has_value());
    CHECK_FALSE(m2.try_lock().has_value());
    CHECK(*a == 2);
  }
  CHECK(m2.try_lock().has_value());
  // Owned mutex map: the mapped guard keeps the mutex alive and locked.
  auto om = std::make_shared<Mutex<P>>();
  std::weak_ptr<Mutex<P>> weak = om;
  {
    auto g = Mutex<P>::try_lock_owned(om).value();
    CHECK(g.mutex() == om);
    auto x = OwnedMutexGuard<P>::map(std::move(g), [](P& p) { return &p.x; });
    om.reset();
    CHECK_FALSE(weak.expired());
    *x = 5;
    CHECK_FALSE(Mutex<P>::try_lock_owned(weak.lock()).has_value());
  }
  CHECK(weak.expired());
  // RwLock maps: a mapped read guard is still a read guard, a mapped write guard still
  // excludes everyone.
  RwLock<P> l(P{1, 2});
  {
    auto r = RwLockReadGuard<P>::map(l.try_read().value(), [](const P& p) { return &p.y; });
    CHECK(*r == 2);
    CHECK(l.try_read().has_value());
    CHECK_FALSE(l.try_write().has_value());
  }
  {
    auto w = RwLockWriteGuard<P>::map(l.try_write().value(), [](P& p) { return &p.x; });
    *w = 3;
    CHECK_FALSE(l.try_read().has_value());
  }
  CHECK(l.try_read().value()->x == 3);
  auto ol = std::make_shared<RwLock<P>>(P{4, 5});
  {
    auto r = OwnedRwLockReadGuard<P>::map(RwLock<P>::try_read_owned(ol).value(),
                                          [](const P& p) { return &p.x; });
    CHECK(*r == 4);
    CHECK(RwLock<P>::try_read_owned(ol).has_value());
    CHECK_FALSE(RwLock<P>::try_write_owned(ol).has_value());
  }
  std::weak_ptr<RwLock<P>> lweak = ol;
  {
    auto w = OwnedRwLockWriteGuard<P>::map(RwLock<P>::try_write_owned(ol).value(),
                                           [](P& p) { return &p.y; });
    CHECK_FALSE(RwLock<P>::try_read_owned(ol).has_value());
    ol.reset();  // the mapped guard keeps the lock alive
    CHECK_FALSE(lweak.expired());
    *w = 6;
    ol = lweak.lock();
  }
  CHECK(RwLock<P>::try_read_owned(ol).value()->y == 6);
}

TEST_CASE("guards: try_map narrows, or hands the guard back when f finds nothing") {
  struct P {
    int x = 0;
    std::optional<int> maybe;
  };
  using tokio::sync::MutexGuard;
  using tokio::sync::OwnedMutexGuard;
  using tokio::sync::OwnedRwLockReadGuard;
  using tokio::sync::OwnedRwLockWriteGuard;
  using tokio::sync::RwLockReadGuard;
  using tokio::sync::RwLockWriteGuard;
  auto some = [](P& p) { return p.maybe ? &*p.maybe : nullptr; };
  auto some_const = [](const P& p) { return p.maybe ? &*p.maybe : nullptr; };
  Mutex<P> m;
  {
    auto r = MutexGuard<P>::try_map(m.try_lock().value(), some);
    REQUIRE_FALSE(r.has_value());
    MutexGuard<P> back = std::move(r).error();  // still locked, the whole value
    CHECK_FALSE(m.try_lock().has_value());
    back->maybe = 3;
    auto mapped = MutexGuard<P>::try_map(std::move(back), some);
    REQUIRE(mapped.has_value());
    **mapped = 4;
    CHECK_FALSE(m.try_lock().has_value());
  }
  CHECK(m.try_lock().value()->maybe == 4);
  auto om = std::make_shared<Mutex<P>>();
  {
    auto r = OwnedMutexGuard<P>::try_map(Mutex<P>::try_lock_owned(om).value(), some);
    REQUIRE_FALSE(r.has_value());
    CHECK(std::move(r).error().mutex() == om);
  }
  CHECK(Mutex<P>::try_lock_owned(om).has_value());
  RwLock<P> l(P{1, 9});
  {
    auto r = RwLockReadGuard<P>::try_map(l.try_read().value(), some_const);
    REQUIRE(r.has_value());
    CHECK(**r == 9);
    CHECK(l.try_read().has_value());
    CHECK_FALSE(l.try_write().has_value());
  }
  {
    auto w =
        RwLockWriteGuard<P>::try_map(l.try_write().value(), [](P&) -> int* { return nullptr; });
    REQUIRE_FALSE(w.has_value());
    CHECK_FALSE(l.try_read().has_value());  // the write guard came back, still held
  }
  CHECK(l.try_write().has_value());
  auto ol = std::make_shared<RwLock<P>>(P{4, std::nullopt});
  {
    auto r = OwnedRwLockReadGuard<P>::try_map(RwLock<P>::try_read_owned(ol).value(), some_const);
    CHECK_FALSE(r.has_value());
    CHECK_FALSE(RwLock<P>::try_write_owned(ol).has_value());  // the read guard came back
  }
  {
    auto w = OwnedRwLockWriteGuard<P>::try_map(RwLock<P>::try_write_owned(ol).value(), some);
    CHECK_FALSE(w.has_value());
    CHECK_FALSE(RwLock<P>::try_read_owned(ol).has_value());
  }
  CHECK(RwLock<P>::try_write_owned(ol).has_value());
}

TEST_CASE("guards: `g = {}` releases; a moved-from or emptied guard refuses access") {
  Mutex<int> m(1);
  auto g = m.try_lock().value();
  g = {};  // drop(g)
  auto g2 = m.try_lock();
  REQUIRE(g2.has_value());
  CHECK_THROWS_WITH_AS((void)*g, doctest::Contains("empty lock guard"), std::logic_error);
  auto moved = std::move(*g2);
  // The moved-from guard no longer locks anything: writing through it would race with
  // whoever locks next, so it throws instead.
  CHECK_THROWS_AS(*(*g2) = 5, std::logic_error);
  *moved = 7;
  moved = {};
  CHECK(*m.try_lock().value() == 7);
  RwLock<int> l(3);
  auto r = l.try_read().value();
  auto w_blocked = l.try_write();
  CHECK_FALSE(w_blocked.has_value());
  r = {};
  auto w = l.try_write().value();
  *w = 4;
  auto w2 = std::move(w);
  CHECK_THROWS_AS(*w = 5, std::logic_error);
  w2 = {};
  CHECK(*l.try_read().value() == 4);
  auto om = std::make_shared<Mutex<int>>(8);
  auto og = Mutex<int>::try_lock_owned(om).value();
  og = {};
  CHECK(Mutex<int>::try_lock_owned(om).has_value());
  CHECK_THROWS_AS((void)*og, std::logic_error);
  // map of an empty guard: the same error, not a null dereference.
  auto empty = tokio::sync::MutexGuard<int>();
  CHECK_THROWS_AS(
      (void)tokio::sync::MutexGuard<int>::map(std::move(empty), [](int& v) { return &v; }),
      std::logic_error);
}

TEST_CASE("mutex: blocking_lock from plain threads, refused inside the runtime") {
  Mutex<int> m(0);
  std::vector<std::thread> ts;
  const int n = static_cast<int>(test::scaled(2000));
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < n; ++i) *m.blocking_lock() += 1;
    });
  }
  auto rt = test::multi_thread(2);
  rt.block_on([](Mutex<int>* m, int n) -> Task<> {
    for (int i = 0; i < n; ++i) *(co_await m->lock()) += 1;
    CHECK_THROWS_AS((void)m->blocking_lock(), std::logic_error);
  }(&m, n));
  for (auto& t : ts) t.join();
  CHECK(*m.try_lock().value() == 5 * n);
}

TEST_CASE("mutex: 8 tasks increment a shared counter without losing updates") {
  auto rt = test::multi_thread(4);
  const int n = static_cast<int>(test::scaled(5000));
  auto m = std::make_shared<Mutex<long>>(0);
  std::vector<tokio::JoinHandle<void>> hs;
  for (int t = 0; t < 8; ++t) {
    hs.push_back(rt.spawn(
        [](std::shared_ptr<Mutex<long>> m, int n) -> Task<> {
          for (int i = 0; i < n; ++i) {
            auto g = co_await m->lock();
            long v = *g;
            if (i % 16 == 0) co_await tokio::task::yield_now();  // hold it across an await
            *g = v + 1;
          }
        },
        m, n));
  }
  rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&hs));
  CHECK(*m->try_lock().value() == 8L * n);
}

// --- RwLock ------------------------------------------------------------------------------

TEST_CASE("rwlock: many readers, one writer, try forms") {
  RwLock<int> l(1);
  {
    auto r1 = l.try_read();
    auto r2 = l.try_read();
    REQUIRE(r1.has_value());
    REQUIRE(r2.has_value());
    CHECK(**r1 == 1);
    CHECK_FALSE(l.try_write().has_value());
  }
  {
    auto w = l.try_write();
    REQUIRE(w.has_value());
    **w = 2;
    CHECK_FALSE(l.try_read().has_value());
    CHECK_FALSE(l.try_write().has_value());
  }
  CHECK(**l.try_read() == 2);
}

TEST_CASE("rwlock: write-preferring: readers arriving after a queued writer wait for it") {
  RwLock<int> l(0);
  auto r1 = l.try_read().value();
  auto w = test::polled(l.write());
  CHECK_FALSE(w.poll());
  auto r2 = test::polled(l.read());
  CHECK_FALSE(r2.poll());  // behind the writer
  CHECK_FALSE(l.try_read().has_value());
  { auto drop = std::move(r1); }
  CHECK(w.woken());
  CHECK_FALSE(r2.woken());
  CHECK(w.poll());
  {
    auto g = w.take();
    *g = 5;
  }
  CHECK(r2.woken());
  CHECK(r2.poll());
  CHECK(*r2.take() == 5);
}

TEST_CASE("rwlock: a cancelled writer gives back the read permits it collected") {
  RwLock<int> l(0);
  auto r1 = l.try_read().value();
  auto r2 = l.try_read().value();
  auto w = test::polled(l.write());
  auto r3 = test::polled(l.read());
  CHECK_FALSE(w.poll());
  CHECK_FALSE(r3.poll());
  { auto drop = std::move(r1); }  // the writer collects this permit
  CHECK_FALSE(r3.woken());
  w.cancel();  // everything it held goes on: r3 may read now
  CHECK(r3.woken());
  CHECK(r3.poll());
  { auto g = r3.take(); }
  { auto drop = std::move(r2); }
  CHECK(l.try_write().has_value());
}

TEST_CASE("rwlock: max readers, downgrade, owned guards") {
  CHECK_THROWS_AS(RwLock<int>(0, 0), std::invalid_argument);
  CHECK_THROWS_AS(RwLock<int>(0, RwLock<int>::MAX_READS + 1), std::invalid_argument);
  auto l = RwLock<int>::with_max_readers(3, 2);
  CHECK(l.max_readers() == 2);
  {
    auto a = l.try_read();
    auto b = l.try_read();
    CHECK(a.has_value());
    CHECK(b.has_value());
    CHECK_FALSE(l.try_read().has_value());
  }
  {
    auto w = l.try_write().value();
    *w = 4;
    auto r = tokio::sync::RwLockWriteGuard<int>::downgrade(std::move(w));
    CHECK(*r == 4);
    CHECK(l.try_read().has_value());  // other readers may join
    CHECK_FALSE(l.try_write().has_value());
  }
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto l = std::make_shared<RwLock<int>>(1);
    auto r = co_await RwLock<int>::read_owned(l);
    CHECK(*r == 1);
    CHECK_FALSE(RwLock<int>::try_write_owned(l).has_value());
    { auto drop = std::move(r); }
    auto w = co_await RwLock<int>::write_owned(l);
    *w = 2;
    auto rr = tokio::sync::OwnedRwLockWriteGuard<int>::downgrade(std::move(w));
    CHECK(*rr == 2);
    CHECK(RwLock<int>::try_read_owned(l).has_value());
  }());
}

TEST_CASE("rwlock: blocking forms from plain threads") {
  RwLock<int> l(0);
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) *l.blocking_write() += 1;
    CHECK(*l.blocking_read() >= 100);
  });
  auto rt = test::multi_thread(2);
  rt.block_on([](RwLock<int>* l) -> Task<> {
    for (int i = 0; i < 100; ++i) *(co_await l->write()) += 1;
    CHECK_THROWS_AS((void)l->blocking_read(), std::logic_error);
  }(&l));
  t.join();
  CHECK(*l.try_read().value() == 200);
}

TEST_CASE("rwlock: readers never see a half-done write under contention") {
  auto rt = test::multi_thread(4);
  const int n = static_cast<int>(test::scaled(3000));
  auto l = std::make_shared<RwLock<std::pair<long, long>>>(std::pair<long, long>{0, 0});
  std::atomic<int> torn{0};
  std::vector<tokio::JoinHandle<void>> hs;
  for (int t = 0; t < 8; ++t) {
    hs.push_back(rt.spawn(
        [](std::shared_ptr<RwLock<std::pair<long, long>>> l, int n, int t,
           std::atomic<int>* torn) -> Task<> {
          for (int i = 0; i < n; ++i) {
            if ((i + t) % 4 == 0) {
              auto w = co_await l->write();
              w->first += 1;
              if (i % 8 == 0) co_await tokio::task::yield_now();
              w->second += 1;
            } else {
              auto r = co_await l->read();
              if (r->first != r->second) torn->fetch_add(1);
            }
          }
        },
        l, n, t, &torn));
  }
  rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&hs));
  CHECK(torn.load() == 0);
  auto r = l->try_read().value();
  CHECK(r->first == r->second);
  long writes = 0;
  for (int t = 0; t < 8; ++t) {
    for (int i = 0; i < n; ++i) writes += (i + t) % 4 == 0;
  }
  CHECK(r->first == writes);
}
