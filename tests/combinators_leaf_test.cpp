// select, join and try_join over plain leaves (polled directly, no Task frame), and
// select's first poll that asks its branches before it registers any.
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>

#include "combinators_test_util.hpp"
#include "sync_test_util.hpp"
#include "test_util.hpp"

using tokio::Task;

namespace {
namespace mpsc = tokio::sync::mpsc;
}  // namespace

namespace {
// A plain leaf (Leaf's own await_ready and await_suspend): select, join and try_join poll it
// directly, with no Task frame around it. Ready once its gate is open; counts the live
// instances (so a test sees when the branch destroyed it) and its polls.
struct Gate {
  bool open = false;
  bool throw_on_resume = false;
  int live = 0;
  int polls = 0;
};
class GateLeaf : public tokio::detail::Leaf<GateLeaf> {
 public:
  explicit GateLeaf(Gate* g) noexcept : g_(g) { ++g_->live; }
  GateLeaf(GateLeaf&& o) noexcept : tokio::detail::Leaf<GateLeaf>(o), g_(o.g_) { ++g_->live; }
  GateLeaf(const GateLeaf&) = delete;
  ~GateLeaf() { --g_->live; }
  // Pending without registering a waker: the tests wake the task from a sibling branch.
  bool poll(tokio::task::Context&) noexcept {
    ++g_->polls;
    return g_->open;
  }
  int await_resume() {
    if (g_->throw_on_resume) throw std::runtime_error("gate resume failed");
    return 5;
  }

 private:
  Gate* g_;
};
// An awaitable whose operator co_await makes the leaf (as Notified and JoinHandle do), or
// throws while making it.
struct GateMaker {
  using tokio_awaitable = void;
  Gate* g;
  bool throw_on_make = false;
  GateLeaf operator co_await() && {
    if (throw_on_make) throw std::logic_error("making the leaf failed");
    return GateLeaf(g);
  }
};
// The same leaf giving an io::Result (for try_join).
class IoGateLeaf : public tokio::detail::Leaf<IoGateLeaf> {
 public:
  explicit IoGateLeaf(Gate* g) noexcept : inner_(g) {}
  bool poll(tokio::task::Context& cx) noexcept { return inner_.poll(cx); }
  tokio::io::Result<int> await_resume() { return ok_value(inner_.await_resume()); }

 private:
  GateLeaf inner_;
};
// A leaf with an await_suspend of its own: select cannot know what it does, so it keeps
// the Task wrapper.
class OwnSuspendLeaf : public tokio::detail::Leaf<OwnSuspendLeaf> {
 public:
  bool poll(tokio::task::Context&) noexcept { return true; }
  void await_suspend(std::coroutine_handle<> h) {
    tokio::detail::Leaf<OwnSuspendLeaf>::await_suspend(h);
  }
  int await_resume() const noexcept { return 1; }
};
// Yields `yields` times, opens the gate, then goes on yielding (the gate's branch wins).
Task<int> open_after(Gate* g, int yields) {
  for (int i = 0; i < yields; ++i) co_await tokio::task::yield_now();
  g->open = true;
  for (int i = 0; i < 100; ++i) co_await tokio::task::yield_now();
  co_return 1;
}
}  // namespace

TEST_CASE("select, join and try_join poll a plain leaf directly; others run in a Task") {
  using tokio::detail::branch_t;
  using tokio::detail::LeafBranch;
  static_assert(std::is_same_v<branch_t<GateLeaf>, LeafBranch<GateLeaf>>);
  static_assert(std::is_same_v<branch_t<GateLeaf&>, LeafBranch<GateLeaf&>>);
  static_assert(!tokio::detail::DirectOperand<const GateLeaf&>);  // cannot be polled
  static_assert(std::is_same_v<branch_t<GateMaker>, LeafBranch<GateMaker>>);
  static_assert(std::is_same_v<branch_t<IoGateLeaf>, LeafBranch<IoGateLeaf>>);
  static_assert(std::is_same_v<branch_t<tokio::sync::Notified>, LeafBranch<tokio::sync::Notified>>);
  static_assert(
      std::is_same_v<branch_t<mpsc::Receiver<int>::Recv>, LeafBranch<mpsc::Receiver<int>::Recv>>);
  static_assert(std::is_same_v<branch_t<Task<int>>, tokio::detail::Branch<int>>);
  static_assert(std::is_same_v<branch_t<tokio::time::Sleep>, LeafBranch<tokio::time::Sleep>>);
  // A leaf that overrides await_suspend is awaited through a Task frame.
  static_assert(std::is_same_v<branch_t<OwnSuspendLeaf>, tokio::detail::Branch<int>>);

  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    rt.block_on([]() -> Task<> {
      // The loser is destroyed before select returns; the winner's value comes through.
      Gate g;
      auto r = co_await tokio::select(GateLeaf(&g), after(7, 3));
      CHECK(r.index() == 1);
      CHECK(g.live == 0);
      CHECK(g.polls >= 2);  // polled again on each wake of the task
      Gate g2;
      auto r2 = co_await tokio::select(GateMaker{&g2}, open_after(&g2, 2), after(0, 50));
      CHECK(r2.index() == 0);
      CHECK(std::get<0>(r2) == 5);
      CHECK(g2.live == 0);

      // A borrowed leaf survives a loss and can win the next select.
      Gate g3;
      GateLeaf leaf(&g3);
      auto r3 = co_await tokio::select(leaf, after(1, 1));
      CHECK(r3.index() == 1);
      CHECK(g3.live == 1);
      g3.open = true;
      auto r4 = co_await tokio::select(leaf, after(1, 5));
      CHECK(r4.index() == 0);
      CHECK(g3.live == 1);

      // join: a finished leaf branch is destroyed while the others still run.
      Gate g4;
      auto [a, live_when_second_ended] =
          co_await tokio::join(GateMaker{&g4}, [](Gate* g) -> Task<int> {
            g->open = true;
            for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
            co_return g->live;
          }(&g4));
      CHECK(a == 5);
      CHECK(live_when_second_ended == 0);
    }());
  }
}

TEST_CASE("a plain-leaf branch: what making, polling or resuming throws propagates") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    // Making the leaf throws: select and join report it, the other branches are destroyed.
    Gate g;
    std::atomic<int> drops{0};
    int polls = 0;
    CHECK_THROWS_WITH_AS(
        (void)co_await tokio::select(GateMaker{&g, true},
                                     counted_forever(test::DropCounter(drops), &polls)),
        "making the leaf failed", std::logic_error);
    CHECK(drops.load() == 1);
    CHECK(g.live == 0);
    // await_resume throws: join cancels the rest and rethrows.
    Gate g2;
    g2.open = true;
    g2.throw_on_resume = true;
    std::atomic<int> drops2{0};
    CHECK_THROWS_WITH_AS((void)co_await tokio::join(
                             counted_forever(test::DropCounter(drops2), &polls), GateLeaf(&g2)),
                         "gate resume failed", std::runtime_error);
    CHECK(drops2.load() == 1);
    CHECK(g2.live == 0);
    // try_join: a thrown exception (not an error value) propagates too.
    Gate g3;
    g3.open = true;
    g3.throw_on_resume = true;
    CHECK_THROWS_WITH_AS((void)co_await tokio::try_join(io_after(1, 3, false),
                                                        io_after(2, 0, false), IoGateLeaf(&g3)),
                         "gate resume failed", std::runtime_error);
    CHECK(g3.live == 0);
  }());
}

TEST_CASE("select over Notify and mpsc leaves: a losing waiter leaves the queue") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    rt.block_on([]() -> Task<> {
      tokio::sync::Notify n;
      auto [tx, rx] = mpsc::channel<int>(4);
      // notified() loses to a message: its waiter is gone, so the next notify_one() is
      // stored as a permit for the next notified() instead of going to the dead waiter.
      (void)co_await tx.send(3);
      auto r = co_await tokio::select_biased(rx.recv(), n.notified());
      REQUIRE(r.index() == 0);
      CHECK(std::get<0>(r) == 3);
      n.notify_one();
      auto r2 = co_await tokio::select_biased(rx.recv(), n.notified());
      CHECK(r2.index() == 1);
      // recv() loses: the value sent afterwards is still received (cancel-safe).
      n.notify_one();
      auto r3 = co_await tokio::select_biased(n.notified(), rx.recv());
      CHECK(r3.index() == 0);
      (void)co_await tx.send(9);
      auto v = co_await rx.recv();
      CHECK(v == 9);
    }());
  }
}

namespace select_try_test {
// A plain leaf that can also be asked without registering (Leaf's try_poll); counts both.
struct Asked {
  bool open = false;
  int tries = 0;
  int polls = 0;
};
class AskedLeaf : public tokio::detail::Leaf<AskedLeaf> {
 public:
  explicit AskedLeaf(Asked* a) noexcept : a_(a) {}
  bool try_poll() noexcept {
    ++a_->tries;
    return a_->open;
  }
  bool poll(tokio::task::Context&) noexcept {
    ++a_->polls;
    return a_->open;
  }
  int await_resume() const noexcept { return 8; }

 private:
  Asked* a_;
};
Task<> record(const int* received, int* seen_at) {
  *seen_at = *received;
  co_return;
}
}  // namespace select_try_test

TEST_CASE("select: a branch that loses to a ready one on the first poll is asked, not registered") {
  using select_try_test::Asked;
  using select_try_test::AskedLeaf;
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    // The mechanism: on the first poll a leaf with try_poll is asked; it is polled (and so
    // registered) only when no branch was ready. (The last branch in the order is polled
    // at once: when it is reached, nothing else was ready.)
    for (int round = 0; round < 32; ++round) {
      CAPTURE(round);
      Asked waiting;
      Gate ready;
      ready.open = true;
      auto r = co_await tokio::select(AskedLeaf(&waiting), GateLeaf(&ready));
      CHECK(r.index() == 1);
      CHECK(waiting.polls == 0);
      CHECK(waiting.tries <= 1);
    }
    Asked last;  // last in the order: polled, not asked
    last.open = true;
    Gate closed_first;
    auto won_last = co_await tokio::select_biased(GateLeaf(&closed_first), AskedLeaf(&last));
    CHECK(won_last.index() == 1);
    CHECK(last.tries == 0);
    CHECK(last.polls == 1);
    Asked answers;
    answers.open = true;
    Gate closed;
    auto won = co_await tokio::select_biased(AskedLeaf(&answers), GateLeaf(&closed));
    CHECK(won.index() == 0);
    CHECK(answers.tries == 1);
    CHECK(answers.polls == 0);
    Asked later;
    Gate never;
    auto third = co_await tokio::select_biased(AskedLeaf(&later), GateLeaf(&never), after(3, 2));
    CHECK(third.index() == 2);
    CHECK(later.tries == 1);  // only on the first poll
    CHECK(later.polls >= 2);  // registered on the first poll, polled on wakes after it
    CHECK(never.polls >= 2);

    // The library's leaves: a Notified, a sleep and an empty channel's receive lose to a
    // ready receive without taking a reference on the task's waker (nothing registered).
    tokio::sync::Notify n;
    auto [tx, rx] = mpsc::channel<int>(64);
    auto [tx2, rx2] = mpsc::channel<int>(64);
    for (int round = 0; round < 32; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto sel =
          test::polled(tokio::select(n.notified(), tokio::time::sleep(1h), rx2.recv(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 3);
      CHECK(std::get<3>(r) == round);
    }
    // Nothing ready: every branch registers on the first poll, and each one's event wakes.
    {
      auto sel = test::polled(tokio::select(n.notified(), tokio::time::sleep(1h), rx2.recv()));
      CHECK_FALSE(sel.poll());
      CHECK(sel.waker().outstanding() == 3);
      REQUIRE(tx2.try_send(4).has_value());
      CHECK(sel.woken());
      REQUIRE(sel.poll());
      auto r = sel.take();
      REQUIRE(r.index() == 2);
      CHECK(std::get<2>(r) == 4);
    }
    // Asked and ready: a stored permit is taken (not left for the next notified()), a
    // passed deadline fires, a closed empty channel ends, all without registering.
    n.notify_one();
    {
      auto sel = test::polled(tokio::select_biased(n.notified(), rx2.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      CHECK(sel.take().index() == 0);
    }
    auto probe = n.notified();
    CHECK_FALSE(probe.enable());
    {
      auto sel = test::polled(tokio::select_biased(
          tokio::time::sleep_until(tokio::time::Instant::now() - 1s), rx2.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      CHECK(sel.take().index() == 0);
    }
    // A borrowed receive that lost an earlier select (waiting, holding the receiver) is
    // asked again by the next select and keeps its claim until it completes.
    {
      auto recv = rx2.recv();
      {
        auto lost = test::polled(tokio::select(recv, n.notified()));
        CHECK_FALSE(lost.poll());
      }
      auto again = test::polled(tokio::select(recv, n.notified()));
      CHECK_FALSE(again.poll());
      CHECK_THROWS_AS((void)rx2.try_recv(), std::logic_error);  // still claimed by `recv`
      REQUIRE(tx2.try_send(6).has_value());
      CHECK(again.woken());
      REQUIRE(again.poll());
      auto r = again.take();
      REQUIRE(r.index() == 0);
      CHECK(std::get<0>(r) == 6);
      CHECK(rx2.try_recv().error() == mpsc::TryRecvError::Empty);
    }
    {
      auto closed = std::move(tx2);
      (void)closed;
    }
    {
      auto sel = test::polled(tokio::select_biased(rx2.recv(), n.notified()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 0);
      CHECK_FALSE(std::get<0>(r).has_value());
    }
  }());
}

TEST_CASE(
    "select: every library leaf that can be asked loses without registering, or wins when asked") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(64);
    tokio::sync::CancellationToken token;
    auto [otx, orx] = tokio::sync::oneshot::channel<int>();
    auto [btx, brx] = tokio::sync::broadcast::channel<int>(4);
    auto [wtx, wrx] = tokio::sync::watch::channel<int>(0);
    auto iv = tokio::time::interval_at(tokio::time::Instant::now() + 1h, 1h);
    tokio::sync::Notify park;
    auto parked =
        tokio::spawn([](tokio::sync::Notify* n) -> Task<> { co_await n->notified(); }, &park);
    // Each waits; a ready receive wins. Nothing may hold the waker afterwards.
    for (int round = 0; round < 32; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto sel = test::polled(tokio::select(token.cancelled(), orx, brx.recv(), wrx.changed(),
                                            iv.tick(), parked, otx.closed(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 7);
      CHECK(std::get<7>(r) == round);
    }
    // Each one ready when asked: it wins on the first poll with nothing registered.
    auto asked = [](auto&& sel) {
      bool ready = sel.poll();
      CHECK(ready);
      CHECK(sel.waker().outstanding() == 0);
      return ready;
    };
    REQUIRE(btx.send(5).has_value());
    {
      auto sel = test::polled(tokio::select_biased(brx.recv(), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).value() == 5);
    }
    REQUIRE(wtx.send(6).has_value());
    {
      auto sel = test::polled(tokio::select_biased(wrx.changed(), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).has_value());
    }
    park.notify_one();
    for (int i = 0; i < 1000 && !parked.is_finished(); ++i) co_await tokio::task::yield_now();
    REQUIRE(parked.is_finished());
    {
      auto sel = test::polled(tokio::select_biased(parked, rx.recv()));
      if (asked(sel)) CHECK(sel.take().index() == 0);
    }
    REQUIRE(otx.send(7).has_value());
    {
      auto sel = test::polled(tokio::select_biased(orx, rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).value() == 7);
    }
    token.cancel();
    {
      auto sel = test::polled(tokio::select_biased(token.cancelled(), rx.recv()));
      if (asked(sel)) CHECK(sel.take().index() == 0);
    }
    iv.reset_at(tokio::time::Instant::now() - 1s);
    {
      auto sel = test::polled(tokio::select_biased(iv.tick(), rx.recv()));
      if (asked(sel)) CHECK(sel.take().index() == 0);
    }
  }());
}

TEST_CASE(
    "select: permits, sends, joins and socket operations lose without registering, or win "
    "when asked") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(64);
    tokio::sync::Semaphore none(0);
    tokio::sync::Mutex<int> locked(0);
    auto guard = co_await locked.lock();
    tokio::sync::RwLock<int> written(0);
    auto wguard = co_await written.write();
    auto [full, full_rx] = mpsc::channel<int>(1);
    REQUIRE(full.try_send(0).has_value());
    tokio::sync::Notify park;
    tokio::task::JoinSet<void> set;
    set.spawn([](tokio::sync::Notify* n) -> Task<> { co_await n->notified(); }, &park);
    auto [a, b] = tokio::net::UnixStream::pair().value();
    char buf[8];
    // Each waits; a ready receive wins. Nothing may hold the waker afterwards (the
    // semaphore's queue, the lock's, the channel's, the set's, the socket's).
    for (int round = 0; round < 32; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto sel = test::polled(tokio::select(none.acquire(), locked.lock(), written.read(),
                                            full.send(1), full.reserve(), set.join_next(),
                                            a.read(buf), a.readable(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 8);
      CHECK(std::get<8>(r) == round);
    }
    CHECK(none.available_permits() == 0);
    CHECK(full_rx.len() == 1);
    CHECK(set.len() == 1);
    // Each one ready when asked: it wins on the first poll with nothing registered.
    auto asked = [](auto&& sel) {
      bool ready = sel.poll();
      CHECK(ready);
      CHECK(sel.waker().outstanding() == 0);
      return ready;
    };
    none.add_permits(1);
    {
      auto sel = test::polled(tokio::select_biased(none.acquire(), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).has_value());
    }
    CHECK(none.available_permits() == 1);  // the permit went back with the dropped result
    { auto g = std::move(guard); }
    {
      auto sel = test::polled(tokio::select_biased(locked.lock(), rx.recv()));
      if (asked(sel)) {
        auto g = std::get<0>(sel.take());
        CHECK(*g == 0);
      }
    }
    { auto g = std::move(wguard); }
    {
      auto sel = test::polled(tokio::select_biased(written.read(), rx.recv()));
      if (asked(sel)) CHECK(*std::get<0>(sel.take()) == 0);
    }
    REQUIRE(full_rx.try_recv().value() == 0);
    {
      auto sel = test::polled(tokio::select_biased(full.send(9), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).has_value());
    }
    CHECK(full_rx.try_recv().value() == 9);
    {
      auto sel = test::polled(tokio::select_biased(full.reserve(), rx.recv()));
      if (asked(sel)) std::get<0>(sel.take()).value().send(10);
    }
    CHECK(full_rx.try_recv().value() == 10);
    park.notify_one();
    bool joined = false;
    for (int i = 0; i < 1000 && !joined; ++i) {
      co_await tokio::task::yield_now();
      auto sel = test::polled(tokio::select_biased(set.join_next(), rx.recv()));
      joined = sel.poll();  // not finished yet: registers (a later try takes no waker)
      if (joined) {
        CHECK(sel.waker().outstanding() == 0);
        auto r = std::get<0>(sel.take());
        REQUIRE(r.has_value());
        CHECK(r->has_value());
      }
    }
    REQUIRE(joined);
    CHECK(set.is_empty());
    {
      auto sel = test::polled(tokio::select_biased(set.join_next(), rx.recv()));
      if (asked(sel)) CHECK_FALSE(std::get<0>(sel.take()).has_value());  // empty: nullopt
    }
    REQUIRE((co_await b.write_all(std::string_view("hi"))).has_value());
    REQUIRE((co_await a.readable()).has_value());  // the driver has seen the data
    {
      auto sel = test::polled(tokio::select_biased(a.readable(), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).has_value());
    }
    {
      auto sel = test::polled(tokio::select_biased(a.read(buf), rx.recv()));
      if (asked(sel)) CHECK(std::get<0>(sel.take()).value() == 2);
    }
    // Asked after the data is gone: the read's EAGAIN clears the readiness, and a select
    // that then waits registers and is woken by the next write.
    {
      auto sel = test::polled(tokio::select(a.read(buf), rx.recv()));
      CHECK_FALSE(sel.poll());
      CHECK(sel.waker().outstanding() == 2);
      REQUIRE((co_await b.write_all(std::string_view("x"))).has_value());
      for (int i = 0; i < 1000 && !sel.woken(); ++i) co_await tokio::task::yield_now();
      REQUIRE(sel.poll());
      CHECK(std::get<0>(sel.take()).value() == 1);
    }
  }());
}

TEST_CASE("select: a closed semaphore or channel, asked first, wins in argument order") {
  // Asked, a closed resource answers as its poll does (ready, with the error): a later
  // ready branch must not win instead (found by review: try_poll said "not ready").
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(8);
    tokio::sync::Semaphore closed(1);
    closed.close();
    auto [gone_tx, gone_rx] = mpsc::channel<int>(1);
    { auto drop = std::move(gone_rx); }
    for (int round = 0; round < 8; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto a = co_await tokio::select_biased(closed.acquire(), rx.recv());
      REQUIRE(a.index() == 0);
      CHECK_FALSE(std::get<0>(a).has_value());  // AcquireError
      auto s = co_await tokio::select_biased(gone_tx.send(1), rx.recv());
      REQUIRE(s.index() == 0);
      CHECK_FALSE(std::get<0>(s).has_value());  // SendError, the value handed back
      CHECK(std::get<0>(s).error().value == 1);
      REQUIRE(rx.try_recv().value() == round);
    }
  }());
}

TEST_CASE("select: a timeout around a leaf is asked too: it loses with neither registered") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    using namespace std::chrono_literals;
    auto [tx, rx] = mpsc::channel<int>(64);
    auto [qtx, qrx] = mpsc::channel<int>(4);  // empty: the timeout's operand waits
    for (int round = 0; round < 16; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto sel = test::polled(tokio::select(tokio::time::timeout(1h, qrx.recv()), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);  // neither the receive nor the timer
      auto r = sel.take();
      REQUIRE(r.index() == 1);
      CHECK(std::get<1>(r) == round);
    }
    REQUIRE(tx.try_send(-1).has_value());
    // Asked and ready: the operand's value, then an elapsed deadline, nothing registered.
    REQUIRE(qtx.try_send(5).has_value());
    {
      auto sel =
          test::polled(tokio::select_biased(tokio::time::timeout(1h, qrx.recv()), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 0);
      CHECK(std::get<0>(r).value() == std::optional<int>(5));
    }
    {
      // A deadline long past: a deadline of "now" (timeout(0ms)) is only seen to have passed
      // without registering while the driver's last observed tick is within 1 ms of it
      // (TimeDriver::fire_if_passed), which a loaded machine can miss (CI 154, ASan).
      auto past = tokio::time::Instant::now().saturating_sub(1h);
      auto sel =
          test::polled(tokio::select_biased(tokio::time::timeout_at(past, qrx.recv()), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 0);
      CHECK_FALSE(std::get<0>(r).has_value());  // Elapsed
    }
    // Nothing ready anywhere: the timeout registers both, and the receive wakes it.
    CHECK(rx.try_recv().value() == -1);
    {
      auto sel = test::polled(tokio::select(tokio::time::timeout(1h, qrx.recv()), rx.recv()));
      CHECK_FALSE(sel.poll());
      CHECK(sel.waker().outstanding() == 3);
      REQUIRE(qtx.try_send(6).has_value());
      CHECK(sel.woken());
      REQUIRE(sel.poll());
      auto r = sel.take();
      REQUIRE(r.index() == 0);
      CHECK(std::get<0>(r).value() == std::optional<int>(6));
    }
    co_return;
  }());
}

TEST_CASE("select over always-ready branches still gives up the thread when its budget is spent") {
  // The first-poll question takes a unit of coop budget from a ready receive, and answers
  // "not ready" once the budget is spent, so the loop yields to the other task in time.
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    tokio::sync::Notify n;
    auto [tx, rx] = mpsc::channel<int>(1000);
    for (int i = 0; i < 1000; ++i) REQUIRE(tx.try_send(i).has_value());
    int received = 0;
    int seen_at = -1;
    tokio::spawn(select_try_test::record(&received, &seen_at));
    while (received < 1000) {
      auto r = co_await tokio::select(rx.recv(), n.notified());
      REQUIRE(r.index() == 0);
      ++received;
    }
    CHECK(seen_at >= 1);
    CHECK(seen_at < 1000);
  }());
}

TEST_CASE("select and join over a sleep on a runtime without timers: the error comes through") {
  // The sleep's check for a timer driver (before_first_poll) runs in a select branch too.
  auto rt = tokio::runtime::Builder::new_current_thread().build();  // no enable_time
  for (bool use_join : {false, true}) {
    CAPTURE(use_join);
    CHECK_THROWS_WITH_AS(rt.block_on([](bool use_join) -> Task<> {
      if (use_join) {
        co_await tokio::join(tokio::time::sleep(1ms), after(1, 2));
      } else {
        (void)co_await tokio::select(after(1, 100), tokio::time::sleep(1ms));
      }
    }(use_join)),
                         doctest::Contains("enable_time"), std::logic_error);
  }
}

TEST_CASE("timeout over a plain leaf: polled directly, destroyed when the deadline wins") {
  static_assert(std::is_same_v<decltype(tokio::time::timeout(1s, std::declval<GateLeaf>())),
                               tokio::time::Timeout<int, tokio::detail::LeafBranch<GateLeaf>>>);
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    rt.block_on([]() -> Task<> {
      Gate g;
      auto r = co_await tokio::time::timeout(5ms, GateLeaf(&g));
      CHECK_FALSE(r.has_value());
      CHECK(g.live == 0);
      CHECK(g.polls >= 1);
      Gate g2;
      g2.open = true;
      auto r2 = co_await tokio::time::timeout(5s, GateMaker{&g2});
      REQUIRE(r2.has_value());
      CHECK(*r2 == 5);
      CHECK(g2.live == 0);
      // A borrowed leaf survives the timeout and completes later.
      Gate g3;
      GateLeaf leaf(&g3);
      auto r3 = co_await tokio::time::timeout(2ms, leaf);
      CHECK_FALSE(r3.has_value());
      CHECK(g3.live == 1);
      g3.open = true;
      auto r4 = co_await tokio::time::timeout(5s, leaf);
      CHECK(r4.has_value());
    }());
  }
}
