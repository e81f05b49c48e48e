// Scheduler behaviour: stealing, fairness, coop budget, LIFO slot, block_in_place.
#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "test_util.hpp"

using tokio::JoinHandle;
using tokio::Task;

namespace {

void spin_for(std::chrono::microseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

// One local round trip: a task this one spawns sends on a oneshot this one awaits. Done in
// a loop, it keeps the worker's run queue from ever running dry (the next task is always
// queued locally), so the worker reaches the global queue and the drivers only at its
// periodic checks.
Task<> local_round_trip() {
  auto [tx, rx] = tokio::sync::oneshot::channel<int>();
  auto p = tokio::spawn(
      [](tokio::sync::oneshot::Sender<int> tx) -> Task<> {
        (void)tx.send(1);
        co_return;
      },
      std::move(tx));
  (void)co_await std::move(rx);
  co_await p;
}

// A runtime of either flavour (1: multi-thread with one worker) built with `set` applied.
template <class F>
tokio::runtime::Runtime one_worker(int flavour, F&& set) {
  auto b = flavour == 0 ? tokio::runtime::Builder::new_current_thread()
                        : tokio::runtime::Builder::new_multi_thread();
  if (flavour == 1) b.worker_threads(1);
  set(b);
  return b.enable_all().build();
}

// From a plain thread, once `go` is set (or after 5 s): spawns a task that sets `ran`, into
// `out`, then sets `spawned`.
std::thread remote_spawner(tokio::runtime::Handle h, std::atomic<bool>& go, std::atomic<bool>& ran,
                           std::atomic<bool>& spawned, tokio::JoinHandle<void>& out) {
  return std::thread([h, &go, &ran, &spawned, &out] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!go.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    out = h.spawn([](std::atomic<bool>* r) -> Task<> {
      r->store(true);
      co_return;
    }(&ran));
    spawned.store(true);
  });
}

}  // namespace

TEST_CASE("work stealing is observable in metrics when one worker is busy") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    // Spawn from inside a worker: all children land in that worker's local queue, and the
    // idle worker must steal to help.
    auto h = tokio::spawn([]() -> Task<> {
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 200; ++i) {
        hs.push_back(tokio::spawn([]() -> Task<> {
          spin_for(200us);
          co_return;
        }));
      }
      for (auto& c : hs) co_await c;
    });
    co_await h;
  }());
  auto m = rt.metrics();
  uint64_t steals = 0, ops = 0, local = 0;
  for (std::size_t w = 0; w < m.num_workers(); ++w) {
    steals += m.worker_steal_count(w);
    ops += m.worker_steal_operations(w);
    local += m.worker_local_schedule_count(w);
  }
  CHECK(steals > 0);
  CHECK(ops > 0);
  CHECK(ops <= steals);
  CHECK(local >= 200);
}

TEST_CASE("yield_now is fair: yielding tasks interleave") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::vector<int> order;
    auto worker = [](std::vector<int>* order, int id) -> Task<> {
      for (int i = 0; i < 5; ++i) {
        order->push_back(id);
        co_await tokio::task::yield_now();
      }
    };
    auto a = tokio::spawn(worker, &order, 1);
    auto b = tokio::spawn(worker, &order, 2);
    co_await a;
    co_await b;
    REQUIRE(order.size() == 10);
    for (std::size_t i = 0; i + 1 < order.size(); ++i) CHECK(order[i] != order[i + 1]);
  }());
}

TEST_CASE("yield_now lets the block_on future run on a current-thread runtime") {
  auto rt = test::current_thread();
  std::atomic<bool> stop{false};
  rt.block_on([](std::atomic<bool>* stop) -> Task<> {
    auto spinner = tokio::spawn(
        [](std::atomic<bool>* stop) -> Task<int> {
          int n = 0;
          while (!stop->load()) {
            ++n;
            co_await tokio::task::yield_now();
          }
          co_return n;
        },
        stop);
    for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    stop->store(true);
    int n = co_await spinner;
    CHECK(n >= 10);
    CHECK(n <= 12);  // one spinner turn per root turn
  }(&stop));
}

TEST_CASE("the coop budget forces a yield after 128 ready operations") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    // A task that only ever sees ready resources must still let others run.
    std::atomic<int> other_ran{0};
    auto greedy = tokio::spawn(
        [](std::atomic<int>* r) -> Task<int> {
          int steps = 0;
          while (r->load() == 0) {
            co_await tokio::task::consume_budget();  // always ready while budget remains
            ++steps;
          }
          co_return steps;
        },
        &other_ran);
    auto other = tokio::spawn(
        [](std::atomic<int>* r) -> Task<> {
          r->store(1);
          co_return;
        },
        &other_ran);
    int steps = co_await greedy;
    co_await other;
    // 128 ready steps in the first poll; the 129th is forced to yield, `other` runs, and
    // the 129th completes in the next poll.
    CHECK(steps == 129);
  }());
  CHECK(rt.metrics().budget_forced_yield_count() > 0);
}

// Tokio's RestoreOnPending: a resource polled while not ready gives its budget unit back.
// A loop racing not-ready resources against an always-ready branch used to spend a unit per
// iteration, run dry after 128, and then never see the message that came later.
TEST_CASE("the coop budget is given back by a resource that is not ready") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    auto got_at = rt.block_on(rt.spawn([]() -> Task<int> {
      auto ready_now = []() -> Task<int> { co_return 1; };
      auto [tx, rx] = tokio::sync::mpsc::channel<int>(8);
      auto [otx, orx] = tokio::sync::oneshot::channel<int>();
      tokio::sync::Notify notify;
      auto sleep = tokio::time::sleep(std::chrono::hours(1));
      for (int k = 0; k < 1000; ++k) {
        if (k == 700) (void)tx.try_send(42);
        // Leaves polled directly, and one inside a branch coroutine (a composite leaf is
        // not refunded for its branches, which settle their own units).
        auto r = co_await tokio::select_biased(
            rx.recv(), orx, notify.notified(), sleep,
            [](tokio::sync::Notify* n) -> Task<> { co_await n->notified(); }(&notify), ready_now());
        if (r.index() == 0) co_return k;
        CHECK(r.index() == 5);
        if (!tokio::task::has_budget_remaining()) co_return -k;
      }
      (void)otx;
      co_return -1;
    }()));
    CHECK(got_at == 700);
  }
}

// A task out of budget is re-queued through the worker's defer list (as Tokio's coop does
// since tokio#7185), not woken at once. The immediate wake put it back in the queue as its
// poll ended, ahead of a task that poll had woken into the LIFO slot (which then went to
// the queue's back, the budget being spent), so the busy task ran a whole second poll
// first; and its queue push notified an idle worker, whose wake-up on a loaded machine
// could preempt this one and keep the woken task waiting for its CPU (the chat example's
// readers lost messages to a sender's burst; helper-74 traced it). On one worker: the task
// it woke now runs right after each forced yield.
TEST_CASE("a task woken by a task that ran out of coop budget runs before that task's next poll") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build();
  auto max_lag = rt.block_on(rt.spawn([]() -> Task<long> {
    auto [tx, rx] = tokio::sync::mpsc::unbounded_channel<int>();
    auto sent = std::make_shared<std::atomic<long>>(0);
    auto reader = tokio::spawn(
        [](tokio::sync::mpsc::UnboundedReceiver<int> rx,
           std::shared_ptr<std::atomic<long>> sent) -> Task<long> {
          long received = 0, lag = 0;
          while (co_await rx.recv()) {
            lag = std::max(lag, sent->load() - received);
            ++received;
          }
          co_return lag;
        },
        std::move(rx), sent);
    co_await tokio::task::yield_now();  // the reader waits in recv()
    auto sender = tokio::spawn(
        [](tokio::sync::mpsc::UnboundedSender<int> tx,
           std::shared_ptr<std::atomic<long>> sent) -> Task<> {
          for (int i = 0; i < 2000; ++i) {
            sent->fetch_add(1);
            (void)tx.send(i);
            co_await tokio::task::consume_budget();  // a forced yield every 128 sends
          }
        },
        std::move(tx), sent);
    co_await sender;
    co_return co_await reader;
  }()));
  // The reader runs after every forced yield: it never sees more than one poll's worth
  // (128) unread; with the immediate wake the sender ran two polls first (256).
  CHECK(max_lag > 0);
  CHECK(max_lag <= 130);
}

TEST_CASE("forced yields are counted per runtime") {
  auto busy = test::current_thread();
  auto idle = test::current_thread();
  busy.block_on([]() -> Task<> {
    auto h = tokio::spawn([]() -> Task<> {
      for (int i = 0; i < 1000; ++i) co_await tokio::task::consume_budget();
    });
    co_await h;
  }());
  idle.block_on([]() -> Task<> { co_return; }());
  CHECK(busy.metrics().budget_forced_yield_count() >= 7);  // 1000 / 128 budgets
  CHECK(idle.metrics().budget_forced_yield_count() == 0);
}

TEST_CASE("unconstrained lifts the coop budget") {
  auto rt = test::current_thread();
  int steps = rt.block_on([]() -> Task<int> {
    auto h = tokio::spawn([]() -> Task<int> {
      co_return co_await tokio::task::unconstrained([]() -> Task<int> {
        int n = 0;
        for (int i = 0; i < 1000; ++i) {
          CHECK(tokio::task::has_budget_remaining());
          co_await tokio::task::consume_budget();
          ++n;
        }
        co_return n;
      }());
    });
    co_return co_await h;
  }());
  CHECK(steps == 1000);
}

TEST_CASE("the LIFO slot runs a just-woken task next, capped so it cannot starve others") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build();
  rt.block_on([]() -> Task<> {
    auto h = tokio::spawn([]() -> Task<> {
      std::vector<int> order;
      // Children spawned from a worker: the last spawned sits in the LIFO slot.
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 4; ++i) {
        hs.push_back(tokio::spawn(
            [](std::vector<int>* o, int i) -> Task<> {
              o->push_back(i);
              co_return;
            },
            &order, i));
      }
      for (auto& c : hs) co_await c;
      REQUIRE(order.size() == 4);
      CHECK(order.front() == 3);  // LIFO slot first
      CHECK(order[1] == 0);       // then the queue, FIFO
    });
    co_await h;
  }());
  auto r2 =
      tokio::runtime::Builder::new_multi_thread().worker_threads(1).disable_lifo_slot().build();
  r2.block_on([]() -> Task<> {
    auto h = tokio::spawn([]() -> Task<> {
      std::vector<int> order;
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 4; ++i) {
        hs.push_back(tokio::spawn(
            [](std::vector<int>* o, int i) -> Task<> {
              o->push_back(i);
              co_return;
            },
            &order, i));
      }
      for (auto& c : hs) co_await c;
      CHECK(order == std::vector<int>{0, 1, 2, 3});
    });
    co_await h;
  }());
}

TEST_CASE("ping-pong through the LIFO slot does not starve a queued task") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build();
  rt.block_on([]() -> Task<> {
    auto h = tokio::spawn([]() -> Task<> {
      std::atomic<bool> flag{false};
      auto starving = tokio::spawn(
          [](std::atomic<bool>* f) -> Task<> {
            f->store(true);
            co_return;
          },
          &flag);
      // Two tasks waking each other forever would keep the LIFO slot busy.
      int rounds = 0;
      while (!flag.load() && rounds < 100000) {
        co_await local_round_trip();
        ++rounds;
      }
      CHECK(flag.load());
      CHECK(rounds < 1000);
      co_await starving;
    });
    co_await h;
  }());
}

TEST_CASE("block_in_place keeps the worker's other tasks running") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    std::atomic<bool> release{false};
    std::atomic<int> progressed{0};
    auto blocker = tokio::spawn(
        [](std::atomic<bool>* rel) -> Task<int> {
          int v = tokio::task::block_in_place([rel] {
            while (!rel->load()) std::this_thread::sleep_for(1ms);
            return 5;
          });
          co_await tokio::task::yield_now();
          co_return v;
        },
        &release);
    // Both workers' worth of tasks still make progress while the blocker blocks.
    std::vector<JoinHandle<void>> hs;
    for (int i = 0; i < 50; ++i) {
      hs.push_back(tokio::spawn(
          [](std::atomic<int>* p) -> Task<> {
            co_await tokio::task::yield_now();
            p->fetch_add(1);
          },
          &progressed));
    }
    for (auto& h : hs) co_await h;
    CHECK(progressed.load() == 50);
    release.store(true);
    CHECK(co_await blocker == 5);
  }());
}

// A task that yielded has its wake deferred on its worker's thread until that thread
// parks; a block_in_place on that thread must not keep it there (Tokio #7877): the core
// takes it along. The closure waits for it, so before the fix this waited its 10 s out.
TEST_CASE("block_in_place hands the worker's yielded tasks over with its core") {
  auto rt = test::multi_thread(1);
  rt.block_on([]() -> Task<> {
    std::atomic<bool> resumed{false};
    auto yielder = tokio::spawn(
        [](std::atomic<bool>* r) -> Task<> {
          co_await tokio::task::yield_now();
          r->store(true);
        },
        &resumed);
    auto blocker = tokio::spawn(
        [](std::atomic<bool>* r) -> Task<bool> {
          co_return tokio::task::block_in_place([r] {
            auto end = std::chrono::steady_clock::now() + 10s;
            while (!r->load() && std::chrono::steady_clock::now() < end) {
              std::this_thread::sleep_for(1ms);
            }
            return r->load();
          });
        },
        &resumed);
    CHECK(co_await blocker);
    co_await yielder;
  }());
}

namespace {
// What Tokio's block_in_place docs show: Handle::current().block_on(...) inside it. The
// nested root yields, sleeps, spawns and awaits, as a future on a plain thread would.
int nested_block_on(int base) {
  return tokio::task::block_in_place([base] {
    return tokio::runtime::Handle::current().block_on([](int b) -> Task<int> {
      co_await tokio::task::yield_now();
      co_await tokio::time::sleep(1ms);
      auto h = tokio::spawn([](int v) -> Task<int> { co_return v + 1; }, b);
      co_return co_await h;
    }(base));
  });
}
}  // namespace

TEST_CASE("Handle::block_on inside block_in_place runs (in a task and in the block_on root)") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  int in_root = rt.block_on([]() -> Task<int> { co_return nested_block_on(10); }());
  CHECK(in_root == 11);
  int in_task = rt.block_on([]() -> Task<int> {
    auto h = tokio::spawn([]() -> Task<int> {
      int v = nested_block_on(20);
      co_await tokio::task::yield_now();  // the worker's context came back intact
      co_return v;
    });
    co_return co_await h;
  }());
  CHECK(in_task == 21);
  // Outside block_in_place a nested block_on is still the clear error.
  bool threw = rt.block_on([]() -> Task<bool> {
    try {
      (void)tokio::runtime::Handle::current().block_on([]() -> Task<int> { co_return 1; }());
    } catch (const std::logic_error& e) {
      co_return std::string(e.what()).find("already driving a runtime") != std::string::npos;
    }
    co_return false;
  }());
  CHECK(threw);
}

TEST_CASE("block_in_place on a current-thread runtime is a clear error; outside it just runs") {
  CHECK(tokio::task::block_in_place([] { return 3; }) == 3);
  auto rt = test::current_thread();
  bool threw = rt.block_on([]() -> Task<bool> {
    auto h = tokio::spawn([]() -> Task<bool> {
      try {
        tokio::task::block_in_place([] {});
      } catch (const std::logic_error&) {
        co_return true;
      }
      co_return false;
    });
    co_return co_await h;
  }());
  CHECK(threw);
}

TEST_CASE("workers park when idle and wake for remote work") {
  auto rt = test::multi_thread(2);
  auto m = rt.metrics();
  auto parks = [&] {
    uint64_t n = 0;
    for (std::size_t w = 0; w < m.num_workers(); ++w) n += m.worker_park_count(w);
    return n;
  };
  CHECK(test::eventually([&] { return parks() >= 2; }));
  // Remote spawns after a long idle period still run promptly.
  for (int i = 0; i < 20; ++i) {
    auto h = rt.spawn([]() -> Task<int> { co_return 7; });
    CHECK(rt.block_on(std::move(h)) == 7);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(m.worker_total_busy_duration(0).count() >= 0);
  CHECK(m.worker_local_queue_depth(0) == 0);
}

// Read by a task of the runtime, the current-thread local queue depth is the queue as it
// is then (it used to be the figure published at the thread's last park: 0 here).
TEST_CASE("metrics: current-thread local queue depth, read from inside, counts what is queued") {
  auto rt = test::current_thread();
  auto depths = rt.block_on([]() -> Task<std::pair<std::size_t, std::size_t>> {
    auto m = tokio::runtime::Handle::current().metrics();
    for (int i = 0; i < 5; ++i) tokio::spawn([]() -> Task<> { co_return; });
    std::size_t queued = m.worker_local_queue_depth(0);
    co_await tokio::task::yield_now();  // the five run
    co_return std::pair{queued, m.worker_local_queue_depth(0)};
  }());
  CHECK(depths.first == 5);
  CHECK(depths.second == 0);
}

TEST_CASE("local queue overflow spills to the inject queue without losing tasks") {
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build();
  int n = rt.block_on([]() -> Task<int> {
    auto h = tokio::spawn([]() -> Task<int> {
      std::atomic<int> ran{0};
      std::vector<JoinHandle<void>> hs;
      for (int i = 0; i < 2000; ++i) {  // far more than the 256-slot local queue
        hs.push_back(tokio::spawn(
            [](std::atomic<int>* r) -> Task<> {
              r->fetch_add(1);
              co_return;
            },
            &ran));
      }
      for (auto& c : hs) co_await c;
      co_return ran.load();
    });
    co_return co_await h;
  }());
  CHECK(n == 2000);
  CHECK(rt.metrics().worker_overflow_count(0) > 0);
}

// The three cases below keep one worker busy with local round trips, so what reaches it
// from outside (a remote spawn, a timer) gets in only at the periodic checks of
// global_queue_interval (by default 31 ticks on a current-thread runtime, self-tuned on a
// multi-thread one) and event_interval (61).
TEST_CASE("a task spawned from another thread runs while the worker's local work never runs out") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    auto rt = one_worker(flavour, [](auto&) {});
    std::atomic<bool> go{false}, ran{false}, spawned{false};
    tokio::JoinHandle<void> remote;
    std::thread spawner = remote_spawner(rt.handle(), go, ran, spawned, remote);
    bool got_in =
        rt.block_on(rt.spawn([](std::atomic<bool>* go, std::atomic<bool>* ran) -> Task<bool> {
          go->store(true);
          auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (!ran->load() && std::chrono::steady_clock::now() < deadline) {
            co_await local_round_trip();
          }
          co_return ran->load();
        }(&go, &ran)));
    spawner.join();
    CHECK(got_in);  // a worker that never checked the global queue keeps it out for 5 s
    rt.block_on(std::move(remote));
  }
}

TEST_CASE("global_queue_interval as given: a busy worker checks the global queue only that often") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    // Far more ticks than 50 ms of round trips can make (the multi-thread runtime's own
    // tuning of the interval applies only when the option is not given).
    auto rt = one_worker(flavour, [](auto& b) { b.global_queue_interval(1u << 30); });
    std::atomic<bool> go{false}, ran{false}, spawned{false};
    tokio::JoinHandle<void> remote;
    std::thread spawner = remote_spawner(rt.handle(), go, ran, spawned, remote);
    bool ran_while_busy = rt.block_on(rt.spawn([](std::atomic<bool>* go, std::atomic<bool>* ran,
                                                  std::atomic<bool>* spawned) -> Task<bool> {
      go->store(true);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!spawned->load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
      while (std::chrono::steady_clock::now() < until) co_await local_round_trip();
      co_return ran->load();
    }(&go, &ran, &spawned)));
    spawner.join();
    CHECK_FALSE(ran_while_busy);
    rt.block_on(std::move(remote));  // runs once the worker is idle
    CHECK(ran.load());
  }
}

TEST_CASE("event_interval as given: a busy worker polls the timer driver only that often") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    CAPTURE(flavour);
    auto rt = one_worker(flavour, [](auto& b) { b.event_interval(1u << 30); });
    std::atomic<bool> fired{false};
    bool fired_while_busy = rt.block_on(rt.spawn([](std::atomic<bool>* fired) -> Task<bool> {
      auto sleeper = tokio::spawn(
          [](std::atomic<bool>* fired) -> Task<> {
            co_await tokio::time::sleep(std::chrono::milliseconds(1));
            fired->store(true);
          },
          fired);
      co_await tokio::task::yield_now();  // the sleeper registers its timer
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
      while (std::chrono::steady_clock::now() < until) co_await local_round_trip();
      bool during = fired->load();
      co_await sleeper;  // idle now: the worker parks on the driver and the timer fires
      co_return during;
    }(&fired)));
    CHECK_FALSE(fired_while_busy);
    CHECK(fired.load());
  }
}

TEST_CASE("after block_in_place the task's coop budget applies again") {
  auto rt = test::multi_thread(2);
  bool exhausted = rt.block_on(rt.spawn([]() -> Task<bool> {
    CHECK(tokio::task::block_in_place([] { return 1; }) == 1);
    // Inside block_in_place the task is unconstrained; afterwards each consume_budget takes
    // a unit again, so the budget (128) runs out.
    bool spent = false;
    for (int i = 0; i < 10000 && !spent; ++i) {
      co_await tokio::task::consume_budget();
      spent = !tokio::task::has_budget_remaining();
    }
    co_return spent;
  }()));
  CHECK(exhausted);
}
