// Task and timer scale with shutdown, and runtime drop with work in flight (issue 11 §2).
//   - 1,000,000 parked tasks and 1,000,000 timers (a quarter of them firing, a quarter of
//     timeouts cancelled before their deadline, the rest pending), then the runtime is
//     dropped with all of it in flight: every frame destroyed, nothing hung.
//   - a runtime dropped, over and over, at a random moment while its tasks spin, read and
//     write sockets, sleep, wait on channels fed by plain threads, wait for blocking jobs,
//     join JoinSets and spawn from destructors: every frame destroyed, every descriptor
//     closed, the plain threads see the channels close.
// Sizes: stress::size(full, ci); `make stress` runs them at full size.
#include <memory>
#include <vector>

#include "stress_util.hpp"

using tokio::Task;
namespace ts = tokio::sync;

namespace {

struct ScaleCounts {
  std::atomic<long> fired{0};
  std::atomic<long> timed_out{0};
  std::atomic<long> notified{0};
  std::atomic<int> drops{0};
};

Task<> parked(ts::Notify* n, test::DropCounter) { co_await n->notified(); }

Task<> sleeper(ScaleCounts* c, std::chrono::milliseconds d, test::DropCounter) {
  co_await tokio::time::sleep(d);
  c->fired.fetch_add(1, std::memory_order_relaxed);
}

// Registers a timer an hour away, then is notified: the timer is cancelled before firing.
Task<> timeout_waiter(ScaleCounts* c, ts::Notify* n, test::DropCounter) {
  auto r = co_await tokio::time::timeout(std::chrono::hours(1), n->notified());
  (r ? c->notified : c->timed_out).fetch_add(1, std::memory_order_relaxed);
}

Task<> spawn_many(std::size_t n, ScaleCounts* c, ts::Notify* never, ts::Notify* wake, uint64_t seed,
                  int kind) {
  stress::Rng rng(seed);
  for (std::size_t i = 0; i < n; ++i) {
    switch (kind) {
      case 0: tokio::spawn(parked, never, test::DropCounter(c->drops)); break;
      case 1: {
        // One in four fires within 100 ms; the rest are an hour away.
        auto d = i % 4 == 0 ? std::chrono::milliseconds(rng() % 100)
                            : std::chrono::milliseconds(3600000 + rng() % 1000);
        tokio::spawn(sleeper, c, d, test::DropCounter(c->drops));
        break;
      }
      default: tokio::spawn(timeout_waiter, c, wake, test::DropCounter(c->drops));
    }
    if (i % 4096 == 4095) co_await tokio::task::yield_now();
  }
}

}  // namespace

TEST_CASE("stress: 1,000,000 tasks and 1,000,000 timers in flight, then the runtime is dropped") {
  const std::size_t n_tasks = stress::size(1000000, 20000);
  const std::size_t n_timers = stress::size(1000000, 20000);
  const std::size_t n_timeouts = n_timers / 4;
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("task/timer scale", std::chrono::seconds(900));
    INFO(stress::flavour_name(flavour));
    ScaleCounts c;
    ts::Notify never, wake;
    long rss0 = stress::rss_kib();
    stress::Stopwatch total;
    double spawn_ms = 0, drop_ms = 0;
    long rss_peak = 0;
    {
      auto rt = stress::runtime(flavour);
      stress::Stopwatch sw;
      rt.block_on([](std::size_t n_tasks, std::size_t n_timers, std::size_t n_timeouts,
                     ScaleCounts* c, ts::Notify* never, ts::Notify* wake) -> Task<> {
        // Half of each kind spawned from the block_on thread, half from a task on a worker
        // (local queue, overflow into the inject queue).
        co_await spawn_many(n_tasks / 2, c, never, wake, stress::seed(), 0);
        co_await spawn_many(n_timers / 2, c, never, wake, stress::seed() + 1, 1);
        co_await spawn_many(n_timeouts, c, never, wake, stress::seed() + 2, 2);
        auto h1 =
            tokio::spawn(spawn_many, n_tasks - n_tasks / 2, c, never, wake, stress::seed() + 3, 0);
        auto h2 = tokio::spawn(spawn_many, n_timers - n_timers / 2, c, never, wake,
                               stress::seed() + 4, 1);
        co_await h1;
        co_await h2;
      }(n_tasks, n_timers, n_timeouts, &c, &never, &wake));
      spawn_ms = sw.ms();
      const std::size_t spawned = n_tasks + n_timers + n_timeouts;
      CHECK(rt.metrics().spawned_tasks_count() >= spawned);
      // The quarter of the timers due within 100 ms fire; the timeouts are registered.
      const long due =
          static_cast<long>((n_timers / 2 + 3) / 4 + (n_timers - n_timers / 2 + 3) / 4);
      rt.block_on([](ScaleCounts* c, long due) -> Task<> {
        for (int i = 0; i < 600000 && c->fired.load() < due; ++i)
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
      }(&c, due));
      CHECK(c.fired.load() == due);
      // Wake every timeout waiter: each cancels its hour-long timer.
      CHECK(test::eventually(
          [&] { return rt.metrics().num_alive_tasks() == spawned - static_cast<std::size_t>(due); },
          std::chrono::milliseconds(60000)));
      wake.notify_waiters();
      rt.block_on([](ScaleCounts* c, long n) -> Task<> {
        for (int i = 0; i < 600000 && c->notified.load() < n; ++i)
          co_await tokio::time::sleep(std::chrono::milliseconds(1));
      }(&c, static_cast<long>(n_timeouts)));
      CHECK(c.notified.load() == static_cast<long>(n_timeouts));
      CHECK(c.timed_out.load() == 0);
      const std::size_t in_flight = n_tasks + n_timers - static_cast<std::size_t>(due);
      CHECK(test::eventually([&] { return rt.metrics().num_alive_tasks() == in_flight; },
                             std::chrono::milliseconds(60000)));
      CHECK(c.drops.load() == static_cast<int>(spawned - in_flight));
      rss_peak = stress::rss_kib();
      stress::Stopwatch drop;
      // rt goes out of scope here with in_flight tasks parked or sleeping.
      { auto gone = std::move(rt); }
      drop_ms = drop.ms();
      CHECK(c.drops.load() == static_cast<int>(spawned));
    }
    CHECK(c.fired.load() ==
          static_cast<long>((n_timers / 2 + 3) / 4 + (n_timers - n_timers / 2 + 3) / 4));
    stress::figure(
        "task/timer scale (%s): %zu parked + %zu timers + %zu timeouts; spawn %.0f ms, drop %.0f "
        "ms, "
        "total %.0f ms, RSS %ld -> %ld KiB (after drop %ld KiB)",
        stress::flavour_name(flavour), n_tasks, n_timers, n_timeouts, spawn_ms, drop_ms, total.ms(),
        rss0, rss_peak, stress::rss_kib());
  }
}

// --- runtime drop with work in flight --------------------------------------------------------
namespace {

struct DropCounts {
  std::atomic<int> made{0};   // counted objects created (one per task or blocking job)
  std::atomic<int> drops{0};  // and destroyed
  std::atomic<long> spins{0};
  std::atomic<long> received{0};
  std::atomic<long> accepted{0};
  std::atomic<long> bytes{0};
  std::atomic<int> late_spawns_refused{0};
};

test::DropCounter counted(DropCounts* c) {
  c->made.fetch_add(1);
  return test::DropCounter(c->drops);
}

Task<> spinner(DropCounts* c, test::DropCounter) {
  for (;;) {
    c->spins.fetch_add(1, std::memory_order_relaxed);
    co_await tokio::task::yield_now();
  }
}

Task<> reader(tokio::net::TcpStream s, DropCounts* c, test::DropCounter) {
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n || *n == 0) co_return;
    c->bytes.fetch_add(static_cast<long>(*n), std::memory_order_relaxed);
  }
}

// Writes until the socket buffer is full and stays blocked there (nobody reads).
Task<> flooder(tokio::net::TcpStream s, test::DropCounter) {
  std::vector<char> chunk(65536, 'x');
  for (;;) {
    auto n = co_await s.write(std::string_view(chunk.data(), chunk.size()));
    if (!n) co_return;
  }
}

Task<> acceptor(tokio::net::TcpListener l, DropCounts* c, test::DropCounter) {
  for (;;) {
    auto conn = co_await l.accept();
    if (!conn) continue;
    c->accepted.fetch_add(1);
    tokio::spawn(reader, std::move(conn->first), c, counted(c));
  }
}

Task<> ticker(std::chrono::milliseconds period, test::DropCounter) {
  for (;;) co_await tokio::time::sleep(period);
}

Task<> channel_reader(ts::mpsc::UnboundedReceiver<int> rx, DropCounts* c, test::DropCounter) {
  for (;;) {
    auto v = co_await rx.recv();
    if (!v) co_return;
    c->received.fetch_add(1, std::memory_order_relaxed);
  }
}

Task<> oneshot_waiter(ts::oneshot::Receiver<int> rx, test::DropCounter) {
  (void)co_await std::move(rx);
}

Task<> blocking_waiter(DropCounts* c, uint32_t ms, test::DropCounter) {
  auto job = [](test::DropCounter, uint32_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  auto h = tokio::task::spawn_blocking(job, counted(c), ms);
  (void)co_await h.result();
}

Task<> joinset_owner(DropCounts* c, test::DropCounter) {
  tokio::task::JoinSet<void> set;
  for (int i = 0; i < 8; ++i) {
    set.spawn(ticker, std::chrono::milliseconds(1 + i), counted(c));
  }
  for (;;) {
    auto r = co_await set.join_next();
    if (!r) co_return;
  }
}

// Spawns a child from its destructor, which runs while the runtime shuts down: the spawn
// is refused (a cancelled handle) or accepted, and then the child must be dropped too.
struct SpawnOnDrop {
  DropCounts* c;
  explicit SpawnOnDrop(DropCounts* c) : c(c) {}
  SpawnOnDrop(SpawnOnDrop&& o) noexcept : c(std::exchange(o.c, nullptr)) {}
  ~SpawnOnDrop() {
    if (!c) return;
    try {
      auto h = tokio::runtime::Handle::try_current();
      if (!h) return;
      h->spawn(ticker, std::chrono::milliseconds(1), counted(c));
    } catch (...) {
      c->late_spawns_refused.fetch_add(1);
    }
  }
};
Task<> spawns_on_drop(SpawnOnDrop, ts::Notify* never, test::DropCounter) {
  co_await never->notified();
}

// Each wake spawns a short-lived child: a steady stream of spawns during shutdown.
Task<> fan_out(DropCounts* c, test::DropCounter) {
  for (;;) {
    co_await tokio::time::sleep(std::chrono::milliseconds(1));
    tokio::spawn([](test::DropCounter) -> Task<> { co_await tokio::task::yield_now(); },
                 counted(c));
  }
}

Task<> set_up_everything(DropCounts* c, ts::Notify* never, ts::mpsc::UnboundedReceiver<int> rx,
                         std::vector<ts::oneshot::Receiver<int>>* oneshots, uint64_t seed) {
  stress::Rng rng(seed);
  for (int i = 0; i < 4; ++i) tokio::spawn(spinner, c, counted(c));
  auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
  REQUIRE(l.has_value());
  auto addr = l->local_addr().value();
  tokio::spawn(acceptor, std::move(*l), c, counted(c));
  for (int i = 0; i < 8; ++i) {
    auto s = co_await tokio::net::TcpStream::connect(addr);
    REQUIRE(s.has_value());
    if (i % 2 == 0) {
      tokio::spawn(flooder, std::move(*s), counted(c));
    } else {
      tokio::spawn(reader, std::move(*s), c, counted(c));
    }
  }
  for (int i = 0; i < 16; ++i)
    tokio::spawn(ticker, std::chrono::milliseconds(1 + rng() % 20), counted(c));
  tokio::spawn(channel_reader, std::move(rx), c, counted(c));
  for (auto& o : *oneshots) tokio::spawn(oneshot_waiter, std::move(o), counted(c));
  for (int i = 0; i < 4; ++i) tokio::spawn(blocking_waiter, c, 1 + rng() % 5, counted(c));
  tokio::spawn(joinset_owner, c, counted(c));
  for (int i = 0; i < 4; ++i) tokio::spawn(spawns_on_drop, SpawnOnDrop(c), never, counted(c));
  tokio::spawn(fan_out, c, counted(c));
  // Run for a random moment, then return: the runtime is dropped with all of it in flight.
  co_await tokio::time::sleep(std::chrono::milliseconds(rng() % 6));
  for (uint32_t y = rng() % 50; y > 0; --y) co_await tokio::task::yield_now();
}

}  // namespace

TEST_CASE("stress: runtime dropped at a random moment with every kind of work in flight") {
  const int iterations = static_cast<int>(stress::size(300, 6));
  stress::NofileRaise nofile;
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("runtime drop with work in flight", std::chrono::seconds(900));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    stress::Stopwatch sw;
    double worst_drop = 0;
    long spins = 0, sent_total = 0, received_total = 0;
    int fds0 = stress::open_fds();
    long threads0 = stress::threads();
    for (int it = 0; it < iterations; ++it) {
      DropCounts c;
      ts::Notify never;
      auto [tx, rx] = ts::mpsc::unbounded_channel<int>();
      std::vector<ts::oneshot::Receiver<int>> oneshots;
      std::vector<ts::oneshot::Sender<int>> oneshot_senders;
      for (int i = 0; i < 8; ++i) {
        auto [otx, orx] = ts::oneshot::channel<int>();
        oneshots.push_back(std::move(orx));
        oneshot_senders.push_back(std::move(otx));
      }
      // Plain threads keep waking tasks while the runtime shuts down.
      std::atomic<bool> stop{false};
      std::atomic<long> sent{0};
      std::atomic<bool> closed_seen{false};
      std::thread producer(
          [&stop, &sent, &closed_seen](ts::mpsc::UnboundedSender<int> tx) {
            for (int i = 0; !stop.load(); ++i) {
              if (!tx.send(i)) {  // the receiving task was dropped with its runtime
                closed_seen.store(true);
                return;
              }
              sent.fetch_add(1);
              if (i % 16 == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
          },
          std::move(tx));
      std::thread oneshot_thread(
          [](std::vector<ts::oneshot::Sender<int>> senders, uint64_t seed) {
            stress::Rng rng(seed);
            for (auto& s : senders) {
              std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
              (void)s.send(1);
            }
          },
          std::move(oneshot_senders), stress::seed() + static_cast<uint64_t>(it));
      {
        auto rt = stress::runtime(flavour);
        rt.block_on(set_up_everything(&c, &never, std::move(rx), &oneshots,
                                      stress::seed() + static_cast<uint64_t>(it)));
        stress::Stopwatch drop;
        { auto gone = std::move(rt); }
        worst_drop = std::max(worst_drop, drop.ms());
      }
      // Every counted object (task frames, closures, blocking jobs) was destroyed.
      CHECK(c.drops.load() == c.made.load());
      CHECK(c.made.load() >= 4 + 1 + 8 + 16 + 1 + 8 + 4 + 4 + 1 + 4 + 1);
      CHECK(stress::fds_back_to(fds0));  // every socket the tasks owned is closed
      // The producer sees the channel close (its receiver's task was dropped).
      CHECK(test::eventually([&] { return closed_seen.load(); }));
      stop.store(true);
      producer.join();
      oneshot_thread.join();
      spins += c.spins.load();
      sent_total += sent.load();
      received_total += c.received.load();
      CHECK(c.received.load() <= sent.load());
    }
    CHECK(test::eventually([&] { return stress::threads() <= threads0; }));
    stress::figure(
        "runtime drop (%s): %d drops with work in flight, worst drop %.1f ms, %ld spins, %ld/%ld "
        "channel "
        "values received before drops, %.0f ms total",
        stress::flavour_name(flavour), iterations, worst_drop, spins, received_total, sent_total,
        sw.ms());
  }
}
