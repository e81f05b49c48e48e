// Cancellation storms with value accounting (issue 11 §2): every cancel-safe operation is
// awaited over and over under cancellers that destroy it at every stage (before its first
// poll, after one or two polls, against a real timer, by aborting its task), while
// producers on other tasks and plain threads feed it. Every value sent must be received
// exactly once, or still be in the channel at the end; every permit and lock must be back.
// Sizes: stress::size(full, ci); `make stress` runs them at full size.
#include <memory>
#include <vector>

#include "stress_util.hpp"

using tokio::Task;
namespace ts = tokio::sync;

namespace {

struct Tally {
  std::atomic<long> cancels{0};
  std::atomic<long> attempts{0};
};

// --- mpsc (bounded): reserve/send under cancellation, recv/recv_many under cancellation --
// Producer k sends the values v with v % 4 == k:
//   0, 1  reserve() under the cancellers, then Permit::send (a cancelled reserve holds no slot)
//   2     send() under the cancellers; a cancelled send "was not sent" (its value dropped),
//         so the same number is sent again: a duplicate in the ledger would mean it was
//   3     a plain thread with blocking_send
Task<> bounded_producer(ts::mpsc::Sender<uint32_t> tx, uint32_t k, uint32_t n, uint64_t seed,
                        Tally* t) {
  stress::Rng rng(seed);
  for (uint32_t v = k; v < n; v += 4) {
    for (;;) {
      t->attempts.fetch_add(1, std::memory_order_relaxed);
      if (k < 2) {
        auto p = co_await stress::attempt(tx.reserve(), rng());
        if (!p) {
          t->cancels.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        REQUIRE(p->has_value());
        (*p)->send(v);
      } else {
        auto r = co_await stress::attempt(tx.send(v), rng());
        if (!r) {
          t->cancels.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        REQUIRE(r->has_value());
      }
      break;
    }
  }
}

Task<> mpsc_bounded_storm(uint32_t n, uint64_t seed, stress::Ledger* ledger, Tally* t) {
  auto [tx, rx] = ts::mpsc::channel<uint32_t>(16);
  std::vector<tokio::task::JoinHandle<void>> producers;
  for (uint32_t k = 0; k < 3; ++k)
    producers.push_back(tokio::spawn(bounded_producer, tx, k, n, seed + k, t));
  std::thread blocking(
      [](ts::mpsc::Sender<uint32_t> tx, uint32_t n) {
        for (uint32_t v = 3; v < n; v += 4) CHECK(tx.blocking_send(v).has_value());
      },
      tx, n);
  { auto drop = std::move(tx); }
  stress::Rng rng(seed ^ 0xabcdef);
  std::vector<uint32_t> many;
  for (;;) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    if (rng() % 4 == 0) {
      // recv_many: a cancelled call appends nothing.
      many.clear();
      auto r = co_await stress::attempt(rx.recv_many(many, 1 + rng() % 8), rng());
      if (!r) {
        t->cancels.fetch_add(1, std::memory_order_relaxed);
        CHECK(many.empty());
        continue;
      }
      if (*r == 0) break;
      REQUIRE(many.size() == *r);
      for (uint32_t v : many) ledger->saw(v);
      continue;
    }
    auto r = co_await stress::attempt(rx.recv(), rng());
    if (!r) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!*r) break;  // every sender gone and the channel empty
    ledger->saw(**r);
  }
  for (auto& p : producers) co_await p;
  blocking.join();
}

// --- mpsc (unbounded) and select losers: two channels raced in one select ----------------
// The losing recv of every select must leave its value in its channel.
Task<> select_two_channels_storm(uint32_t n, uint64_t seed, stress::Ledger* ledger, Tally* t) {
  auto [tx1, rx1] = ts::mpsc::unbounded_channel<uint32_t>();
  auto [tx2, rx2] = ts::mpsc::unbounded_channel<uint32_t>();
  std::thread a(
      [](ts::mpsc::UnboundedSender<uint32_t> tx, uint32_t n) {
        for (uint32_t v = 0; v < n; v += 2) {
          CHECK(tx.send(v).has_value());
          if (v % 512 == 0) std::this_thread::yield();
        }
      },
      std::move(tx1), n);
  auto b = tokio::spawn(
      [](ts::mpsc::UnboundedSender<uint32_t> tx, uint32_t n) -> Task<> {
        for (uint32_t v = 1; v < n; v += 2) {
          REQUIRE(tx.send(v).has_value());
          if (v % 64 == 1) co_await tokio::task::yield_now();
        }
      },
      std::move(tx2), n);
  stress::Rng rng(seed);
  bool open1 = true, open2 = true;
  while (open1 || open2) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    if (open1 && open2) {
      auto r = co_await tokio::select(rx1.recv(), rx2.recv());
      auto& got = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
      if (!got) {
        (r.index() == 0 ? open1 : open2) = false;
      } else {
        ledger->saw(*got);
      }
      continue;
    }
    auto& rx = open1 ? rx1 : rx2;
    auto r = co_await stress::attempt(rx.recv(), rng());
    if (!r) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!*r) {
      (open1 ? open1 : open2) = false;
    } else {
      ledger->saw(**r);
    }
  }
  a.join();
  co_await b;
}

// --- oneshot: the receiver is awaited (by reference) under the cancellers until it yields
// the value or RecvError; one sender in 16 is dropped without sending.
Task<> oneshot_storm(uint32_t n, uint64_t seed, stress::Ledger* ledger, Tally* t) {
  stress::Rng rng(seed);
  const uint32_t batch = 64;
  for (uint32_t base = 0; base < n; base += batch) {
    uint32_t m = std::min(batch, n - base);
    std::vector<ts::oneshot::Receiver<uint32_t>> rxs;
    for (uint32_t i = 0; i < m; ++i) {
      auto [tx, rx] = ts::oneshot::channel<uint32_t>();
      rxs.push_back(std::move(rx));
      uint32_t v = base + i;
      tokio::spawn(
          [](ts::oneshot::Sender<uint32_t> tx, uint32_t v, uint32_t yields) -> Task<> {
            for (uint32_t y = 0; y < yields; ++y) co_await tokio::task::yield_now();
            if (v % 16 != 5) (void)tx.send(v);
          },
          std::move(tx), v, rng() % 4);
    }
    for (uint32_t i = 0; i < m; ++i) {
      for (;;) {
        t->attempts.fetch_add(1, std::memory_order_relaxed);
        auto r = co_await stress::attempt(rxs[i], rng());
        if (!r) {
          t->cancels.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        uint32_t v = base + i;
        if (r->has_value()) {
          CHECK(**r == v);
          CHECK(v % 16 != 5);
          ledger->saw(**r);
        } else {
          CHECK(v % 16 == 5);  // RecvError only for the dropped senders
          ledger->saw(v);
        }
        break;
      }
    }
  }
}

// --- broadcast: each receiver sees 0..n-1 in order, with gaps only where recv reported
// Lagged(k), and exactly k values missing there.
Task<> broadcast_receiver(ts::broadcast::Receiver<uint32_t> rx, uint32_t n, uint64_t seed, Tally* t,
                          std::atomic<long>* lagged_total) {
  stress::Rng rng(seed);
  uint64_t next = 0, received = 0, lagged = 0;
  for (;;) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    auto r = co_await stress::attempt(rx.recv(), rng());
    if (!r) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (r->has_value()) {
      REQUIRE_MESSAGE(**r == next, "broadcast: expected " << next << ", got " << **r);
      ++next;
      ++received;
    } else if (r->error().is_lagged()) {
      next += r->error().missed;
      lagged += r->error().missed;
    } else {
      break;  // closed
    }
  }
  CHECK(next == n);
  CHECK(received + lagged == n);
  lagged_total->fetch_add(static_cast<long>(lagged));
}

Task<> broadcast_storm(uint32_t n, uint64_t seed, Tally* t, std::atomic<long>* lagged) {
  auto [tx, rx0] = ts::broadcast::channel<uint32_t>(256);
  std::vector<tokio::task::JoinHandle<void>> rs;
  for (int i = 0; i < 3; ++i)
    rs.push_back(tokio::spawn(broadcast_receiver, tx.subscribe(), n, seed + i, t, lagged));
  { auto drop = std::move(rx0); }
  std::thread sender(
      [](ts::broadcast::Sender<uint32_t> tx, uint32_t n) {
        for (uint32_t v = 0; v < n; ++v) {
          CHECK(tx.send(v).has_value());
          // Mostly paced below the receivers' speed; bursts make some of them lag.
          if (v % 128 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      },
      std::move(tx), n);
  for (auto& r : rs) co_await r;
  sender.join();
}

// --- watch: changed() under the cancellers; every change observed is newer than the last,
// and the last value sent is observed before changed() reports the sender gone.
Task<> watch_receiver(ts::watch::Receiver<uint32_t> rx, uint32_t n, uint64_t seed, Tally* t,
                      std::atomic<long>* seen) {
  stress::Rng rng(seed);
  uint32_t last = 0;
  long changes = 0;
  for (;;) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    auto r = co_await stress::attempt(rx.changed(), rng());
    if (!r) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!r->has_value()) break;  // sender gone, nothing unseen
    uint32_t v = *rx.borrow_and_update();
    REQUIRE_MESSAGE(v > last, "watch: a change to " << v << " after " << last);
    last = v;
    ++changes;
  }
  CHECK(last == n);
  CHECK(*rx.borrow() == n);
  seen->fetch_add(changes);
}

Task<> watch_storm(uint32_t n, uint64_t seed, Tally* t, std::atomic<long>* seen) {
  auto [tx, rx0] = ts::watch::channel<uint32_t>(0);
  std::vector<tokio::task::JoinHandle<void>> rs;
  for (int i = 0; i < 3; ++i)
    rs.push_back(tokio::spawn(watch_receiver, tx.subscribe(), n, seed + i, t, seen));
  { auto drop = std::move(rx0); }
  std::thread sender(
      [](ts::watch::Sender<uint32_t> tx, uint32_t n) {
        for (uint32_t v = 1; v <= n; ++v) {
          CHECK(tx.send(v).has_value());
          if (v % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      },
      std::move(tx), n);
  for (auto& r : rs) co_await r;
  sender.join();
}

// --- Mutex and Semaphore: acquisitions under the cancellers; nothing leaks -----------------
Task<> mutex_worker(ts::Mutex<uint64_t>* m, uint32_t k, uint64_t seed, Tally* t,
                    std::atomic<uint64_t>* ok) {
  stress::Rng rng(seed);
  for (uint32_t i = 0; i < k; ++i) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    auto g = co_await stress::attempt(m->lock(), rng());
    if (!g) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    ++**g;
    ok->fetch_add(1, std::memory_order_relaxed);
    if (rng() % 4 == 0) co_await tokio::task::yield_now();  // held across a suspension
  }
}

Task<> semaphore_worker(ts::Semaphore* s, uint32_t k, uint64_t seed, Tally* t,
                        std::atomic<int>* in_use, std::atomic<int>* peak) {
  stress::Rng rng(seed);
  for (uint32_t i = 0; i < k; ++i) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    uint32_t want = 1 + rng() % 3;
    auto p = co_await stress::attempt(s->acquire_many(want), rng());
    if (!p) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    REQUIRE(p->has_value());
    int now = in_use->fetch_add(static_cast<int>(want)) + static_cast<int>(want);
    int prev = peak->load();
    while (now > prev && !peak->compare_exchange_weak(prev, now)) {
    }
    if (rng() % 4 == 0) co_await tokio::task::yield_now();
    in_use->fetch_sub(static_cast<int>(want));
  }
}

// --- JoinSet::join_next under the cancellers; one task in 16 is aborted ---------------------
Task<uint32_t> joinset_task(uint32_t v, uint32_t yields) {
  for (uint32_t y = 0; y < yields; ++y) co_await tokio::task::yield_now();
  co_return v;
}

Task<> joinset_storm(uint32_t n, uint64_t seed, stress::Ledger* ledger, Tally* t, long* cancelled) {
  stress::Rng rng(seed);
  tokio::task::JoinSet<uint32_t> set;
  std::vector<tokio::task::AbortHandle> abort_later;
  for (uint32_t v = 0; v < n; ++v) {
    auto h = set.spawn(joinset_task(v, rng() % 4));
    if (v % 16 == 7) abort_later.push_back(h);
    if (v % 256 == 255) {
      for (auto& a : abort_later) a.abort();
      abort_later.clear();
      // Drain some while spawning continues.
      for (int d = 0; d < 64; ++d) {
        t->attempts.fetch_add(1, std::memory_order_relaxed);
        auto r = co_await stress::attempt(set.join_next(), rng());
        if (!r) {
          t->cancels.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        REQUIRE(r->has_value());
        if ((*r)->has_value()) {
          ledger->saw((*r)->value());
        } else {
          CHECK((*r)->error().is_cancelled());
          ++*cancelled;
        }
      }
    }
  }
  for (auto& a : abort_later) a.abort();
  for (;;) {
    t->attempts.fetch_add(1, std::memory_order_relaxed);
    auto r = co_await stress::attempt(set.join_next(), rng());
    if (!r) {
      t->cancels.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!r->has_value()) break;  // empty
    if ((*r)->has_value()) {
      ledger->saw((*r)->value());
    } else {
      CHECK((*r)->error().is_cancelled());
      ++*cancelled;
    }
  }
  CHECK(set.len() == 0);
}

}  // namespace

TEST_CASE(
    "stress: mpsc storm: reserve/send/recv/recv_many cancelled at every stage, every value exactly "
    "once") {
  const auto n = static_cast<uint32_t>(stress::size(1000000, 20000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("mpsc storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    stress::Ledger ledger(n);
    Tally t;
    auto rt = stress::runtime(flavour);
    rt.block_on(mpsc_bounded_storm(n, stress::seed() + flavour, &ledger, &t));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    CHECK(ledger.total() == n);
    CHECK(ledger.duplicates() == 0);
    CHECK(ledger.missing() == 0);
    CHECK(t.cancels.load() > 0);
    stress::figure("mpsc storm (%s): %u values, %ld attempts, %ld cancelled, %.0f ms",
                   stress::flavour_name(flavour), n, t.attempts.load(), t.cancels.load(), sw.ms());
  }
}

TEST_CASE(
    "stress: select over two channels: the losing recv keeps its value, every value exactly once") {
  const auto n = static_cast<uint32_t>(stress::size(1000000, 20000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("select storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    stress::Ledger ledger(n);
    Tally t;
    auto rt = stress::runtime(flavour);
    rt.block_on(select_two_channels_storm(n, stress::seed() + flavour, &ledger, &t));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    CHECK(ledger.exact());
    stress::figure("select storm (%s): %u values, %ld selects, %ld cancelled, %.0f ms",
                   stress::flavour_name(flavour), n, t.attempts.load(), t.cancels.load(), sw.ms());
  }
}

TEST_CASE(
    "stress: oneshot storm: the awaited receiver keeps the value through every cancellation") {
  const auto n = static_cast<uint32_t>(stress::size(200000, 5000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("oneshot storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    stress::Ledger ledger(n);
    Tally t;
    auto rt = stress::runtime(flavour);
    rt.block_on(oneshot_storm(n, stress::seed() + flavour, &ledger, &t));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    CHECK(ledger.exact());
    stress::figure("oneshot storm (%s): %u channels, %ld attempts, %ld cancelled, %.0f ms",
                   stress::flavour_name(flavour), n, t.attempts.load(), t.cancels.load(), sw.ms());
  }
}

TEST_CASE("stress: broadcast storm: cancelled recvs lose nothing; gaps only where Lagged says") {
  const auto n = static_cast<uint32_t>(stress::size(500000, 10000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("broadcast storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    Tally t;
    std::atomic<long> lagged{0};
    auto rt = stress::runtime(flavour);
    rt.block_on(broadcast_storm(n, stress::seed() + flavour, &t, &lagged));
    stress::figure(
        "broadcast storm (%s): %u values x 3 receivers, %ld attempts, %ld cancelled, %ld lagged, "
        "%.0f ms",
        stress::flavour_name(flavour), n, t.attempts.load(), t.cancels.load(), lagged.load(),
        sw.ms());
  }
}

TEST_CASE("stress: watch storm: cancelled changed() never loses or repeats a change") {
  const auto n = static_cast<uint32_t>(stress::size(500000, 10000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("watch storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    Tally t;
    std::atomic<long> seen{0};
    auto rt = stress::runtime(flavour);
    rt.block_on(watch_storm(n, stress::seed() + flavour, &t, &seen));
    CHECK(seen.load() > 0);
    stress::figure(
        "watch storm (%s): %u values x 3 receivers, %ld changes seen, %ld attempts, %ld cancelled, "
        "%.0f ms",
        stress::flavour_name(flavour), n, seen.load(), t.attempts.load(), t.cancels.load(),
        sw.ms());
  }
}

TEST_CASE("stress: Mutex and Semaphore storms: cancelled acquisitions leak no lock and no permit") {
  const auto k = static_cast<uint32_t>(stress::size(100000, 2000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("mutex/semaphore storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    Tally t;
    ts::Mutex<uint64_t> m(0);
    std::atomic<uint64_t> ok{0};
    ts::Semaphore sem(5);
    std::atomic<int> in_use{0}, peak{0};
    auto rt = stress::runtime(flavour);
    rt.block_on([](ts::Mutex<uint64_t>* m, ts::Semaphore* sem, uint32_t k, Tally* t,
                   std::atomic<uint64_t>* ok, std::atomic<int>* in_use,
                   std::atomic<int>* peak) -> Task<> {
      std::vector<tokio::task::JoinHandle<void>> hs;
      for (uint32_t w = 0; w < 8; ++w) {
        hs.push_back(tokio::spawn(mutex_worker, m, k, stress::seed() + w, t, ok));
        hs.push_back(
            tokio::spawn(semaphore_worker, sem, k, stress::seed() + 100 + w, t, in_use, peak));
      }
      for (auto& h : hs) co_await h;
    }(&m, &sem, k, &t, &ok, &in_use, &peak));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    auto g = m.try_lock();
    REQUIRE(g.has_value());  // no cancelled lock() left the mutex held
    CHECK(**g == ok.load());
    CHECK(sem.available_permits() == 5);  // every permit came back
    CHECK(peak.load() <= 5);
    CHECK(t.cancels.load() > 0);
    stress::figure(
        "mutex/semaphore storm (%s): %ld attempts, %ld cancelled, %llu locks, peak %d permits, "
        "%.0f ms",
        stress::flavour_name(flavour), t.attempts.load(), t.cancels.load(),
        static_cast<unsigned long long>(ok.load()), peak.load(), sw.ms());
  }
}

TEST_CASE(
    "stress: JoinSet::join_next storm: every task's output exactly once, aborted ones as "
    "cancelled") {
  const auto n = static_cast<uint32_t>(stress::size(500000, 10000));
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("joinset storm", std::chrono::seconds(600));
    stress::Stopwatch sw;
    stress::Ledger ledger(n);
    Tally t;
    long cancelled = 0;
    auto rt = stress::runtime(flavour);
    rt.block_on(joinset_storm(n, stress::seed() + flavour, &ledger, &t, &cancelled));
    INFO(stress::flavour_name(flavour) << " seed " << stress::seed());
    CHECK(ledger.duplicates() == 0);
    CHECK(ledger.out_of_range() == 0);
    CHECK(ledger.total() + static_cast<std::size_t>(cancelled) == n);
    CHECK(ledger.missing() == static_cast<std::size_t>(cancelled));
    stress::figure(
        "joinset storm (%s): %u tasks, %ld cancelled by abort, %ld attempts, %ld cancelled, %.0f "
        "ms",
        stress::flavour_name(flavour), n, cancelled, t.attempts.load(), t.cancels.load(), sw.ms());
  }
}
