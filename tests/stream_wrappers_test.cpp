// The wrapper streams: ReceiverStream / UnboundedReceiverStream, BroadcastStream,
// WatchStream, IntervalStream, TcpListenerStream / UnixListenerStream, LinesStream /
// SplitStream. Each one's next() is destroyed mid-wait (timeouts, lost selects) and must
// lose nothing, as documented.
#include <unistd.h>

#include <map>
#include <utility>
#include <type_traits>
#include <cstdlib>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "stream_test_util.hpp"

using stest::Task;
namespace st = tokio::stream;
namespace sw = tokio::stream::wrappers;
namespace tsync = tokio::sync;
namespace ttime = tokio::time;
namespace tio = tokio::io;
using std::chrono::milliseconds;

static_assert(st::Stream<sw::ReceiverStream<int>>);
static_assert(std::is_same_v<st::item_t<sw::BroadcastStream<int>>,
                             tokio::Result<int, sw::BroadcastStreamRecvError>>);
static_assert(
    std::is_same_v<st::item_t<sw::TcpListenerStream>, tokio::io::Result<tokio::net::TcpStream>>);

TEST_CASE(
    "ReceiverStream / UnboundedReceiverStream: values in order, cancel-safe next, end when senders "
    "go") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    sw::ReceiverStream s(std::move(rx));
    for (int i = 0; i < 10; ++i) {
      auto r = co_await ttime::timeout(milliseconds(1), s.next());  // cancelled while waiting
      CHECK(!r.has_value());
      (void)co_await tx.send(i);
      auto v = co_await s.next();
      CHECK(v == std::optional<int>(i));
    }
    (void)co_await tx.send(100);
    s.close();  // buffered values still come, new sends fail
    CHECK(!(co_await tx.send(101)).has_value());
    CHECK(*co_await s.next() == 100);
    CHECK(!(co_await s.next()).has_value());
    auto back = std::move(s).into_inner();
    CHECK(back.is_closed());

    auto [utx, urx] = tsync::mpsc::unbounded_channel<std::string>();
    sw::UnboundedReceiverStream us(std::move(urx));
    (void)utx.send("a");
    (void)utx.send("b");
    { auto gone = std::move(utx); }
    auto all = co_await st::collect<std::vector<std::string>>(us);
    CHECK(all.size() == 2);
  }());
}

// A ReceiverStream holds its receiver's claim while it owns it (its receives skip the
// claim each plain recv takes): every way the receiver leaves the stream lets go of it.
TEST_CASE("ReceiverStream: the receiver it gives back (get_mut, into_inner, a move) receives") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::mpsc::channel<int>(8);
    sw::ReceiverStream s(std::move(rx));
    auto r = co_await ttime::timeout(milliseconds(1), s.next());  // a receive in flight
    CHECK(!r.has_value());
    REQUIRE(tx.try_send(1).has_value());
    REQUIRE(tx.try_send(2).has_value());
    // get_mut: the stream's receive is cancelled and the claim let go.
    CHECK(s.get_mut().try_recv().value() == 1);
    CHECK(*co_await s.next() == 2);  // and the stream still receives
    // Moved: the claim goes with the receiver; the new stream receives, and so does the
    // receiver it gives back.
    sw::ReceiverStream<int> moved(std::move(s));
    REQUIRE(tx.try_send(3).has_value());
    CHECK(*co_await moved.next() == 3);
    // Move-assigned over: the old receiver and its claim go, the new one's come.
    auto [tx2, rx2] = tsync::mpsc::channel<int>(8);
    sw::ReceiverStream<int> other(std::move(rx2));
    other = std::move(moved);
    CHECK(tx2.is_closed());  // its receiver was dropped
    REQUIRE(tx.try_send(4).has_value());
    CHECK(*co_await other.next() == 4);
    auto back = std::move(other).into_inner();
    REQUIRE(tx.try_send(5).has_value());
    CHECK(co_await back.recv() == std::optional<int>(5));
    CHECK(back.try_recv().error() == tsync::mpsc::TryRecvError::Empty);

    // A receiver handed in while a receive of its own is pending cannot be claimed: the
    // stream's receives then claim as any receive does, and are refused while that one
    // waits.
    auto [tx3, rx3] = tsync::mpsc::unbounded_channel<int>();
    auto shared = std::make_shared<tsync::mpsc::UnboundedReceiver<int>>(std::move(rx3));
    auto first = tokio::spawn(
        [](auto rx) -> Task<std::optional<int>> { co_return co_await rx->recv(); }(shared));
    for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();  // `first` waits
    sw::UnboundedReceiverStream us(std::move(*shared));
    const bool refused = co_await stest::await_throws<std::logic_error>(us.next());
    CHECK(refused);
    REQUIRE(tx3.send(9).has_value());
    CHECK(co_await first == 9);
    REQUIRE(tx3.send(10).has_value());
    CHECK(*co_await us.next() == 10);
  }());
}

TEST_CASE("BroadcastStream: values, Lagged(n) as an item, end when the sender goes; cancel-safe") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::broadcast::channel<int>(2);
    sw::BroadcastStream s(std::move(rx));
    auto r = co_await ttime::timeout(milliseconds(1), s.next());
    CHECK(!r.has_value());
    for (int i = 0; i < 5; ++i) (void)tx.send(i);  // capacity 2: 0, 1, 2 are overwritten
    auto lag = co_await s.next();
    REQUIRE(lag.has_value());
    REQUIRE(!lag->has_value());
    CHECK(lag->error() == sw::BroadcastStreamRecvError{3});
    CHECK(**co_await s.next() == 3);
    CHECK(**co_await s.next() == 4);
    { auto gone = std::move(tx); }
    CHECK(!(co_await s.next()).has_value());
  }());
}

TEST_CASE(
    "WatchStream: the current value first, then the latest of each burst; from_changes skips the "
    "current one") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::watch::channel<int>(1);
    auto rx2 = rx;
    sw::WatchStream s(std::move(rx));
    CHECK(*co_await s.next() == 1);
    auto r = co_await ttime::timeout(milliseconds(1), s.next());
    CHECK(!r.has_value());
    (void)tx.send(2);
    (void)tx.send(3);  // coalesces with 2
    CHECK(*co_await s.next() == 3);
    (void)rx2.borrow_and_update();  // seen: from_changes waits for the next change
    auto only_changes = sw::WatchStream<int>::from_changes(std::move(rx2));
    auto r2 = co_await ttime::timeout(milliseconds(1), only_changes.next());
    CHECK(!r2.has_value());
    (void)tx.send(4);
    CHECK(*co_await only_changes.next() == 4);
    CHECK(*co_await s.next() == 4);
    { auto gone = std::move(tx); }
    CHECK(!(co_await s.next()).has_value());
  }());
}

TEST_CASE("IntervalStream: ticks at start + k * period, a cancelled next loses no tick") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto t0 = ttime::Instant::now();
    sw::IntervalStream ticks(ttime::interval(milliseconds(10)));
    auto first = co_await ticks.next();
    REQUIRE(first.has_value());
    CHECK(*first == t0);
    auto r = co_await ttime::timeout(milliseconds(4), ticks.next());
    CHECK(!r.has_value());
    auto second = co_await ticks.next();
    REQUIRE(second.has_value());
    CHECK(*second == t0 + milliseconds(10));
    auto three = st::take(std::move(ticks), 3);
    auto v = co_await stest::drain(three);
    REQUIRE(v.size() == 3);
    CHECK(v[2] == t0 + milliseconds(40));
  }());
}

TEST_CASE("TcpListenerStream and UnixListenerStream: connections as items, cancel-safe") {
  auto rt = stest::io_rt();
  rt.block_on([]() -> Task<> {
    auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
    REQUIRE(l.has_value());
    auto addr = l->local_addr().value();
    sw::TcpListenerStream incoming(std::move(*l));
    auto r = co_await ttime::timeout(milliseconds(5), incoming.next());
    CHECK(!r.has_value());
    for (int i = 0; i < 3; ++i) {
      auto c = co_await tokio::net::TcpStream::connect(addr.to_string());
      REQUIRE(c.has_value());
      auto s = co_await incoming.next();
      REQUIRE(s.has_value());
      REQUIRE(s->has_value());
      CHECK((*s)->peer_addr().value() == c->local_addr().value());
    }

    char dir[] = "/tmp/tokio-ustream-XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    std::string path = std::string(dir) + "/s.sock";
    auto ul = tokio::net::UnixListener::bind(path);
    REQUIRE(ul.has_value());
    sw::UnixListenerStream uin(std::move(*ul));
    auto c = co_await tokio::net::UnixStream::connect(path);
    REQUIRE(c.has_value());
    auto us = co_await uin.next();
    REQUIRE(us.has_value());
    CHECK(us->has_value());
    ::unlink(path.c_str());
    ::rmdir(dir);
  }());
}

TEST_CASE(
    "LinesStream and SplitStream: lines and segments with errors as items; a partial line survives "
    "a cancelled next") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [a, b] = tio::duplex(1024);
    sw::LinesStream lines(tio::lines(tio::BufReader(std::move(b))));
    (void)co_await tio::write_all(a, std::string_view("first\r\nsec"));
    CHECK(**co_await lines.next() == "first");
    auto r = co_await ttime::timeout(milliseconds(2), lines.next());  // "sec" is buffered inside
    CHECK(!r.has_value());
    (void)co_await tio::write_all(a, std::string_view("ond\n\xff\xfe\nthird"));
    CHECK(**co_await lines.next() == "second");
    auto bad = co_await lines.next();
    REQUIRE(bad.has_value());
    CHECK(!bad->has_value());  // invalid UTF-8: an error item, the stream goes on
    (void)co_await a.shutdown();
    CHECK(**co_await lines.next() == "third");
    CHECK(!(co_await lines.next()).has_value());

    auto [c, d] = tio::duplex(64);
    sw::SplitStream segs(tio::split(tio::BufReader(std::move(d)), ';'));
    (void)co_await tio::write_all(c, std::string_view("x;yy;"));
    (void)co_await c.shutdown();
    auto all = co_await st::collect<std::vector<tokio::io::Result<std::vector<std::byte>>>>(segs);
    REQUIRE(all.size() == 2);
    CHECK(all[1]->size() == 2);
  }());
}

// get_mut() hands the source over with no receive in flight: a next() that lost a select
// keeps one, which would make the receiver refuse the caller's own try_recv.
TEST_CASE("stream wrappers: get_mut after a next() that lost a select lets try_recv work") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using namespace std::chrono_literals;
    {
      auto [tx, rx] = tokio::sync::mpsc::channel<int>(8);
      tokio::stream::wrappers::ReceiverStream<int> s(std::move(rx));
      auto lost = co_await tokio::select(s.next(), tokio::time::sleep(1ms));
      REQUIRE(lost.index() == 1);
      REQUIRE(co_await tx.send(7));
      auto v = s.get_mut().try_recv();
      REQUIRE(v.has_value());
      CHECK(*v == 7);
    }
    {
      auto [tx, rx] = tokio::sync::broadcast::channel<int>(8);
      tokio::stream::wrappers::BroadcastStream<int> s(std::move(rx));
      auto lost = co_await tokio::select(s.next(), tokio::time::sleep(1ms));
      REQUIRE(lost.index() == 1);
      REQUIRE(tx.send(5).has_value());
      auto v = s.get_mut().try_recv();
      REQUIRE(v.has_value());
      CHECK(*v == 5);
      // The stream still works after.
      REQUIRE(tx.send(6).has_value());
      auto n = co_await s.next();
      REQUIRE(n.has_value());
      CHECK(n->value() == 6);
    }
  }());
}

TEST_CASE("BoxStream: streams of different types behind one type, in a StreamMap; moves") {
  static_assert(st::Stream<st::BoxStream<int>>);
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::mpsc::channel<int>(8);
    st::StreamMap<std::string, st::BoxStream<int>> m;
    (void)m.insert("iter", st::boxed(st::iter(std::vector<int>{1, 2, 3}) |
                                     st::map([](int x) { return x * 10; })));
    (void)m.insert("chan", sw::ReceiverStream(std::move(rx)) | st::boxed());
    REQUIRE((co_await tx.send(7)).has_value());
    { auto gone = std::move(tx); }
    std::map<std::string, std::vector<int>> got;
    while (auto kv = co_await m.next()) got[kv->first].push_back(kv->second);
    CHECK(got["iter"] == std::vector<int>{10, 20, 30});
    CHECK(got["chan"] == std::vector<int>{7});
    // The item converted: a stream of int boxed as a stream of long.
    st::BoxStream<long> wide(st::iter(std::vector<int>{4, 5}));
    auto wide_items = co_await stest::drain(wide);
    const std::vector<long> want_wide{4, 5};
    CHECK(wide_items == want_wide);
    // A next() cancelled by a timeout, then the box moved: nothing is lost, and the
    // moved-from box is an ended stream.
    auto [tx2, rx2] = tsync::mpsc::channel<int>(1);
    auto b = st::boxed(sw::ReceiverStream(std::move(rx2)));
    CHECK(!(co_await ttime::timeout(milliseconds(1), b.next())).has_value());
    auto moved = std::move(b);
    CHECK(!(co_await b.next()).has_value());
    REQUIRE((co_await tx2.send(9)).has_value());
    CHECK(*co_await moved.next() == 9);
    st::BoxStream<int> empty;
    CHECK(!(co_await empty.next()).has_value());
  }());
}

namespace second_next {

// s.next(), as a function object.
struct NextOf {
  template <class S>
  auto operator()(S& s) const {
    return s.next();
  }
};

// What awaiting wait(s) gives under a timeout: Result<its result, time::Elapsed>.
template <class S, class Wait>
using waited_t = tokio::detail::await_result_t<decltype(ttime::timeout(
    milliseconds(1), std::declval<Wait&>()(std::declval<S&>())))>;

// Task A, spawned to await wait(s) (s.next() unless said; bounded by 2 s) and given the time
// to reach its wait; its result is what the await gave, an error if it timed out.
template <class S, class Wait = NextOf>
Task<tokio::JoinHandle<waited_t<S, Wait>>> waiting_on(S& s, Wait wait = {}) {
  auto h = tokio::spawn(
      [](S* p, Wait w) -> Task<waited_t<S, Wait>> {
        co_return co_await ttime::timeout(milliseconds(2000), w(*p));
      },
      &s, wait);
  for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
  co_return h;
}

// Task A waits in s.next(); then this task's s.next() must throw std::logic_error naming
// `name` (the stream keeps one waker: taken over, A waited for ever, found by a new-user
// hunt); then `release()` makes an item and A still gets it.
template <class S, class Release>
Task<> refused(S& s, const char* name, Release release) {
  auto first = co_await waiting_on(s);
  std::string what = co_await test::logic_error_of(s.next(), milliseconds(50));
  const std::string stream_name = name;  // doctest prints a const char* as an address
  CAPTURE(stream_name);
  CHECK(what.find(name) != std::string::npos);
  release();
  auto got = co_await std::move(first);
  CHECK((got && *got));
  // Once A has its item, a next() from here is fine again.
  release();
  auto again = co_await ttime::timeout(milliseconds(2000), s.next());
  CHECK((again && *again));
}

st::Generator<int> on_notify(tsync::Notify* n) {
  for (;;) {
    co_await n->notified();
    co_yield 1;
  }
}

}  // namespace second_next

TEST_CASE("a second task's next() on a stream wrapper, StreamMap, generator or map is refused") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using second_next::refused;
    {
      auto [tx, rx] = tsync::mpsc::channel<int>(4);
      sw::ReceiverStream s(std::move(rx));
      co_await refused(s, "ReceiverStream", [t = &tx] { (void)t->try_send(1); });
    }
    {
      auto [tx, rx] = tsync::mpsc::channel<int>(4);
      auto s = sw::ReceiverStream(std::move(rx)) | st::map([](int x) { return x + 1; });
      co_await refused(s, "ReceiverStream", [t = &tx] { (void)t->try_send(1); });
    }
    {
      auto [tx, rx] = tsync::broadcast::channel<int>(4);
      sw::BroadcastStream s(tx.subscribe());
      co_await refused(s, "BroadcastStream", [t = &tx] { (void)t->send(1); });
    }
    {
      auto [tx, rx] = tsync::watch::channel<int>(0);
      auto s = sw::WatchStream<int>::from_changes(std::move(rx));
      int v = 0;
      co_await refused(s, "WatchStream", [t = &tx, &v] { (void)t->send(++v); });
    }
    {
      sw::IntervalStream s(
          ttime::interval_at(ttime::Instant::now() + milliseconds(30), milliseconds(30)));
      co_await refused(s, "IntervalStream", [] {});
    }
    {
      auto [tx, rx] = tsync::mpsc::channel<int>(4);
      st::StreamMap<int, sw::ReceiverStream<int>> s;
      s.insert(7, sw::ReceiverStream(std::move(rx)));
      co_await refused(s, "StreamMap", [t = &tx] { (void)t->try_send(1); });
    }
    {
      tsync::Notify n;
      auto s = second_next::on_notify(&n);
      co_await refused(s, "Generator", [&n] { n.notify_one(); });
    }
  }());
}

// Moving a stream cancels the wait kept inside it: while another task waits in next(), the
// move is refused before anything changes, and that task still gets its item (a moved
// FramedRead left it waiting for ever: found by the streams hunt).
TEST_CASE("moving a stream while another task waits in its next() is refused") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto moved_refused = [](auto& s) {
      try {
        auto other = std::move(s);
      } catch (const std::logic_error& e) {
        return std::string(e.what()).find("moved while a next()") != std::string::npos;
      }
      return false;
    };
    {
      auto [a, b] = tio::duplex(64);
      tokio::codec::FramedRead fr(std::move(b), tokio::codec::LinesCodec());
      auto waiter = co_await second_next::waiting_on(fr);
      CHECK(moved_refused(fr));
      (void)co_await tio::write_all(a, std::string_view("hello\n"));
      auto got = co_await std::move(waiter);  // Result<optional<io::Result<line>>>
      REQUIRE((got && *got && **got));
      CHECK(***got == "hello");
      auto other = std::move(fr);  // between items: fine
      (void)other;
    }
    {
      auto [tx, rx] = tsync::broadcast::channel<int>(4);
      sw::BroadcastStream s(tx.subscribe());
      auto waiter = co_await second_next::waiting_on(s);
      CHECK(moved_refused(s));
      (void)tx.send(5);
      auto got = co_await std::move(waiter);  // Result<optional<Result<int, RecvError>>>
      REQUIRE((got && *got && **got));
      CHECK(***got == 5);
    }
  }());
}

namespace second_next {

// A then whose call waits: the item is the Notify to wait on.
Task<int> wait_on(tsync::Notify* n) {
  co_await n->notified();
  co_return 1;
}

}  // namespace second_next

// The streams made of others keep their inner streams' wakers (or a call's), so a second
// task's next() took them over and the first task waited for ever; found by the streams
// hunt, listed as not detected until the claim moved into detail::NextClaim.
TEST_CASE("a second task's next() on merge, zip, chain, then or a BoxStream is refused") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using second_next::refused;
    auto channel = [] { return tsync::mpsc::channel<int>(8); };
    {
      auto [tx1, rx1] = channel();
      auto [tx2, rx2] = channel();
      auto s = st::merge(sw::ReceiverStream(std::move(rx1)), sw::ReceiverStream(std::move(rx2)));
      co_await refused(s, "stream::Merge", [t = &tx2] { (void)t->try_send(1); });
      // A combinator over the merge names it too.
      auto m = std::move(s) | st::map([](int x) { return x; });
      co_await refused(m, "stream::Merge", [t = &tx1] { (void)t->try_send(1); });
    }
    {
      auto [tx1, rx1] = channel();
      auto [tx2, rx2] = channel();
      auto s = st::zip(sw::ReceiverStream(std::move(rx1)), sw::ReceiverStream(std::move(rx2)));
      co_await refused(s, "stream::Zip", [a = &tx1, b = &tx2] {
        (void)a->try_send(1);
        (void)b->try_send(2);
      });
    }
    {
      auto [tx1, rx1] = channel();
      auto [tx2, rx2] = channel();
      auto s = st::chain(sw::ReceiverStream(std::move(rx1)), sw::ReceiverStream(std::move(rx2)));
      co_await refused(s, "stream::Chain", [t = &tx1] { (void)t->try_send(1); });
    }
    {
      // Waiting in the upstream...
      auto [tx, rx] = channel();
      auto s =
          st::then(sw::ReceiverStream(std::move(rx)), [](int x) -> Task<int> { co_return x + 1; });
      co_await refused(s, "stream::Then", [t = &tx] { (void)t->try_send(1); });
    }
    {
      // ... and in the call.
      tsync::Notify n;
      auto s = st::then(st::iter(std::vector<tsync::Notify*>(8, &n)), second_next::wait_on);
      co_await refused(s, "stream::Then", [&n] { n.notify_one(); });
    }
    {
      auto [tx, rx] = channel();
      st::BoxStream<int> s = st::boxed(sw::ReceiverStream(std::move(rx)));
      co_await refused(s, "stream::BoxStream", [t = &tx] { (void)t->try_send(1); });
    }
  }());
}

// The timed combinators keep a timer's waker: over a stream that claims nothing (iter,
// pending) a second next() took it over.
TEST_CASE("a second task's next() on a timed stream combinator is refused") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using second_next::refused;
    {
      auto s = st::iter(std::vector<int>(100, 1)) | st::throttle(milliseconds(200));
      (void)co_await s.next();  // the first item is not delayed; the next waits
      co_await refused(s, "stream::Throttle", [] {});
    }
    {
      auto s =
          st::pending<int>() | st::timeout_repeating(ttime::interval_at(
                                   ttime::Instant::now() + milliseconds(200), milliseconds(200)));
      co_await refused(s, "stream::TimeoutRepeating", [] {});
    }
    {
      auto [tx, rx] = tsync::mpsc::channel<int>(8);
      auto s = sw::ReceiverStream(std::move(rx)) | st::timeout(std::chrono::seconds(30));
      co_await refused(s, "stream::Timeout", [t = &tx] { (void)t->try_send(1); });
    }
    {
      auto [tx, rx] = tsync::mpsc::channel<int>(8);
      auto s = sw::ReceiverStream(std::move(rx)) | st::chunks_timeout(4, milliseconds(100));
      co_await refused(s, "stream::ChunksTimeout", [t = &tx] { (void)t->try_send(1); });
    }
  }());
}

// These streams move without throwing, so that they go through channels (mpsc needs
// nothrow moves; 51bc98b's throwing moves made the first program below fail to compile,
// found by a hunt) and grow in vectors without copies.
static_assert(std::is_nothrow_move_constructible_v<st::BoxStream<int>>);
static_assert(std::is_nothrow_move_constructible_v<st::Generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<st::StreamMap<int, sw::ReceiverStream<int>>>);
static_assert(std::is_nothrow_move_constructible_v<sw::ReceiverStream<int>>);
static_assert(
    std::is_nothrow_move_constructible_v<decltype(st::merge(
        std::declval<sw::ReceiverStream<int>>(), std::declval<sw::ReceiverStream<int>>()))>);
static_assert(
    std::is_nothrow_move_constructible_v<decltype(st::zip(
        std::declval<sw::ReceiverStream<int>>(), std::declval<sw::ReceiverStream<int>>()))>);
static_assert(std::is_nothrow_move_constructible_v<
              decltype(std::declval<sw::ReceiverStream<int>>() | st::throttle(milliseconds(1)))>);

TEST_CASE("BoxStream, Generator and merge go through an mpsc channel and are read there") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::mpsc::channel<st::BoxStream<int>>(4);
    CHECK(co_await tx.send(st::boxed(st::iter(std::vector<int>(3, 2)))));
    auto b = co_await rx.recv();
    REQUIRE(b.has_value());
    int sum = 0;
    while (auto v = co_await b->next()) sum += *v;
    CHECK(sum == 6);
    tsync::Notify n;
    auto [gtx, grx] = tsync::mpsc::unbounded_channel<st::Generator<int>>();
    CHECK(gtx.send(second_next::on_notify(&n)).has_value());
    auto g = co_await grx.recv();
    REQUIRE(g.has_value());
    n.notify_one();
    CHECK(*co_await g->next() == 1);
    using M = decltype(st::merge(std::declval<sw::ReceiverStream<int>>(),
                                 std::declval<sw::ReceiverStream<int>>()));
    auto [mtx, mrx] = tsync::mpsc::channel<M>(1);
    auto [tx1, rx1] = tsync::mpsc::channel<int>(4);
    auto [tx2, rx2] = tsync::mpsc::channel<int>(4);
    (void)tx2.try_send(7);
    CHECK(co_await mtx.send(
        st::merge(sw::ReceiverStream(std::move(rx1)), sw::ReceiverStream(std::move(rx2)))));
    auto m = co_await mrx.recv();
    REQUIRE(m.has_value());
    CHECK(*co_await m->next() == 7);
  }());
}

// A next() through st::by_ref(s) claims s: a second task's s.next() meanwhile is refused
// (it took the one waker over; found by a hunt).
TEST_CASE("a next() through by_ref claims the stream it borrows") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using namespace second_next;
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    auto m = st::merge(sw::ReceiverStream(std::move(rx)), st::pending<int>());
    // The take over by_ref lives in the waiting task's frame.
    auto a = co_await waiting_on(m, [](auto& s) -> Task<std::optional<int>> {
      auto t = st::by_ref(s) | st::take(5);
      co_return co_await t.next();
    });
    CHECK((co_await test::logic_error_of(m.next(), milliseconds(50))).find("stream::Merge") !=
          std::string::npos);
    (void)tx.try_send(42);
    auto got = co_await std::move(a);
    REQUIRE((got && *got));
    CHECK(**got == 42);
  }());
}

// peek() waits in the same waker as next(): a task's peek() and another's next() (or the
// other way round) at once left one of them waiting for ever (found by a hunt).
TEST_CASE("a peek() and another task's next() on one peekable: the second is refused") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    using namespace second_next;
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    auto p = st::peekable(st::merge(sw::ReceiverStream(std::move(rx)), st::pending<int>()));
    auto a = co_await waiting_on(p, [](auto& s) { return s.peek(); });
    CHECK((co_await test::logic_error_of(p.next(), milliseconds(50))).find("stream::Merge") !=
          std::string::npos);
    (void)tx.try_send(42);
    auto peeked = co_await std::move(a);
    REQUIRE((peeked && *peeked));
    CHECK(**peeked == 42);
    // The peeked item is still there for the next next(); now the other way round.
    CHECK(*co_await p.next() == 42);
    auto b = co_await waiting_on(p);
    CHECK((co_await test::logic_error_of(p.peek(), milliseconds(50))).find("stream::Merge") !=
          std::string::npos);
    (void)tx.try_send(43);
    auto got = co_await std::move(b);
    REQUIRE((got && *got));
    CHECK(**got == 43);
  }());
}

// Moving a stream that moves without throwing while another task waits in its next() would
// leave that task polling a moved-from object (a StreamMap answered it with a silent end):
// it says why on stderr and aborts (checked in a child process, one per kind).
constexpr const char* kMoveAborts = "moving a nothrow-movable stream while a next() waits aborts";
constexpr const char* kMoveAbortsEnv = "TOKIO_TEST_STREAM_MOVE_ABORTS_CHILD";
constexpr const char* kMoveAbortsKind = "TOKIO_TEST_STREAM_MOVE_ABORTS_KIND";

namespace second_next {

template <class S, class Move>
Task<> move_while_waiting(S& s, Move move) {
  auto waiter = co_await waiting_on(s);
  move();
  std::fprintf(stderr, "the move returned\n");
  ::_exit(3);
}

Task<> move_child(std::string kind) {
  auto [tx, rx] = tsync::mpsc::channel<int>(4);
  tsync::Notify n;
  if (kind == "StreamMap") {
    st::StreamMap<int, sw::ReceiverStream<int>> s;
    s.insert(1, sw::ReceiverStream(std::move(rx)));
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  } else if (kind == "Generator") {
    auto s = on_notify(&n);
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  } else if (kind == "Generator=") {
    auto s = on_notify(&n);
    auto other = on_notify(&n);
    co_await move_while_waiting(s, [&s, &other] { other = std::move(s); });
  } else if (kind == "Merge") {
    auto s = st::merge(sw::ReceiverStream(std::move(rx)), st::pending<int>());
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  } else if (kind == "BoxStream") {
    st::BoxStream<int> s = st::boxed(sw::ReceiverStream(std::move(rx)));
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  } else if (kind == "ReceiverStream") {
    sw::ReceiverStream s(std::move(rx));
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  } else if (kind == "Throttle") {
    auto s = sw::ReceiverStream(std::move(rx)) | st::throttle(milliseconds(10));
    co_await move_while_waiting(s, [&s] { auto other = std::move(s); });
  }
  std::fprintf(stderr, "unknown kind %s\n", kind.c_str());
  ::_exit(4);
}

}  // namespace second_next

TEST_CASE(kMoveAborts) {
  if (test::in_child(kMoveAbortsEnv)) {
    auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
    rt.block_on(second_next::move_child(std::getenv(kMoveAbortsKind)));
    ::_exit(5);
  }
  const std::pair<const char*, const char*> kinds[] = {
      {"StreamMap", "stream::StreamMap"},  {"Generator", "stream::Generator"},
      {"Generator=", "stream::Generator"}, {"Merge", "stream::Merge"},
      {"BoxStream", "stream::BoxStream"},  {"ReceiverStream", "ReceiverStream"},
      {"Throttle", "stream::Throttle"}};
  for (const auto& k : kinds) {
    const char* kind = k.first;  // not a structured binding: clang 14 cannot capture those
    const char* name = k.second;
    ::setenv(kMoveAbortsKind, kind, 1);
    auto child = test::run_self_as_child(kMoveAborts, kMoveAbortsEnv, {1});  // quiet: no report
    const std::string move_kind = kind;  // doctest prints a const char* as an address
    CAPTURE(move_kind);
    CAPTURE(child.err);
    CHECK(WIFSIGNALED(child.status));
    CHECK(child.err.find("was moved while a next() on it was waiting") != std::string::npos);
    CHECK(child.err.find(name) != std::string::npos);
    // The move's own report (abort_if_pending_next), not a throwing check's std::logic_error
    // escaping the noexcept move through std::terminate.
    CHECK(child.err.find("This move cannot throw") != std::string::npos);
  }
  ::unsetenv(kMoveAbortsKind);
}
