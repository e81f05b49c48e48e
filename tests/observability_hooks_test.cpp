// Task names (task::Builder), the stall detector, and hooks that throw (failure reporting:
// observability_test.cpp; dumps, metrics and hooks: observability_dump_test.cpp).
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
