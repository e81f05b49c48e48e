// join, try_join, select, task-locals.
#include <stdexcept>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "combinators_test_util.hpp"
#include "sync_test_util.hpp"
#include "test_util.hpp"

using tokio::Task;
namespace oneshot = tokio::sync::oneshot;

namespace {

inline tokio::task::TaskLocal<int> REQUEST;
inline tokio::task::TaskLocal<std::string> NAME;

}  // namespace

TEST_CASE("join runs operands concurrently and returns a tuple") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [a, b, c] = co_await tokio::join(after(1, 5), after(2, 1), tokio::task::yield_now());
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(std::is_same_v<decltype(c), std::monostate>);
    // Concurrency: two operands each waiting for the other's progress complete.
    auto [tx, rx] = oneshot::channel<int>();
    auto r = co_await tokio::join(
        [](oneshot::Receiver<int> rx) -> Task<int> {
          co_return (co_await std::move(rx)).value();
        }(std::move(rx)),
        [](oneshot::Sender<int> tx) -> Task<int> {
          co_await tokio::task::yield_now();
          (void)tx.send(8);
          co_return 1;
        }(std::move(tx)));
    CHECK(std::get<0>(r) == 8);
    // Each poll starts at the next operand in turn (Tokio's join! rotates too): poll 1 at
    // the first, poll 2 at the second, poll 3 at the first again.
    std::string log;
    auto step = [](std::string* out, char ch) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        *out += ch;
        co_await tokio::task::yield_now();
      }
    };
    co_await tokio::join(step(&log, 'a'), step(&log, 'b'));
    CHECK(log == "abbaab");
  }());
}

TEST_CASE("join and select over tasks whose result's move constructor may throw") {
  // Found by review: Branch::step named the released-early result path for every T, so a
  // T without a noexcept move did not compile in join or select.
  struct MayThrowMove {
    int v = 0;
    explicit MayThrowMove(int x) : v(x) {}
    MayThrowMove(MayThrowMove&& o) noexcept(false) : v(o.v) {}
  };
  static_assert(!std::is_nothrow_move_constructible_v<MayThrowMove>);
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto make = [](int x) -> Task<MayThrowMove> {
      co_await tokio::task::yield_now();
      co_return MayThrowMove(x);
    };
    auto [a, b] = co_await tokio::join(make(1), make(2));
    CHECK(a.v == 1);
    CHECK(b.v == 2);
    tokio::sync::Notify never;
    auto s = co_await tokio::select_biased(make(3), never.notified());
    REQUIRE(s.index() == 0);
    CHECK(std::get<0>(s).v == 3);
  }());
}

TEST_CASE("join: an exception cancels the other operands and propagates") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    std::atomic<int> drops{0};
    int polls = 0;
    bool threw = false;
    try {
      co_await tokio::join(counted_forever(test::DropCounter(drops), &polls), []() -> Task<> {
        co_await tokio::task::yield_now();
        throw std::runtime_error("j");
      }());
    } catch (const std::runtime_error&) {
      threw = true;
    }
    CHECK(threw);
    CHECK(drops.load() == 1);
    CHECK(polls >= 1);
  }());
}

TEST_CASE("try_join returns all values or the first error, cancelling the rest") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto ok = co_await tokio::try_join(io_after(1, 2, false), io_after(2, 1, false));
    REQUIRE(ok.has_value());
    CHECK(std::get<0>(*ok) == 1);
    CHECK(std::get<1>(*ok) == 2);

    std::atomic<int> drops{0};
    auto slow = [](test::DropCounter d) -> Task<tokio::io::Result<int>> {
      (void)d;
      for (;;) co_await tokio::task::yield_now();
    };
    // The unfinished operand is gone before the error is handed out.
    int drops_at_hand_out = -1;
    auto bad =
        note_drops(drops, drops_at_hand_out,
                   co_await tokio::try_join(slow(test::DropCounter(drops)), io_after(0, 3, true)));
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == std::errc::connection_reset);
    CHECK(drops_at_hand_out == 1);
    CHECK(drops.load() == 1);
  }());
}

TEST_CASE("select returns the first to finish and destroys the losers") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    auto rt = flavour == 0 ? test::current_thread() : test::multi_thread(2);
    rt.block_on([]() -> Task<> {
      std::atomic<int> drops{0};
      int p1 = 0, p2 = 0;
      // Both losers are destroyed before the winner's value is handed out.
      int drops_at_hand_out = -1;
      auto r = note_drops(
          drops, drops_at_hand_out,
          co_await tokio::select(counted_forever(test::DropCounter(drops), &p1), after(7, 3),
                                 counted_forever(test::DropCounter(drops), &p2)));
      CHECK(r.index() == 1);
      CHECK(std::get<1>(r) == 7);
      CHECK(drops_at_hand_out == 2);
      CHECK(drops.load() == 2);
      CHECK(p1 >= 1);
      CHECK(p2 >= 1);
    }());
  }
}

TEST_CASE("select over channels: losing receive leaves the value in the channel") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    auto r = co_await tokio::select_biased(tokio::task::yield_now(), rx);
    CHECK(r.index() == 0);
    (void)tx.send(4);
    auto v = co_await rx;
    CHECK(v.value() == 4);
  }());
}

TEST_CASE("select_biased polls in order; select picks branches at random") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    for (int i = 0; i < 20; ++i) {
      auto r = co_await tokio::select_biased(after(1, 0), after(2, 0));
      CHECK(r.index() == 0);
    }
    int firsts = 0;
    for (int i = 0; i < 200; ++i) {
      auto r = co_await tokio::select(after(1, 0), after(2, 0));
      firsts += r.index() == 0;
    }
    CHECK(firsts > 20);
    CHECK(firsts < 180);
  }());
}

TEST_CASE("select: the winner's exception propagates") {
  auto rt = test::current_thread();
  bool threw = rt.block_on([]() -> Task<bool> {
    try {
      (void)co_await tokio::select(after(1, 10), []() -> Task<int> {
        throw std::invalid_argument("s");
        co_return 0;
      }());
    } catch (const std::invalid_argument&) {
      co_return true;
    }
    co_return false;
  }());
  CHECK(threw);
}

TEST_CASE("task-local values are scoped, nested, per task and follow migration") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    CHECK(REQUEST.try_get() == nullptr);
    CHECK_THROWS_AS(REQUEST.get(), std::logic_error);
    int seen = co_await REQUEST.scope(1, []() -> Task<int> {
      int outer = REQUEST.get();
      int inner = co_await REQUEST.scope(2, []() -> Task<int> {
        co_await tokio::task::yield_now();
        co_return REQUEST.get();
      }());
      co_await tokio::task::yield_now();
      co_return outer * 10 + inner + (REQUEST.get() == 1 ? 100 : 0);
    }());
    CHECK(seen == 112);
    CHECK(REQUEST.try_get() == nullptr);

    // Not inherited by spawned tasks; each task sees its own value.
    auto h = tokio::spawn(REQUEST.scope(5, []() -> Task<int> {
      auto child = tokio::spawn([]() -> Task<bool> { co_return REQUEST.try_get() == nullptr; });
      bool child_clean = co_await child;
      for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
      co_return REQUEST.get() + (child_clean ? 1000 : 0);
    }()));
    CHECK(co_await h == 1005);

    // Two concurrent branches of one task with different values.
    auto [a, b] = co_await tokio::join(NAME.scope("a",
                                                  []() -> Task<std::string> {
                                                    co_await tokio::task::yield_now();
                                                    co_return NAME.get();
                                                  }()),
                                       NAME.scope("b", []() -> Task<std::string> {
                                         co_await tokio::task::yield_now();
                                         co_return NAME.get();
                                       }()));
    CHECK(a == "a");
    CHECK(b == "b");
    CHECK(NAME.sync_scope("sync", [] { return NAME.get(); }) == "sync");
    CHECK(NAME.try_get() == nullptr);
  }());
}

namespace {

namespace mpsc = tokio::sync::mpsc;

// Produces three values and ends: its Sender parameter must be gone when it returns.
Task<> produce(mpsc::Sender<int> tx) {
  for (int i = 1; i <= 3; ++i) (void)co_await tx.send(i);
}

// Sums until the channel closes (every Sender dropped).
Task<int> consume(mpsc::Receiver<int> rx) {
  int sum = 0;
  while (auto v = co_await rx.recv()) sum += *v;
  co_return sum;
}

Task<tokio::io::Result<int>> produce_ok(mpsc::Sender<int> tx) {
  for (int i = 1; i <= 3; ++i) (void)co_await tx.send(i);
  co_return 0;
}

Task<tokio::io::Result<int>> consume_ok(mpsc::Receiver<int> rx) {
  co_return co_await consume(std::move(rx));
}

Task<int> holds(test::DropCounter d, int v) {
  (void)d;
  co_await tokio::task::yield_now();
  co_return v;
}

}  // namespace

TEST_CASE(
    "join, try_join, pin, timeout: a finished operand's frame goes at once (its by-value "
    "parameters are dropped, as Tokio drops a completed future)") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    // The consumer ends only when the producer's Sender is dropped: before the fix the
    // producer's finished frame kept it until the join ended, and the join never did.
    auto joined = rt.block_on(tokio::time::timeout(5s, []() -> Task<int> {
      auto [tx, rx] = mpsc::channel<int>(1);
      auto [a, sum] = co_await tokio::join(produce(std::move(tx)), consume(std::move(rx)));
      (void)a;
      co_return sum;
    }()));
    REQUIRE(joined.has_value());
    CHECK(*joined == 6);

    auto tried = rt.block_on(tokio::time::timeout(5s, []() -> Task<int> {
      auto [tx, rx] = mpsc::channel<int>(1);
      auto r = co_await tokio::try_join(produce_ok(std::move(tx)), consume_ok(std::move(rx)));
      REQUIRE(r.has_value());
      co_return std::get<1>(*r);
    }()));
    REQUIRE(tried.has_value());
    CHECK(*tried == 6);

    // A pinned producer raced in a select loop: once it has finished, its Sender is gone
    // and the receive reports the close.
    auto pinned = rt.block_on(tokio::time::timeout(5s, []() -> Task<int> {
      auto [tx, rx] = mpsc::channel<int>(1);
      auto p = tokio::pin(produce(std::move(tx)));
      int sum = 0;
      for (;;) {
        auto r = co_await tokio::select(tokio::when(!p.is_terminated(), p), rx.recv());
        if (r.index() == 1) {
          auto v = std::get<1>(std::move(r));
          if (!v) break;
          sum += *v;
        }
      }
      co_return sum;
    }()));
    REQUIRE(pinned.has_value());
    CHECK(*pinned == 6);

    // The drop is observed the moment the operand finishes, before the join returns, and
    // the values and an exception still come through.
    std::atomic<int> drops{0};
    auto seen = rt.block_on([&]() -> Task<int> {
      auto [v, drops_when_second_ended] =
          co_await tokio::join(holds(test::DropCounter(drops), 7), [&]() -> Task<int> {
            for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
            co_return drops.load();
          }());
      CHECK(v == 7);
      co_return drops_when_second_ended;
    }());
    CHECK(seen == 1);
    CHECK(drops.load() == 1);
    std::atomic<int> drops2{0};
    CHECK_THROWS_WITH(rt.block_on([&]() -> Task<> {
      co_await tokio::join(holds(test::DropCounter(drops2), 1), []() -> Task<int> {
        co_await tokio::task::yield_now();
        throw std::runtime_error("second failed");
      }());
    }()),
                      "second failed");
    CHECK(drops2.load() == 1);
  }
}

namespace {

// Logs "drop <name>" when destroyed (a moved-from one logs nothing).
struct DropLog {
  std::vector<std::string>* log;
  std::string name;
  DropLog(std::vector<std::string>* l, std::string n) : log(l), name(std::move(n)) {}
  DropLog(DropLog&& o) noexcept : log(o.log), name(std::move(o.name)) { o.name.clear(); }
  ~DropLog() {
    if (!name.empty()) log->push_back("drop " + name);
  }
};
using DropLogResult = tokio::Result<DropLog, int>;

Task<DropLogResult> ok_log_now(std::vector<std::string>* log, std::string n) {
  co_return DropLogResult(DropLog(log, std::move(n)));
}
Task<DropLogResult> pending_with_log(std::vector<std::string>* log, std::string n) {
  DropLog g(log, std::move(n));
  for (;;) co_await tokio::task::yield_now();
}
Task<DropLogResult> fail_with_log(std::vector<std::string>* log, std::string n) {
  DropLog g(log, std::move(n));
  co_await tokio::task::yield_now();
  co_return tokio::unexpected(7);
}
Task<DropLog> value_log_now(std::vector<std::string>* log, std::string n) {
  co_return DropLog(log, std::move(n));
}
Task<> pending_guarded(std::vector<std::string>* log, std::string n) {
  DropLog g(log, std::move(n));
  for (;;) co_await tokio::task::yield_now();
}
Task<> throw_guarded(std::vector<std::string>* log, std::string n) {
  DropLog g(log, std::move(n));
  co_await tokio::task::yield_now();
  throw std::runtime_error("join failed");
}

}  // namespace

TEST_CASE("join, try_join: on failure the other operands go in argument order, finished ones too") {
  // Found by a differential run against Tokio 1.24.2: join!/try_join! drop their tuple of
  // futures in order, a finished operand's output in its place ("drop gc, va, gb" below);
  // the finished values here outlived the cancelled frames ("gc, gb, va").
  auto rt = test::current_thread();
  std::vector<std::string> log;
  rt.block_on([](std::vector<std::string>* log) -> Task<> {
    {
      auto r = co_await tokio::try_join(ok_log_now(log, "va"), pending_with_log(log, "gb"),
                                        fail_with_log(log, "gc"), pending_with_log(log, "gd"));
      CHECK(log->size() == 4);  // all gone before the error is handed out
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error() == 7);
    }
    log->push_back("--");
    bool threw = false;
    try {
      (void)co_await tokio::join(value_log_now(log, "ja"), pending_guarded(log, "jb"),
                                 throw_guarded(log, "jc"), pending_guarded(log, "jd"));
    } catch (const std::runtime_error&) {
      threw = true;
    }
    CHECK(threw);
  }(&log));
  const std::vector<std::string> want{"drop gc", "drop va", "drop gb", "drop gd", "--",
                                      "drop jc", "drop ja", "drop jb", "drop jd"};
  CHECK(log == want);
}
