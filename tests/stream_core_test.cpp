// The Stream concept, the value sources (iter, once, empty, pending, by_ref) and
// Generator: yields, awaits inside the body, exceptions, destruction while suspended,
// next() destroyed mid-way (nothing lost), moving a generator while it waits, and the
// consumer's task and budget driving the body.
#include <algorithm>
#include <cstdint>
#include <list>
#include <memory>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include "stream_test_util.hpp"

using stest::Task;
namespace st = tokio::stream;
namespace tsync = tokio::sync;

static_assert(st::Stream<st::Iter<std::vector<int>>>);
static_assert(std::is_same_v<st::item_t<st::Iter<std::vector<std::string>>>, std::string>);
static_assert(st::Stream<st::Generator<std::unique_ptr<int>>>);
static_assert(!st::Stream<int>);
static_assert(!st::Stream<std::vector<int>>);
static_assert(tokio::detail::PollNextStream<st::Generator<int>>);
// StreamOf<S, T>: Rust's `impl Stream<Item = T>`.
static_assert(st::StreamOf<st::Iter<std::vector<int>>, int>);
static_assert(!st::StreamOf<st::Iter<std::vector<int>>, long>);
static_assert(!st::StreamOf<std::vector<int>, int>);
static_assert(st::StreamOf<st::Generator<std::string>, std::string>);

namespace {

st::Generator<int> count_to(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
}

st::Generator<int> from_channel(tsync::mpsc::Receiver<int> rx, std::atomic<int>* drops) {
  test::DropCounter guard(*drops);
  for (;;) {
    auto v = co_await rx.recv();
    if (!v) co_return;
    co_yield *v * 10;
  }
}

Task<int> add_one_later(int v) {
  co_await tokio::task::yield_now();
  co_return v + 1;
}

st::Generator<std::string> mixed() {
  co_yield std::string("a");
  int b = co_await add_one_later(1);  // a nested Task inside the body
  co_yield std::to_string(b);
  co_await tokio::time::sleep(5ms);
  std::string c = "c";
  co_yield c;  // an lvalue: copied
  co_yield std::move(c);
}

st::Generator<int> throws_after(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
  throw std::runtime_error("generator failed");
}

}  // namespace

TEST_CASE("stream: iter, once, empty, pending and by_ref") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto s = st::iter(std::vector<std::string>{"x", "y", "z"});
    auto x = co_await s.next();
    CHECK(x == std::optional<std::string>("x"));
    auto rest = co_await stest::drain(s);
    std::vector<std::string> yz{"y", "z"};
    CHECK(rest == yz);
    CHECK(!(co_await s.next()).has_value());  // stays ended

    auto o = st::once(42);
    CHECK(*co_await o.next() == 42);
    CHECK(!(co_await o.next()).has_value());

    auto e = st::empty<int>();
    CHECK(!(co_await e.next()).has_value());

    auto p = st::pending<int>();
    auto t = co_await tokio::time::timeout(10ms, p.next());
    CHECK(!t.has_value());  // never yields

    // by_ref: take two through a combinator, the rest stays in the source.
    auto src = st::iter(std::vector<int>{1, 2, 3, 4, 5});
    {
      auto first = st::take(st::by_ref(src), 2);
      {
        auto got = co_await stest::drain(first);
        CHECK(got == std::vector<int>{1, 2});
      }
    }
    {
      auto got = co_await stest::drain(src);
      CHECK(got == std::vector<int>{3, 4, 5});
    }

    // A braced list, as Rust's iter(vec![..]): the stream owns a copy of the items.
    auto listed = st::iter({std::string("p"), std::string("q")});
    {
      auto got = co_await stest::drain(listed);
      CHECK(got == std::vector<std::string>{"p", "q"});
    }
    auto counted = st::iter({10, 20}) | st::map([](int v) { return v + 1; });
    {
      auto got = co_await stest::drain(counted);
      CHECK(got == std::vector<int>{11, 21});
    }

    // A range whose iterator hands out proxies (std::vector<bool>): items are values,
    // valid after the stream is gone.
    static_assert(std::is_same_v<st::item_t<st::Iter<std::vector<bool>>>, bool>);
    std::optional<bool> kept;
    {
      auto bits = st::iter(std::vector<bool>{true, false, true});
      kept = co_await bits.next();
    }
    CHECK(kept == std::optional<bool>(true));

    // A moved iter keeps its position.
    auto it = st::iter(std::vector<int>{7, 8, 9});
    CHECK(*co_await it.next() == 7);
    auto moved = std::move(it);
    {
      auto got = co_await stest::drain(moved);
      CHECK(got == std::vector<int>{8, 9});
    }
  }());
}

namespace {
// A function over any stream of ints, as Rust's `async fn total(s: impl Stream<Item = i32>)`.
Task<int> total(st::StreamOf<int> auto s) {
  int sum = 0;
  while (auto v = co_await s.next()) sum += *v;
  co_return sum;
}
}  // namespace

TEST_CASE("stream: StreamOf<T> takes any stream of T (Rust's impl Stream<Item = T>)") {
  tokio::runtime::Runtime rt = tokio::runtime::Builder::new_current_thread().build();
  std::vector<int> v{1, 2, 3, 4};
  CHECK(rt.block_on(total(st::iter(v))) == 10);
  CHECK(rt.block_on(total(st::iter(v) | st::map([](int x) { return x * 10; }))) == 100);
}

// (clang 14 cannot instantiate libstdc++ 12's iota_view at all, so not there.)
#if !defined(__clang__) || __clang_major__ >= 15
TEST_CASE("stream: iter over a C++20 view (Rust's iter(0..n) with u64), moved mid-way") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    // iota_view<uint64_t>'s difference type is wider than ptrdiff_t: the move, which finds
    // its place again in the moved range, did not compile with std::next.
    auto s = st::iter(std::views::iota(uint64_t{0}, uint64_t{1000}));
    CHECK((co_await s.next()) == std::optional<uint64_t>(0));
    auto moved = std::move(s);
    uint64_t sum = 0, count = 0;
    while (auto v = co_await moved.next()) {
      sum += *v;
      ++count;
    }
    CHECK(count == 999);
    CHECK(sum == 499500);
  }());
}
#endif

TEST_CASE("stream: iter spends coop budget, so a long iteration lets other tasks run") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    std::atomic<bool> ran{false};
    auto h = tokio::spawn(
        [](std::atomic<bool>* r) -> Task<> {
          r->store(true);
          co_return;
        },
        &ran);
    std::vector<int> big(10000, 1);
    auto s = st::iter(std::move(big));
    bool seen_before_end = false;
    for (;;) {
      auto v = co_await s.next();
      if (!v) break;
      if (ran.load()) seen_before_end = true;
    }
    CHECK(seen_before_end);  // the spawned task ran while the iteration was going on
    co_await h;
  }());
}

// One unit of the task's 128 per 32 items (the 1st, 33rd, 65th...), through a pipeline
// of adapters as directly, for a random-access range (the position the next unit is due
// at) and a list (a count), and after a move mid-way (the next item takes one at once).
TEST_CASE("stream: iter takes one budget unit per 32 items, through adapters and moves") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    // The units left of a fresh budget after taking `items` items: counted by spending
    // them (at most the budget's 128).
    auto units_left_after = [](auto& s, int items) -> Task<int> {
      co_await tokio::task::yield_now();  // a fresh budget
      for (int i = 0; i < items; ++i) {
        auto v = co_await s.next();
        REQUIRE(v.has_value());
      }
      int left = 0;
      while (tokio::task::has_budget_remaining() && left < 200) {
        co_await tokio::task::consume_budget();
        ++left;
      }
      co_return left;
    };
    {
      auto s = st::iter(std::vector<int>(10000, 1));
      CHECK(co_await units_left_after(s, 1) == 127);
      CHECK(co_await units_left_after(s, 32) == 127);  // items 2..33: the 33rd takes one
      CHECK(co_await units_left_after(s, 4064) == 1);  // the 34th..4,097th: 127 units
      auto t = st::iter(std::vector<int>(10000, 1));
      CHECK(co_await units_left_after(t, 4065) == 0);  // 128
    }
    {
      auto s = st::iter(std::list<int>(10000, 1)) | st::map([](int v) { return v * 2; }) |
               st::filter([](const int& v) { return v > 0; });
      CHECK(co_await units_left_after(s, 100) == 124);
      CHECK(co_await units_left_after(s, 28) == 128);  // items 101..128: none due
      auto t = st::iter(std::list<int>(10000, 1)) | st::take(9000);
      CHECK(co_await units_left_after(t, 4065) == 0);
    }
    {
      // Moved after 40 items: the next item takes a unit at once, then one per 32.
      auto s = st::iter(std::vector<int>(10000, 1));
      for (int i = 0; i < 40; ++i) REQUIRE((co_await s.next()).has_value());
      auto moved = std::move(s);
      CHECK(co_await units_left_after(moved, 33) == 126);
      int rest = 0;
      while (auto v = co_await moved.next()) rest += *v;
      CHECK(rest == 10000 - 40 - 33);
    }
    {
      // Spent, the iter yields without losing its place: every item comes out once.
      std::vector<int> numbers(20000);
      for (int i = 0; i < 20000; ++i) numbers[i] = i;
      auto s = st::iter(std::move(numbers));
      co_await tokio::task::yield_now();
      int64_t sum = 0, count = 0;
      while (auto v = co_await s.next()) {
        sum += *v;
        ++count;
      }
      CHECK(count == 20000);
      CHECK(sum == int64_t{20000} * 19999 / 2);
    }
  }());
}

TEST_CASE("generator: yields, awaits tokio awaitables and nested tasks, ends for good") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto g = count_to(3);
    {
      auto got = co_await stest::drain(g);
      CHECK(got == std::vector<int>{1, 2, 3});
    }
    CHECK(g.is_done());
    CHECK(!(co_await g.next()).has_value());

    auto m = mixed();
    auto ms = co_await stest::drain(m);
    std::vector<std::string> want{"a", "2", "c", "c"};
    CHECK(ms == want);

    st::Generator<int> empty;  // default-constructed: an ended stream
    CHECK(!(co_await empty.next()).has_value());

    // Move-only items.
    auto owned = []() -> st::Generator<std::unique_ptr<int>> {
      co_yield std::make_unique<int>(5);
      co_yield std::make_unique<int>(6);
    }();
    auto a = co_await owned.next();
    REQUIRE(a.has_value());
    CHECK(**a == 5);
  }());
}

TEST_CASE("generator: an exception in the body comes out of next(), then the stream has ended") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto g = throws_after(2);
    CHECK(*co_await g.next() == 0);
    CHECK(*co_await g.next() == 1);
    bool threw = false;
    try {
      (void)co_await g.next();
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == std::string("generator failed");
    }
    CHECK(threw);
    CHECK(g.is_done());
    CHECK(!(co_await g.next()).has_value());
  }());
}

TEST_CASE(
    "generator: next() destroyed while the body waits loses nothing; the body resumes where it "
    "waited") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    auto [tx, rx] = tsync::mpsc::channel<int>(8);
    auto g = from_channel(std::move(rx), &drops);
    // Cancelled three times while the body is suspended in recv().
    for (int i = 0; i < 3; ++i) {
      auto r = co_await tokio::time::timeout(5ms, g.next());
      CHECK(!r.has_value());
    }
    CHECK(drops.load() == 0);  // the body is still alive
    (void)co_await tx.send(1);
    CHECK(*co_await g.next() == 10);
    // Lose a select against a ready branch, then the value sent meanwhile still arrives.
    auto sel = co_await tokio::select_biased(tokio::task::yield_now(), g.next());
    CHECK(sel.index() == 0);
    (void)co_await tx.send(2);
    // Moved while suspended: the body lives in its own frame.
    auto g2 = std::move(g);
    CHECK(*co_await g2.next() == 20);
    // Destroying the generator destroys its suspended body (its destructors run).
    { auto dead = std::move(g2); }
    CHECK(drops.load() == 1);
    CHECK(tx.is_closed());  // the receiver inside the body is gone
  }());
}

TEST_CASE("generator: driven by the consumer's task, also on a multi-thread runtime") {
  auto rt = stest::mt_rt(2);
  int total = rt.block_on([]() -> Task<int> {
    auto [tx, rx] = tsync::mpsc::channel<int>(4);
    std::atomic<int> drops{0};
    auto producer = tokio::spawn(
        [](tsync::mpsc::Sender<int> tx) -> Task<> {
          for (int i = 1; i <= 200; ++i) (void)co_await tx.send(i);
        },
        std::move(tx));
    auto g = from_channel(std::move(rx), &drops);
    int sum = co_await st::fold(g, 0, [](int a, int b) { return a + b; });
    co_await producer;
    co_return sum;
  }());
  CHECK(total == 10 * 200 * 201 / 2);
}

TEST_CASE("generator: a body that awaits a pending leaf wakes the consumer when it is ready") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tsync::oneshot::channel<int>();
    auto g = [](tsync::oneshot::Receiver<int> rx) -> st::Generator<int> {
      auto v = co_await std::move(rx);
      if (v) co_yield *v;
    }(std::move(rx));
    auto waiter = tokio::spawn(
        [](st::Generator<int> g) -> Task<std::optional<int>> { co_return co_await g.next(); },
        std::move(g));
    co_await tokio::time::sleep(10ms);
    CHECK(!waiter.is_finished());
    (void)tx.send(9);
    auto got = co_await waiter;
    CHECK(got == std::optional<int>(9));
  }());
}

// fold, collect, any and all hand their stream a sink, and an iter over a random-access
// range (through map and filter) loops over its ready items itself (EachResult,
// stream.hpp). What a consumer sees must be what a next() loop sees: the same items, the
// same budget units (one per 32 items) and forced yields, the same rest left in a borrowed
// stream after any/all decide or after the fold's function throws.
TEST_CASE(
    "stream: consumers over iter | map | filter loop inside the iter, with next()'s results") {
  auto rt = test::either_flavour_all(false);
  auto metrics = rt.metrics();
  rt.block_on([](tokio::runtime::RuntimeMetrics metrics) -> Task<> {
    test::Rng rng(29);
    auto triple = [](int x) { return 3 * x; };
    auto even = [](const int& x) { return x % 2 == 0; };
    for (std::size_t n : {0, 1, 31, 32, 33, 100, 4096, 4097, 20000}) {
      CAPTURE(n);
      std::vector<int> items = rng.ints(n, 1000);
      std::vector<int> want;
      for (int x : items) {
        if (even(triple(x))) want.push_back(triple(x));
      }
      const int64_t want_sum = std::accumulate(want.begin(), want.end(), int64_t{0});

      // fold and collect, and the forced yields of each against a next() loop's.
      co_await tokio::task::yield_now();  // a fresh budget
      uint64_t before = metrics.budget_forced_yield_count();
      int64_t by_next = 0;
      auto s = st::iter(items) | st::map(triple) | st::filter(even);
      while (auto v = co_await s.next()) by_next += *v;
      const uint64_t next_yields = metrics.budget_forced_yield_count() - before;
      CHECK(by_next == want_sum);
      CHECK(next_yields == (n > 4096 ? (n - 1) / 4096 : 0));

      co_await tokio::task::yield_now();
      before = metrics.budget_forced_yield_count();
      int64_t folded = co_await (st::iter(items) | st::map(triple) | st::filter(even) |
                                 st::fold(int64_t{0}, [](int64_t a, int x) { return a + x; }));
      CHECK(folded == want_sum);
      CHECK(metrics.budget_forced_yield_count() - before == next_yields);
      auto collected = co_await (st::iter(items) | st::map(triple) | st::filter(even) |
                                 st::collect<std::vector<int>>());
      CHECK(collected == want);

      // any / all over a borrowed pipeline: the deciding item is taken, the rest stays.
      const int limit = static_cast<int>(rng.below(3000));
      auto above = [limit](const int& x) { return x > limit; };
      auto b = st::iter(items) | st::map(triple) | st::filter(even);
      bool any = co_await st::any(b, above);
      auto first = std::find_if(want.begin(), want.end(), above);
      CHECK(any == (first != want.end()));
      std::vector<int> rest = co_await stest::drain(b);
      CHECK(rest == std::vector<int>(first == want.end() ? want.end() : first + 1, want.end()));
      auto c = st::iter(items) | st::map(triple);
      bool all = co_await st::all(c, [limit](const int& x) { return x <= limit; });
      auto first_fail =
          std::find_if(items.begin(), items.end(), [&](int x) { return triple(x) > limit; });
      CHECK(all == (first_fail == items.end()));
      CHECK((co_await stest::drain(c)).size() ==
            static_cast<std::size_t>(items.end() -
                                     (first_fail == items.end() ? items.end() : first_fail + 1)));

      // A throwing fold function: the exception comes out of the await, the item it threw
      // on is taken, the rest stays in the borrowed stream.
      if (n == 0) continue;
      const std::size_t bad = rng.below(n);
      std::vector<std::size_t> positions(n);
      std::iota(positions.begin(), positions.end(), std::size_t{0});
      auto t = st::iter(std::move(positions));
      bool threw = false;
      try {
        (void)co_await st::fold(t, std::size_t{0}, [bad](std::size_t a, std::size_t i) {
          if (i == bad) throw std::runtime_error("bad item");
          return a + i;
        });
      } catch (const std::runtime_error&) {
        threw = true;
      }
      CHECK(threw);
      auto left = co_await stest::drain(t);
      CHECK(left.size() == n - bad - 1);
      if (!left.empty()) CHECK(left.front() == bad + 1);
    }
  }(metrics));
}

TEST_CASE("stream: consumers over iter | filter_map | take loop inside the iter, as a model says") {
  auto rt = test::either_flavour_all(false);
  rt.block_on([]() -> Task<> {
    test::Rng rng(31);
    // Keeps the multiples of 3, halved (a different type: filter_map's item is its own).
    auto thirds = [](int x) -> std::optional<int64_t> {
      if (x % 3 != 0) return std::nullopt;
      return int64_t{x} / 2;
    };
    auto pipeline = [&](const std::vector<int>& items, std::size_t k) {
      return st::iter(items) | st::filter_map(thirds) | st::take(k);
    };
    for (std::size_t n : {0, 1, 32, 33, 100, 4097, 20000}) {
      for (std::size_t k : {std::size_t{0}, std::size_t{1}, n / 7, n / 3 + 1, n + 5}) {
        CAPTURE(n);
        CAPTURE(k);
        std::vector<int> items = rng.ints(n, 1000);
        std::vector<int64_t> want;
        for (int x : items) {
          if (want.size() == k) break;
          if (auto r = thirds(x)) want.push_back(*r);
        }
        const int64_t want_sum = std::accumulate(want.begin(), want.end(), int64_t{0});

        int64_t by_next = 0;
        auto s = pipeline(items, k);
        while (auto v = co_await s.next()) by_next += *v;
        CHECK(by_next == want_sum);
        CHECK_FALSE((co_await s.next()).has_value());  // ended for good

        CHECK(co_await (pipeline(items, k) | st::fold(int64_t{0}, [](int64_t a, int64_t x) {
                          return a + x;
                        })) == want_sum);
        CHECK(co_await (pipeline(items, k) | st::collect<std::vector<int64_t>>()) == want);

        // any over a borrowed pipeline: the deciding item is taken and counts against k; the
        // rest is what take still gives.
        const int64_t limit = static_cast<int64_t>(rng.below(600));
        auto above = [limit](const int64_t& x) { return x > limit; };
        auto b = pipeline(items, k);
        const bool any = co_await st::any(b, above);
        auto first = std::find_if(want.begin(), want.end(), above);
        CHECK(any == (first != want.end()));
        CHECK(co_await stest::drain(b) ==
              std::vector<int64_t>(first == want.end() ? want.end() : first + 1, want.end()));
        auto c = pipeline(items, k);
        CHECK(co_await st::all(c, [](const int64_t& x) { return x >= 0; }));
        CHECK((co_await stest::drain(c)).empty());

        // A fold that throws on the j-th item: that item is taken; take still gives the rest
        // up to k, no more.
        if (want.empty()) continue;
        const std::size_t j = rng.below(want.size());
        auto t = pipeline(items, k);
        std::size_t seen = 0;
        bool threw = false;
        try {
          (void)co_await st::fold(t, int64_t{0}, [&](int64_t a, int64_t x) {
            if (seen++ == j) throw std::runtime_error("bad item");
            return a + x;
          });
        } catch (const std::runtime_error&) {
          threw = true;
        }
        CHECK(threw);
        CHECK(co_await stest::drain(t) == std::vector<int64_t>(want.begin() + j + 1, want.end()));
      }
    }
  }());
}
