// Failure reporting: the UnhandledException policies and what reaches them (task names and
// the stall detector: observability_hooks_test.cpp; dumps, metrics and hooks:
// observability_dump_test.cpp).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "observability_test_util.hpp"
#include "test_util.hpp"

namespace {

tokio::Task<int> boom(std::string msg) {
  co_await tokio::task::yield_now();
  throw std::runtime_error(msg);
}

// Throws only once `gate` gives it a permit: the test drops the JoinHandle first, so the
// failure is always the "nobody holds its JoinHandle" kind, whichever worker runs the task.
tokio::Task<int> boom_after(std::shared_ptr<tokio::sync::Semaphore> gate, std::string msg) {
  auto permit = co_await gate->acquire();
  throw std::runtime_error(msg);
}

}  // namespace

TEST_CASE("unhandled: a detached task's exception is reported once, with id and name") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    {
      auto r = make_rt(multi, [](rt::Builder& b) { b.enable_all(); });
      r.block_on([]() -> tokio::Task<> {
        auto gate = std::make_shared<tokio::sync::Semaphore>(0);
        // Dropped before it finishes: reported when it completes.
        auto a = tokio::spawn(boom_after(gate, "first failure"));
        // Named, dropped before it finishes.
        auto b = tokio::task::Builder()
                     .name("conn 10.0.0.1:5555")
                     .spawn(boom_after, gate, std::string("named failure"));
        tokio::task::AbortHandle wa = a.abort_handle(), wb = b.abort_handle();
        {
          auto drop_a = std::move(a);
          auto drop_b = std::move(b);
        }
        gate->add_permits(2);
        for (int i = 0; i < 2000 && !(wa.is_finished() && wb.is_finished()); ++i) {
          co_await tokio::time::sleep(1ms);
        }
      }());
    }
    std::string out = cap.text();
    CHECK(count(out, "first failure") == 1);
    CHECK(count(out, "named failure") == 1);
    CHECK(out.find("(\"conn 10.0.0.1:5555\")") != std::string::npos);
    CHECK(out.find("nobody holds its JoinHandle") != std::string::npos);
  }
}

TEST_CASE(
    "unhandled: an exception the JoinHandle delivers is not reported; one dropped unread is") {
  StderrCapture cap;
  auto r = rt::Builder::new_current_thread().enable_all().build();
  r.block_on([]() -> tokio::Task<> {
    auto awaited = tokio::spawn(boom("awaited failure"));
    bool threw = false;
    try {
      (void)co_await awaited;
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "awaited failure";
    }
    CHECK(threw);
    {
      auto unread = tokio::spawn(boom("unread failure"));
      for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
      CHECK(unread.is_finished());
    }  // dropped here, unread
    co_return;
  }());
  std::string out = cap.text();
  CHECK(count(out, "awaited failure") == 0);
  CHECK(count(out, "unread failure") == 1);
  CHECK(out.find("dropped without reading it") != std::string::npos);
}

// JoinSet::shutdown aborts and reaps every task; one that had already thrown has its
// exception dropped unread, which is reported (found by a new-user hunt: shutdown read the
// outputs and threw them away, silently). JoinSet<> is JoinSet<void>.
TEST_CASE("unhandled: JoinSet::shutdown reports an exception no one will read") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    auto r = multi ? rt::Builder::new_multi_thread().worker_threads(2).enable_all().build()
                   : rt::Builder::new_current_thread().enable_all().build();
    r.block_on([]() -> tokio::Task<> {
      tokio::task::JoinSet<> set;
      auto started = std::make_shared<std::atomic<bool>>(false);
      set.spawn(
          [](std::shared_ptr<std::atomic<bool>> started) -> tokio::Task<> {
            started->store(true);
            throw std::runtime_error("failed before shutdown");
            co_return;
          },
          started);
      set.spawn([]() -> tokio::Task<> { co_await tokio::time::sleep(std::chrono::hours(1)); });
      for (int i = 0; i < 2000 && !started->load(); ++i) {
        co_await tokio::time::sleep(std::chrono::milliseconds(1));
      }
      REQUIRE(started->load());
      co_await tokio::time::sleep(std::chrono::milliseconds(5));  // (its throw completes it)
      co_await set.shutdown();
      CHECK(set.is_empty());
    }());
    std::string out = cap.text();
    CHECK(count(out, "failed before shutdown") == 1);
    CHECK(out.find("dropped without reading it") != std::string::npos);
  }
}

// A spawn_blocking closure that throws is a task too: an exception nobody reads is
// reported (Tokio's panic hook prints a blocking closure's panic), and ShutdownRuntime acts
// on it. It once went nowhere: blocking cells have no scheduler, and reporting went
// through the scheduler only.
TEST_CASE("unhandled: a spawn_blocking closure's exception nobody reads is reported") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    {
      auto r = make_rt(multi, [](rt::Builder& b) { b.enable_all(); });
      r.block_on([]() -> tokio::Task<> {
        auto thrower = [](std::string msg) -> int { throw std::logic_error(msg); };
        {
          auto early = tokio::task::spawn_blocking([thrower] {
            std::this_thread::sleep_for(20ms);
            return thrower("blocking dropped early");
          });
          tokio::task::AbortHandle w = early.abort_handle();
          { auto drop = std::move(early); }  // dropped before it finishes
          for (int i = 0; i < 2000 && !w.is_finished(); ++i) co_await tokio::time::sleep(1ms);
        }
        {
          auto late = tokio::task::spawn_blocking(thrower, std::string("blocking dropped late"));
          for (int i = 0; i < 2000 && !late.is_finished(); ++i) co_await tokio::time::sleep(1ms);
          CHECK(late.is_finished());
        }  // dropped finished, unread
        auto read = tokio::task::spawn_blocking(thrower, std::string("blocking awaited"));
        bool threw = false;
        try {
          (void)co_await read;
        } catch (const std::logic_error& e) {
          threw = std::string(e.what()) == "blocking awaited";
        }
        CHECK(threw);
      }());
    }
    std::string out = cap.text();
    CHECK(count(out, "blocking dropped early") == 1);
    CHECK(count(out, "blocking dropped late") == 1);
    CHECK(count(out, "blocking awaited") == 0);
  }
  // ShutdownRuntime: block_on throws with the blocking closure's exception.
  StderrCapture cap;
  auto r = rt::Builder::new_multi_thread()
               .worker_threads(2)
               .enable_all()
               .unhandled_exception(rt::UnhandledException::ShutdownRuntime)
               .build();
  bool caught = false;
  try {
    r.block_on([]() -> tokio::Task<> {
      tokio::task::spawn_blocking([]() -> int { throw std::logic_error("fatal blocking"); });
      co_await tokio::time::sleep(10s);  // bounded: without the halt, block_on returns
    }());
  } catch (const rt::UnhandledExceptionShutdown& e) {
    caught = std::string(e.what()).find("fatal blocking") != std::string::npos;
  }
  CHECK(caught);
}

TEST_CASE("unhandled: Ignore reports nothing; the hook receives id, name and the exception") {
  {
    StderrCapture cap;
    auto r = rt::Builder::new_current_thread()
                 .unhandled_exception(rt::UnhandledException::Ignore)
                 .build();
    r.block_on([]() -> tokio::Task<> {
      tokio::spawn(boom("ignored"));
      for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    }());
    CHECK(cap.text().find("ignored") == std::string::npos);
  }
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    std::mutex mu;
    std::vector<std::string> seen;
    StderrCapture cap;
    {
      auto r = make_rt(multi, [&](rt::Builder& b) {
        b.on_unhandled_exception([&](const tokio::task::TaskInfo& info, std::exception_ptr e) {
          std::string what;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            what = ex.what();
          }
          std::lock_guard<std::mutex> g(mu);
          seen.push_back(std::string(info.name) + "|" + what + "|" +
                         (info.id.value != 0 ? "id" : "noid"));
        });
      });
      r.block_on([]() -> tokio::Task<> {
        tokio::task::Builder().name("worker-7").spawn(boom("hooked"));
        auto h = tokio::spawn(boom("delivered"));
        try {
          (void)co_await h;
        } catch (const std::exception&) {
        }
        for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
      }());
    }
    std::lock_guard<std::mutex> g(mu);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0] == "worker-7|hooked|id");
    CHECK(cap.text().find("hooked") == std::string::npos);  // the hook replaces the line
  }
}

TEST_CASE("unhandled: ShutdownRuntime stops the runtime and block_on throws, now and later") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    std::atomic<bool> other_started{false};
    std::atomic<bool> other_cancelled{false};
    auto r = std::make_unique<rt::Runtime>(make_rt(multi, [](rt::Builder& b) {
      b.enable_all().unhandled_exception(rt::UnhandledException::ShutdownRuntime);
    }));
    // A cancellation that takes a while (a destructor flushing, closing): block_on must
    // still throw only after it.
    struct Flag {
      std::atomic<bool>* f;
      ~Flag() {
        std::this_thread::sleep_for(20ms);
        f->store(true);
      }
    };
    bool caught = false;
    try {
      r->block_on([&]() -> tokio::Task<> {
        // A task parked forever: it must be cancelled by the shutdown. Its guard is a
        // local of its body, so it exists only once the task has run: the failing task is
        // spawned after that (else a halt before its first poll cancels it unstarted, with
        // no guard to destroy: the test once failed so, 1 run in 150 on a busy machine).
        tokio::spawn(
            [](std::atomic<bool>* started, std::atomic<bool>* f) -> tokio::Task<> {
              Flag guard{f};
              started->store(true);
              co_await tokio::time::sleep(std::chrono::hours(1));
            },
            &other_started, &other_cancelled);
        for (int i = 0; i < 5000 && !other_started.load(); ++i) co_await tokio::time::sleep(1ms);
        REQUIRE(other_started.load());
        // The failure is awaited by its JoinHandle: ShutdownRuntime acts on it anyway.
        auto h = tokio::spawn(boom("fatal"));
        // The root waits on something that never comes: only the halt ends block_on.
        co_await tokio::time::sleep(std::chrono::hours(1));
        (void)h;
      }());
    } catch (const rt::UnhandledExceptionShutdown& e) {
      caught = true;
      CHECK(std::string(e.what()).find("fatal") != std::string::npos);
      CHECK(e.task_id().value != 0);
      bool inner = false;
      try {
        std::rethrow_exception(e.task_exception());
      } catch (const std::runtime_error& ex) {
        inner = std::string(ex.what()) == "fatal";
      }
      CHECK(inner);
    }
    CHECK(caught);
    // block_on ran (current-thread) or waited for (multi-thread: the workers run them) the
    // cancellations before it threw, as Tokio's drops the other tasks first: the parked
    // task's guard is gone already. On the multi-thread runtime it once threw at once and
    // the guard went later (helper-87: 2 runs in 100, most under ASan).
    CHECK(other_cancelled.load());
    CHECK(r->metrics().num_alive_tasks() == 0);
    // Later block_on calls throw too, and spawns are refused (cancelled).
    CHECK_THROWS_AS(r->block_on([]() -> tokio::Task<> { co_return; }()),
                    rt::UnhandledExceptionShutdown);
    auto refused = r->spawn([]() -> tokio::Task<int> { co_return 1; });
    r.reset();
    CHECK(other_cancelled.load());
    CHECK(refused.is_finished());
    CHECK(count(cap.text(), "fatal") == 1);
  }
}

// task_complete tells the policy of a failure in two steps (before the output is published,
// then again when nobody holds the JoinHandle): each policy must act on exactly one of them,
// however the JoinHandle is used, on both runtimes.
TEST_CASE("unhandled: each policy hears of a failed task once, joined or not") {
  using P = rt::UnhandledException;
  enum class Join { Awaited, DroppedBefore, DroppedAfter };
  struct Case {
    P policy;
    Join join;
    int hooked;
  };
  const Case cases[] = {
      {P::Report, Join::Awaited, 0},
      {P::Report, Join::DroppedBefore, 1},
      {P::Report, Join::DroppedAfter, 1},
      {P::ShutdownRuntime, Join::Awaited, 1},
      {P::ShutdownRuntime, Join::DroppedBefore, 1},
      {P::ShutdownRuntime, Join::DroppedAfter, 1},
      {P::Ignore, Join::DroppedBefore, 0},
  };
  for (const Case& c : cases) {
    for (bool multi : {false, true}) {
      CAPTURE(static_cast<int>(c.policy));
      CAPTURE(static_cast<int>(c.join));
      CAPTURE(multi);
      std::atomic<int> hooked{0};
      {
        auto r = make_rt(multi, [&](rt::Builder& b) {
          b.enable_all().unhandled_exception(c.policy).on_unhandled_exception(
              [&](const tokio::task::TaskInfo&, std::exception_ptr) { hooked.fetch_add(1); });
        });
        try {
          r.block_on([](Join join) -> tokio::Task<> {
            auto [tx, rx] = tokio::sync::oneshot::channel<int>();
            auto h = tokio::spawn(
                [](tokio::sync::oneshot::Receiver<int> rx) -> tokio::Task<> {
                  (void)co_await rx;
                  throw std::runtime_error("joined or not");
                },
                std::move(rx));
            auto watch = h.abort_handle();
            if (join == Join::DroppedBefore) h.detach();
            (void)tx.send(1);
            if (join == Join::Awaited) {
              CHECK_THROWS_AS(co_await h, std::runtime_error);
            } else {
              for (int i = 0; i < 5000 && !watch.is_finished(); ++i) {
                co_await tokio::time::sleep(std::chrono::milliseconds(1));
              }
              CHECK(watch.is_finished());
              h.detach();
            }
          }(c.join));
        } catch (const rt::UnhandledExceptionShutdown&) {
          CHECK(c.policy == P::ShutdownRuntime);
        }
      }
      CHECK(hooked.load() == c.hooked);
    }
  }
}

TEST_CASE("unhandled: a LocalSet's detached exceptions are reported too") {
  StderrCapture cap;
  auto r = rt::Builder::new_current_thread().enable_all().build();
  tokio::task::LocalSet local;
  local.block_on(r, []() -> tokio::Task<> {
    tokio::task::Builder().name("local-one").spawn_local(boom("local failure"));
    for (int i = 0; i < 20; ++i) co_await tokio::task::yield_now();
  }());
  std::string out = cap.text();
  CHECK(count(out, "local failure") == 1);
  CHECK(out.find("local-one") != std::string::npos);
}

TEST_CASE("unhandled: a destructor throwing during cancellation goes through the policy") {
  struct Thrower {
    ~Thrower() noexcept(false) { throw std::runtime_error("destructor failure"); }
  };
  std::atomic<int> hooked{0};
  {
    auto r = rt::Builder::new_current_thread()
                 .enable_all()
                 .on_unhandled_exception(
                     [&](const tokio::task::TaskInfo&, std::exception_ptr) { hooked.fetch_add(1); })
                 .build();
    r.block_on([]() -> tokio::Task<> {
      auto h = tokio::spawn([]() -> tokio::Task<> {
        Thrower t;
        co_await tokio::time::sleep(std::chrono::hours(1));
      });
      co_await tokio::task::yield_now();
      h.abort();
      for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
    }());
  }
  CHECK(hooked.load() == 1);
}

// An on_unhandled_exception hook that throws: both failures are reported, the hook's and
// the task's (with its name and message), instead of one line saying the task's exception
// was dropped (found by a new-user hunt).
TEST_CASE("unhandled: a throwing on_unhandled_exception hook does not lose the task's failure") {
  StderrCapture cap;
  {
    auto r = rt::Builder::new_current_thread()
                 .enable_all()
                 .on_unhandled_exception([](const tokio::task::TaskInfo&, std::exception_ptr) {
                   throw std::runtime_error("hook is broken");
                 })
                 .build();
    r.block_on([]() -> tokio::Task<> {
      {
        auto h = tokio::task::Builder().name("payment-worker").spawn([]() -> tokio::Task<> {
          throw std::runtime_error("card declined: order 42");
          co_return;
        });
        for (int i = 0; i < 10; ++i) co_await tokio::task::yield_now();
      }  // dropped unread
      co_return;
    }());
  }
  std::string out = cap.text();
  CHECK(out.find("on_unhandled_exception hook threw: hook is broken") != std::string::npos);
  CHECK(count(out, "card declined: order 42") >= 1);
  CHECK(out.find("payment-worker") != std::string::npos);
}

// A coroutine's parameter copies die after its promise, outside its body, and a spawn
// closure's captures after the frame: a destructor there that throws used to leave a
// noexcept function and terminate the process (on abort, and on normal completion too).
// clang 14 miscompiles the destruction of a coroutine whose by-value parameter throws
// (it crashes in its own unwind code, with or without tokio.hpp: README, Compilers).
#if !defined(__clang__) || __clang_major__ >= 15
namespace param_throw {
struct Thrower {
  bool armed = true;
  Thrower() = default;
  Thrower(Thrower&& o) noexcept : armed(std::exchange(o.armed, false)) {}
  ~Thrower() noexcept(false) {
    if (armed) throw std::runtime_error("parameter failure");
  }
};
tokio::Task<int> takes(Thrower) { co_return 5; }
tokio::Task<int> awaits_one() { co_return co_await takes(Thrower()) + 1; }
}  // namespace param_throw

TEST_CASE("unhandled: a throwing parameter or capture destructor is reported, not fatal") {
  using param_throw::Thrower;
  std::atomic<int> hooked{0};
  StderrCapture cap;
  {
    auto r = rt::Builder::new_current_thread()
                 .enable_all()
                 .on_unhandled_exception(
                     [&](const tokio::task::TaskInfo&, std::exception_ptr) { hooked.fetch_add(1); })
                 .build();
    r.block_on([]() -> tokio::Task<> {
      auto param = tokio::spawn(
          [](Thrower) -> tokio::Task<> { co_await tokio::time::sleep(std::chrono::hours(1)); },
          Thrower());
      auto capture = tokio::spawn([t = Thrower()]() -> tokio::Task<> {
        (void)t;
        co_await tokio::time::sleep(std::chrono::hours(1));
      });
      co_await tokio::task::yield_now();
      param.abort();
      capture.abort();
      auto a = co_await param.result();
      auto b = co_await capture.result();
      CHECK((!a && a.error().is_cancelled()));
      CHECK((!b && b.error().is_cancelled()));
      auto done = tokio::spawn([](Thrower) -> tokio::Task<int> { co_return 7; }, Thrower());
      CHECK(co_await done == 7);
    }());
  }
  CHECK(hooked.load() + count(cap.text(), "parameter failure") == 3);
  CHECK(hooked.load() >= 2);  // the two cancelled tasks go through the policy
}

// Frames no task cell owns (a block_on root, an awaited Task): when a parameter's
// destructor throws, g++ skips the frame's deallocation, which the library then does (the
// ASan build's leak check failed on both before).
TEST_CASE("unhandled: a throwing parameter of a block_on root or awaited Task: no leak") {
  StderrCapture cap;
  auto r = rt::Builder::new_current_thread().enable_all().build();
  CHECK(r.block_on(param_throw::takes(param_throw::Thrower())) == 5);
  CHECK(r.block_on(param_throw::awaits_one()) == 6);
  // A stream::then's operands, destroyed where their results are taken (ChildOp's
  // TaskChild::finish, which inlines destroy_finished's handler).
  const int sum = r.block_on([]() -> tokio::Task<int> {
    auto s = tokio::stream::then(tokio::stream::iter(std::vector<int>{1, 2}),
                                 [](int) { return param_throw::takes(param_throw::Thrower()); });
    int total = 0;
    while (auto v = co_await s.next()) total += *v;
    co_return total;
  }());
  CHECK(sum == 10);
  CHECK(count(cap.text(), "parameter failure") == 4);
}
#endif
