// sync::mpsc: bounded and unbounded channels.
#include <array>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "internals.hpp"
#include "sync_test_util.hpp"

using tokio::Task;
namespace mpsc = tokio::sync::mpsc;

TEST_CASE("mpsc: send then recv in order, None once every sender is gone") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(4);
    auto h = tokio::spawn(
        [](mpsc::Sender<int> tx) -> Task<> {
          for (int i = 0; i < 100; ++i) REQUIRE((co_await tx.send(i)).has_value());
        },
        tx);
    { auto drop = std::move(tx); }
    for (int i = 0; i < 100; ++i) {
      auto v = co_await rx.recv();
      REQUIRE(v.has_value());
      CHECK(*v == i);
    }
    CHECK_FALSE((co_await rx.recv()).has_value());
    CHECK_FALSE((co_await rx.recv()).has_value());  // stays ended
    co_await h;
  }());
}

// poll_recv (Tokio's), inside task::poll_fn: a message, a wait woken by a send from
// another worker, then the end; a pending recv of another task makes it a clear error.
TEST_CASE("mpsc: poll_recv in poll_fn receives, waits, sees the end; a second receiver throws") {
  auto rt = test::either_flavour_all(true);
  rt.block_on([]() -> Task<> {
    auto ch = mpsc::unbounded_channel<int>();  // (clang 14: no lambda capture of a binding)
    auto& tx = ch.first;
    auto& rx = ch.second;
    (void)tx.send(1);
    auto next = [&rx]() {
      return tokio::task::poll_fn(
          [&rx](tokio::task::Context& cx) -> std::optional<std::optional<int>> {
            std::optional<int> out;
            if (!rx.poll_recv(cx, out)) return std::nullopt;
            return out;
          });
    };
    CHECK(co_await next() == std::optional<int>(1));
    auto late = tokio::spawn(
        [](mpsc::UnboundedSender<int> tx) -> Task<> {
          co_await tokio::task::yield_now();
          (void)tx.send(2);
        },
        tx);
    CHECK(co_await next() == std::optional<int>(2));
    co_await late;
    { auto drop = std::move(tx); }
    CHECK(co_await next() == std::nullopt);

    auto ch2 = mpsc::channel<int>(1);
    auto& tx2 = ch2.first;
    auto& rx2 = ch2.second;
    auto waiting =
        tokio::spawn([](mpsc::Receiver<int>& rx) -> Task<> { (void)co_await rx.recv(); }(rx2));
    co_await tokio::time::sleep(std::chrono::milliseconds(20));
    bool threw = false;
    (void)co_await tokio::task::poll_fn([&](tokio::task::Context& cx) -> std::optional<int> {
      std::optional<int> out;
      try {
        (void)rx2.poll_recv(cx, out);
      } catch (const std::logic_error&) {
        threw = true;
      }
      return 0;
    });
    CHECK(threw);
    (void)tx2.try_send(5);
    co_await waiting;
  }());
}

TEST_CASE("mpsc: capacity 0 is a clear error") {
  CHECK_THROWS_AS((void)mpsc::channel<int>(0), std::invalid_argument);
  CHECK_THROWS_AS((void)mpsc::channel<int>(SIZE_MAX), std::invalid_argument);
}

TEST_CASE("mpsc: the receiver's claim word is a cache line away from the receiver's waker") {
  // Every send loads rx_waker's state and every receive writes rx_use (mpsc_chan.hpp): on
  // one line the two would move it between the senders' and the receiver's cores per message.
  tokio::detail::Chan<int, true> c(1);
  const char* waker = reinterpret_cast<const char*>(&c.rx_waker);
  const char* use = reinterpret_cast<const char*>(&c.rx_use);
  const std::ptrdiff_t gap =
      use < waker ? waker - (use + sizeof(c.rx_use)) : use - (waker + sizeof(c.rx_waker));
  CHECK(gap >= static_cast<std::ptrdiff_t>(tokio::detail::kCacheLine));
}

TEST_CASE("mpsc: bounded backpressure, try_send Full and Closed, capacity accounting") {
  auto [tx, rx] = mpsc::channel<std::string>(2);
  CHECK(tx.capacity() == 2);
  CHECK(tx.max_capacity() == 2);
  CHECK(tx.try_send("a").has_value());
  CHECK(tx.try_send("b").has_value());
  CHECK(tx.capacity() == 0);
  auto full = tx.try_send("c");
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().is_full());
  CHECK(full.error().value == "c");
  auto s = test::polled(tx.send("c"));
  CHECK_FALSE(s.poll());
  CHECK(rx.len() == 2);
  CHECK(rx.try_recv().value() == "a");
  CHECK(s.woken());
  CHECK(s.poll());
  CHECK(s.take().has_value());
  CHECK(rx.try_recv().value() == "b");
  CHECK(rx.try_recv().value() == "c");
  CHECK(rx.try_recv().error() == mpsc::TryRecvError::Empty);
  CHECK(rx.is_empty());
  rx.close();
  auto closed = tx.try_send("d");
  REQUIRE_FALSE(closed.has_value());
  CHECK(closed.error().is_closed());
  CHECK(std::move(closed.error()).into_inner() == "d");
  CHECK(rx.try_recv().error() == mpsc::TryRecvError::Disconnected);
}

TEST_CASE("mpsc: waiting senders are served in FIFO order") {
  auto [tx, rx] = mpsc::channel<int>(1);
  CHECK(tx.try_send(0).has_value());
  auto a = test::polled(tx.send(1));
  auto b = test::polled(tx.send(2));
  auto c = test::polled(tx.send(3));
  CHECK_FALSE(a.poll());
  CHECK_FALSE(b.poll());
  CHECK_FALSE(c.poll());
  for (int expect = 0; expect < 4; ++expect) {
    CHECK(rx.try_recv().value() == expect);
    for (auto* p : {&a, &b, &c}) {
      if (!p->is_ready() && p->woken()) CHECK(p->poll());
    }
  }
  CHECK(a.is_ready());
  CHECK(b.is_ready());
  CHECK(c.is_ready());
}

TEST_CASE("mpsc: reserve, permits, reserve_many, owned permits") {
  auto [tx, rx] = mpsc::channel<int>(3);
  {
    auto p = tx.try_reserve();
    REQUIRE(p.has_value());
    CHECK(tx.capacity() == 2);
    // dropped unused: the slot comes back
  }
  CHECK(tx.capacity() == 3);
  {
    auto p = tx.try_reserve().value();
    p.send(7);
    CHECK_THROWS_AS(p.send(8), std::logic_error);  // a permit is used once
  }
  CHECK(rx.try_recv().value() == 7);
  {
    auto it = tx.try_reserve_many(3);
    REQUIRE(it.has_value());
    CHECK(it->len() == 3);
    it->next()->send(1);
    it->next()->send(2);
    CHECK(it->len() == 1);
    CHECK_FALSE(tx.try_reserve().has_value());
  }  // the third slot is released
  CHECK(tx.capacity() == 1);
  CHECK(tx.try_reserve_many(4).error().is_full());
  auto rt = test::current_thread();
  rt.block_on([](mpsc::Sender<int>* tx, mpsc::Receiver<int>* rx) -> Task<> {
    auto many = co_await tx->reserve_many(5);  // more than the capacity: fails at once
    CHECK_FALSE(many.has_value());
    auto p = co_await tx->reserve();
    REQUIRE(p.has_value());
    p->send(3);
    CHECK(tx->capacity() == 0);
    for (int i = 1; i <= 3; ++i) CHECK(*(co_await rx->recv()) == i);
  }(&tx, &rx));
  // reserve_many of exactly the capacity waits for every slot (it is not "more than the
  // capacity"), then succeeds.
  CHECK(tx.try_send(1).has_value());
  auto many = test::polled(tx.reserve_many(3));
  CHECK_FALSE(many.poll());  // two free, three wanted
  CHECK(rx.try_recv().value() == 1);
  CHECK(many.woken());
  REQUIRE(many.poll());
  auto it = many.take();
  REQUIRE(it.has_value());
  CHECK(it->len() == 3);
  CHECK(tx.capacity() == 0);
  // try_reserve_owned on a full channel is Full, on a closed one Closed.
  auto full = mpsc::Sender<int>(tx).try_reserve_owned();
  REQUIRE_FALSE(full.has_value());
  CHECK(full.error().is_full());
  CHECK_FALSE(full.error().is_closed());
  rx.close();
  auto closed = mpsc::Sender<int>(tx).try_reserve_owned();
  REQUIRE_FALSE(closed.has_value());
  CHECK(closed.error().is_closed());
}

TEST_CASE("mpsc: owned permits keep the channel open and hand the sender back") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto op = co_await std::move(tx).reserve_owned();
    REQUIRE(op.has_value());
    CHECK(rx.sender_strong_count() == 1);  // the permit owns the only sender
    auto op2 = mpsc::Sender<int>(op->send(1)).try_reserve_owned();
    REQUIRE(op2.has_value());
    auto back = op2->release();
    CHECK(back.capacity() == 1);
    { auto drop = std::move(back); }
    CHECK(*(co_await rx.recv()) == 1);
    CHECK_FALSE((co_await rx.recv()).has_value());
  }());
}

TEST_CASE("mpsc: a Permit outliving every Sender keeps the channel open; its send arrives") {
  // In Rust a Permit borrows its Sender, so the Sender cannot go first. Here the permit
  // holds a sender reference: the channel stays open (and allocated) until it is used.
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto p = co_await tx.reserve();
    REQUIRE(p.has_value());
    auto it = tx.try_reserve_many(1);
    REQUIRE(it.has_value());
    // Permits keep the channel open but are not Senders (Tokio's borrow a Sender).
    CHECK(tx.strong_count() == 1);
    CHECK(rx.sender_strong_count() == 1);
    tx = {};  // the last Sender is gone; two reservations are not
    CHECK(rx.sender_strong_count() == 0);
    CHECK_FALSE(rx.is_closed());
    p->send(5);
    CHECK(*(co_await rx.recv()) == 5);
    CHECK_FALSE(rx.is_closed());  // the iterator still holds a slot
    auto last = it->next();
    REQUIRE(last.has_value());
    { auto drop = std::move(*it); }  // the iterator goes; the permit it handed out stays
    CHECK_FALSE(rx.is_closed());
    CHECK(rx.len() == 0);
    last->send(6);
    CHECK(rx.is_closed());  // the last permit was used: nothing can send any more
    CHECK(rx.len() == 1);   // the close marker is not a message
    CHECK(*(co_await rx.recv()) == 6);
    CHECK_FALSE((co_await rx.recv()).has_value());  // now every sender is gone
    auto [tx2, rx2] = mpsc::channel<int>(4);
    auto weak = tx2.downgrade();
    auto p2 = tx2.try_reserve();
    REQUIRE(p2.has_value());
    auto copy = tx2;
    CHECK(weak.strong_count() == 2);  // two Senders; the permit is not one
    copy = {};
    tx2 = {};
    CHECK(weak.strong_count() == 0);
    CHECK_FALSE(rx2.is_closed());
    { auto drop = std::move(*p2); }  // dropped unused: the slot goes back, the channel closes
    CHECK(rx2.is_closed());
    CHECK_FALSE(weak.upgrade().has_value());
    CHECK_FALSE((co_await rx2.recv()).has_value());
  }());
  // Dropping the Receiver and every Sender first, then the permit: nothing is freed early
  // (ASan), and the slot goes back to a channel that still exists.
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<std::string>(1);
    auto p = co_await mpsc::Sender<std::string>(tx).reserve();
    REQUIRE(p.has_value());
    tx = {};
    rx = {};
    auto moved = std::move(*p);
    moved.send("into a closed channel: dropped with it");
  }());
}

TEST_CASE("mpsc: recv_many appends up to limit; 0 means ended") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(10);
    for (int i = 0; i < 5; ++i) (void)tx.try_send(i);
    std::vector<int> buf{-1};
    CHECK(co_await rx.recv_many(buf, 0) == 0);
    CHECK(co_await rx.recv_many(buf, 3) == 3);
    CHECK(buf == std::vector<int>{-1, 0, 1, 2});
    CHECK(co_await rx.recv_many(buf, 10) == 2);
    CHECK(buf.size() == 6);
    CHECK(tx.capacity() == 10);  // received slots are free again
    { auto drop = std::move(tx); }
    CHECK(co_await rx.recv_many(buf, 10) == 0);
    auto [utx, urx] = mpsc::unbounded_channel<std::string>();
    (void)utx.send("x");
    std::vector<std::string> sbuf;
    CHECK(co_await urx.recv_many(sbuf, 5) == 1);
    CHECK(sbuf.front() == "x");
  }());
}

TEST_CASE("mpsc: recv_many waits while empty, takes what is there when woken, is cancel-safe") {
  auto [tx, rx] = mpsc::channel<int>(8);
  std::vector<int> buf;
  {
    auto r = test::polled(rx.recv_many(buf, 4));
    CHECK_FALSE(r.poll());
    CHECK_FALSE(r.poll());
    r.cancel();  // destroyed while waiting: takes nothing, loses nothing
  }
  CHECK(tx.try_send(1).has_value());
  auto r = test::polled(rx.recv_many(buf, 4));
  CHECK(r.poll());  // ready at once: one value waiting
  CHECK(r.take() == 1);
  CHECK(buf == std::vector<int>{1});
  auto w = test::polled(rx.recv_many(buf, 2));
  CHECK_FALSE(w.poll());
  for (int i = 2; i <= 4; ++i) CHECK(tx.try_send(i).has_value());
  CHECK(w.woken());
  CHECK(w.poll());
  CHECK(w.take() == 2);  // at most `limit`
  CHECK(buf == std::vector<int>{1, 2, 3});
  CHECK(rx.try_recv().value() == 4);
  // Closing wakes a waiting recv_many, which then reports the end with 0.
  auto e = test::polled(rx.recv_many(buf, 2));
  CHECK_FALSE(e.poll());
  { auto drop = std::move(tx); }
  CHECK(e.woken());
  CHECK(e.poll());
  CHECK(e.take() == 0);
  CHECK(buf.size() == 3);
}

TEST_CASE("mpsc: close keeps buffered values and in-flight permits, stops new sends") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(4);
    (void)tx.try_send(1);
    auto permit = tx.try_reserve().value();
    auto closed = tx.closed();
    rx.close();
    CHECK(rx.is_closed());
    CHECK(tx.is_closed());
    co_await closed;  // Sender::closed() completes
    CHECK_FALSE((co_await tx.send(5)).has_value());
    CHECK(tx.try_send(5).error().is_closed());
    CHECK_FALSE((co_await tx.reserve()).has_value());
    CHECK(*(co_await rx.recv()) == 1);
    permit.send(2);  // a slot granted before the close still delivers
    CHECK(*(co_await rx.recv()) == 2);
    CHECK_FALSE((co_await rx.recv()).has_value());  // closed, empty and idle
  }());
}

TEST_CASE("mpsc: recv waits for an outstanding permit after close, ends when it is dropped") {
  auto [tx, rx] = mpsc::channel<int>(2);
  auto permit = tx.try_reserve().value();
  rx.close();
  auto r = test::polled(rx.recv());
  CHECK_FALSE(r.poll());  // the permit may still send
  { auto drop = std::move(permit); }
  CHECK(r.woken());
  CHECK(r.poll());
  CHECK_FALSE(r.take().has_value());
}

// The same after close through select, which first asks its branches without registering
// (try_poll_recv), and through recv_many: neither may report the end while a permit can
// still send (a mutation run found both paths untested; the permit's value was lost).
TEST_CASE("mpsc: after close, select over recv() and recv_many wait for an outstanding permit") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(2);
    auto permit = tx.try_reserve().value();
    rx.close();
    // Biased, so recv() is asked first (an unbiased select asks it only when it is not last
    // in the random order).
    auto first =
        co_await tokio::select_biased(rx.recv(), tokio::time::sleep(std::chrono::milliseconds(10)));
    CHECK(first.index() == 1);  // the sleep: recv() neither ended nor produced
    std::vector<int> buf;
    auto many = co_await tokio::select_biased(rx.recv_many(buf, 10),
                                              tokio::time::sleep(std::chrono::milliseconds(10)));
    CHECK(many.index() == 1);
    CHECK(buf.empty());
    permit.send(7);
    CHECK(co_await rx.recv_many(buf, 10) == 1);
    CHECK(buf == std::vector<int>{7});
    CHECK(co_await rx.recv() == std::nullopt);
    CHECK(co_await rx.recv_many(buf, 10) == 0);
  }());
}

TEST_CASE("mpsc: a dropped receiver fails sends and wakes waiting senders") {
  auto [tx, rx] = mpsc::channel<int>(1);
  (void)tx.try_send(1);
  auto s = test::polled(tx.send(2));
  CHECK_FALSE(s.poll());
  auto c = test::polled(tx.closed());
  CHECK_FALSE(c.poll());
  { auto drop = std::move(rx); }
  CHECK(s.woken());
  CHECK(c.woken());
  CHECK(s.poll());
  auto e = s.take();
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().value == 2);
  CHECK(c.poll());
}

TEST_CASE("mpsc: every message is destroyed exactly once in every drop order") {
  std::atomic<int> drops{0};
  for (int order = 0; order < 4; ++order) {
    auto [tx, rx] = mpsc::channel<std::unique_ptr<test::DropCounter>>(64);
    for (int i = 0; i < 40; ++i) (void)tx.try_send(std::make_unique<test::DropCounter>(drops));
    if (order == 0) {
      auto r = std::move(rx);  // receiver first: buffered values die with it
    } else if (order == 1) {
      auto t = std::move(tx);
      auto v = rx.try_recv();  // one received, the rest die with the channel
    } else if (order == 2) {
      auto p = tx.try_reserve().value();
      rx.close();
      p.send(std::make_unique<test::DropCounter>(drops));  // sent after close
    } else {
      auto [utx, urx] = mpsc::unbounded_channel<std::unique_ptr<test::DropCounter>>();
      for (int i = 0; i < 40; ++i) (void)utx.send(std::make_unique<test::DropCounter>(drops));
      auto u = std::move(utx);
    }
  }
  CHECK(drops.load() == 40 * 4 + 1 + 40);
}

TEST_CASE("mpsc: weak senders upgrade only while a strong sender lives") {
  auto [tx, rx] = mpsc::channel<int>(4);
  auto weak = tx.downgrade();
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 1);
  CHECK(rx.sender_weak_count() == 1);
  {
    auto up = weak.upgrade();
    REQUIRE(up.has_value());
    CHECK(rx.sender_strong_count() == 2);
    (void)up->try_send(1);
  }
  { auto drop = std::move(tx); }
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK(rx.try_recv().value() == 1);
  CHECK(rx.try_recv().error() ==
        mpsc::TryRecvError::Disconnected);  // weak senders do not keep it open
  auto [utx, urx] = mpsc::unbounded_channel<int>();
  auto uw = utx.downgrade();
  auto copy = uw;
  CHECK(uw.weak_count() == 2);
  CHECK(copy.upgrade().has_value());
}

TEST_CASE("mpsc: senders are cloned by copy; same_channel") {
  auto [tx, rx] = mpsc::channel<int>(4);
  auto tx2 = tx;
  CHECK(tx2.same_channel(tx));
  CHECK(rx.sender_strong_count() == 2);
  { auto drop = std::move(tx); }
  CHECK_FALSE(rx.is_closed());
  { auto drop = std::move(tx2); }
  CHECK(rx.is_closed());
}

TEST_CASE("mpsc: recv losing a select, or aborted, never loses a message") {
  auto rt = test::multi_thread(2);
  const int n = static_cast<int>(test::scaled(4000));
  int got = rt.block_on([](int n) -> Task<int> {
    auto [tx, rx] = mpsc::channel<int>(8);
    auto prod = tokio::spawn(
        [](mpsc::Sender<int> tx, int n) -> Task<> {
          for (int i = 0; i < n; ++i) {
            REQUIRE((co_await tx.send(i)).has_value());
            if (i % 3 == 0) co_await tokio::task::yield_now();
          }
        },
        std::move(tx), n);
    int expect = 0;
    for (;;) {
      auto r = co_await tokio::select(rx.recv(), tokio::task::yield_now());
      if (r.index() == 1) continue;  // recv cancelled
      auto v = std::get<0>(r);
      if (!v) break;
      CHECK(*v == expect);
      ++expect;
    }
    co_await prod;
    co_return expect;
  }(n));
  CHECK(got == n);
}

TEST_CASE("mpsc: after a waiting recv is dropped, a recv polled with another waker is woken") {
  auto [tx, rx] = mpsc::channel<int>(1);
  {
    auto first = test::polled(rx.recv());
    CHECK_FALSE(first.poll());
  }  // dropped while waiting (it lost a select, or its task was aborted)
  auto second = test::polled(rx.recv());
  CHECK_FALSE(second.poll());
  CHECK(tx.try_send(1).has_value());
  CHECK(second.woken());
  REQUIRE(second.poll());
  CHECK(second.take() == std::optional<int>(1));
}

TEST_CASE("mpsc: a cancelled send passes its slot on") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<int>(1);
    (void)tx.try_send(0);
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), tx.send(1));
    CHECK(r.index() == 0);  // the send lost: the message was not sent
    auto waiter = tokio::spawn(
        [](mpsc::Sender<int> tx) -> Task<> { REQUIRE((co_await tx.send(2)).has_value()); }, tx);
    auto cancelled =
        tokio::spawn([](mpsc::Sender<int> tx) -> Task<> { (void)co_await tx.send(99); }, tx);
    for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    cancelled.abort();
    (void)co_await cancelled.result();
    CHECK(*(co_await rx.recv()) == 0);
    auto v = co_await rx.recv();
    CHECK(*v == 2);
    co_await waiter;
    CHECK(rx.try_recv().error() == mpsc::TryRecvError::Empty);
  }());
}

TEST_CASE("mpsc: blocking_send / blocking_recv from plain threads; refused in the runtime") {
  auto [tx, rx] = mpsc::channel<int>(2);
  const int n = static_cast<int>(test::scaled(5000));
  std::thread producer([&, tx = tx]() {
    for (int i = 0; i < n; ++i) REQUIRE(tx.blocking_send(i).has_value());
  });
  { auto drop = std::move(tx); }
  long sum = 0;
  int count = 0;
  while (auto v = rx.blocking_recv()) {
    sum += *v;
    ++count;
  }
  producer.join();
  CHECK(count == n);
  CHECK(sum == static_cast<long>(n) * (n - 1) / 2);
  auto [tx2, rx2] = mpsc::channel<int>(2);
  auto rt = test::current_thread();
  rt.block_on([](mpsc::Sender<int>* tx, mpsc::Receiver<int>* rx) -> Task<> {
    CHECK_THROWS_AS((void)tx->blocking_send(1), std::logic_error);
    CHECK_THROWS_AS((void)rx->blocking_recv(), std::logic_error);
    co_return;
  }(&tx2, &rx2));
  // From a runtime's blocking pool it is fine.
  auto rt2 = test::multi_thread(1);
  int v = rt2.block_on([](mpsc::Sender<int> tx, mpsc::Receiver<int>* rx) -> Task<int> {
    auto h = tokio::task::spawn_blocking([rx] { return *rx->blocking_recv(); });
    (void)co_await tx.send(42);
    co_return co_await h;
  }(tx2, &rx2));
  CHECK(v == 42);
  std::vector<int> buf;
  (void)tx2.try_send(1);
  CHECK(rx2.blocking_recv_many(buf, 4) == 1);
}

TEST_CASE("mpsc: unbounded send never waits; fails with the value once closed") {
  auto [tx, rx] = mpsc::unbounded_channel<std::unique_ptr<int>>();
  for (int i = 0; i < 1000; ++i) REQUIRE(tx.send(std::make_unique<int>(i)).has_value());
  CHECK(rx.len() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(*rx.try_recv().value() == i);
  rx.close();
  auto e = tx.send(std::make_unique<int>(5));
  REQUIRE_FALSE(e.has_value());
  CHECK(*e.error().value == 5);
  CHECK(tx.is_closed());
  CHECK(rx.try_recv().error() == mpsc::TryRecvError::Disconnected);
}

TEST_CASE("mpsc: large messages (one-slot blocks) round-trip and recycle blocks") {
  struct Large {
    std::array<std::size_t, 4096> a{};
  };
  static_assert(tokio::detail::MpscBlock<Large>::kCap == 1);
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = mpsc::channel<Large>(3);
    auto h = tokio::spawn(
        [](mpsc::Sender<Large> tx) -> Task<> {
          for (std::size_t i = 0; i < 200; ++i) {
            Large l;
            l.a[0] = i;
            l.a[4095] = i;
            REQUIRE((co_await tx.send(std::move(l))).has_value());
          }
        },
        std::move(tx));
    for (std::size_t i = 0; i < 200; ++i) {
      auto v = co_await rx.recv();
      REQUIRE(v.has_value());
      CHECK(v->a[0] == i);
      CHECK(v->a[4095] == i);
    }
    co_await h;
  }());
}
