// A stream's next() under select: asked first (its try_poll), registered only when no
// branch is ready, for the streams whose sources can be asked (core/detail/poll.hpp,
// TryContext; stream/stream.hpp).
#include <stdexcept>
#include <string>
#include <vector>

#include "stream_test_util.hpp"
#include "sync_test_util.hpp"

namespace {

using stest::Task;
namespace st = tokio::stream;
namespace sw = tokio::stream::wrappers;
namespace tsync = tokio::sync;
namespace tcodec = tokio::codec;

// (next() names the stream; its co_await makes the leaf that select asks.)
template <class S>
constexpr bool askable = requires(S& s) {
  { s.next().operator co_await().try_poll() } -> std::same_as<bool>;
};

using Lines = tcodec::Framed<tokio::net::UnixStream, tcodec::LinesCodec>;
using Mapped = decltype(std::declval<sw::ReceiverStream<int>>() | st::map([](int v) { return v; }));
static_assert(askable<Lines>);
static_assert(askable<tcodec::FramedRead<tokio::net::TcpStream&, tcodec::BytesCodec>>);
static_assert(askable<sw::ReceiverStream<int>> && askable<sw::BroadcastStream<int>> &&
              askable<sw::WatchStream<int>> && askable<sw::IntervalStream>);
static_assert(askable<Mapped> && askable<st::StreamMap<int, sw::ReceiverStream<int>>>);
static_assert(askable<st::Iter<std::vector<int>>> && askable<st::Pending<int>>);
// What cannot be asked exactly keeps polling: a generator, a timed stream, an async map.
static_assert(!askable<st::Generator<int>>);
static_assert(!askable<decltype(std::declval<sw::ReceiverStream<int>>() |
                                st::timeout(std::chrono::seconds(1)))>);
static_assert(!askable<st::BoxStream<int>>);

}  // namespace

TEST_CASE(
    "select: a stream's next() loses without registering (wrappers, combinators, StreamMap, "
    "Framed), and wins when asked") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::mpsc::channel<int>(64);  // the branch that is ready
    auto [qtx, qrx] = tsync::mpsc::channel<int>(4);
    auto mapped = sw::ReceiverStream(std::move(qrx)) | st::map([](int v) { return v * 2; }) |
                  st::filter([](const int& v) { return v != 0; });
    auto [wtx, wrx] = tsync::watch::channel(0);
    auto changes = sw::WatchStream<int>::from_changes(std::move(wrx));
    auto [btx, brx] = tsync::broadcast::channel<int>(4);
    sw::BroadcastStream<int> casts(std::move(brx));
    auto [mtx, mrx] = tsync::mpsc::channel<int>(4);
    st::StreamMap<int, sw::ReceiverStream<int>> map;
    (void)map.insert(1, sw::ReceiverStream(std::move(mrx)));
    auto never = st::chain(st::iter(std::vector<int>{}), st::pending<int>());
    auto [a, b] = tokio::net::UnixStream::pair().value();
    Lines conn(std::move(a), tcodec::LinesCodec());

    // Every stream waits; the ready receive wins, and nothing holds the waker afterwards
    // (the channels', the watch's, the broadcast's, the socket's).
    for (int round = 0; round < 32; ++round) {
      CAPTURE(round);
      REQUIRE(tx.try_send(round).has_value());
      auto sel = test::polled(tokio::select(conn.next(), mapped.next(), changes.next(),
                                            casts.next(), map.next(), never.next(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      auto r = sel.take();
      REQUIRE(r.index() == 6);
      CHECK(std::get<6>(r) == round);
    }

    // Each one ready when asked: it wins the biased select on the first poll, registering
    // nothing, with the item its poll would have given.
    REQUIRE(tx.try_send(-1).has_value());  // always ready: the asked branch must beat it
    auto asked = [](auto&& sel) {
      bool ready = sel.poll();
      CHECK(ready);
      CHECK(sel.waker().outstanding() == 0);
      REQUIRE(sel.is_ready());
      auto r = sel.take();
      CHECK(r.index() == 0);
      return std::get<0>(std::move(r));
    };
    REQUIRE(qtx.try_send(3).has_value());
    CHECK(asked(test::polled(tokio::select_biased(mapped.next(), rx.recv()))) == 6);
    REQUIRE(qtx.try_send(0).has_value());  // filtered out: the filter asks again, and waits
    {
      auto sel = test::polled(tokio::select_biased(mapped.next(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      CHECK(sel.take().index() == 1);
      REQUIRE(tx.try_send(-1).has_value());
    }
    REQUIRE(wtx.send(5).has_value());
    CHECK(asked(test::polled(tokio::select_biased(changes.next(), rx.recv()))) == 5);
    REQUIRE(btx.send(8).has_value());
    {
      auto v = asked(test::polled(tokio::select_biased(casts.next(), rx.recv())));
      REQUIRE(v.has_value());
      REQUIRE(v->has_value());
      CHECK(**v == 8);
    }
    REQUIRE(mtx.try_send(4).has_value());
    {
      auto kv = asked(test::polled(tokio::select_biased(map.next(), rx.recv())));
      REQUIRE(kv.has_value());
      CHECK(kv->first == 1);
      CHECK(kv->second == 4);
    }

    // The socket: a line that a read finds (the reactor has said readable), then a second
    // one left in the Framed's buffer, each taken when asked.
    REQUIRE((co_await b.write_all(std::string_view("hello\nx\n"))).has_value());
    REQUIRE((co_await conn.get_ref().readable()).has_value());
    for (const char* want : {"hello", "x"}) {
      auto line = asked(test::polled(tokio::select_biased(conn.next(), rx.recv())));
      REQUIRE(line.has_value());
      REQUIRE(line->has_value());
      CHECK(**line == want);
    }
    // Nothing more: asked, the read finds nothing and leaves no registration behind.
    {
      auto sel = test::polled(tokio::select_biased(conn.next(), rx.recv()));
      REQUIRE(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      CHECK(sel.take().index() == 1);
      REQUIRE(tx.try_send(-1).has_value());
    }

    // The end of a stream and an exception are answers too.
    { auto gone = std::move(qtx); }
    CHECK(asked(test::polled(tokio::select_biased(mapped.next(), rx.recv()))) == std::nullopt);
    auto [ttx, trx] = tsync::mpsc::channel<int>(1);
    auto thrower = sw::ReceiverStream(std::move(trx)) | st::map([](int v) -> int {
                     if (v == 13) throw std::runtime_error("thirteen");
                     return v;
                   });
    REQUIRE(ttx.try_send(13).has_value());
    {
      auto sel = test::polled(tokio::select_biased(thrower.next(), rx.recv()));
      CHECK(sel.poll());
      CHECK(sel.waker().outstanding() == 0);
      CHECK_THROWS_WITH_AS(sel.take(), "thirteen", std::runtime_error);
    }
    // The other side of the socket closes: the end, when asked.
    { auto gone = std::move(b); }
    REQUIRE((co_await conn.get_ref().readable()).has_value());
    CHECK(asked(test::polled(tokio::select_biased(conn.next(), rx.recv()))) == std::nullopt);
  }());
}

TEST_CASE("select over streams in a task: a lost next() loses nothing, on both flavours") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    rt.block_on([]() -> Task<> {
      auto [tx, rx] = tsync::mpsc::channel<int>(8);
      auto [a, b] = tokio::net::UnixStream::pair().value();
      Lines conn(std::move(a), tcodec::LinesCodec());
      auto writer = tokio::spawn(
          [](tokio::net::UnixStream s) -> Task<> {
            for (int i = 0; i < 200; ++i) {
              auto line = std::to_string(i) + "\n";
              REQUIRE((co_await s.write_all(std::string_view(line))).has_value());
              if (i % 7 == 0) co_await tokio::task::yield_now();
            }
          },
          std::move(b));
      auto sender = tokio::spawn(
          [](tsync::mpsc::Sender<int> t) -> Task<> {
            for (int i = 0; i < 200; ++i) REQUIRE((co_await t.send(i)).has_value());
          },
          std::move(tx));
      int lines = 0;
      int msgs = 0;
      bool closed = false;  // every message received and the sender gone
      while (lines < 200 && !closed) {
        auto ev = co_await tokio::select(conn.next(), rx.recv());
        if (ev.index() == 0) {
          auto& line = std::get<0>(ev);
          REQUIRE(line.has_value());
          REQUIRE(line->has_value());
          CHECK(**line == std::to_string(lines));
          ++lines;
        } else if (auto& m = std::get<1>(ev)) {
          CHECK(*m == msgs);
          ++msgs;
        } else {
          closed = true;
        }
      }
      // Then the rest of either side, one at a time: nothing a lost branch had was lost.
      while (lines < 200) {
        auto line = co_await conn.next();
        REQUIRE(line.has_value());
        REQUIRE(line->has_value());
        CHECK(**line == std::to_string(lines));
        ++lines;
      }
      while (auto m = co_await rx.recv()) CHECK(*m == msgs++);
      CHECK(msgs == 200);
      co_await std::move(writer);
      co_await std::move(sender);
    }());
  }
}

namespace {

// A user's poll-level stream whose poll_next is an unconstrained template that uses the
// context: written for task::Context, so it is polled, never asked.
class UserGenericStream : public st::PollStream<UserGenericStream, int> {
 public:
  bool poll_next(auto& cx, std::optional<int>& out) {
    if (++calls_ % 2 == 1) {
      cx.waker().wake_by_ref();  // "not yet": poll again
      return false;
    }
    out.emplace(calls_);
    return true;
  }

 private:
  int calls_ = 0;
};
static_assert(!askable<UserGenericStream>);
static_assert(
    !askable<decltype(std::declval<UserGenericStream>() | st::map([](int v) { return v; }))>);

}  // namespace

TEST_CASE(
    "select asks streams exactly as it polls them: an interval's first tick, a timeout whose "
    "operand spent the budget, merge's turn, user streams") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    using namespace std::chrono_literals;
    auto [tx, rx] = tsync::mpsc::channel<int>(64);
    // An IntervalStream asked before it was ever polled: its due tick wins every time (found
    // by review: the tick's timer had no driver yet, so the question said "not ready" and
    // a select_biased whose later branch was always ready never ticked).
    sw::IntervalStream ticks(tokio::time::interval(10ms));
    for (int i = 0; i < 5; ++i) {
      CAPTURE(i);
      REQUIRE(tx.try_send(i).has_value());
      auto ev = co_await tokio::select_biased(ticks.next(), rx.recv());
      CHECK(ev.index() == 0);
      CHECK(rx.try_recv().value() == i);
      co_await tokio::time::advance(10ms);
    }
    // A timeout whose operand (a filter skipping items) spends the budget while saying
    // "not ready": the deadline is still checked, as poll does.
    REQUIRE(tx.try_send(7).has_value());
    co_await tokio::task::yield_now();  // a fresh budget
    auto late =
        st::iter(std::vector<int>(10000, 0)) | st::filter([](const int& v) { return v > 0; });
    {
      // The other branch is ready whatever the budget (a coroutine that returns at once).
      auto ready_now = []() -> Task<int> { co_return 1; };
      auto ev = co_await tokio::select_biased(
          tokio::time::timeout_at(tokio::time::Instant::now() - 1s, late.next()), ready_now());
      REQUIRE(ev.index() == 0);
      CHECK_FALSE(std::get<0>(ev).has_value());  // Elapsed
    }
    CHECK(rx.try_recv().value() == 7);
    // merge alternates the side it polls first once per poll, not per question: after a
    // select that found nothing, the turn is where one poll leaves it.
    auto [atx, arx] = tsync::mpsc::channel<int>(4);
    auto [btx, brx] = tsync::mpsc::channel<int>(4);
    auto merged = st::merge(sw::ReceiverStream(std::move(arx)), sw::ReceiverStream(std::move(brx)));
    {
      auto sel = test::polled(tokio::select(merged.next(), rx.recv()));
      CHECK_FALSE(sel.poll());
    }
    REQUIRE(atx.try_send(1).has_value());
    REQUIRE(btx.try_send(2).has_value());
    co_await tokio::task::yield_now();  // a fresh budget (the filter above spent it)
    auto m1 = co_await merged.next();
    auto m2 = co_await merged.next();
    CHECK(m1 == std::optional<int>(2));  // b's turn after one poll
    CHECK(m2 == std::optional<int>(1));
    // A user's generic poll_next compiles under select (polled, not asked).
    UserGenericStream mine;
    REQUIRE(tx.try_send(8).has_value());
    auto ev = co_await tokio::select_biased(mine.next(), rx.recv());
    CHECK(ev.index() == 1);  // its first answer is "not yet"
    auto v = co_await mine.next();
    CHECK(v.has_value());
  }());
}
