// sync::Semaphore (and the batch semaphore under Mutex, RwLock and mpsc).
#include <deque>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
using tokio::sync::AcquireError;
using tokio::sync::Semaphore;
using tokio::sync::SemaphorePermit;
using tokio::sync::TryAcquireError;

TEST_CASE("semaphore: try_acquire, release on drop, forget, available_permits") {
  Semaphore s(2);
  CHECK(s.available_permits() == 2);
  {
    auto p1 = s.try_acquire();
    REQUIRE(p1.has_value());
    CHECK(p1->num_permits() == 1);
    auto p2 = s.try_acquire();
    REQUIRE(p2.has_value());
    CHECK(s.available_permits() == 0);
    auto p3 = s.try_acquire();
    REQUIRE_FALSE(p3.has_value());
    CHECK(p3.error() == TryAcquireError::NoPermits);
  }
  CHECK(s.available_permits() == 2);
  {
    auto p = s.try_acquire_many(2);
    REQUIRE(p.has_value());
    p->forget();
  }
  CHECK(s.available_permits() == 0);
  s.add_permits(3);
  CHECK(s.available_permits() == 3);
  CHECK(s.forget_permits(2) == 2);
  CHECK(s.forget_permits(5) == 1);
  CHECK(s.available_permits() == 0);
}

TEST_CASE("semaphore: split and merge permits") {
  Semaphore s(5);
  auto p = s.try_acquire_many(5).value();
  auto q = p.split(2);
  REQUIRE(q.has_value());
  CHECK(p.num_permits() == 3);
  CHECK(q->num_permits() == 2);
  CHECK_FALSE(p.split(4).has_value());
  p.merge(std::move(*q));
  CHECK(p.num_permits() == 5);
  Semaphore other(1);
  auto o = other.try_acquire().value();
  CHECK_THROWS_AS(p.merge(std::move(o)), std::logic_error);
  { auto drop = std::move(p); }
  CHECK(s.available_permits() == 5);
}

// Boundaries a mutation run found untested: splitting off every permit held (Tokio
// refuses only n > num_permits), and merging into an empty permit, which then takes the
// semaphore on (the permits go back when it drops).
TEST_CASE("semaphore: split of all the permits; merge into an empty permit") {
  Semaphore s(5);
  auto p = s.try_acquire_many(5).value();
  auto all = p.split(5);
  REQUIRE(all.has_value());
  CHECK(all->num_permits() == 5);
  CHECK(p.num_permits() == 0);
  CHECK(p.split(0).has_value());
  SemaphorePermit gathered;
  gathered.merge(std::move(*all));
  CHECK(gathered.num_permits() == 5);
  CHECK(s.available_permits() == 0);
  { auto drop = std::move(gathered); }
  CHECK(s.available_permits() == 5);
}

TEST_CASE("semaphore: more permits than MAX_PERMITS is a clear error") {
  CHECK_THROWS_AS(Semaphore(Semaphore::MAX_PERMITS + 1), std::invalid_argument);
  Semaphore s(Semaphore::MAX_PERMITS);
  CHECK(s.available_permits() == Semaphore::MAX_PERMITS);
  CHECK_THROWS_AS(s.add_permits(1), std::invalid_argument);
  CHECK(s.available_permits() == Semaphore::MAX_PERMITS);  // nothing was added
  Semaphore t(0);
  t.add_permits(Semaphore::MAX_PERMITS);
  CHECK_THROWS_AS(t.add_permits(Semaphore::MAX_PERMITS), std::invalid_argument);
}

TEST_CASE("semaphore: a waiter is woken when a permit comes back") {
  Semaphore s(1);
  auto held = s.try_acquire().value();
  auto a = test::polled(s.acquire());
  CHECK_FALSE(a.poll());
  CHECK_FALSE(a.woken());
  CHECK_FALSE(a.poll());  // spurious poll: still waiting, no lock needed
  { auto drop = std::move(held); }
  CHECK(a.woken());
  CHECK(a.poll());
  auto p = a.take();
  REQUIRE(p.has_value());
  CHECK(s.available_permits() == 0);
  { auto drop = std::move(*p); }
  CHECK(s.available_permits() == 1);
}

TEST_CASE("semaphore: FIFO order, and a large request holds back later small ones") {
  Semaphore s(0);
  auto big = test::polled(s.acquire_many(3));
  auto small1 = test::polled(s.acquire());
  auto small2 = test::polled(s.acquire());
  CHECK_FALSE(big.poll());
  CHECK_FALSE(small1.poll());
  CHECK_FALSE(small2.poll());
  s.add_permits(2);  // not enough for the head: it keeps them, nobody else goes
  CHECK_FALSE(small1.woken());
  CHECK_FALSE(big.woken());
  CHECK(s.available_permits() == 0);
  CHECK_FALSE(s.try_acquire().has_value());  // try_acquire cannot overtake the queue
  s.add_permits(2);                          // 1 completes the head, 1 goes to small1
  CHECK(big.woken());
  CHECK(small1.woken());
  CHECK_FALSE(small2.woken());
  CHECK(big.poll());
  CHECK(small1.poll());
  CHECK_FALSE(small2.poll());
  auto pb = big.take();
  CHECK(pb->num_permits() == 3);
  { auto drop = std::move(*pb); }  // 3 back: small2 gets one, 2 remain
  CHECK(small2.woken());
  CHECK(small2.poll());
  CHECK(s.available_permits() == 2);
}

TEST_CASE("semaphore: a cancelled waiter passes on what it was given") {
  Semaphore s(0);
  {
    auto big = test::polled(s.acquire_many(3));
    auto next = test::polled(s.acquire_many(2));
    CHECK_FALSE(big.poll());
    CHECK_FALSE(next.poll());
    s.add_permits(2);  // both to `big` (partial)
    CHECK_FALSE(next.woken());
    big.cancel();  // its 2 permits go to `next`
    CHECK(next.woken());
    CHECK(next.poll());
    CHECK(next.take()->num_permits() == 2);
  }
  CHECK(s.available_permits() == 2);
  {
    // Fully served but destroyed before it was polled again: all permits pass on.
    auto held = s.try_acquire_many(2).value();
    auto a = test::polled(s.acquire());
    auto b = test::polled(s.acquire());
    CHECK_FALSE(a.poll());
    CHECK_FALSE(b.poll());
    { auto drop = std::move(held); }  // a and b both served
    CHECK(a.woken());
    a.cancel();
    CHECK(b.poll());
    CHECK(s.available_permits() == 1);  // a's permit came back
  }
  CHECK(s.available_permits() == 2);
  {
    // Cancelled while queued with nothing given: just leaves the queue.
    auto held = s.try_acquire_many(2).value();
    auto a = test::polled(s.acquire());
    auto b = test::polled(s.acquire());
    CHECK_FALSE(a.poll());
    CHECK_FALSE(b.poll());
    a.cancel();
    CHECK(a.waker().outstanding() == 0);  // its waker was released
    { auto drop = std::move(held); }
    CHECK(b.woken());
    CHECK(b.poll());
  }
  CHECK(s.available_permits() == 2);
}

TEST_CASE("semaphore: close fails pending and future acquires; permits can still return") {
  Semaphore s(1);
  auto held = s.try_acquire().value();
  auto a = test::polled(s.acquire());
  auto b = test::polled(s.acquire_many(2));
  CHECK_FALSE(a.poll());
  CHECK_FALSE(b.poll());
  s.close();
  CHECK(s.is_closed());
  CHECK(a.woken());
  CHECK(b.woken());
  CHECK(a.poll());
  CHECK(b.poll());
  CHECK(a.take().error() == AcquireError{});
  CHECK_FALSE(b.take().has_value());
  CHECK(s.try_acquire().error() == TryAcquireError::Closed);
  auto c = test::polled(s.acquire());
  CHECK(c.poll());
  CHECK_FALSE(c.take().has_value());
  { auto drop = std::move(held); }
  CHECK(s.available_permits() == 1);
}

TEST_CASE("semaphore: waker replaced when the future moves to another task") {
  Semaphore s(0);
  auto a = test::polled(s.acquire());
  CHECK_FALSE(a.poll());
  auto other = test::CountingWaker::create();
  tokio::task::Context cx(other->raw());
  CHECK_FALSE(a.leaf().poll(cx));
  CHECK(a.waker().outstanding() == 0);  // the old waker was dropped
  s.add_permits(1);
  CHECK(other->take_woken());
  CHECK_FALSE(a.woken());
  CHECK(a.poll());
}

TEST_CASE("semaphore: acquire in tasks, owned permits moved across tasks") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto s = std::make_shared<Semaphore>(2);
    auto p = co_await Semaphore::acquire_owned(s);
    REQUIRE(p.has_value());
    CHECK(s->available_permits() == 1);
    auto h = tokio::spawn(
        [](tokio::sync::OwnedSemaphorePermit p) -> Task<int> {
          co_await tokio::task::yield_now();
          co_return static_cast<int>(p.num_permits());
        },
        std::move(*p));
    CHECK(co_await h == 1);
    CHECK(s->available_permits() == 2);
    auto t = Semaphore::try_acquire_many_owned(s, 2);
    REQUIRE(t.has_value());
    CHECK_FALSE(Semaphore::try_acquire_owned(s).has_value());
  }());
}

TEST_CASE("semaphore: acquire losing a select or aborted never leaks a permit") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    Semaphore s(1);
    auto held = s.try_acquire().value();
    // Lose a select while queued.
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), s.acquire());
    CHECK(r.index() == 0);
    // Aborted while queued.
    auto h = tokio::spawn([](Semaphore* s) -> Task<> { (void)co_await s->acquire(); }, &s);
    for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
    h.abort();
    (void)co_await h.result();
    { auto drop = std::move(held); }
    CHECK(s.available_permits() == 1);
    auto p = co_await s.acquire();
    CHECK(p.has_value());
  }());
}

TEST_CASE("semaphore: blocking_acquire from a plain thread; refused on a runtime thread") {
  Semaphore s(0);
  std::thread t([&] {
    auto p = s.blocking_acquire_many(2);
    CHECK(p.has_value());
  });
  std::this_thread::sleep_for(10ms);
  s.add_permits(1);
  s.add_permits(1);
  t.join();
  CHECK(s.available_permits() == 2);
  auto rt = test::current_thread();
  std::string msg;
  rt.block_on([](Semaphore* s, std::string* msg) -> Task<> {
    try {
      (void)s->blocking_acquire();
    } catch (const std::logic_error& e) {
      *msg = e.what();
    }
    co_return;
  }(&s, &msg));
  CHECK(msg.find("inside an asynchronous runtime") != std::string::npos);
}

TEST_CASE("semaphore: never more holders than permits under 8-thread contention") {
  auto rt = test::multi_thread(4);
  constexpr int kPermits = 3;
  const int per_task = static_cast<int>(test::scaled(2000));
  Semaphore s(kPermits);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::atomic<int> done{0};
  auto worker = [](Semaphore* s, std::atomic<int>* inside, std::atomic<int>* max_inside,
                   std::atomic<int>* done, int n, int many) -> Task<> {
    for (int i = 0; i < n; ++i) {
      auto p = co_await s->acquire_many(static_cast<uint32_t>(1 + (i + many) % 2));
      REQUIRE(p.has_value());
      int now = inside->fetch_add(static_cast<int>(p->num_permits())) +
                static_cast<int>(p->num_permits());
      int m = max_inside->load();
      while (now > m && !max_inside->compare_exchange_weak(m, now)) {
      }
      if (i % 7 == 0) co_await tokio::task::yield_now();
      inside->fetch_sub(static_cast<int>(p->num_permits()));
    }
    done->fetch_add(1);
  };
  // 6 tasks on the runtime plus 2 plain threads using the blocking form.
  std::vector<tokio::JoinHandle<void>> hs;
  for (int t = 0; t < 6; ++t)
    hs.push_back(rt.spawn(worker, &s, &inside, &max_inside, &done, per_task, t));
  std::vector<std::thread> ths;
  for (int t = 0; t < 2; ++t) {
    ths.emplace_back([&] {
      for (int i = 0; i < per_task / 4; ++i) {
        auto p = s.blocking_acquire();
        int now = inside.fetch_add(1) + 1;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {
        }
        inside.fetch_sub(1);
      }
    });
  }
  for (auto& t : ths) t.join();
  rt.block_on([](std::vector<tokio::JoinHandle<void>>* hs) -> Task<> {
    for (auto& h : *hs) co_await h;
  }(&hs));
  CHECK(done.load() == 6);
  CHECK(max_inside.load() <= kPermits);
  CHECK(s.available_permits() == kPermits);
}

// --- reference model --------------------------------------------------------------------
// Random sequences of acquire / poll / cancel / release / add / close / try_acquire
// checked against a single-threaded model of a FIFO semaphore with partial assignment:
// released permits go to the oldest unserved waiters first; a new waiter takes what is
// available when nobody is queued ahead of it; close() fails every unserved waiter (their
// partial permits come back when their future completes or is destroyed).
TEST_CASE("semaphore: randomized sequences match a reference model") {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    test::Rng rng(seed);
    std::size_t initial = rng.below(4);
    Semaphore s(initial);
    struct Waiter {
      std::unique_ptr<test::Polled<Semaphore::Acquire>> fut;
      std::size_t want;
      std::size_t got = 0;  // permits assigned so far
      bool failed = false;  // unserved when the semaphore closed
      bool served() const { return got == want; }
    };
    std::deque<Waiter> waiting;
    std::vector<SemaphorePermit> held;
    std::size_t avail = initial;
    bool closed = false;
    auto pending = [&] {
      for (auto& w : waiting) {
        if (!w.served() && !w.failed) return true;
      }
      return false;
    };
    auto give = [&](std::size_t n) {
      for (auto& w : waiting) {
        if (n == 0) break;
        if (w.served() || w.failed) continue;
        std::size_t take = std::min(n, w.want - w.got);
        w.got += take;
        n -= take;
      }
      avail += n;
    };
    for (int step = 0; step < 80; ++step) {
      switch (rng.below(7)) {
        case 0: {  // a new acquire, polled once
          std::size_t n = 1 + rng.below(3);
          Waiter w{std::make_unique<test::Polled<Semaphore::Acquire>>(
                       s.acquire_many(static_cast<uint32_t>(n))),
                   n};
          bool ready = w.fut->poll();
          if (closed) {
            CHECK(ready);
            CHECK_FALSE(w.fut->take().has_value());
            break;
          }
          bool model_ready = !pending() && avail >= n;
          CHECK(ready == model_ready);
          if (ready) {
            avail -= n;
            auto p = w.fut->take();
            REQUIRE(p.has_value());
            held.push_back(std::move(*p));
          } else {
            if (pending()) CHECK(avail == 0);
            w.got = avail;  // takes what is there, waits for the rest
            avail = 0;
            waiting.push_back(std::move(w));
          }
          break;
        }
        case 1: {  // release a held permit
          if (held.empty()) break;
          std::size_t i = rng.below(held.size());
          std::size_t n = held[i].num_permits();
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
          give(n);
          break;
        }
        case 2: {  // cancel a waiter: whatever it holds goes on
          if (waiting.empty()) break;
          std::size_t i = rng.below(waiting.size());
          std::size_t back = waiting[i].got;
          waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
          give(back);
          break;
        }
        case 3: {  // poll every waiter
          for (std::size_t i = 0; i < waiting.size();) {
            Waiter& w = waiting[i];
            bool ready = w.fut->poll();
            bool model = w.served() || w.failed;
            CHECK(ready == model);
            if (!ready) {
              ++i;
              continue;
            }
            auto p = w.fut->take();
            if (w.served()) {
              REQUIRE(p.has_value());
              CHECK(p->num_permits() == w.want);
              held.push_back(std::move(*p));
              waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
              CHECK_FALSE(p.has_value());
              std::size_t back = w.got;  // released by the future when it saw the close
              waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
              give(back);
            }
          }
          break;
        }
        case 4: {
          std::size_t n = rng.below(3);
          s.add_permits(n);
          give(n);
          break;
        }
        case 5: {
          auto p = s.try_acquire();
          if (closed) {
            CHECK(p.error() == TryAcquireError::Closed);
          } else if (!pending() && avail >= 1) {
            REQUIRE(p.has_value());
            --avail;
            held.push_back(std::move(*p));
          } else {
            CHECK(p.error() == TryAcquireError::NoPermits);
          }
          break;
        }
        case 6:
          if (!closed && rng.chance(15)) {
            s.close();
            closed = true;
            for (auto& w : waiting) w.failed = !w.served();
          }
          break;
      }
      CHECK(s.available_permits() == avail);
      for (auto& w : waiting) CHECK(w.fut->is_ready() == false);
    }
  }
}
