// sync::oneshot (the minimal channel the runtime benchmarks need).
#include <memory>
#include <thread>

#include "test_util.hpp"

using tokio::Task;
namespace oneshot = tokio::sync::oneshot;

TEST_CASE("oneshot send then receive, and receive then send") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<std::unique_ptr<int>>();
    CHECK(tx.send(std::make_unique<int>(3)).has_value());
    auto v = co_await std::move(rx);
    REQUIRE(v.has_value());
    CHECK(**v == 3);

    auto [tx2, rx2] = oneshot::channel<int>();
    auto h = tokio::spawn(
        [](oneshot::Sender<int> tx) -> Task<> {
          co_await tokio::task::yield_now();
          (void)tx.send(4);
        },
        std::move(tx2));
    CHECK((co_await rx2).value() == 4);
    co_await h;
  }());
}

TEST_CASE("oneshot: dropped sender gives RecvError, dropped receiver fails send") {
  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    { auto t = std::move(tx); }
    auto r = co_await std::move(rx);
    CHECK_FALSE(r.has_value());

    auto [tx2, rx2] = oneshot::channel<int>();
    CHECK_FALSE(tx2.is_closed());
    { auto r2 = std::move(rx2); }
    CHECK(tx2.is_closed());
    auto s = tx2.send(5);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error() == 5);  // the value comes back
  }());
}

TEST_CASE("oneshot try_recv and close") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(rx.try_recv().error() == oneshot::TryRecvError::Empty);
  (void)tx.send(1);
  CHECK(rx.try_recv().value() == 1);
  CHECK(rx.try_recv().error() == oneshot::TryRecvError::Closed);

  auto [tx2, rx2] = oneshot::channel<int>();
  rx2.close();
  CHECK(tx2.is_closed());
  CHECK_FALSE(tx2.send(1).has_value());
}

TEST_CASE("oneshot values are destroyed exactly once in every drop order") {
  std::atomic<int> drops{0};
  for (int order = 0; order < 3; ++order) {
    auto [tx, rx] = oneshot::channel<test::DropCounter>();
    (void)tx.send(test::DropCounter(drops));
    if (order == 0) {
      auto t = std::move(tx);
      auto r = std::move(rx);
    } else if (order == 1) {
      auto r = std::move(rx);
    } else {
      auto v = rx.try_recv();
    }
  }
  CHECK(drops.load() == 3);
}

TEST_CASE("oneshot across threads: send races with the receiver suspending") {
  auto rt = test::multi_thread(2);
  const int n = static_cast<int>(test::scaled(5000));
  int ok = rt.block_on([](int n) -> Task<int> {
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      auto [tx, rx] = oneshot::channel<int>();
      std::thread t([tx = std::move(tx), i]() mutable { (void)tx.send(i); });
      ok += (co_await std::move(rx)).value() == i;
      t.join();
    }
    co_return ok;
  }(n / 10));
  CHECK(ok == n / 10);
}

TEST_CASE("a oneshot::Receiver awaited by two operations at once is an error") {
  auto rt = test::multi_thread(2);
  rt.block_on([]() -> Task<> {
    auto [tx, rx] = oneshot::channel<int>();
    CHECK_THROWS_WITH_AS((void)co_await tokio::join(rx, rx),
                         doctest::Contains("a oneshot::Receiver awaited by two operations at once"),
                         std::logic_error);
    // Refused before either was polled: the receiver still works.
    (void)tx.send(4);
    auto v = co_await rx;
    CHECK(v.value() == 4);
  }());
}
