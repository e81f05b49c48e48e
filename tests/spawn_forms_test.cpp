// spawn(callable, args...): the callable and the argument copies live in the task's own
// block (runtime/detail/task_cell.hpp) and die with the task, whatever ends it.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "internals.hpp"
#include "test_util.hpp"

using tokio::Task;

namespace spawn_forms {

// Counts live copies, so a test can see exactly when the closure dies.
struct Tracked {
  std::shared_ptr<std::atomic<int>> live;
  explicit Tracked(std::shared_ptr<std::atomic<int>> l) : live(std::move(l)) { ++*live; }
  Tracked(const Tracked& o) : live(o.live) { ++*live; }
  Tracked(Tracked&& o) noexcept : live(o.live) { ++*live; }
  ~Tracked() { --*live; }
};

Task<int> by_value(std::string s, int k) {
  co_await tokio::task::yield_now();
  co_return static_cast<int>(s.size()) + k;
}

Task<int> by_reference(const std::string& s, const std::vector<int>& v) {
  co_await tokio::task::yield_now();  // the references must still be valid here
  co_return static_cast<int>(s.size() + v.size());
}

}  // namespace spawn_forms

using spawn_forms::Tracked;

TEST_CASE("spawn(callable): captures live exactly as long as the task, across repeated spawns") {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto rt = test::multi_thread(2);
  rt.block_on([](std::shared_ptr<std::atomic<int>> live) -> Task<> {
    // The first spawn of a callable type learns its frame size; the later ones take the
    // one-block path. Every one must keep its capture until it finishes.
    for (int round = 0; round < 50; ++round) {
      auto [tx, rx] = tokio::sync::oneshot::channel<int>();
      Tracked t(live);
      auto h = tokio::spawn([t, r = std::move(rx)]() mutable -> Task<int> {
        auto got = co_await std::move(r);  // suspended here: the capture must stay
        co_return got.value_or(-1) + (t.live->load() > 0 ? 1 : 0);
      });
      CHECK(live->load() >= 2);  // ours and the task's copy
      (void)tx.send(round);
      CHECK(co_await h == round + 1);
      CHECK(live->load() == 1);  // the task's copy died with the task
    }
  }(live));
  CHECK(live->load() == 0);
}

TEST_CASE("spawn(callable): aborted before it starts, while suspended, and at shutdown") {
  auto live = std::make_shared<std::atomic<int>>(0);
  {
    auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    rt.block_on([](std::shared_ptr<std::atomic<int>> live) -> Task<> {
      for (int i = 0; i < 20; ++i) {
        auto h = tokio::spawn([t = Tracked(live)]() -> Task<> {
          co_await tokio::time::sleep(std::chrono::hours(1));
        });
        if (i % 2) co_await tokio::task::yield_now();  // let it suspend first
        h.abort();
        auto r = co_await h.result();
        CHECK(!r);
        CHECK(r.error().is_cancelled());
      }
      CHECK(live->load() == 0);
      // Left running: the runtime's shutdown must destroy them, closure included.
      for (int i = 0; i < 10; ++i) {
        tokio::spawn(
            [](Tracked t) -> Task<> {
              (void)t;
              co_await tokio::time::sleep(std::chrono::hours(1));
            },
            Tracked(live))
            .detach();
      }
      co_await tokio::task::yield_now();
    }(live));
  }
  CHECK(live->load() == 0);
}

TEST_CASE("spawn(function, args...): value and reference parameters") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    // All parameters by value: called directly, nothing kept.
    auto direct = tokio::spawn(spawn_forms::by_value, std::string("four"), 3);
    CHECK(co_await direct == 7);
    // Reference parameters point into the copies the task keeps.
    std::vector<int> v{1, 2, 3};
    auto h = tokio::spawn(spawn_forms::by_reference, std::string("ab"), v);
    v.clear();
    CHECK(co_await h == 5);
  }());
}

TEST_CASE("spawn(callable): a callable that throws before returning its task panics the task") {
  auto live = std::make_shared<std::atomic<int>>(0);
  auto rt = test::current_thread();
  rt.block_on([](std::shared_ptr<std::atomic<int>> live) -> Task<> {
    auto thrower = [t = Tracked(live)](int x) -> Task<int> {
      if (x < 0) throw std::invalid_argument("negative");
      return spawn_forms::by_value(std::string(static_cast<std::size_t>(x), 'x'), 0);
    };
    for (int i = 0; i < 3; ++i) {
      // Not a coroutine itself: it runs when the task first runs, and what it throws
      // comes out of the JoinHandle.
      auto bad = tokio::spawn(thrower, -1);
      auto r = co_await bad.result();
      REQUIRE(!r);
      CHECK(r.error().is_panic());
      CHECK_THROWS_AS(r.error().rethrow(), std::invalid_argument);
      auto ok = tokio::spawn(thrower, 4);
      CHECK(co_await ok == 4);
    }
    CHECK(live->load() == 1);  // only `thrower` itself
  }(live));
  CHECK(live->load() == 0);
}

TEST_CASE("spawn(callable): a callable that spawns before starting its own coroutine") {
  auto rt = test::multi_thread(2);
  int total = rt.block_on([]() -> Task<int> {
    int sum = 0;
    for (int i = 0; i < 20; ++i) {
      std::string tag(static_cast<std::size_t>(i), 'a');
      auto outer = [tag](int k) -> Task<int> {
        co_await tokio::task::yield_now();
        co_return static_cast<int>(tag.size()) + k;
      };
      // A plain (non-coroutine) callable spawning another callable, then returning a task.
      auto h = tokio::spawn(
          [outer](int k) {
            auto inner = tokio::spawn(outer, k);
            inner.detach();
            return outer(k);
          },
          1);
      sum += co_await h;
    }
    co_return sum;
  }());
  CHECK(total == 20 * 1 + (19 * 20) / 2);
}

// A lambda without captures whose parameters are values needs no closure: the arguments go
// into the frame's parameters and the task is one block, as spawn(coroutine(args...)) is
// (with g++ and clang++ alike).
TEST_CASE("spawn(callable): a capture-free by-value lambda is spawned like a plain coroutine") {
  auto by_value = [](std::shared_ptr<int> x, int y) -> Task<long> { co_return *x + y; };
  auto capturing = [k = 1](std::shared_ptr<int> x) -> Task<long> { co_return *x + k; };
  auto by_ref = [](const std::shared_ptr<int>& x) -> Task<long> { co_return *x; };
  auto generic = [](auto x) -> Task<long> { co_return x; };
  auto mut = [](std::string s) mutable -> Task<long> { co_return static_cast<long>(s.size()); };
  using SP = std::shared_ptr<int>;
  static_assert(tokio::detail::stateless_by_value<decltype(by_value), SP, int>());
  static_assert(tokio::detail::stateless_by_value<decltype(by_value), SP, short>());  // scalar
  static_assert(tokio::detail::stateless_by_value<decltype(mut), std::string>());
  static_assert(!tokio::detail::stateless_by_value<decltype(capturing), SP>());
  static_assert(!tokio::detail::stateless_by_value<decltype(by_ref), SP>());
  static_assert(!tokio::detail::stateless_by_value<decltype(generic), long>());
  // A parameter of another type than its class argument may view the argument's copy.
  auto view = [](std::string_view s) -> Task<long> { co_return static_cast<long>(s.size()); };
  static_assert(!tokio::detail::stateless_by_value<decltype(view), std::string>());
  static_assert(tokio::detail::stateless_by_value<decltype(view), const char*>());
  auto rt = test::current_thread();  // the task runs only when this one awaits
  rt.block_on([](auto by_value, auto mut) -> Task<> {
    auto x = std::make_shared<int>(40);
    auto h = tokio::spawn(by_value, x, 2);
    // No closure in front: the plain coroutine task cell.
    CHECK(h.raw_header()->wakeable.vtable == &tokio::detail::TaskCellOps<long, void>::vtable.waker);
    CHECK(x.use_count() == 2);  // the frame's parameter holds the only other reference
    CHECK(co_await h == 42);
    CHECK(x.use_count() == 1);  // gone with the frame
    CHECK(co_await tokio::spawn(mut, std::string("four")) == 4);
    // Many at once, from a callable that dies right after each spawn.
    std::vector<tokio::task::JoinHandle<long>> hs;
    for (int i = 0; i < 100; ++i) hs.push_back(tokio::spawn(by_value, x, i));
    long sum = 0;
    for (auto& j : hs) sum += co_await j;
    CHECK(sum == 100 * 40 + 99 * 100 / 2);
  }(by_value, mut));
}

TEST_CASE("spawn(callable): one allocation holds the callable, the header and the frame") {
#if defined(__clang__)
  // Clang does not pass a lambda's object to the promise's operator new, so the callable
  // form keeps its two-frame shape there (README, "What a task costs").
  MESSAGE("clang: one-block spawn of lambdas not available");
#else
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    struct Probe {
      long payload[3] = {1, 2, 3};
    };
    auto f = [p = Probe()](std::shared_ptr<int> x) -> Task<long> {
      co_return p.payload[0] + p.payload[2] + *x;
    };
    using F = decltype(f);
    auto first = tokio::spawn(f, std::make_shared<int>(10));  // learns the frame size
    CHECK(co_await first == 14);
    std::size_t n = tokio::detail::g_spawn_frame_size<F, std::shared_ptr<int>>.load();
    CHECK(n > 0);
    auto h = tokio::spawn(f, std::make_shared<int>(20));
    // The header sits right after the closure and right before the frame.
    auto* header = reinterpret_cast<char*>(h.raw_header());
    using C = tokio::detail::SpawnClosure<F, std::shared_ptr<int>>;
    using Ops = tokio::detail::TaskCellOps<long, C>;
    auto* closure = reinterpret_cast<C*>(header - Ops::kClosureBytes);
    CHECK(closure->f(std::make_shared<int>(0)).valid());  // a live callable lives there
    CHECK(co_await h == 24);
  }());
#endif
}

namespace spawn_forms {

// A destructor that throws (allowed with noexcept(false)); cancellation must still free
// everything and report what it threw.
struct ThrowsOnDestroy {
  std::atomic<int>* destroyed;
  ~ThrowsOnDestroy() noexcept(false) {
    destroyed->fetch_add(1);
    throw std::runtime_error("thrown by a destructor during cancellation");
  }
};

Task<> holds_throwing(std::atomic<int>* destroyed, std::atomic<int>* live) {
  Tracked t(std::shared_ptr<std::atomic<int>>(std::shared_ptr<void>(), live));
  ThrowsOnDestroy boom{destroyed};
  co_await tokio::time::sleep(std::chrono::hours(1));
}

}  // namespace spawn_forms

TEST_CASE(
    "a destructor that throws during cancellation: everything freed, the exception reported") {
  std::atomic<int> destroyed{0};
  std::atomic<int> live{0};
  {
    auto rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
    rt.block_on([](std::atomic<int>* destroyed, std::atomic<int>* live) -> Task<> {
      // abort
      auto h = tokio::spawn(spawn_forms::holds_throwing(destroyed, live));
      co_await tokio::task::yield_now();
      h.abort();
      auto r = co_await h.result();
      REQUIRE(!r);
      CHECK(r.error().is_cancelled());
      // losing a select
      auto sel = co_await tokio::select(spawn_forms::holds_throwing(destroyed, live),
                                        tokio::time::sleep(std::chrono::milliseconds(1)));
      CHECK(sel.index() == 1);
      // an elapsed timeout
      auto to = co_await tokio::time::timeout(std::chrono::milliseconds(1),
                                              spawn_forms::holds_throwing(destroyed, live));
      CHECK(!to.has_value());
      // runtime shutdown
      tokio::spawn(spawn_forms::holds_throwing(destroyed, live)).detach();
      co_await tokio::task::yield_now();
    }(&destroyed, &live));
  }
  CHECK(destroyed.load() == 4);
  CHECK(live.load() == 0);  // the locals around the throwing one were destroyed too
}

TEST_CASE("f, args... forms: spawn_blocking, JoinSet::spawn_blocking, poll_fn") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto counter = std::make_shared<std::atomic<int>>(0);
    // The shape README recommends instead of a capturing lambda inside the co_await.
    auto same_runtime = tokio::task::spawn_blocking(
        [](tokio::runtime::Handle h, std::shared_ptr<std::atomic<int>> c) {
          c->fetch_add(1);
          return h == tokio::runtime::Handle::current();
        },
        tokio::runtime::Handle::current(), counter);
    CHECK(co_await same_runtime);

    tokio::task::JoinSet<int> set;
    for (int i = 0; i < 4; ++i) {
      set.spawn_blocking([](int k, std::string s) { return k + static_cast<int>(s.size()); }, i,
                         std::string("xy"));
    }
    int sum = 0;
    for (;;) {
      auto r = co_await set.join_next();
      if (!r) break;
      sum += r->value();
    }
    CHECK(sum == (0 + 1 + 2 + 3) + 4 * 2);

    // poll_fn(f, args...): the arguments live in the awaitable across polls.
    int polls = 0;
    auto pending_twice = tokio::task::poll_fn(
        [](tokio::task::Context& cx, int& n,
           std::shared_ptr<std::atomic<int>>& c) -> std::optional<int> {
          if (++n < 3) {
            cx.wake_by_ref();
            return std::nullopt;
          }
          return c->load() + n;
        },
        polls, counter);
    CHECK(co_await pending_twice == 1 + 3);
    CHECK(counter->load() == 1);
  }());
}

namespace spawn_forms_lifetime {

// Counts live copies; a View keeps a pointer to the Owner it was made from.
struct Owner {
  std::atomic<int>* live;
  explicit Owner(std::atomic<int>& l) : live(&l) { live->fetch_add(1); }
  Owner(const Owner& o) : live(o.live) { live->fetch_add(1); }
  ~Owner() { live->fetch_sub(1); }
  int value() const { return 7; }
};
struct View {
  const Owner* owner;
  View(const Owner& o) : owner(&o) {}  // NOLINT: implicit, as std::string_view's is
};
Task<int> read_view(View v) {
  co_await tokio::task::yield_now();
  co_return v.owner->value();
}

struct Service {
  std::atomic<int>* live;
  int base;
  Service(std::atomic<int>& l, int b) : live(&l), base(b) { live->fetch_add(1); }
  Service(const Service& o) : live(o.live), base(o.base) { live->fetch_add(1); }
  ~Service() { live->fetch_sub(1); }
  Task<int> handle(int x) {
    co_await tokio::task::yield_now();
    co_return base + x;
  }
};

}  // namespace spawn_forms_lifetime

// spawn(f, args...) keeps the argument copies as long as the task when the frame might not
// own what it uses: a member function (its frame keeps only `this`, which points at the
// object argument or into what a shared_ptr argument owns) or a parameter of another type
// than its class argument (a view of it). Both took the one-block path once and the copies
// died with the spawn statement (found by a new-user hunt: use after free under ASan).
TEST_CASE(
    "spawn(f, args...): a member function's object and a viewed argument live as long as the "
    "task") {
  using namespace spawn_forms_lifetime;
  static_assert(!tokio::detail::plain_function_owns_arguments<Task<int> (*)(View), Owner>());
  static_assert(tokio::detail::plain_function_owns_arguments<Task<int> (*)(int), long>());
  auto rt = test::current_thread();  // a spawned task runs only when this one awaits
  rt.block_on([]() -> Task<> {
    std::atomic<int> live{0};
    {
      auto h = tokio::spawn(&Service::handle, std::make_shared<Service>(live, 60), 5);
      CHECK(live.load() == 1);  // the shared_ptr argument's copy keeps the object
      CHECK(co_await h == 65);
      CHECK(live.load() == 0);  // released with the task
    }
    {
      auto h = tokio::spawn(&Service::handle, Service(live, 30), 4);
      CHECK(live.load() == 1);  // the object argument's copy
      CHECK(co_await h == 34);
      CHECK(live.load() == 0);
    }
    {
      tokio::task::JoinSet<int> set;
      set.spawn(&Service::handle, std::make_shared<Service>(live, 10), 1);
      CHECK(live.load() == 1);
      auto r = co_await set.join_next();
      REQUIRE(r.has_value());
      CHECK(r->value() == 11);
      CHECK(live.load() == 0);
    }
    {
      auto h = tokio::spawn(read_view, Owner(live));
      CHECK(live.load() == 1);  // the copy the View parameter points at
      CHECK(co_await h == 7);
      CHECK(live.load() == 0);
      auto lambda = [](View v) -> Task<int> {
        co_await tokio::task::yield_now();
        co_return v.owner->value() * 2;
      };
      auto h2 = tokio::spawn(lambda, Owner(live));
      CHECK(live.load() == 1);
      CHECK(co_await h2 == 14);
      CHECK(live.load() == 0);
    }
  }());
}
