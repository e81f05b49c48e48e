// tokio::Task and tokio::Result basics.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <string>
#include <system_error>
#include <vector>

#include "test_util.hpp"

using tokio::Task;

namespace {

Task<int> add(int a, int b) { co_return a + b; }

Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

Task<> throws_logic() {
  throw std::logic_error("from the task body");
  co_return;
}

Task<std::string> catches() {
  try {
    co_await throws_logic();
  } catch (const std::logic_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not caught";
}

struct MoveOnly {
  std::unique_ptr<int> p;
};
Task<MoveOnly> make_move_only(int v) { co_return MoveOnly{std::make_unique<int>(v)}; }

}  // namespace

TEST_CASE("Task is lazy: nothing runs until awaited") {
  int ran = 0;
  auto rt = test::current_thread();
  auto t = [](int* r) -> Task<> {
    ++*r;
    co_return;
  }(&ran);
  CHECK(ran == 0);
  rt.block_on(std::move(t));
  CHECK(ran == 1);
}

TEST_CASE("Task values, void and move-only results flow through co_await") {
  auto rt = test::current_thread();
  CHECK(rt.block_on(add(2, 3)) == 5);
  auto mo = rt.block_on(make_move_only(9));
  REQUIRE(mo.p);
  CHECK(*mo.p == 9);
  rt.block_on([]() -> Task<> { co_return; }());
}

TEST_CASE("exceptions propagate to the awaiter and out of block_on") {
  auto rt = test::current_thread();
  CHECK(rt.block_on(catches()) == "caught: from the task body");
  CHECK_THROWS_AS(rt.block_on(throws_logic()), std::logic_error);
}

namespace {

// An exception that counts its live copies of the thrown object (exception_ptr shares one).
struct Counted : std::runtime_error {
  static inline int live = 0;
  explicit Counted(const char* what) : std::runtime_error(what) { ++live; }
  Counted(const Counted& o) : std::runtime_error(o) { ++live; }
  ~Counted() override { --live; }
};

Task<> throws_counted_now(const char* what) {
  throw Counted(what);
  co_return;
}

Task<> throws_counted_later(const char* what) {
  co_await tokio::task::yield_now();
  throw Counted(what);
}

}  // namespace

// A Task<void> frame keeps its exception in the word that holds its co_await location while
// it runs (core/task.hpp, PromiseBase): each exception must come out once, be released
// once, and the frame's location must read right again after an exception was caught in it.
TEST_CASE("a Task<void>'s exception is delivered once and released with its frame") {
  auto rt = test::current_thread();
  Counted::live = 0;
  // Awaited: rethrown into the awaiting frame, which then awaits again (its own location
  // word, set by that co_await, is untouched by the child's exception).
  std::string seen = rt.block_on([]() -> Task<std::string> {
    std::string got;
    for (const char* w : {"first", "second"}) {
      try {
        co_await throws_counted_later(w);
      } catch (const Counted& e) {
        got += e.what();
      }
      co_await tokio::task::yield_now();
    }
    co_return got;
  }());
  CHECK(seen == "firstsecond");
  CHECK(Counted::live == 0);
  // Two branches of a join that both throw in its first poll: one exception comes out, and
  // one is dropped with the join's other operands. Both are released.
  bool threw = false;
  try {
    rt.block_on([]() -> Task<> {
      co_await tokio::join(throws_counted_now("a"), throws_counted_now("b"));
    }());
  } catch (const Counted& e) {
    threw = std::string(e.what()) == "a" || std::string(e.what()) == "b";
  }
  CHECK(threw);
  CHECK(Counted::live == 0);
  // Spawned: the exception moves into the task's output and out through the JoinHandle.
  bool joined = rt.block_on([]() -> Task<bool> {
    auto h = tokio::spawn(throws_counted_later("spawned"));
    auto r = co_await h.result();
    co_return !r.has_value() && r.error().is_panic();
  }());
  CHECK(joined);
  CHECK(Counted::live == 0);
  // A finished frame whose exception nobody took (no public path leaves one; the runtime's
  // own takers are above): destroying it releases the exception.
  {
    auto t = throws_counted_now("untaken");
    t.handle().resume();  // runs to its final suspend: no parent, so back here
    REQUIRE(t.done());
    CHECK(t.handle().promise().has_exception());
    CHECK(Counted::live == 1);
  }
  CHECK(Counted::live == 0);
}

namespace {

// A local the compiler must keep 16-aligned in the frame, with Extra + 1 8-byte locals
// beside it: such a frame's size is a multiple of 16 (Wide's alignment), while
// small_frame's, with nothing 16-aligned, may be an odd multiple of 8 (an 8-aligned block).
struct alignas(16) Wide {
  unsigned char bytes[24];
};
bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <int Extra>
Task<int> keeps_wide_local(std::shared_ptr<tokio::sync::Notify> gate) {
  Wide w{};
  uint64_t pad[Extra + 1] = {};
  bool ok = aligned16(&w);
  co_await gate->notified();  // w and pad live across the suspension: both in the frame
  ok = ok && aligned16(&w) && pad[Extra] == 0;
  co_return ok ? 1 : 0;
}

Task<int> small_frame(std::shared_ptr<tokio::sync::Notify> gate, uint64_t v) {
  co_await gate->notified();
  co_return v == 7 ? 1 : 0;
}

}  // namespace

// g++ frames whose size is an odd multiple of 8 come from 8-aligned blocks (core/task.hpp,
// frame_alignment), on the rule that a frame's size is a multiple of its alignment: a frame
// that needs 16 must still get it, however the blocks of its class and its neighbours'
// classes fall. Many tasks of each shape are alive at once, so consecutive blocks are used.
TEST_CASE("coroutine frames keep the alignment their locals need") {
  auto rt = test::current_thread();
  int ok = rt.block_on([]() -> Task<int> {
    auto gate = std::make_shared<tokio::sync::Notify>();
    std::vector<tokio::JoinHandle<int>> hs;
    for (int i = 0; i < 300; ++i) {
      hs.push_back(tokio::spawn(keeps_wide_local<0>(gate)));
      hs.push_back(tokio::spawn(keeps_wide_local<1>(gate)));
      hs.push_back(tokio::spawn(keeps_wide_local<2>(gate)));
      hs.push_back(tokio::spawn(small_frame(gate, 7)));
    }
    // notify_waiters wakes the tasks already waiting; repeated until every one has run.
    int good = 0;
    for (auto& h : hs) {
      for (int i = 0; i < 10000 && !h.is_finished(); ++i) {
        gate->notify_waiters();
        co_await tokio::task::yield_now();
      }
      good += co_await h;
    }
    // And a nested (awaited, not spawned) frame of each shape.
    auto g2 = std::make_shared<tokio::sync::Notify>();
    g2->notify_one();
    good += co_await keeps_wide_local<1>(g2);
    co_return good;
  }());
  CHECK(ok == 1201);
}

TEST_CASE("deep co_await chains run at any depth and any optimisation level") {
  // Symmetric transfer is a tail call only at GCC -O2 (and never under the sanitizers):
  // transfers bounce through the poll loop every few dozen levels, so the native stack
  // stays bounded whatever the depth. On a 512 KiB stack (test::on_stack) any depth the
  // suite runs (15,000 levels in the TSan build) overflows it otherwise.
  test::on_stack(test::kSmallStack, [] {
    auto rt = test::current_thread();
    const int depth = static_cast<int>(test::scaled(300000));
    CHECK(rt.block_on(nested(depth)) == depth);
  });
}

namespace deep_chain {

// A chain `depth` levels deep whose innermost level waits forever; every level owns a
// DropCounter-like probe recording the order levels are destroyed in.
struct Level {
  std::vector<int>* order;
  int depth;
  ~Level() { order->push_back(depth); }
};

Task<> descend(int depth, std::vector<int>* order, std::atomic<bool>* reached) {
  Level probe{order, depth};
  if (depth == 0) {
    reached->store(true);
    co_await tokio::time::sleep(std::chrono::hours(24));
    co_return;
  }
  co_await descend(depth - 1, order, reached);
}

}  // namespace deep_chain

TEST_CASE(
    "aborting a suspended 1,000,000-deep chain destroys it innermost first, without recursion") {
  // On a small stack (test::on_stack), where a destruction recursing once per level
  // overflows at any depth the suite runs; so do the two cases after this one.
  test::on_stack(test::kSmallStack, [] {
    auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
    const int depth = static_cast<int>(test::scaled(1000000));
    std::vector<int> order;
    order.reserve(static_cast<std::size_t>(depth) + 1);
    std::atomic<bool> reached{false};
    rt.block_on([](int depth, std::vector<int>* order, std::atomic<bool>* reached) -> Task<> {
      auto h = tokio::spawn(deep_chain::descend(depth, order, reached));
      while (!reached->load()) co_await tokio::task::yield_now();
      h.abort();
      auto r = co_await h.result();
      CHECK(!r);
      CHECK(r.error().is_cancelled());
    }(depth, &order, &reached));
    REQUIRE(order.size() == static_cast<std::size_t>(depth) + 1);
    bool innermost_first = true;
    for (int i = 0; i <= depth; ++i) innermost_first &= order[static_cast<std::size_t>(i)] == i;
    CHECK(innermost_first);
  });
}

TEST_CASE("a deep chain losing a select is destroyed without recursion") {
  test::on_stack(test::kSmallStack, [] {
    auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
    const int depth = static_cast<int>(test::scaled(300000));
    std::vector<int> order;
    std::atomic<bool> reached{false};
    int winner = rt.block_on(
        [](int depth, std::vector<int>* order, std::atomic<bool>* reached) -> Task<int> {
          auto deep = deep_chain::descend(depth, order, reached);
          auto quick = []() -> Task<int> {
            co_await tokio::time::sleep(std::chrono::milliseconds(20));
            co_return 7;
          };
          auto q = quick();
          auto r = co_await tokio::select(std::move(deep), std::move(q));
          co_return static_cast<int>(r.index());
        }(depth, &order, &reached));
    CHECK(winner == 1);
    CHECK(reached.load());
    CHECK(order.size() == static_cast<std::size_t>(depth) + 1);
    CHECK(order.front() == 0);
  });
}

// A stream::then operand (ChildOp's TaskChild) dropped while a deep chain under it waits:
// destroyed from its innermost frame (destroy_chain), not by the root's destructor
// recursing once per level, which would overflow the stack at this depth.
TEST_CASE("a deep chain under a stream::then, dropped suspended, is destroyed without recursion") {
  test::on_stack(test::kSmallStack, [] {
    auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
    const int depth = static_cast<int>(test::scaled(300000));
    std::vector<int> order;
    std::atomic<bool> reached{false};
    rt.block_on([](int depth, std::vector<int>* order, std::atomic<bool>* reached) -> Task<> {
      auto s = tokio::stream::then(tokio::stream::iter(std::vector<int>{depth}), [=](int d) {
        return [](int d, std::vector<int>* order, std::atomic<bool>* reached) -> Task<int> {
          co_await deep_chain::descend(d, order, reached);
          co_return d;
        }(d, order, reached);
      });
      auto r = co_await tokio::time::timeout(std::chrono::milliseconds(20), s.next());
      CHECK(!r);
    }(depth, &order, &reached));
    CHECK(reached.load());
    CHECK(order.size() == static_cast<std::size_t>(depth) + 1);
    CHECK(order.front() == 0);
  });
}

TEST_CASE("awaiting a Task twice or an empty Task is a clear error") {
  auto rt = test::current_thread();
  auto r = rt.block_on([]() -> Task<std::string> {
    auto t = add(1, 1);
    int first = co_await t;
    try {
      co_await t;
    } catch (const std::logic_error& e) {
      co_return std::to_string(first) + " " + e.what();
    }
    co_return "no error";
  }());
  CHECK(r.find("2 ") == 0);
  CHECK(r.find("co_awaited twice") != std::string::npos);

  auto r2 = rt.block_on([]() -> Task<bool> {
    Task<int> empty;
    try {
      co_await empty;
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  }());
  CHECK(r2);
}

TEST_CASE("destroying an unstarted or suspended Task runs frame destructors") {
  std::atomic<int> drops{0};
  {
    auto t = [](test::DropCounter d) -> Task<> {
      (void)d;
      co_return;
    }(test::DropCounter(drops));
  }
  CHECK(drops.load() == 1);
}

TEST_CASE("awaiting outside a runtime is a clear error") {
  // A leaf awaited in a coroutine that no runtime drives.
  auto t = []() -> Task<bool> {
    try {
      co_await tokio::task::yield_now();
    } catch (const std::logic_error& e) {
      co_return std::string(e.what()).find("outside a tokio task") != std::string::npos;
    }
    co_return false;
  }();
  auto h = t.handle();
  h.resume();
  REQUIRE(h.done());
  CHECK(h.promise().result_.take());
}

TEST_CASE("Result behaves like std::expected") {
  tokio::io::Result<int> ok(5);
  CHECK(ok.has_value());
  CHECK(*ok == 5);
  CHECK(ok.value_or(1) == 5);
  tokio::io::Result<int> err = tokio::unexpected(std::make_error_code(std::errc::connection_reset));
  CHECK_FALSE(err);
  CHECK(err.error() == std::errc::connection_reset);
  CHECK(err.value_or(7) == 7);
  CHECK_THROWS_AS(err.value(), std::system_error);

  tokio::io::Result<> v;
  CHECK(v.has_value());
  tokio::io::Result<> ve = tokio::unexpected(std::make_error_code(std::errc::timed_out));
  CHECK_FALSE(ve);
  CHECK_THROWS_AS(ve.value(), std::system_error);

  tokio::Result<std::string, int> s = tokio::unexpected(3);
  CHECK(s.error() == 3);
  CHECK_THROWS_AS(s.value(), tokio::bad_result_access<int>);
  tokio::Result<std::string, int> copy = s;
  CHECK(copy.error() == 3);
  tokio::Result<std::string, int> s2("hi");
  copy = s2;
  CHECK(*copy == "hi");
  CHECK(copy->size() == 2);
}

TEST_CASE("poll_fn adapts a foreign event source: polled until ready, woken by its waker") {
  auto rt = test::multi_thread(2);
  int v = rt.block_on([]() -> Task<int> {
    // A foreign source: a flag set by a plain thread that wakes whoever registered.
    std::atomic<bool> ready{false};
    std::mutex mu;
    tokio::task::Waker registered;
    int polls = 0;
    std::thread producer([&] {
      std::this_thread::sleep_for(10ms);
      ready.store(true);
      std::lock_guard<std::mutex> g(mu);
      registered.wake_by_ref();
    });
    int got = co_await tokio::task::poll_fn([&](tokio::task::Context& cx) -> std::optional<int> {
      ++polls;
      std::lock_guard<std::mutex> g(mu);
      if (ready.load()) return 42;
      if (!cx.will_wake(registered)) registered = cx.waker();
      return std::nullopt;
    });
    producer.join();
    CHECK(polls >= 2);
    co_return got;
  }());
  CHECK(v == 42);
  auto rt2 = test::current_thread();
  CHECK_THROWS_AS(
      rt2.block_on(tokio::task::poll_fn([](tokio::task::Context&) -> std::optional<int> {
        throw std::runtime_error("poll failed");
      })),
      std::runtime_error);
}

namespace {
// A leaf that records where it was polled and how often it was copied or moved.
struct Where {
  const void* polled_at[3] = {};
  int polls = 0;
  int moves = 0;
};
class CountedLeaf : public tokio::detail::Leaf<CountedLeaf> {
 public:
  explicit CountedLeaf(Where* w) noexcept : w_(w) {}
  CountedLeaf(CountedLeaf&& o) noexcept : tokio::detail::Leaf<CountedLeaf>(o), w_(o.w_) {
    ++w_->moves;
  }
  CountedLeaf(const CountedLeaf& o) noexcept : tokio::detail::Leaf<CountedLeaf>(o), w_(o.w_) {
    ++w_->moves;
  }
  bool poll(tokio::task::Context& cx) noexcept {
    if (w_->polls < 3) w_->polled_at[w_->polls] = this;
    if (++w_->polls == 1) {  // pending once: the second poll comes after a suspension
      cx.wake_by_ref();
      return false;
    }
    return true;
  }
  const void* await_resume() const noexcept { return this; }

 private:
  Where* w_;
};
CountedLeaf counted_leaf(Where* w) { return CountedLeaf(w); }
}  // namespace

TEST_CASE("a leaf is polled where it is: co_await neither copies nor moves it") {
  // g++ 12 copies an awaitable that await_transform returns by reference into frame storage
  // of its own, even an lvalue (which then polled a copy, not the object named); there
  // Task's await_transform hands such a leaf over through a pointer instead (clang++
  // awaits the object itself).
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    Where lw;
    CountedLeaf lvalue(&lw);
    const void* resumed = co_await lvalue;
    CHECK(lw.polls == 2);
    CHECK(lw.moves == 0);
    CHECK(lw.polled_at[0] == &lvalue);
    CHECK(lw.polled_at[1] == &lvalue);
    CHECK(resumed == &lvalue);

    Where pw;
    resumed = co_await counted_leaf(&pw);  // a prvalue: the temporary itself is polled
    CHECK(pw.polls == 2);
    CHECK(pw.moves == 0);
    CHECK(pw.polled_at[0] == pw.polled_at[1]);
    CHECK(resumed == pw.polled_at[0]);
  }());
}
