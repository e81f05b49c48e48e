// Failure reporting (UnhandledException), task names (task::Builder), the stall detector
// (dumps, metrics and hooks: observability_dump_test.cpp).
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

#include "test_util.hpp"

namespace {

namespace rt = tokio::runtime;

// Captures what the process writes to stderr while alive (a temporary file on fd 2).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    char path[] = "/tmp/tokio-stderr-XXXXXX";
    fd_ = ::mkstemp(path);
    REQUIRE(fd_ >= 0);
    ::unlink(path);
    saved_ = ::dup(2);
    REQUIRE(::dup2(fd_, 2) == 2);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::string s;
    char buf[4096];
    ::lseek(fd_, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;)
      s.append(buf, static_cast<std::size_t>(n));
    return s;
  }

 private:
  void restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
    }
  }
  int fd_ = -1;
  int saved_ = -1;
};

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

tokio::Task<int> boom(std::string msg) {
  co_await tokio::task::yield_now();
  throw std::runtime_error(msg);
}

template <class Configure>
rt::Runtime make_rt(bool multi, Configure configure) {
  auto b = multi ? rt::Builder::new_multi_thread() : rt::Builder::new_current_thread();
  if (multi) b.worker_threads(2);
  configure(b);
  return b.build();
}

}  // namespace

TEST_CASE("unhandled: a detached task's exception is reported once, with id and name") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    {
      auto r = make_rt(multi, [](rt::Builder& b) { b.enable_all(); });
      r.block_on([]() -> tokio::Task<> {
        // Dropped before it finishes: reported when it completes.
        auto a = tokio::spawn(boom("first failure"));
        // Named, dropped before it finishes.
        auto b = tokio::task::Builder()
                     .name("conn 10.0.0.1:5555")
                     .spawn(boom, std::string("named failure"));
        tokio::task::AbortHandle wa = a.abort_handle(), wb = b.abort_handle();
        {
          auto drop_a = std::move(a);
          auto drop_b = std::move(b);
        }
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
  CHECK(count(cap.text(), "parameter failure") == 2);
}
#endif

TEST_CASE("task::Builder: names reach the hooks; spawn_blocking and spawn_on are named too") {
  std::mutex mu;
  std::vector<std::string> spawned, terminated;
  std::atomic<int> polls_before{0}, polls_after{0};
  {
    auto r =
        rt::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_task_spawn([&](const tokio::task::TaskInfo& i) {
              std::lock_guard<std::mutex> g(mu);
              spawned.emplace_back(i.name);
            })
            .on_task_terminate([&](const tokio::task::TaskInfo& i) {
              std::lock_guard<std::mutex> g(mu);
              terminated.emplace_back(i.name);
            })
            .on_before_task_poll([&](const tokio::task::TaskInfo&) { polls_before.fetch_add(1); })
            .on_after_task_poll([&](const tokio::task::TaskInfo&) { polls_after.fetch_add(1); })
            .build();
    r.block_on([](rt::Handle h) -> tokio::Task<> {
      auto a = tokio::task::Builder().name("alpha").spawn([]() -> tokio::Task<int> {
        co_await tokio::task::yield_now();
        co_return 1;
      });
      auto b = tokio::task::Builder().name("beta").spawn_blocking([] { return 2; });
      auto c = tokio::task::Builder().name("gamma").spawn_on(
          h, []() -> tokio::Task<int> { co_return 3; });
      auto d = tokio::spawn([]() -> tokio::Task<int> { co_return 4; });
      // A Builder kept from a temporary name, and one copied, own their names.
      auto kept = tokio::task::Builder().name(std::string("de") + std::string(20, 'l') + "ta");
      tokio::task::Builder copied;
      {
        std::string n = "epsilon, a name longer than any small-string buffer";
        copied = tokio::task::Builder().name(n);
        n.assign(n.size(), 'x');
      }
      CHECK(kept.get_name() == "de" + std::string(20, 'l') + "ta");
      tokio::task::Builder from;
      from.name(std::string(40, 'm'));
      tokio::task::Builder moved = std::move(from);
      CHECK(moved.get_name() == std::string(40, 'm'));
      tokio::task::Builder assigned;
      assigned = std::move(moved);
      CHECK(assigned.get_name() == std::string(40, 'm'));
      CHECK(copied.get_name() == "epsilon, a name longer than any small-string buffer");
      co_await kept.spawn([]() -> tokio::Task<> { co_return; });
      co_await copied.spawn([]() -> tokio::Task<> { co_return; });
      // The name's storage, each way (core/detail/task_name.hpp): in the frame block of a
      // coroutine created in the naming statement; in a block of its own for a ready-made
      // Task; and when the first frame made in the statement is not the task's (it took the
      // name and died before the spawn), in a block of its own too.
      auto unit = []() -> tokio::Task<> { co_return; };
      co_await tokio::task::Builder().name("zeta").spawn(unit());
      tokio::Task<> ready = unit();
      co_await tokio::task::Builder().name("eta").spawn(std::move(ready));
      co_await tokio::task::Builder().name("theta").spawn([&unit] {
        { auto decoy = unit(); }
        return unit();
      }());
      // Named twice on a temporary: the last name wins (the first was once offered to the
      // frame and kept).
      auto iota = tokio::task::Builder().name("iota-first").name("iota").spawn(unit());
      auto kappa = tokio::task::Builder().name("kappa-first").name("").spawn(unit());
      co_await std::move(iota);
      co_await std::move(kappa);
      int sum = co_await a;
      sum += co_await b;
      sum += co_await c;
      sum += co_await d;
      CHECK(sum == 10);
    }(r.handle()));
  }
  std::lock_guard<std::mutex> g(mu);
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  CHECK(has(spawned, "alpha"));
  CHECK(has(spawned, "gamma"));
  CHECK(has(spawned, ""));  // the unnamed one
  CHECK(has(spawned, "de" + std::string(20, 'l') + "ta"));
  CHECK(has(terminated, "epsilon, a name longer than any small-string buffer"));
  for (const char* n : {"zeta", "eta", "theta", "iota"}) {
    CAPTURE(n);
    CHECK(has(spawned, n));
    CHECK(has(terminated, n));
  }
  CHECK_FALSE(has(spawned, "iota-first"));
  CHECK_FALSE(has(spawned, "kappa-first"));
  CHECK(has(terminated, "alpha"));
  CHECK(has(terminated, "gamma"));
  CHECK(polls_before.load() >= 3);
  CHECK(polls_before.load() == polls_after.load());
}

namespace obs_names {
tokio::Task<int> with_value(int v) { co_return v; }
}  // namespace obs_names

// A name offered in a statement that suspends before its spawn, a named spawn inside the
// callable of another named spawn, and many tasks naming theirs meanwhile on the same
// thread: every task gets its own name (core/detail/task_name.hpp; ASan: no stale text).
TEST_CASE("task::Builder: names stay with their tasks across suspensions and nesting") {
  std::vector<std::string> spawned;  // one thread: the hook needs no lock
  auto r = rt::Builder::new_current_thread()
               .enable_all()
               .on_task_spawn([&](const tokio::task::TaskInfo& i) { spawned.emplace_back(i.name); })
               .build();
  r.block_on([]() -> tokio::Task<> {
    auto gate = tokio::spawn([]() -> tokio::Task<int> {
      for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();
      co_return 7;
    });
    auto a = tokio::spawn(
        [](tokio::task::JoinHandle<int> gate) -> tokio::Task<> {
          // name() offers the name, then the statement suspends at the co_await in the argument.
          auto h = tokio::task::Builder()
                       .name(std::string("alpha, a long name: ") + std::string(40, 'a'))
                       .spawn(obs_names::with_value(co_await gate));
          CHECK(co_await h == 7);
          // spawn_blocking creates no frame: its offer must not outlive the statement either.
          CHECK(co_await tokio::task::Builder().name(std::string(30, 'g')).spawn_blocking([] {
            return 1;
          }) == 1);
        },
        std::move(gate));
    auto b = tokio::spawn([]() -> tokio::Task<> {
      for (int i = 0; i < 8; ++i) {
        co_await tokio::task::Builder().name("beta").spawn([]() -> tokio::Task<> { co_return; }());
        co_await tokio::task::yield_now();
      }
    });
    // A callable that spawns a named task before it creates its own coroutine.
    auto c = tokio::task::Builder().name("outer").spawn(
        [](int) -> tokio::Task<> { co_return; },
        [] {
          (void)tokio::task::Builder().name("inner").spawn([]() -> tokio::Task<> { co_return; });
          return 0;
        }());
    auto d = tokio::task::Builder().name("outer2").spawn([]() {
      (void)tokio::task::Builder().name("inner2").spawn([]() -> tokio::Task<> { co_return; });
      return []() -> tokio::Task<> { co_return; }();
    });
    co_await a;
    co_await b;
    co_await c;
    co_await d;
  }());
  auto count = [&](const std::string& n) { return std::count(spawned.begin(), spawned.end(), n); };
  CHECK(count("alpha, a long name: " + std::string(40, 'a')) == 1);
  CHECK(count("beta") == 8);
  CHECK(count("outer") == 1);
  CHECK(count("inner") == 1);
  CHECK(count("outer2") == 1);
  CHECK(count("inner2") == 1);
  CHECK(count("") == 3);                  // gate, a and b
  for (const std::string& n : spawned) {  // nothing got another task's name, or a stale one
    CAPTURE(n);
    CHECK((n.empty() || n == "beta" || n == "outer" || n == "inner" || n == "outer2" ||
           n == "inner2" || n == std::string(30, 'g') ||
           n == "alpha, a long name: " + std::string(40, 'a')));
  }
}

TEST_CASE("task::Builder: spawn_local outside a LocalSet is a clear error") {
  auto r = rt::Builder::new_current_thread().build();
  r.block_on([]() -> tokio::Task<> {
    bool threw = false;
    try {
      tokio::task::Builder().name("x").spawn_local([]() -> tokio::Task<> { co_return; });
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("LocalSet") != std::string::npos;
    }
    CHECK(threw);
    co_return;
  }());
}

TEST_CASE("stall detector: a task blocking its worker is reported with its name, once") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    uint64_t stalls = 0;
    {
      auto r = make_rt(multi, [](rt::Builder& b) { b.enable_all().stall_threshold(50ms); });
      r.block_on([]() -> tokio::Task<> {
        auto h = tokio::task::Builder().name("sleepy").spawn([]() -> tokio::Task<> {
          co_await tokio::task::yield_now();
          std::this_thread::sleep_for(200ms);  // the footgun: blocking inside async code
        });
        co_await h;
        // Well-behaved tasks are not reported.
        for (int i = 0; i < 20; ++i) co_await tokio::time::sleep(5ms);
      }());
      stalls = r.metrics().stall_count();
    }
    std::string out = cap.text();
    CHECK(stalls == 1);
    CHECK(count(out, "tokio: stall:") == 1);
    CHECK(out.find("\"sleepy\"") != std::string::npos);
    CHECK(out.find("stall_threshold 50 ms") != std::string::npos);
  }
}

TEST_CASE("stall detector: a current-thread runtime's block_on future blocking is a stall") {
  // It runs on the thread that runs every task: while it blocks, nothing else runs.
  StderrCapture cap;
  uint64_t stalls = 0;
  {
    auto r = rt::Builder::new_current_thread().enable_all().stall_threshold(50ms).build();
    r.block_on([]() -> tokio::Task<> {
      co_await tokio::task::yield_now();
      std::this_thread::sleep_for(200ms);
      for (int i = 0; i < 10; ++i) co_await tokio::time::sleep(5ms);  // quiet afterwards
    }());
    stalls = r.metrics().stall_count();
  }
  std::string out = cap.text();
  CHECK(stalls == 1);
  CHECK(count(out, "tokio: stall: the block_on future has been inside one poll") == 1);
}

TEST_CASE(
    "stall detector: a multi-thread runtime's block_on future, or a LocalSet task it "
    "drives, blocking is a stall on the block_on thread") {
  // Not a worker, but everything that runs on that thread (the LocalSet's tasks) waits.
  for (bool local : {false, true}) {
    CAPTURE(local);
    StderrCapture cap;
    uint64_t stalls = 0;
    {
      auto r = rt::Builder::new_multi_thread()
                   .worker_threads(1)
                   .enable_all()
                   .stall_threshold(50ms)
                   .build();
      auto blocker = []() -> tokio::Task<> {
        co_await tokio::task::yield_now();
        std::this_thread::sleep_for(200ms);
        for (int i = 0; i < 10; ++i) co_await tokio::time::sleep(5ms);  // quiet afterwards
      };
      if (local) {
        tokio::task::LocalSet set;
        set.block_on(r, [](auto body) -> tokio::Task<> {
          auto h = tokio::task::spawn_local(body());
          co_await h;
        }(blocker));
      } else {
        r.block_on(blocker());
      }
      stalls = r.metrics().stall_count();
    }
    std::string out = cap.text();
    CHECK(stalls == 1);
    CHECK(count(out,
                "tokio: stall: the block_on future (or a LocalSet task it drives) has been "
                "inside one poll on the block_on thread") == 1);
  }
}

TEST_CASE(
    "stall detector: stalls held back by the one-a-second limit are still named, and a "
    "name cannot forge a report line") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    StderrCapture cap;
    uint64_t stalls = 0;
    {
      auto r = make_rt(multi, [](rt::Builder& b) { b.enable_all().stall_threshold(40ms); });
      r.block_on([]() -> tokio::Task<> {
        // Three stalls in a row: the first is reported at once, the other two within the
        // same second are held back, and no stall comes after them to carry them.
        for (const char* name : {"first", "second\ntokio: stall: forged", "third"}) {
          auto h = tokio::task::Builder().name(name).spawn([]() -> tokio::Task<> {
            co_await tokio::task::yield_now();
            std::this_thread::sleep_for(150ms);
          });
          co_await h;
        }
        // Then the program goes on, quietly, for longer than the limit's second.
        for (int i = 0; i < 30; ++i) co_await tokio::time::sleep(50ms);
      }());
      stalls = r.metrics().stall_count();
    }
    std::string out = cap.text();
    CHECK(stalls == 3);
    CHECK(out.find("\"first\"") != std::string::npos);
    CHECK(out.find("2 more stalls were held back") != std::string::npos);
    CHECK(out.find("(\"second\\ntokio: stall: forged\")") != std::string::npos);
    CHECK(out.find("(\"third\")") != std::string::npos);
    CHECK(out.find("\ntokio: stall: forged") == std::string::npos);  // escaped, not a line
  }
}

TEST_CASE("stall detector: off by default, block_in_place is not a stall, bad threshold refused") {
  {
    auto r = rt::Builder::new_current_thread().build();
    r.block_on([]() -> tokio::Task<> {
      auto h = tokio::spawn([]() -> tokio::Task<> {
        std::this_thread::sleep_for(30ms);
        co_return;
      });
      co_await h;
    }());
    CHECK(r.metrics().stall_count() == 0);
  }
  {
    StderrCapture cap;
    auto r = rt::Builder::new_multi_thread().worker_threads(2).stall_threshold(20ms).build();
    r.block_on([]() -> tokio::Task<> {
      auto h = tokio::spawn([]() -> tokio::Task<> {
        tokio::task::block_in_place([] { std::this_thread::sleep_for(120ms); });
        co_return;
      });
      co_await h;
    }());
    CHECK(r.metrics().stall_count() == 0);
    CHECK(cap.text().find("tokio: stall:") == std::string::npos);
  }
  auto b = rt::Builder::new_current_thread();
  CHECK_THROWS_AS(b.stall_threshold(0ms), std::invalid_argument);
}

TEST_CASE("a thread hook that throws is reported with its message; the runtime goes on") {
  // It ended the process through std::terminate, with no word of tokio or of the hook.
  StderrCapture cap;
  int v = 0;
  {
    auto r = rt::Builder::new_multi_thread()
                 .worker_threads(1)
                 .on_thread_start([] { throw std::runtime_error("start hook failed"); })
                 .on_thread_park([] { throw std::runtime_error("park hook failed"); })
                 .enable_all()
                 .build();
    v = r.block_on([]() -> tokio::Task<int> {
      co_await tokio::time::sleep(5ms);  // the worker parks at least once
      co_return co_await tokio::task::spawn_blocking([] { return 3; });
    }());
  }
  std::string out = cap.text();
  CHECK(v == 3);
  CHECK(out.find("tokio: the runtime's on_thread_start hook threw: start hook failed") !=
        std::string::npos);
  CHECK(out.find("tokio: the runtime's on_thread_park hook threw: park hook failed") !=
        std::string::npos);
}

TEST_CASE("a Notify, Semaphore or Mutex destroyed in use says so on stderr") {
  // Destroyed with tasks waiting (or a Mutex with its guard alive), it left the waiters
  // for ever and the runtime's drop hanging, with no word of why. The objects live in
  // storage that outlasts them here, so the waiters' later unlinking stays in bounds.
  StderrCapture cap;
  {
    // Declared before the runtime: its drop cancels the waiters, which unlink from here.
    alignas(tokio::sync::Notify) unsigned char nbuf[sizeof(tokio::sync::Notify)];
    alignas(tokio::sync::Semaphore) unsigned char sbuf[sizeof(tokio::sync::Semaphore)];
    alignas(tokio::sync::Mutex<int>) unsigned char mbuf[sizeof(tokio::sync::Mutex<int>)];
    auto r = rt::Builder::new_current_thread().enable_all().build();
    auto* n = ::new (nbuf) tokio::sync::Notify();
    auto* s = ::new (sbuf) tokio::sync::Semaphore(0);
    auto* m = ::new (mbuf) tokio::sync::Mutex<int>(0);
    r.block_on([](tokio::sync::Notify* n, tokio::sync::Semaphore* s,
                  tokio::sync::Mutex<int>* m) -> tokio::Task<> {
      (void)tokio::spawn(
          [](tokio::sync::Notify* n) -> tokio::Task<> { co_await n->notified(); }(n));
      (void)tokio::spawn(
          [](tokio::sync::Semaphore* s) -> tokio::Task<> { (void)co_await s->acquire(); }(s));
      for (int i = 0; i < 5; ++i) co_await tokio::task::yield_now();  // both waiting
      n->~Notify();
      s->~Semaphore();
      auto g = co_await m->lock();
      m->~Mutex();
    }(n, s, m));
  }
  std::string out = cap.text();
  CHECK(out.find("tokio: a sync::Notify was destroyed while tasks were waiting on it") !=
        std::string::npos);
  CHECK(out.find("tokio: a sync::Semaphore, Mutex or RwLock was destroyed while tasks were "
                 "waiting to acquire it") != std::string::npos);
  CHECK(out.find("tokio: a sync::Mutex was destroyed while locked") != std::string::npos);
}
