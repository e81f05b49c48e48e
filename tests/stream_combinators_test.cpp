// Every combinator against a model (the same operation on a std::vector), on randomized
// inputs from sources that answer "not ready" at random points: a poll-level source and
// a user stream whose next() is a Task (driven through the ChildOp kept in the
// combinator). Also: the pipe forms, next() destroyed mid-way loses nothing, moving a
// combinator between items, then with asynchronous functions, merge fairness, and a
// borrowed stream keeping what a combinator did not take.
#include <algorithm>
#include <deque>
#include <list>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "stream_test_util.hpp"

using stest::Rng;
using stest::Scripted;
using stest::Task;
using stest::TaskStream;
namespace st = tokio::stream;
namespace tsync = tokio::sync;

namespace {

// The model of each combinator, on a vector.
struct Model {
  static std::vector<int> map(const std::vector<int>& v) {
    std::vector<int> o;
    for (int x : v) o.push_back(x * 3 + 1);
    return o;
  }
  static std::vector<int> filter(const std::vector<int>& v) {
    std::vector<int> o;
    for (int x : v)
      if (x % 3 != 0) o.push_back(x);
    return o;
  }
  static std::vector<int> filter_map(const std::vector<int>& v) {
    std::vector<int> o;
    for (int x : v)
      if (x % 2 == 0) o.push_back(x / 2);
    return o;
  }
  static std::vector<int> take(const std::vector<int>& v, std::size_t n) {
    return std::vector<int>(v.begin(),
                            v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())));
  }
  static std::vector<int> skip(const std::vector<int>& v, std::size_t n) {
    return std::vector<int>(v.begin() + static_cast<std::ptrdiff_t>(std::min(n, v.size())),
                            v.end());
  }
  static std::vector<int> take_while(const std::vector<int>& v, int limit) {
    std::vector<int> o;
    for (int x : v) {
      if (x >= limit) break;
      o.push_back(x);
    }
    return o;
  }
  static std::vector<int> map_while(const std::vector<int>& v) {  // half_of_even
    std::vector<int> o;
    for (int x : v) {
      if (x % 2 != 0) break;
      o.push_back(x / 2);
    }
    return o;
  }
  static std::vector<int> skip_while(const std::vector<int>& v, int limit) {
    std::size_t i = 0;
    while (i < v.size() && v[i] < limit) ++i;
    return std::vector<int>(v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  }
};

int times3plus1(int x) { return x * 3 + 1; }
bool not_div3(const int& x) { return x % 3 != 0; }
std::optional<int> half_of_even(int x) {
  return x % 2 == 0 ? std::optional<int>(x / 2) : std::nullopt;
}

Task<int> slow_negate(int x) {
  if (x % 2) co_await tokio::task::yield_now();
  co_return -x;
}

// Runs `make(source)` for a Scripted source and a TaskStream over the same items and
// checks both against `want`.
template <class Make>
Task<> check_both(const std::vector<int>& items, Rng& rng, Make make,
                  const std::vector<int>& want) {
  auto a = make(Scripted::random(items, rng));
  auto got_a = co_await stest::drain(a);
  CHECK(got_a == want);
  auto b = make(TaskStream(items, rng.next()));
  auto got_b = co_await stest::drain(b);
  CHECK(got_b == want);
}

}  // namespace

TEST_CASE(
    "stream combinators match their model on random inputs (poll-level and Task-based sources)") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Rng rng(1);
    const std::size_t rounds = test::scaled(60);
    for (std::size_t round = 0; round < rounds; ++round) {
      std::vector<int> items = rng.ints(rng.below(40), 50);
      std::size_t n = rng.below(items.size() + 3);
      int limit = static_cast<int>(rng.below(50));

      // (Lambdas and expected vectors are named first: no temporaries with destructors
      // inside a co_await expression, for g++ 12.)
      auto mk_map = [](auto s) { return st::map(std::move(s), times3plus1); };
      auto mk_filter = [](auto s) { return st::filter(std::move(s), not_div3); };
      auto mk_filter_map = [](auto s) { return st::filter_map(std::move(s), half_of_even); };
      auto mk_take = [n](auto s) { return st::take(std::move(s), n); };
      auto mk_skip = [n](auto s) { return st::skip(std::move(s), n); };
      auto mk_take_while = [limit](auto s) {
        return st::take_while(std::move(s), [limit](const int& x) { return x < limit; });
      };
      auto mk_skip_while = [limit](auto s) {
        return st::skip_while(std::move(s), [limit](const int& x) { return x < limit; });
      };
      auto mk_then = [](auto s) { return st::then(std::move(s), slow_negate); };
      auto mk_map_while = [](auto s) { return st::map_while(std::move(s), half_of_even); };
      auto mk_fuse = [](auto s) { return st::fuse(std::move(s)); };
      std::vector<int> want_map = Model::map(items), want_filter = Model::filter(items),
                       want_filter_map = Model::filter_map(items),
                       want_take = Model::take(items, n), want_skip = Model::skip(items, n),
                       want_take_while = Model::take_while(items, limit),
                       want_skip_while = Model::skip_while(items, limit),
                       want_map_while = Model::map_while(items), want_then;
      for (int x : items) want_then.push_back(-x);
      co_await check_both(items, rng, mk_map, want_map);
      co_await check_both(items, rng, mk_filter, want_filter);
      co_await check_both(items, rng, mk_filter_map, want_filter_map);
      co_await check_both(items, rng, mk_take, want_take);
      co_await check_both(items, rng, mk_skip, want_skip);
      co_await check_both(items, rng, mk_take_while, want_take_while);
      co_await check_both(items, rng, mk_skip_while, want_skip_while);
      co_await check_both(items, rng, mk_then, want_then);
      co_await check_both(items, rng, mk_map_while, want_map_while);
      co_await check_both(items, rng, mk_fuse, items);

      // chain / zip / merge of two random sources.
      std::vector<int> other = rng.ints(rng.below(30), 50);
      std::vector<int> chained = items;
      chained.insert(chained.end(), other.begin(), other.end());
      {
        auto c = st::chain(Scripted::random(items, rng), TaskStream(other, rng.next()));
        auto got = co_await stest::drain(c);
        CHECK(got == chained);
      }
      {
        auto z = st::zip(Scripted::random(items, rng), TaskStream(other, rng.next()));
        auto got = co_await stest::drain(z);
        std::size_t m = std::min(items.size(), other.size());
        REQUIRE(got.size() == m);
        for (std::size_t i = 0; i < m; ++i) CHECK(got[i] == std::make_pair(items[i], other[i]));
      }
      {
        auto mg = st::merge(Scripted::random(items, rng), TaskStream(other, rng.next()));
        auto got = co_await stest::drain(mg);
        // Every item of both, each side in its own order.
        std::multiset<int> all(chained.begin(), chained.end());
        CHECK(std::multiset<int>(got.begin(), got.end()) == all);
      }
      // fold and collect.
      {
        auto s = Scripted::random(items, rng);
        int sum = co_await st::fold(s, 0, [](int acc, int x) { return acc + x; });
        CHECK(sum == std::accumulate(items.begin(), items.end(), 0));
        auto t = TaskStream(items, rng.next());
        auto as_list = co_await st::collect<std::list<int>>(std::move(t));
        CHECK(std::vector<int>(as_list.begin(), as_list.end()) == items);
        auto u = Scripted::random(items, rng);
        auto as_set = co_await st::collect<std::set<int>>(u);
        CHECK(as_set == std::set<int>(items.begin(), items.end()));
        // any / all stop at the deciding item; what follows stays in a borrowed stream.
        auto above = [limit](const int& x) { return x > limit; };
        auto v = Scripted::random(items, rng);
        bool any_above = co_await st::any(v, above);
        auto first_above = std::find_if(items.begin(), items.end(), above);
        CHECK(any_above == (first_above != items.end()));
        auto rest = co_await stest::drain(v);
        CHECK(rest == std::vector<int>(first_above == items.end() ? items.end() : first_above + 1,
                                       items.end()));
        bool all_above = co_await (TaskStream(items, rng.next()) | st::all(above));
        CHECK(all_above == std::all_of(items.begin(), items.end(), above));
        bool any_piped = co_await (Scripted::random(items, rng) | st::any(above));
        CHECK(any_piped == any_above);
        // The pipe forms (Rust's s.fold(init, f).await / s.collect::<C>().await).
        int piped = co_await (Scripted::random(items, rng) |
                              st::fold(1, [](int acc, int x) { return acc + x; }));
        CHECK(piped == 1 + std::accumulate(items.begin(), items.end(), 0));
        auto w = TaskStream(items, rng.next());
        auto doubled = co_await (std::move(w) | st::map([](int x) { return 2 * x; }) |
                                 st::collect<std::vector<int>>());
        REQUIRE(doubled.size() == items.size());
        for (std::size_t i = 0; i < items.size(); ++i) CHECK(doubled[i] == 2 * items[i]);
      }
    }
  }());
}

TEST_CASE(
    "stream combinators: pipe forms compose, and a chain of combinators over a borrowed stream") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto src = st::iter(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    auto piped = st::by_ref(src) | st::skip(1) | st::filter(not_div3) |
                 st::map([](int x) { return std::to_string(x); }) | st::take(3);
    auto got = co_await stest::drain(piped);
    std::vector<std::string> want{"2", "4", "5"};
    CHECK(got == want);
    // take stopped after 3 items: 1 (skipped), 2, 3 (filtered), 4, 5 were taken from src.
    auto rest = co_await stest::drain(src);
    std::vector<int> want_rest{6, 7, 8, 9, 10};
    CHECK(rest == want_rest);

    auto a = st::iter(std::vector<int>{1, 2});
    auto b = st::iter(std::vector<int>{3});
    auto c = std::move(a) | st::chain(std::move(b)) |
             st::zip(st::iter(std::vector<char>{'a', 'b', 'c', 'd'}));
    auto z = co_await stest::drain(c);
    REQUIRE(z.size() == 3);
    CHECK(z[2] == std::make_pair(3, 'c'));

    auto m = st::once(1) | st::merge(st::once(2)) | st::then(slow_negate);
    auto mv = co_await st::collect<std::vector<int>>(m);
    std::sort(mv.begin(), mv.end());
    std::vector<int> want_m{-2, -1};
    CHECK(mv == want_m);
  }());
}

TEST_CASE("stream combinators: next() destroyed mid-way loses no item, whatever the inner stream") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    // A generator over a channel (pending until a value is sent), under map/filter/then.
    auto [tx, rx] = tsync::mpsc::channel<int>(16);
    auto gen = [](tsync::mpsc::Receiver<int> rx) -> st::Generator<int> {
      for (;;) {
        auto v = co_await rx.recv();
        if (!v) co_return;
        co_yield *v;
      }
    }(std::move(rx));
    auto s = std::move(gen) | st::filter(not_div3) | st::then(slow_negate) | st::map(times3plus1);
    for (int v = 1; v <= 20; ++v) {
      // Cancel a few pending next()s first.
      for (int k = 0; k < 2; ++k) {
        auto r = co_await tokio::time::timeout(1ms, s.next());
        CHECK(!r.has_value());
      }
      (void)co_await tx.send(v);
      if (v % 3 == 0) continue;  // filtered out: nothing to receive
      auto got = co_await s.next();
      REQUIRE(got.has_value());
      CHECK(*got == times3plus1(-v));
    }

    // then: the future in progress survives a cancelled next().
    auto [otx, orx] = tsync::oneshot::channel<int>();
    auto waiting =
        st::then(st::once(std::move(orx)), [](tsync::oneshot::Receiver<int> r) -> Task<int> {
          auto v = co_await std::move(r);
          co_return v ? *v : -1;
        });
    auto r1 = co_await tokio::time::timeout(5ms, waiting.next());
    CHECK(!r1.has_value());
    (void)otx.send(77);
    auto r2 = co_await waiting.next();
    CHECK(r2 == std::optional<int>(77));

    // A Task-based inner stream cancelled at every point: everything still arrives, once.
    Rng rng(5);
    std::vector<int> items = rng.ints(200, 1000);
    auto ts = st::map(TaskStream(items, 9), [](int x) { return x; });
    std::vector<int> got;
    while (got.size() < items.size()) {
      auto sel = co_await tokio::select_biased(tokio::task::yield_now(), ts.next());
      if (sel.index() == 1) {
        auto v = std::get<1>(std::move(sel));
        REQUIRE(v.has_value());
        got.push_back(*v);
      }
    }
    CHECK(got == items);
  }());
}

TEST_CASE("stream combinators: moving between items keeps the position and the source") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto s = st::map(TaskStream({1, 2, 3, 4}, 3), times3plus1);
    auto first = co_await s.next();
    CHECK(first == std::optional<int>(4));
    auto moved = std::move(s);
    auto rest = co_await stest::drain(moved);
    std::vector<int> want{7, 10, 13};
    CHECK(rest == want);

    // A combinator over a channel moved while a receive is in flight: the receive is
    // cancelled (mpsc recv is cancel-safe), so the value sent afterwards is not lost.
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    auto f = st::filter(st::wrappers::ReceiverStream(std::move(rx)), not_div3);
    auto r = co_await tokio::time::timeout(1ms, f.next());
    CHECK(!r.has_value());
    auto g = std::move(f);
    (void)co_await tx.send(5);
    auto v = co_await g.next();
    CHECK(v == std::optional<int>(5));
  }());
}

TEST_CASE("stream combinators: into_inner gives the stream back after what was taken") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    // Each adapter over one stream: the source comes back positioned after the items the
    // adapter took (skip took 1 and 2 to yield 3; take_while took 1 and 2).
    auto sk = st::skip(TaskStream({1, 2, 3, 4, 5}, 1), 2);
    CHECK((co_await sk.next()) == std::optional<int>(3));
    auto sk_src = std::move(sk).into_inner();
    auto rest = co_await stest::drain(sk_src);
    CHECK(rest == std::vector<int>{4, 5});
    auto tw = st::take_while(TaskStream({1, 2, 7, 4}, 2), [](const int& v) { return v < 5; });
    CHECK((co_await tw.next()) == std::optional<int>(1));
    CHECK((co_await tw.next()) == std::optional<int>(2));
    CHECK((co_await tw.next()) == std::nullopt);  // 7 failed the test and was dropped
    auto tw_src = std::move(tw).into_inner();
    rest = co_await stest::drain(tw_src);
    CHECK(rest == std::vector<int>{4});
    auto th = st::throttle(TaskStream({1, 2}, 1), 0ms);
    CHECK((co_await th.next()) == std::optional<int>(1));
    auto th_src = std::move(th).into_inner();
    rest = co_await stest::drain(th_src);
    CHECK(rest == std::vector<int>{2});

    // A receive in flight inside the adapter (lost to a timeout) is cancelled when the
    // source is taken back: the value sent afterwards is the source's next item.
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    auto f = st::filter(st::wrappers::ReceiverStream(std::move(rx)), not_div3);
    CHECK_FALSE((co_await tokio::time::timeout(1ms, f.next())).has_value());
    auto back = std::move(f).into_inner();
    REQUIRE((co_await tx.send(6)).has_value());  // filter would have dropped it
    CHECK((co_await back.next()) == std::optional<int>(6));
  }());
}

TEST_CASE("stream merge is fair: with both sides always ready they alternate") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto m = st::merge(st::iter(std::vector<int>(50, 1)), st::iter(std::vector<int>(50, 2)));
    auto v = co_await stest::drain(m);
    REQUIRE(v.size() == 100);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == (i % 2 == 0 ? 1 : 2));
  }());
}

TEST_CASE("stream combinators: an exception from a function comes out of next()") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto s = st::map(st::iter(std::vector<int>{1, 2, 3}), [](int x) {
      if (x == 2) throw std::runtime_error("bad item");
      return x;
    });
    CHECK(*co_await s.next() == 1);
    const bool threw = co_await stest::await_throws<std::runtime_error>(s.next());
    CHECK(threw);
    CHECK(*co_await s.next() == 3);  // the stream itself goes on

    auto t = st::then(st::iter(std::vector<int>{1}), [](int) -> Task<int> {
      co_await tokio::task::yield_now();
      throw std::logic_error("async failure");
    });
    bool threw2 = false;
    try {
      (void)co_await t.next();
    } catch (const std::logic_error&) {
      threw2 = true;
    }
    CHECK(threw2);
  }());
}

namespace {
// Stores an item and then throws, on its first poll and on the poll after a "not ready"
// (so both the poll inside await_ready and a poll after a wake meet it), then yields 3.
class StoresThenThrows : public st::PollStream<StoresThenThrows, int> {
 public:
  bool poll_next(tokio::task::Context& cx, std::optional<int>& out) {
    switch (polls_++ % 5) {
      case 1: cx.wake_by_ref(); return false;
      case 3: out = 3; return true;
      case 4: return true;
      default: out = 1; throw std::runtime_error("stored, then thrown");
    }
  }

 private:
  int polls_ = 0;
};
}  // namespace

TEST_CASE("stream next(): what poll_next throws wins over an item it stored, on every path") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    StoresThenThrows s;
    CHECK(co_await stest::await_throws<std::runtime_error>(s.next()));  // in await_ready
    CHECK(co_await stest::await_throws<std::runtime_error>(s.next()));  // after a wake
    CHECK(co_await s.next() == std::optional<int>(3));
    CHECK_FALSE((co_await s.next()).has_value());
    // The same through timeout and select, which drive next()'s leaf themselves.
    CHECK(co_await stest::await_throws<std::runtime_error>(
        tokio::time::timeout(std::chrono::seconds(1), s.next())));
    CHECK(co_await stest::await_throws<std::runtime_error>(
        tokio::time::timeout(std::chrono::seconds(1), s.next())));
    CHECK(co_await s.next() == std::optional<int>(3));
    CHECK_FALSE((co_await s.next()).has_value());
    CHECK(co_await stest::await_throws<std::runtime_error>(
        tokio::select_biased(s.next(), tokio::time::sleep(std::chrono::seconds(1)))));
  }());
}

namespace {
// Records the order its instances are destroyed in.
struct DropLog {
  std::vector<int>* log;
  int id;
  ~DropLog() { log->push_back(id); }
};
Task<int> wait_inner(tsync::oneshot::Receiver<int> r, std::vector<int>* log) {
  DropLog g{log, 2};
  auto v = co_await std::move(r);
  co_return v ? *v : -1;
}
Task<int> wait_outer(tsync::oneshot::Receiver<int> r, std::vector<int>* log) {
  DropLog g{log, 1};
  co_return 10 * co_await wait_inner(std::move(r), log);
}
}  // namespace

// then's Task operand (ChildOp's TaskChild) in each state it can be taken or dropped in:
// finished in its first run, thrown in its first run, suspended two frames deep and woken,
// and suspended when its Then is moved (the chain's frames and its item are destroyed) or
// destroyed. (That a deep chain goes without recursion: task_test.cpp.)
TEST_CASE("stream then: a task done at once, thrown at once, woken, or dropped suspended") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto at_once =
        st::then(st::iter(std::vector<int>{1, 2, 3}), [](int x) -> Task<int> { co_return x * 2; });
    auto doubled = co_await stest::drain(at_once);
    CHECK(doubled == std::vector<int>{2, 4, 6});

    auto throws = st::then(st::iter(std::vector<int>{1, 2}), [](int x) -> Task<int> {
      if (x == 1) throw std::runtime_error("first");
      co_return x;
    });
    const bool threw = co_await stest::await_throws<std::runtime_error>(throws.next());
    CHECK(threw);
    auto second = co_await throws.next();
    CHECK(second == std::optional<int>(2));  // the stream goes on
    auto end = co_await throws.next();
    CHECK(!end);

    std::vector<int> log;
    auto [tx1, rx1] = tsync::oneshot::channel<int>();
    auto [tx2, rx2] = tsync::oneshot::channel<int>();
    auto [tx3, rx3] = tsync::oneshot::channel<int>();
    std::vector<tsync::oneshot::Receiver<int>> rxs;
    rxs.push_back(std::move(rx1));
    rxs.push_back(std::move(rx2));
    rxs.push_back(std::move(rx3));
    auto waits = st::then(st::iter(std::move(rxs)), [&log](tsync::oneshot::Receiver<int> r) {
      return wait_outer(std::move(r), &log);
    });
    // Woken: a next() that times out leaves the chain suspended; the value sent then
    // arrives through the next call.
    auto r1 = co_await tokio::time::timeout(std::chrono::milliseconds(5), waits.next());
    CHECK(!r1);
    CHECK(log.empty());
    (void)tx1.send(7);
    auto got = co_await waits.next();
    CHECK(got == std::optional<int>(70));
    CHECK(log == std::vector<int>{2, 1});
    // Moved while the second item's chain is suspended: destroyed innermost first, and
    // the item is gone (its sender sees the receiver closed).
    log.clear();
    auto r2 = co_await tokio::time::timeout(std::chrono::milliseconds(5), waits.next());
    CHECK(!r2);
    auto moved = std::move(waits);
    CHECK(log == std::vector<int>{2, 1});
    CHECK(tx2.is_closed());
    // Destroyed while the third item's chain is suspended.
    log.clear();
    {
      auto last = std::move(moved);
      auto r3 = co_await tokio::time::timeout(std::chrono::milliseconds(5), last.next());
      CHECK(!r3);
      CHECK(log.empty());
    }
    CHECK(log == std::vector<int>{2, 1});
    CHECK(tx3.is_closed());
  }());
}

namespace {
// Ends, then yields 7 once (a stream that is not fused), then ends again.
class EndsThenRevives : public st::PollStream<EndsThenRevives, int> {
 public:
  bool poll_next(tokio::task::Context&, std::optional<int>& out) {
    if (++polls_ == 2) out = 7;
    return true;
  }

 private:
  int polls_ = 0;
};
}  // namespace

TEST_CASE(
    "stream::fuse: after the first end, the end for good; map_while ends at the first empty") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    EndsThenRevives raw;
    CHECK_FALSE((co_await raw.next()).has_value());
    CHECK((co_await raw.next()) == std::optional<int>(7));  // the unfused stream revives
    auto fused = st::fuse(EndsThenRevives());
    CHECK_FALSE((co_await fused.next()).has_value());
    CHECK_FALSE((co_await fused.next()).has_value());
    CHECK_FALSE((co_await fused.next()).has_value());
    auto upto_odd = st::iter(std::vector<int>{2, 4, 5, 6}) | st::map_while(half_of_even);
    const std::vector<int> halves{1, 2};  // (named: no braced list inside a co_await, g++ 12)
    CHECK((co_await st::collect<std::vector<int>>(upto_odd)) == halves);
    CHECK_FALSE((co_await upto_odd.next()).has_value());  // and stays ended
  }());
}

TEST_CASE("stream::peekable: peek lends the next item without taking it; cancel-safe") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Rng rng(5);
    for (int round = 0; round < 40; ++round) {
      std::vector<int> items = rng.ints(rng.below(20), 50);
      auto p = st::peekable(Scripted::random(items, rng));
      std::vector<int> got;
      for (;;) {
        if (rng.below(2)) {
          int* a = co_await p.peek();
          int* b = co_await p.peek();  // the same item, not the one after
          CHECK(a == b);
          if (!a) break;
          CHECK(*a == items[got.size()]);
        }
        auto v = co_await p.next();
        if (!v) break;
        got.push_back(*v);
      }
      CHECK(got == items);
      CHECK((co_await p.peek()) == nullptr);
    }
    // A peek lost to a timeout keeps the inner next() in flight: nothing is lost.
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    auto p = st::peekable(st::wrappers::ReceiverStream(std::move(rx)));
    auto lost = co_await tokio::time::timeout(std::chrono::milliseconds(5), p.peek());
    CHECK_FALSE(lost.has_value());
    REQUIRE((co_await tx.send(9)).has_value());
    int* nine = co_await p.peek();
    REQUIRE(nine != nullptr);
    CHECK(*nine == 9);
    CHECK((co_await p.next()) == std::optional<int>(9));
  }());
}

TEST_CASE(
    "stream::try_next: Result items taken apart, errors returned, the end an empty optional") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::vector<tokio::Result<int, std::string>> items;
    items.emplace_back(1);
    items.emplace_back(tokio::unexpected(std::string("bad")));
    items.emplace_back(3);
    auto s = st::iter(std::move(items));
    std::vector<std::string> log;
    for (;;) {
      auto r = co_await st::try_next(s);
      if (!r) {
        log.push_back("error " + r.error());
        continue;
      }
      if (!*r) break;
      log.push_back(std::to_string(**r));
    }
    const std::vector<std::string> want{"1", "error bad", "3"};
    CHECK(log == want);
    // Over a stream whose next() is not poll-level (a generator).
    auto g = []() -> st::Generator<tokio::Result<int, std::string>> {
      co_await tokio::task::yield_now();
      co_yield tokio::Result<int, std::string>(7);
    }();
    auto seven = co_await st::try_next(g);
    REQUIRE((seven && *seven));
    CHECK(**seven == 7);
    auto end = co_await st::try_next(g);
    REQUIRE(end.has_value());
    CHECK_FALSE(end->has_value());
  }());
}

// A user's own one-argument `all(s)` / `map(s)` called on a tokio stream: the library's
// pipe forms (`stream::all(pred)`, `stream::map(f)`) are found by argument-dependent lookup
// too, and take callables only, so the call is not ambiguous (it did not compile before).
namespace user_adl {
template <class S>
Task<int> all(S s) {
  int n = 0;
  while (co_await s.next()) ++n;
  co_return n;
}
template <class S>
Task<int> map(S s) {
  co_return co_await all(std::move(s)) * 10;
}
}  // namespace user_adl

TEST_CASE("stream: a user's own all(s) / map(s) on a tokio stream is not ambiguous") {
  auto rt = tokio::runtime::Builder::new_current_thread().build();
  rt.block_on([]() -> Task<> {
    std::vector<int> v{1, 2, 3};
    CHECK(co_await user_adl::all(st::iter(v)) == 3);
    CHECK(co_await user_adl::map(st::iter(v)) == 30);
    CHECK(co_await (st::iter(v) | st::all([](const int& x) { return x > 0; })));
  }());
}

TEST_CASE("stream::chain: once ended it stays ended and asks neither stream again") {
  // (tokio-stream's Chain asks its second stream again after its end; this one is fused.)
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Scripted a({1, 2}, {0, 1, 0});
    Scripted b({3}, {1, 0});
    auto c = st::chain(st::by_ref(a), st::by_ref(b));
    auto got = co_await stest::drain(c);
    CHECK(got == std::vector<int>{1, 2, 3});
    CHECK(a.end_polls == 1);
    CHECK(b.end_polls == 1);
    for (int i = 0; i < 3; ++i) CHECK_FALSE((co_await c.next()).has_value());
    CHECK(a.end_polls == 1);
    CHECK(b.end_polls == 1);
  }());
}
