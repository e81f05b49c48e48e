// Issue 16 API edges: Result's monadic operations and std::expected conversions; select
// with a pinned Task borrowed across iterations, branch preconditions and an else branch.
#include "test_util.hpp"

#include <stdexcept>
#include <string>

using tokio::Task;
using R = tokio::Result<int, std::string>;
using RV = tokio::Result<void, std::string>;

TEST_CASE("Result: and_then, transform, or_else, transform_error on both sides") {
  R ok = 20;
  R bad = tokio::unexpected(std::string("boom"));
  int calls = 0;

  auto doubled = ok.and_then([&](int v) -> R {
    ++calls;
    return v * 2;
  });
  CHECK(doubled.value() == 40);
  auto still_bad = bad.and_then([&](int v) -> R {
    ++calls;
    return v;
  });
  CHECK(!still_bad);
  CHECK(still_bad.error() == "boom");
  CHECK(calls == 1);  // not called on the error side

  auto text = ok.transform([](int v) { return std::to_string(v); });
  static_assert(std::is_same_v<decltype(text), tokio::Result<std::string, std::string>>);
  CHECK(text.value() == "20");
  auto as_void = ok.transform([&](int) { ++calls; });
  static_assert(std::is_same_v<decltype(as_void), RV>);
  CHECK(as_void.has_value());
  CHECK(calls == 2);
  CHECK(bad.transform([](int v) { return v + 1; }).error() == "boom");

  auto recovered =
      bad.or_else([](const std::string& e) -> R { return static_cast<int>(e.size()); });
  CHECK(recovered.value() == 4);
  CHECK(ok.or_else([](const std::string&) -> R { return -1; }).value() == 20);

  auto coded = bad.transform_error([](const std::string& e) { return static_cast<int>(e.size()); });
  static_assert(std::is_same_v<decltype(coded), tokio::Result<int, int>>);
  CHECK(coded.error() == 4);
  CHECK(ok.transform_error([](const std::string&) { return 0; }).value() == 20);

  // rvalue: the value is moved into the callable.
  tokio::Result<std::string, int> s = std::string(100, 'x');
  auto moved = std::move(s).transform([](std::string&& v) { return std::move(v).size(); });
  CHECK(moved.value() == 100u);

  // void Results: the value side takes no argument.
  RV vok;
  RV vbad = tokio::unexpected(std::string("no"));
  CHECK(vok.and_then([]() -> R { return 7; }).value() == 7);
  CHECK(vbad.and_then([]() -> R { return 7; }).error() == "no");
  CHECK(vok.transform([] { return 3; }).value() == 3);
  CHECK(vbad.or_else([](const std::string&) -> RV { return {}; }).has_value());
  CHECK(vbad.transform_error([](const std::string& e) { return e + "!"; }).error() == "no!");

  // io::Result chains as users write them.
  tokio::io::Result<int> io_ok = 5;
  auto chained = io_ok
                     .and_then([](int v) -> tokio::io::Result<int> {
                       if (v > 3) return tokio::io::os_error(EINVAL);
                       return v;
                     })
                     .transform_error([](std::error_code ec) { return ec.value(); });
  CHECK(chained.error() == EINVAL);
}

namespace {
Task<int> after_yields(int n, int v) {
  for (int i = 0; i < n; ++i) co_await tokio::task::yield_now();
  co_return v;
}
Task<int> count_until_dropped(int* polls, int* drops) {
  struct Guard {
    int* d;
    ~Guard() { ++*d; }
  } g{drops};
  for (;;) {
    ++*polls;
    co_await tokio::task::yield_now();
  }
}
}  // namespace

TEST_CASE("select: a pinned Task survives losing and continues in the next iteration") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    // The long task needs 30 yields; each select round lets it advance by at most one
    // poll before the short branch (1 yield) wins. It must finish after ~30 rounds, not
    // restart: a restart (or a cancel) would never reach 30.
    auto long_op = tokio::pin(after_yields(30, 99));
    int rounds = 0, wins = 0;
    for (; rounds < 200; ++rounds) {
      auto r = co_await tokio::select_biased(after_yields(1, 0), long_op);
      if (r.index() == 1) {
        CHECK(std::get<1>(r) == 99);
        ++wins;
        break;
      }
    }
    CHECK(wins == 1);
    CHECK(rounds >= 15);
    CHECK(rounds <= 40);
    CHECK(long_op.is_terminated());
    // Awaiting a finished Pinned is a misuse.
    bool threw = false;
    try {
      (void)co_await long_op;
    } catch (const std::logic_error&) {
      threw = true;
    }
    CHECK(threw);
  }());
}

TEST_CASE("select: a pinned Task is destroyed once, when the Pinned goes out of scope") {
  auto rt = test::current_thread();
  int polls = 0, drops = 0;
  rt.block_on([](int* p, int* d) -> Task<> {
    {
      auto fut = tokio::pin(count_until_dropped(p, d));
      for (int i = 0; i < 5; ++i) {
        auto r = co_await tokio::select_biased(fut, after_yields(2, 1));
        CHECK(r.index() == 1);
        CHECK(*d == 0);  // losing does not cancel the borrowed branch
      }
      CHECK(*p >= 5);
      CHECK(!fut.is_terminated());
    }
    CHECK(*d == 1);
  }(&polls, &drops));
}

// The tutorial's resumable operation: `operation.set(action(Some(v)))` inside a select loop.
TEST_CASE("select: Pinned::set drops the task held and runs the new one from its start") {
  auto rt = test::current_thread();
  int polls = 0, drops = 0;
  rt.block_on([](int* p, int* d) -> Task<> {
    auto op = tokio::pin(count_until_dropped(p, d));
    for (int i = 0; i < 3; ++i) (void)co_await tokio::select_biased(op, after_yields(1, 1));
    CHECK(*d == 0);
    op.set(after_yields(3, 42));  // the counting task is cancelled here, its guard runs
    CHECK(*d == 1);
    const int polls_then = *p;
    int rounds = 0;
    for (; rounds < 50; ++rounds) {
      auto r =
          co_await tokio::select_biased(tokio::when(!op.is_terminated(), op), after_yields(1, 0));
      if (r.index() == 0) {
        CHECK(std::get<0>(r) == 42);
        break;
      }
    }
    CHECK(rounds < 50);
    CHECK(op.is_terminated());
    CHECK(*p == polls_then);  // the dropped task never ran again
    // A finished Pinned takes a new task too, and is awaitable again.
    op.set(after_yields(0, 7));
    CHECK(!op.is_terminated());
    CHECK(co_await op == 7);
  }(&polls, &drops));
  CHECK(drops == 1);
}

TEST_CASE("select: preconditions disable branches; select_else runs when all are disabled") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    // A disabled branch never runs even when it would be ready first.
    int polls = 0, drops = 0;
    auto r = co_await tokio::select_biased(tokio::when(false, count_until_dropped(&polls, &drops)),
                                           after_yields(3, 5));
    CHECK(r.index() == 1);
    CHECK(std::get<1>(r) == 5);
    CHECK(polls == 0);
    CHECK(drops == 0);  // never started: its frame is freed without running the body

    auto e = co_await tokio::select(tokio::when(false, after_yields(0, 1)),
                                    tokio::when(1 > 2, after_yields(0, 2)), tokio::select_else);
    CHECK(e.index() == 2);
    CHECK(std::holds_alternative<tokio::SelectElse>(e));

    // The else branch is not taken while an enabled branch is pending.
    auto w = co_await tokio::select(tokio::select_else, tokio::when(true, after_yields(4, 8)));
    CHECK(w.index() == 1);

    // All disabled, no else: a logic_error, as select! panics.
    bool threw = false;
    try {
      (void)co_await tokio::select(tokio::when(false, after_yields(0, 1)));
    } catch (const std::logic_error&) {
      threw = true;
    }
    CHECK(threw);
  }());
}

TEST_CASE("select loop: a pinned timer with a precondition beside a channel (the pin! pattern)") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = tokio::sync::mpsc::channel<int>(16);
    auto producer = tokio::spawn(
        [](tokio::sync::mpsc::Sender<int> s) -> Task<> {
          for (int i = 0; i < 5; ++i) {
            (void)co_await s.send(i);
            co_await tokio::time::sleep(std::chrono::milliseconds(1));
          }
        },
        std::move(tx));
    auto deadline = tokio::pin(tokio::time::sleep(std::chrono::milliseconds(200)));
    int sum = 0;
    bool closed = false, timed_out = false;
    for (int guard = 0; guard < 100 && !timed_out; ++guard) {
      auto r = co_await tokio::select(tokio::when(!deadline.is_terminated(), deadline),
                                      tokio::when(!closed, rx.recv()), tokio::select_else);
      if (r.index() == 0) {
        timed_out = true;
      } else if (r.index() == 1) {
        auto v = std::get<1>(std::move(r));
        if (!v) closed = true;
        else sum += *v;
      } else {
        break;  // both disabled: cannot happen before the deadline fires
      }
    }
    CHECK(sum == 10);
    CHECK(closed);
    CHECK(timed_out);
    co_await producer;
  }());
}
