// sync::broadcast, and the error types and empty-handle rules it shares with sync::watch.
#include <array>
#include <deque>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sync_test_util.hpp"

using tokio::Task;
namespace broadcast = tokio::sync::broadcast;
namespace watch = tokio::sync::watch;

// --- broadcast ---------------------------------------------------------------------------

TEST_CASE("broadcast: every receiver sees every value; send reports the receiver count") {
  auto [tx, rx1] = broadcast::channel<std::string>(8);
  auto rx2 = tx.subscribe();
  CHECK(tx.receiver_count() == 2);
  CHECK(tx.send("a").value() == 2);
  CHECK(tx.send("b").value() == 2);
  CHECK(rx1.len() == 2);
  CHECK(rx1.try_recv().value() == "a");
  CHECK(rx1.try_recv().value() == "b");
  CHECK(rx1.try_recv().error().is_empty());
  CHECK(rx2.try_recv().value() == "a");
  auto rx3 = tx.subscribe();  // only sees later values
  CHECK(rx3.try_recv().error().is_empty());
  (void)tx.send("c");
  CHECK(rx3.try_recv().value() == "c");
  CHECK(rx2.try_recv().value() == "b");
  CHECK(rx2.try_recv().value() == "c");
  // len() counts what the receiver missed too (Tokio's way to see a lag coming).
  auto [ltx, lrx] = broadcast::channel<int>(2);
  for (int i = 0; i < 5; ++i) (void)ltx.send(i);
  CHECK(lrx.len() == 5);
  auto lag = lrx.try_recv();
  REQUIRE_FALSE(lag.has_value());
  CHECK(lag.error().is_lagged());
  CHECK(lag.error().missed == 3);
  CHECK(lrx.len() == 2);
  CHECK(lrx.try_recv().value() == 3);
}

TEST_CASE("broadcast: errors: capacity 0, no receivers, closed after the last sender") {
  CHECK_THROWS_AS((void)broadcast::channel<int>(0), std::invalid_argument);
  auto [tx, rx] = broadcast::channel<int>(3);  // rounded up to 4
  { auto drop = std::move(rx); }
  auto e = tx.send(5);
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().value == 5);
  auto rx2 = tx.subscribe();
  (void)tx.send(6);
  auto tx2 = tx;
  { auto drop = std::move(tx); }
  CHECK(rx2.try_recv().value() == 6);
  CHECK(rx2.try_recv().error().is_empty());  // tx2 still alive
  { auto drop = std::move(tx2); }
  CHECK(rx2.try_recv().error().is_closed());
}

TEST_CASE("broadcast: a slow receiver gets Lagged(n) and resumes from the oldest value") {
  auto [tx, rx] = broadcast::channel<int>(4);
  for (int i = 0; i < 10; ++i) (void)tx.send(i);
  auto r = rx.try_recv();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is_lagged());
  CHECK(r.error().missed == 6);
  for (int i = 6; i < 10; ++i) CHECK(rx.try_recv().value() == i);
  CHECK(rx.try_recv().error().is_empty());
  auto rt = test::current_thread();
  rt.block_on([](broadcast::Sender<int>* tx, broadcast::Receiver<int>* rx) -> Task<> {
    for (int i = 0; i < 6; ++i) (void)tx->send(i);
    auto v = co_await rx->recv();
    CHECK(v.error() == broadcast::RecvError::lagged(2));
    CHECK(*(co_await rx->recv()) == 2);
  }(&tx, &rx));
}

TEST_CASE("broadcast: recv waits and is woken by send; resubscribe starts at the tail") {
  auto [tx, rx] = broadcast::channel<int>(4);
  auto r = test::polled(rx.recv());
  CHECK_FALSE(r.poll());
  (void)tx.send(1);
  CHECK(r.woken());
  CHECK(r.poll());
  CHECK(r.take().value() == 1);
  (void)tx.send(2);
  auto rx2 = rx.resubscribe();
  CHECK(rx2.try_recv().error().is_empty());
  CHECK(rx.try_recv().value() == 2);
  // A recv cancelled while waiting leaves nothing behind.
  auto c = test::polled(rx.recv());
  CHECK_FALSE(c.poll());
  auto& w = c.waker();
  c.cancel();
  CHECK(w.outstanding() == 0);
  (void)tx.send(3);
  CHECK(rx.try_recv().value() == 3);
}

TEST_CASE("broadcast: Sender::len counts values some receiver still wants; is_empty") {
  auto [tx, rx1] = broadcast::channel<int>(4);
  auto rx2 = tx.subscribe();
  CHECK(tx.is_empty());
  (void)tx.send(1);
  (void)tx.send(2);
  CHECK(tx.len() == 2);
  CHECK(rx1.try_recv().value() == 1);
  CHECK(tx.len() == 2);  // rx2 has read neither
  CHECK(rx2.try_recv().value() == 1);
  CHECK(tx.len() == 1);  // 1 seen by both
  CHECK(rx1.try_recv().value() == 2);
  CHECK(rx2.try_recv().value() == 2);
  CHECK(tx.is_empty());
  // Overwritten values are not queued any more: at most the capacity.
  for (int i = 0; i < 7; ++i) (void)tx.send(i);
  CHECK(tx.len() == 4);
  CHECK(rx1.len() == 7);  // the receiver's own count includes what it lost
  // A dropped receiver counts itself out.
  { auto drop = std::move(rx1); }
  CHECK(tx.len() == 4);
  for (int i = 0; i < 16; ++i) {
    auto r = rx2.try_recv();
    if (!r && r.error().is_empty()) break;
  }
  CHECK(tx.len() == 0);
}

TEST_CASE("broadcast: WeakSender upgrades only while a Sender lives; counts") {
  auto [tx, rx] = broadcast::channel<int>(4);
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 0);
  auto weak = tx.downgrade();
  auto weak2 = weak.clone();
  CHECK(tx.weak_count() == 2);
  CHECK(weak.strong_count() == 1);
  {
    auto up = weak.upgrade();
    REQUIRE(up.has_value());
    CHECK(tx.strong_count() == 2);
    CHECK(up->send(5).value() == 1);
  }
  CHECK(tx.strong_count() == 1);
  CHECK(rx.try_recv().value() == 5);
  // A WeakSender does not keep the channel open.
  { auto drop = std::move(tx); }
  CHECK(rx.try_recv().error().is_closed());
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK(weak.strong_count() == 0);
  CHECK(weak2.weak_count() == 2);
  weak = {};
  CHECK(weak2.weak_count() == 1);
  CHECK_FALSE(broadcast::WeakSender<int>().upgrade().has_value());
}

TEST_CASE("broadcast: Sender::closed completes when the last receiver goes; cancel-safe") {
  auto [tx, rx] = broadcast::channel<int>(4);
  auto rx2 = tx.subscribe();
  auto c = test::polled(tx.closed());
  CHECK_FALSE(c.poll());
  { auto drop = std::move(rx); }
  CHECK_FALSE(c.woken());
  CHECK_FALSE(c.poll());
  // A closed() dropped while waiting leaves no waker behind.
  auto c2 = test::polled(tx.closed());
  CHECK_FALSE(c2.poll());
  auto& w2 = c2.waker();
  c2.cancel();
  CHECK(w2.outstanding() == 0);
  { auto drop = std::move(rx2); }
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(tx.send(1).error().value == 1);
  // No receiver at all: ready at once; a new subscription makes it wait again.
  CHECK(test::polled(tx.closed()).poll());
  auto rx3 = tx.subscribe();
  auto c3 = test::polled(tx.closed());
  CHECK_FALSE(c3.poll());
  rx3 = {};
  CHECK(c3.woken());
  CHECK(c3.poll());
}

TEST_CASE("broadcast: Sender::new_ has no receiver until subscribe; is_closed") {
  CHECK_THROWS_AS((void)broadcast::Sender<int>::new_(0), std::invalid_argument);
  { auto unused = broadcast::Sender<int>::new_(4); }  // freed without any receiver (ASan)
  auto tx = broadcast::Sender<int>::new_(3);          // rounded up to 4
  CHECK(tx.is_closed());
  CHECK(tx.receiver_count() == 0);
  CHECK(tx.strong_count() == 1);
  CHECK(tx.len() == 0);
  auto e = tx.send(1);  // no receiver: the value comes back, nothing is stored
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().value == 1);
  CHECK(tx.len() == 0);
  CHECK(test::polled(tx.closed()).poll());  // no receiver: ready at once
  auto rx = tx.subscribe();
  CHECK_FALSE(tx.is_closed());
  auto c = test::polled(tx.closed());
  CHECK_FALSE(c.poll());
  for (int i = 0; i < 5; ++i) CHECK(tx.send(i).value() == 1);
  auto lag = rx.try_recv();  // four slots: the first value was overwritten
  REQUIRE_FALSE(lag.has_value());
  CHECK(lag.error().missed == 1);
  CHECK(rx.try_recv().value() == 1);
  auto tx2 = tx.clone();
  CHECK(tx2.same_channel(tx));
  CHECK_FALSE(tx2.is_closed());
  rx = {};
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(tx.is_closed());
  CHECK(tx2.is_closed());
  auto rx2 = tx2.subscribe();  // a channel without receivers opens again to a new one
  CHECK_FALSE(tx.is_closed());
  (void)tx.send(9);
  tx = {};
  CHECK(tx.is_closed());  // an empty sender
  CHECK(rx2.try_recv().value() == 9);
  CHECK(rx2.try_recv().error().is_empty());  // tx2 still alive
  tx2 = {};
  CHECK(rx2.try_recv().error().is_closed());
  // A sender of channel() is closed once its receivers are gone.
  auto [ctx, crx] = broadcast::channel<int>(2);
  CHECK_FALSE(ctx.is_closed());
  crx = {};
  CHECK(ctx.is_closed());
}

TEST_CASE("broadcast: values are destroyed once every receiver has them or is gone") {
  struct Counted {
    std::shared_ptr<int> alive;
  };
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> weak = token;
  {
    auto [tx, rx1] = broadcast::channel<Counted>(4);
    auto rx2 = tx.subscribe();
    (void)tx.send(Counted{std::move(token)});
    CHECK_FALSE(weak.expired());
    (void)rx1.try_recv();
    CHECK_FALSE(weak.expired());  // rx2 has not read it
    { auto drop = std::move(rx2); }
    CHECK(weak.expired());  // the dropped receiver counted itself out
  }
}

TEST_CASE("broadcast: recv losing a select is cancel-safe; blocking_recv; many tasks") {
  auto rt = test::multi_thread(4);
  const int n = static_cast<int>(test::scaled(4000));
  constexpr int kTasks = 6;
  // Each receiver publishes how far it got; the sender never runs more than half the ring
  // ahead of the slowest, so nobody lags however the threads are scheduled.
  auto progress = std::make_shared<std::array<std::atomic<int>, kTasks + 1>>();
  for (auto& p : *progress) p.store(0);
  auto [tx, rx0] = broadcast::channel<int>(64);
  std::vector<tokio::JoinHandle<long>> hs;
  for (int t = 0; t < kTasks; ++t) {
    hs.push_back(rt.spawn(
        [](broadcast::Receiver<int> rx, int t,
           std::shared_ptr<std::array<std::atomic<int>, kTasks + 1>> progress) -> Task<long> {
          long sum = 0;
          int expect = 0;
          for (;;) {
            tokio::Result<int, broadcast::RecvError> v =
                tokio::unexpected(broadcast::RecvError::closed());
            if (t % 2 == 0) {
              auto r = co_await tokio::select(rx.recv(), tokio::task::yield_now());
              if (r.index() == 1) continue;
              v = std::move(std::get<0>(r));
            } else {
              v = co_await rx.recv();
            }
            if (!v) {
              CHECK(v.error().is_closed());
              break;
            }
            CHECK(*v == expect);
            ++expect;
            (*progress)[static_cast<std::size_t>(t)].store(expect);
            sum += *v;
          }
          co_return sum;
        },
        tx.subscribe(), t, progress));
  }
  std::thread blocking([rx = std::move(rx0), n, progress]() mutable {
    long sum = 0;
    int count = 0;
    for (;;) {
      auto v = rx.blocking_recv();
      if (!v) break;
      sum += *v;
      (*progress)[kTasks].store(++count);
    }
    CHECK(sum == static_cast<long>(n) * (n - 1) / 2);
  });
  auto slowest = [&] {
    int m = n;
    for (auto& p : *progress) m = std::min(m, p.load());
    return m;
  };
  for (int i = 0; i < n; ++i) {
    while (i - slowest() >= 32) std::this_thread::yield();
    CHECK(tx.send(i).value() == kTasks + 1);
  }
  { auto drop = std::move(tx); }
  blocking.join();
  rt.block_on([](std::vector<tokio::JoinHandle<long>>* hs, int n) -> Task<> {
    for (auto& h : *hs) CHECK(co_await h == static_cast<long>(n) * (n - 1) / 2);
  }(&hs, n));
}

TEST_CASE("broadcast: randomized sequences match a reference model") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    test::Rng rng(seed);
    const std::size_t cap = std::size_t{1} << rng.below(3);  // 1, 2, 4
    auto [tx, rx0] = broadcast::channel<int>(cap);
    struct Rx {
      broadcast::Receiver<int> rx;
      uint64_t next;
    };
    std::vector<Rx> rxs;
    rxs.push_back({std::move(rx0), 0});
    std::deque<int> log;  // every value sent, by position
    uint64_t tail = 0;
    for (int step = 0; step < 80; ++step) {
      switch (rng.below(4)) {
        case 0:
        case 1: {
          int v = static_cast<int>(tail);
          auto r = tx.send(v);
          if (rxs.empty()) {
            CHECK_FALSE(r.has_value());
          } else {
            CHECK(r.value() == rxs.size());
            log.push_back(v);
            ++tail;
          }
          break;
        }
        case 2: {
          if (rxs.empty()) break;
          auto& r = rxs[rng.below(rxs.size())];
          auto got = r.rx.try_recv();
          uint64_t oldest = tail > cap ? tail - cap : 0;
          if (r.next == tail) {
            CHECK(got.error().is_empty());
          } else if (r.next < oldest) {
            CHECK(got.error().is_lagged());
            CHECK(got.error().missed == oldest - r.next);
            r.next = oldest;
          } else {
            REQUIRE(got.has_value());
            CHECK(static_cast<uint64_t>(*got) == r.next);
            ++r.next;
          }
          break;
        }
        case 3:
          if (rng.chance(50) || rxs.empty()) {
            rxs.push_back({tx.subscribe(), tail});
          } else {
            rxs.erase(rxs.begin() + static_cast<std::ptrdiff_t>(rng.below(rxs.size())));
          }
          break;
      }
      for (auto& r : rxs) {
        uint64_t pending = tail - r.next;
        CHECK(r.rx.len() == pending);  // lost values included: > cap means Lagged next
      }
    }
  }
}

// --- the shared error types -----------------------------------------------------------------

TEST_CASE("sync errors: one definition each, into_inner hands the value back") {
  namespace mpsc = tokio::sync::mpsc;
  static_assert(std::is_same_v<mpsc::SendError<int>, broadcast::SendError<int>>);
  static_assert(std::is_same_v<broadcast::SendError<int>, watch::SendError<int>>);
  static_assert(std::is_same_v<tokio::sync::oneshot::RecvError, watch::RecvError>);
  auto [btx, brx] = broadcast::channel<std::string>(2);
  { auto drop = std::move(brx); }
  auto be = btx.send("b");
  REQUIRE_FALSE(be.has_value());
  CHECK(std::move(be.error()).into_inner() == "b");
  auto [wtx, wrx] = watch::channel<std::string>("a");
  { auto drop = std::move(wrx); }
  auto we = wtx.send("w");
  REQUIRE_FALSE(we.has_value());
  CHECK(std::move(we.error()).into_inner() == "w");
  tokio::sync::OnceCell<std::string> cell(std::string("x"));
  auto se = cell.set("y");
  REQUIRE_FALSE(se.has_value());
  CHECK(se.error().is_already_init_err());
  CHECK(std::move(se.error()).into_inner() == "y");
  // Display: Tokio's messages through to_string (found by ADL) and operator<<.
  namespace mpsc = tokio::sync::mpsc;
  CHECK(to_string(be.error()) == "channel closed");
  CHECK(to_string(broadcast::RecvError::lagged(3)) == "channel lagged by 3");
  CHECK(to_string(broadcast::RecvError::closed()) == "channel closed");
  CHECK(to_string(broadcast::TryRecvError{{broadcast::TryRecvError::Kind::Empty, 0}}) ==
        "channel empty");
  CHECK(to_string(mpsc::TrySendError<int>{{mpsc::TrySendError<int>::Kind::Full, 1}}) ==
        "no available capacity");
  CHECK(to_string(mpsc::TryRecvError::Disconnected) == "receiving on a closed channel");
  CHECK(to_string(tokio::sync::oneshot::TryRecvError::Empty) == "channel empty");
  CHECK(to_string(tokio::sync::TryAcquireError::NoPermits) == "no permits available");
  CHECK(to_string(se.error()) == "AlreadyInitializedError");  // Tokio's text
  CHECK(to_string(tokio::stream::wrappers::BroadcastStreamRecvError{5}) == "channel lagged by 5");
  std::ostringstream os;
  os << broadcast::RecvError::lagged(2) << "; " << tokio::sync::AcquireError{} << "; "
     << watch::RecvError{};
  CHECK(os.str() == "channel lagged by 2; semaphore closed; channel closed");
  CHECK(broadcast::RecvError::lagged(3) == broadcast::RecvError::lagged(3));
  CHECK_FALSE(broadcast::RecvError::lagged(3) == broadcast::RecvError::closed());
}

// --- empty (moved-from or default-constructed) handles ---------------------------------------

namespace {
// Runs f, which must throw std::logic_error whose message names `what`.
template <class F>
void check_misuse(F&& f, const char* what) {
  try {
    f();
    FAIL("no exception for a use of an empty ", what);
  } catch (const std::logic_error& e) {
    CHECK(std::string(e.what()).find(what) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("broadcast, watch: `x = {}` drops a handle; an empty one throws, its copies stay empty") {
  // (Pairs, not structured bindings: clang 14 cannot capture a binding in a lambda.)
  auto bch = broadcast::channel<int>(2);
  auto& btx = bch.first;
  auto& brx = bch.second;
  auto brx2 = btx.subscribe();
  brx = {};  // drops the receiver: the channel counts one
  CHECK(btx.receiver_count() == 1);
  broadcast::Sender<int> empty_tx = std::move(btx);
  btx = {};
  broadcast::Sender<int> copy_of_empty = btx;  // copying an empty sender used to crash
  CHECK_FALSE(copy_of_empty.same_channel(empty_tx));
  check_misuse([&] { (void)btx.send(1); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)copy_of_empty.subscribe(); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)brx.recv(); }, "empty (moved-from) Receiver");
  check_misuse([&] { (void)brx.try_recv(); }, "empty (moved-from) Receiver");
  CHECK(brx.len() == 0);
  empty_tx = {};  // the last sender: the receiver sees the channel closed
  auto closed = brx2.try_recv();
  REQUIRE_FALSE(closed.has_value());
  CHECK(closed.error().is_closed());

  auto wch = watch::channel<int>(0);
  auto& wtx = wch.first;
  auto& wrx = wch.second;
  auto wrx2 = wrx;
  wrx = {};
  CHECK(wtx.receiver_count() == 1);
  watch::Receiver<int> copy_of_empty_rx = wrx;  // used to dereference null
  check_misuse([&] { (void)copy_of_empty_rx.borrow(); }, "empty (moved-from) Receiver");
  check_misuse([&] { (void)wrx.borrow_and_update(); }, "empty (moved-from) Receiver");
  check_misuse([&] { (void)wrx.has_changed(); }, "empty (moved-from) Receiver");
  check_misuse([&] { wrx.mark_changed(); }, "empty (moved-from) Receiver");
  check_misuse([&] { (void)wrx.changed(); }, "empty (moved-from) Receiver");
  wtx = {};  // drops the sender: the remaining receiver sees the channel closed
  CHECK_FALSE(wrx2.has_changed().has_value());
  CHECK(wtx.is_closed());
  CHECK(wtx.receiver_count() == 0);
  check_misuse([&] { (void)wtx.send(1); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)wtx.send_replace(1); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)wtx.borrow(); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)wtx.subscribe(); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)wtx.closed(); }, "empty (moved-from) Sender");
  watch::Sender<int> copy_of_empty_tx = wtx;  // a clone of an empty sender is empty too
  CHECK(copy_of_empty_tx.sender_count() == 0);
  check_misuse([&] { (void)copy_of_empty_tx.send(1); }, "empty (moved-from) Sender");
  check_misuse([&] { (void)copy_of_empty_tx.clone().subscribe(); }, "empty (moved-from) Sender");
  auto rt = test::current_thread();
  bool waited = rt.block_on([](watch::Receiver<int>& rx) -> Task<bool> {
    try {
      (void)co_await rx.wait_for([](const int&) { return true; });
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }(wrx));
  CHECK(waited);
}
