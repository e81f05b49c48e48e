// Failure reporting (UnhandledException), task names (task::Builder), task hooks.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
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
    std::atomic<bool> other_cancelled{false};
    auto r = std::make_unique<rt::Runtime>(make_rt(multi, [](rt::Builder& b) {
      b.enable_all().unhandled_exception(rt::UnhandledException::ShutdownRuntime);
    }));
    struct Flag {
      std::atomic<bool>* f;
      ~Flag() { f->store(true); }
    };
    bool caught = false;
    try {
      r->block_on([&]() -> tokio::Task<> {
        // A task parked forever: it must be cancelled by the shutdown.
        tokio::spawn(
            [](std::atomic<bool>* f) -> tokio::Task<> {
              Flag guard{f};
              co_await tokio::time::sleep(std::chrono::hours(1));
            },
            &other_cancelled);
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
    // Later block_on calls throw too, and spawns are refused (cancelled).
    CHECK_THROWS_AS(r->block_on([]() -> tokio::Task<> { co_return; }()),
                    rt::UnhandledExceptionShutdown);
    auto refused = r->spawn([]() -> tokio::Task<int> { co_return 1; });
    if (multi) {
      // The workers go on running: the parked task is cancelled without waiting for the drop.
      for (int i = 0; i < 2000 && !other_cancelled.load(); ++i) std::this_thread::sleep_for(1ms);
      CHECK(other_cancelled.load());
    }
    r.reset();
    CHECK(other_cancelled.load());
    CHECK(refused.is_finished());
    CHECK(count(cap.text(), "fatal") == 1);
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
  for (const char* n : {"zeta", "eta", "theta"}) {
    CAPTURE(n);
    CHECK(has(spawned, n));
    CHECK(has(terminated, n));
  }
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

// The lines of the co_awaits the dump test's tasks are suspended at.
unsigned g_line_inner = 0;
unsigned g_line_outer = 0;

TEST_CASE("dump: names, states, leaves and chain depth of live tasks") {
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  r.block_on([](rt::Handle handle) -> tokio::Task<> {
    auto notify = std::make_shared<tokio::sync::Notify>();
    auto mutex = std::make_shared<tokio::sync::Mutex<int>>(0);
    auto [tx, rx] = tokio::sync::mpsc::channel<int>(4);
    auto held = co_await mutex->lock();  // so the locker waits
    (void)held;
    auto inner = [](std::shared_ptr<tokio::sync::Notify> n) -> tokio::Task<> {
      g_line_inner = __LINE__ + 1;
      co_await n->notified();
    };
    auto a = tokio::task::Builder()
                 .name("notified")
                 .spawn(
                     [](std::shared_ptr<tokio::sync::Notify> n, auto in) -> tokio::Task<> {
                       g_line_outer = __LINE__ + 1;
                       co_await in(n);
                     },
                     notify, inner);
    auto b = tokio::task::Builder().name("locker").spawn(
        [](std::shared_ptr<tokio::sync::Mutex<int>> m) -> tokio::Task<> {
          (void)co_await m->lock();
        },
        mutex);
    auto c = tokio::task::Builder()
                 .name("receiver")
                 .spawn(
                     [](tokio::sync::mpsc::Receiver<int> rx) -> tokio::Task<> {
                       (void)co_await rx.recv();
                     },
                     std::move(rx));
    auto d = tokio::task::Builder().name("sleeper").spawn(
        []() -> tokio::Task<> { co_await tokio::time::sleep(std::chrono::hours(1)); });
    auto e = tokio::task::Builder().name("done").spawn([]() -> tokio::Task<int> { co_return 5; });
    // Waits on I/O: a read with nothing to read, an accept with nobody connecting, and a join.
    auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
    auto client = (co_await tokio::net::TcpStream::connect(listener.local_addr().value())).value();
    auto [server, peer] = (co_await listener.accept()).value();
    (void)peer;
    auto f = tokio::task::Builder().name("reader").spawn(
        [](tokio::net::TcpStream s) -> tokio::Task<> {
          std::byte buf[16];
          (void)co_await s.read(buf);
        },
        std::move(server));
    auto g =
        tokio::task::Builder()
            .name("acceptor")
            .spawn([](tokio::net::TcpListener l) -> tokio::Task<> { (void)co_await l.accept(); },
                   std::move(listener));
    auto j = tokio::task::Builder().name("joiner").spawn(
        [](std::shared_ptr<tokio::sync::Notify> n) -> tokio::Task<> {
          co_await tokio::join(n->notified(), tokio::time::sleep(std::chrono::hours(1)));
        },
        notify);
    // Let every task reach its wait.
    for (int i = 0; i < 200; ++i) {
      co_await tokio::time::sleep(1ms);
      if (e.is_finished()) break;
    }
    co_await tokio::time::sleep(20ms);
    auto dump = handle.dump();
    std::string text = dump.to_string();
    INFO(text);
    auto find = [&](const std::string& name) -> const rt::TaskDump* {
      for (const auto& t : dump.tasks())
        if (t.name == name) return &t;
      return nullptr;
    };
    for (std::string n :
         {"notified", "locker", "receiver", "sleeper", "reader", "acceptor", "joiner"}) {
      CAPTURE(n);
      CHECK(find(n) != nullptr);
    }
    if (auto* t = find("notified")) {
      CHECK(t->state == rt::TaskDump::State::Idle);
      CHECK(t->waiting_on == "sync::Notify::notified");
      CHECK(t->depth >= 3);  // wrapper, the callable's coroutine, inner
      // The async backtrace: the co_await each frame is suspended at, innermost first; the
      // spawn wrapper is left out.
      REQUIRE(t->backtrace.size() == 2);
      CHECK(t->backtrace[0].find("observability_test.cpp:" + std::to_string(g_line_inner)) !=
            std::string::npos);
      CHECK(t->backtrace[1].find("observability_test.cpp:" + std::to_string(g_line_outer)) !=
            std::string::npos);
#if defined(__cpp_lib_source_location) && !defined(__clang__)
      // g++ names the function: the lambda's call operator, not the lowered coroutine body.
      CHECK(t->backtrace[0].find("lambda") != std::string::npos);
      CHECK(t->backtrace[0].find(".Frame") == std::string::npos);
#endif
    }
    if (auto* t = find("sleeper")) {
      CHECK(t->waiting_on == "time::sleep");
      // The time left on its one-hour sleep, read from the timer's state word.
      REQUIRE(t->time_left.has_value());
      CHECK(*t->time_left > std::chrono::seconds(3500));
      CHECK(*t->time_left <= std::chrono::hours(1));
      std::string shown = std::to_string(t->time_left->count() / 1000) + ".";
      CHECK(text.find("waiting on time::sleep, " + shown) != std::string::npos);
      // Idle since before the 20 ms sleep above (the coarse clock may lag by one batch).
      CHECK(t->time_in_state >= 15ms);
      CHECK(t->time_in_state < 60s);
    }
    if (auto* t = find("receiver")) {
      CHECK(t->waiting_on == "sync::mpsc::Receiver::recv");
      CHECK_FALSE(t->time_left.has_value());  // a leaf without a deadline
    }
    if (auto* t = find("locker")) CHECK(t->waiting_on == "sync::Mutex::lock");
    if (auto* t = find("reader")) CHECK(t->waiting_on == "socket read (recv)");
    if (auto* t = find("acceptor")) CHECK(t->waiting_on == "accept");
    if (auto* t = find("joiner")) CHECK(t->waiting_on == "join");
    // A finished task stays listed while its JoinHandle has not read it.
    if (auto* t = find("done")) {
      CHECK(t->state == rt::TaskDump::State::Completed);
      CHECK(t->waiting_on.empty());
      CHECK(t->time_in_state >= 15ms);  // its one poll began before the 20 ms sleep
      CHECK(t->time_in_state < 60s);
    } else {
      FAIL("the completed, not joined task is missing from the dump");
    }
    CHECK(text.find("\"done\" completed, not joined for ") != std::string::npos);
    CHECK(text.find("\"sleeper\" idle for ") != std::string::npos);
    CHECK(text.find(", waiting on ") != std::string::npos);
    CHECK(text.find("    at ") != std::string::npos);
    a.abort();
    b.abort();
    c.abort();
    d.abort();
    f.abort();
    g.abort();
    j.abort();
    (void)client;
    CHECK(co_await e == 5);
    // Joined: gone from the list.
    for (const auto& t : handle.dump().tasks()) CHECK(t.name != "done");
    (void)tx;
  }(r.handle()));
}

// A task that finished while its JoinHandle exists stays listed (as completed, not joined)
// until the handle reads it or is dropped; it no longer counts as alive; a detached one
// leaves at once; a runtime shut down with such tasks, and handles that outlive it, neither
// leak (ASan) nor hang.
TEST_CASE("dump: completed tasks are listed until their JoinHandle lets go") {
  auto count = [](const rt::Dump& d, const std::string& name) {
    int n = 0;
    for (const auto& t : d.tasks())
      if (t.name == name && t.state == rt::TaskDump::State::Completed) ++n;
    return n;
  };
  for (auto flavor : {0, 1}) {
    CAPTURE(flavor);
    auto r = flavor ? rt::Builder::new_multi_thread().worker_threads(2).enable_all().build()
                    : rt::Builder::new_current_thread().enable_all().build();
    std::vector<tokio::task::JoinHandle<int>> kept;
    r.block_on([](rt::Handle h, std::vector<tokio::task::JoinHandle<int>>* kept,
                  decltype(count) count) -> tokio::Task<> {
      for (int i = 0; i < 50; ++i) {
        kept->push_back(tokio::task::Builder().name("kept").spawn(
            [](int v) -> tokio::Task<int> { co_return v; }, i));
        tokio::task::Builder()
            .name("detached")
            .spawn([]() -> tokio::Task<> { co_return; })
            .detach();
        auto dropped =
            tokio::task::Builder().name("dropped").spawn([]() -> tokio::Task<int> { co_return 1; });
        while (!dropped.is_finished()) co_await tokio::task::yield_now();
      }  // each `dropped` handle goes here, after its task finished
      for (auto& k : *kept)
        while (!k.is_finished()) co_await tokio::task::yield_now();
      for (int i = 0; i < 100 && h.metrics().num_alive_tasks() > 0; ++i)
        co_await tokio::time::sleep(1ms);
      CHECK(h.metrics().num_alive_tasks() == 0);  // completed ones are not alive
      rt::Dump d = h.dump();
      CHECK(count(d, "kept") == 50);
      CHECK(count(d, "dropped") == 0);
      for (const auto& t : d.tasks()) CHECK(t.name != "detached");
      // Joining half of them takes those out.
      for (int i = 0; i < 25; ++i) CHECK(co_await (*kept)[static_cast<std::size_t>(i)] == i);
      CHECK(count(h.dump(), "kept") == 25);
      CHECK((*kept)[0].is_finished());  // an awaited handle still answers
      CHECK((*kept)[0].id().value != 0);
      tokio::task::JoinSet<int> set;
      CHECK_THROWS_WITH_AS(set.add(std::move((*kept)[0])), doctest::Contains("already awaited"),
                           std::logic_error);
    }(r.handle(), &kept, count));
    // The runtime goes with 25 completed tasks listed; their handles still read the output.
    r.shutdown_background();
    for (std::size_t i = 25; i < kept.size(); ++i) {
      CHECK(kept[i].is_finished());
    }
    kept.resize(40);  // dropped after the runtime: unlinked from the dead runtime's list
  }
}

TEST_CASE("dump: a running task's time in state counts from the start of its poll") {
  auto r = rt::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  r.block_on([](rt::Handle handle) -> tokio::Task<> {
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto busy = tokio::task::Builder().name("busy").spawn(
        [](std::shared_ptr<std::atomic<bool>> s) -> tokio::Task<> {
          s->store(true);
          std::this_thread::sleep_for(300ms);  // blocks its worker on purpose
          co_return;
        },
        started);
    for (int i = 0; i < 1000 && !started->load(); ++i) co_await tokio::time::sleep(1ms);
    std::this_thread::sleep_for(100ms);
    auto dump = handle.dump();
    INFO(dump.to_string());
    bool seen = false;
    for (const auto& t : dump.tasks()) {
      if (t.name != "busy") continue;
      seen = true;
      CHECK(t.state == rt::TaskDump::State::Running);
      CHECK(t.time_in_state >= 80ms);
      CHECK(t.time_in_state < 10s);
    }
    CHECK(seen);
    co_await busy;
  }(r.handle()));
}

TEST_CASE("metrics: I/O driver counters and the poll-time histogram") {
  auto r = rt::Builder::new_multi_thread()
               .worker_threads(2)
               .enable_all()
               .enable_metrics_poll_time_histogram()
               .metrics_poll_time_histogram_configuration(std::chrono::milliseconds(1), 4)
               .build();
  auto m = r.metrics();
  uint64_t reg0 = m.io_driver_fd_registered_count();
  uint64_t dereg0 = m.io_driver_fd_deregistered_count();
  r.block_on([]() -> tokio::Task<> {
    auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
    auto addr = listener.local_addr().value();
    auto client = (co_await tokio::net::TcpStream::connect(addr)).value();
    auto [server, peer] = (co_await listener.accept()).value();
    (void)peer;
    (void)co_await client.write_all(std::as_bytes(std::span("ping", 4)));
    std::byte buf[4];
    (void)co_await server.read(buf);
    // Polls of every length: fast ones, and one blocking for 3 ms (bucket 3: >= 3 ms).
    auto h = tokio::spawn([]() -> tokio::Task<> {
      std::this_thread::sleep_for(3ms);
      co_return;
    });
    co_await h;
  }());
  CHECK(m.io_driver_fd_registered_count() >= reg0 + 3);
  CHECK(m.io_driver_fd_deregistered_count() >= dereg0 + 3);
  CHECK(m.io_driver_ready_count() > 0);
  REQUIRE(m.poll_time_histogram_enabled());
  REQUIRE(m.poll_time_histogram_num_buckets() == 4);
  CHECK(m.poll_time_histogram_bucket_range(1).first == 1ms);
  CHECK(m.poll_time_histogram_bucket_range(1).second == 2ms);
  CHECK(m.poll_time_histogram_bucket_range(3).second == std::chrono::nanoseconds::max());
  uint64_t slow = 0, all = 0;
  for (std::size_t w = 0; w < m.num_workers(); ++w) {
    slow += m.poll_time_histogram_bucket_count(w, 3);
    for (std::size_t b = 0; b < 4; ++b) all += m.poll_time_histogram_bucket_count(w, b);
  }
  CHECK(slow >= 1);
  CHECK(all >= 1);
  auto off = rt::Builder::new_current_thread().build();
  CHECK_FALSE(off.metrics().poll_time_histogram_enabled());
  CHECK(off.metrics().io_driver_ready_count() == 0);
}

// As Tokio's (which holds a Handle), a RuntimeMetrics keeps its runtime's shared state
// alive: read after the Runtime was dropped it gives the final figures. Before, it held a
// plain pointer and every read after the drop was a use after free (ASan checks each).
TEST_CASE("metrics: a RuntimeMetrics outlives its runtime and reads the final figures") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    INFO("flavour " << flavour);
    std::optional<rt::RuntimeMetrics> kept;
    {
      auto r = flavour == 0 ? rt::Builder::new_current_thread()
                                  .enable_all()
                                  .enable_metrics_poll_time_histogram()
                                  .build()
                            : rt::Builder::new_multi_thread()
                                  .worker_threads(2)
                                  .enable_all()
                                  .enable_metrics_poll_time_histogram()
                                  .build();
      r.block_on([]() -> tokio::Task<> {
        for (int i = 0; i < 5; ++i) co_await tokio::spawn([]() -> tokio::Task<> { co_return; });
        co_await tokio::task::spawn_blocking([] {});
        auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
        (void)listener;
      }());
      kept.emplace(r.metrics());
      rt::RuntimeMetrics copy = *kept;  // copies hold their own reference
      kept = copy;
    }
    const rt::RuntimeMetrics& m = *kept;
    CHECK(m.num_workers() == (flavour == 0 ? 1u : 2u));
    CHECK(m.spawned_tasks_count() == 5);
    CHECK(m.num_alive_tasks() == 0);
    CHECK(m.global_queue_depth() == 0);
    CHECK(m.blocking_queue_depth() == 0);
    (void)m.num_blocking_threads();
    (void)m.num_idle_blocking_threads();
    (void)m.remote_schedule_count();
    (void)m.budget_forced_yield_count();
    (void)m.stall_count();
    CHECK(m.io_driver_fd_registered_count() >= 1);
    CHECK(m.io_driver_fd_deregistered_count() >= 1);
    (void)m.io_driver_ready_count();
    REQUIRE(m.poll_time_histogram_enabled());
    uint64_t polls = 0;
    for (std::size_t w = 0; w < m.num_workers(); ++w) {
      for (std::size_t b = 0; b < m.poll_time_histogram_num_buckets(); ++b)
        polls += m.poll_time_histogram_bucket_count(w, b);
      // Read after the drop (ASan checks each read); the values are the runtime's own.
      uint64_t counters = m.worker_park_count(w) + m.worker_park_unpark_count(w) +
                          m.worker_noop_count(w) + m.worker_steal_count(w) +
                          m.worker_steal_operations(w) + m.worker_local_schedule_count(w) +
                          m.worker_overflow_count(w) + m.worker_local_queue_depth(w) +
                          m.worker_poll_count(w);
      (void)counters;
      (void)m.worker_total_busy_duration(w);
    }
    CHECK(polls >= 5);
  }
}

TEST_CASE("metrics: the poll-time histogram under Tokio's poll_count_histogram names") {
  std::string spawned_name;  // through Tokio's spelling of the hooks' argument
  auto r = rt::Builder::new_current_thread()
               .on_task_spawn([&](const rt::TaskMeta& meta) { spawned_name = meta.name; })
               .enable_metrics_poll_count_histogram()
               .metrics_poll_count_histogram_resolution(std::chrono::milliseconds(2))
               .metrics_poll_count_histogram_buckets(3)
               .build();
  auto m = r.metrics();
  REQUIRE(m.poll_count_histogram_enabled());
  CHECK(m.poll_count_histogram_num_buckets() == 3);
  CHECK(m.poll_count_histogram_bucket_range(1).first == 2ms);
  CHECK(m.poll_count_histogram_bucket_range(1).second == 4ms);
  r.block_on([]() -> tokio::Task<> {
    auto h = tokio::task::Builder().name("sleeper").spawn([]() -> tokio::Task<> {
      std::this_thread::sleep_for(5ms);  // bucket 2 (>= 4 ms)
      co_return;
    });
    co_await h;
  }());
  CHECK(spawned_name == "sleeper");
  CHECK(m.poll_count_histogram_bucket_count(0, 2) >= 1);
  CHECK(m.poll_count_histogram_bucket_count(0, 2) == m.poll_time_histogram_bucket_count(0, 2));
  // The one-at-a-time setters keep the same limits.
  CHECK_THROWS_AS(rt::Builder::new_current_thread().metrics_poll_count_histogram_buckets(1),
                  std::invalid_argument);
  CHECK_THROWS_AS(rt::Builder::new_current_thread().metrics_poll_count_histogram_resolution(0ms),
                  std::invalid_argument);
}

TEST_CASE("hooks: spawn and terminate exactly once per task under 8 threads") {
  std::atomic<int> spawned{0}, terminated{0}, before{0}, after{0};
  const int per_thread = static_cast<int>(test::scaled(2000));
  {
    auto r = rt::Builder::new_multi_thread()
                 .worker_threads(4)
                 .on_task_spawn([&](const tokio::task::TaskInfo&) { spawned.fetch_add(1); })
                 .on_task_terminate([&](const tokio::task::TaskInfo&) { terminated.fetch_add(1); })
                 .on_before_task_poll([&](const tokio::task::TaskInfo&) { before.fetch_add(1); })
                 .on_after_task_poll([&](const tokio::task::TaskInfo&) { after.fetch_add(1); })
                 .build();
    auto handle = r.handle();
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
      threads.emplace_back([&handle, per_thread] {
        std::vector<tokio::task::JoinHandle<int>> hs;
        for (int j = 0; j < per_thread; ++j) {
          hs.push_back(handle.spawn(
              [](int v) -> tokio::Task<int> {
                co_await tokio::task::yield_now();
                co_return v;
              },
              j));
        }
        handle.block_on([](std::vector<tokio::task::JoinHandle<int>> v) -> tokio::Task<> {
          for (auto& h : v) (void)co_await h;
        }(std::move(hs)));
      });
    }
    for (auto& t : threads) t.join();
  }
  CHECK(spawned.load() == 8 * per_thread);
  CHECK(terminated.load() == 8 * per_thread);
  CHECK(before.load() == after.load());
  CHECK(before.load() >= 2 * 8 * per_thread);  // each task polls at least twice (it yields)
}
