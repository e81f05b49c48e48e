// watch: which version each receiver has seen, through clones, borrow() and
// mark_unchanged() (a mutation run found each of these untested in one direction:
// a clone starting at version 0, borrow() never reporting a change, mark_unchanged()
// doing nothing all passed the suites).
#include <string>

#include "sync_test_util.hpp"

namespace watch = tokio::sync::watch;

TEST_CASE("watch: a clone of a receiver has seen what the original had seen") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.send(1).has_value());
  (void)rx.borrow_and_update();
  auto copy = rx.clone();
  CHECK_FALSE(copy.has_changed().value());
  auto c = test::polled(copy.changed());
  CHECK_FALSE(c.poll());  // nothing new for it either
  CHECK(tx.send(2).has_value());
  CHECK(c.woken());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  // A clone taken before the original saw a value sees it as new too.
  auto unseen = rx.clone();
  CHECK(unseen.has_changed().value());
  CHECK(rx.has_changed().value());
}

TEST_CASE("watch: borrow() reports a value new to the receiver and leaves it unseen") {
  auto [tx, rx] = watch::channel<std::string>("init");
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK(tx.send("one").has_value());
  {
    auto r = rx.borrow();
    CHECK(r.has_changed());
    CHECK(*r == "one");
  }
  CHECK(rx.has_changed().value());  // borrow() did not mark it seen
  CHECK(rx.borrow().has_changed());
  (void)rx.borrow_and_update();
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(tx.borrow().has_changed());  // always false for the sender's borrow
}

TEST_CASE("watch: mark_unchanged() marks the current value seen") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.send(1).has_value());
  CHECK(rx.has_changed().value());
  rx.mark_unchanged();
  CHECK_FALSE(rx.has_changed().value());
  auto c = test::polled(rx.changed());
  CHECK_FALSE(c.poll());  // waits for the next value
  CHECK(tx.send(2).has_value());
  CHECK(c.poll());
  CHECK(c.take().has_value());
  CHECK(*rx.borrow() == 2);
}
