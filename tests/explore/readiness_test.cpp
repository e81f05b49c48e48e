// ScheduledIo's readiness word (io/detail/scheduled_io.hpp) under the explorer: a task
// reads from a model socket (poll_ready, read, clear_readiness on EAGAIN with the tick it
// observed) while the driver makes data arrive and sets readiness, twice. Invariant: no
// lost readiness. A clear racing with a new edge never hides it, so the task reads both
// arrivals; had it been hidden, the task would wait for a wake that never comes, which the
// explorer reports (every thread waiting).
#include <atomic>
#include <memory>

#include "cases.hpp"
#include "tokio/io/detail/scheduled_io.hpp"

namespace {

using tokio::detail::IoWaiter;
using tokio::detail::ScheduledIo;
constexpr uint32_t kReadable = tokio::io::Ready::kReadable;
constexpr int kArrivals = 2;

struct IoWorld {
  ScheduledIo io;
  std::atomic<int> data{0};  // the kernel's receive queue (bookkeeping, outside the seam)
  explore::CountingWaker waker;
  int consumed = 0;
  bool broken = false;  // clear with the tick read at clear time (the bug the tick prevents)

  // The task: wait for READABLE, "read" (take what arrived), clear on EAGAIN.
  void reader() {
    IoWaiter w(kReadable);
    tokio::task::Context cx(&waker);
    while (consumed < kArrivals) {
      uint32_t snap = 0;
      int seen = waker.wakes.load();
      if (!io.poll_ready(cx, w, snap)) {
        while (waker.wakes.load() == seen) explore::spin();  // parked until the driver wakes
        continue;
      }
      int n = data.exchange(0);
      if (n == 0) {
        if (broken) {
          snap = (snap & ~ScheduledIo::kTickMask) | (io.load() & ScheduledIo::kTickMask);
        }
        io.clear_readiness(snap, kReadable);  // EAGAIN
        continue;
      }
      consumed += n;
    }
    io.remove_waiter(w);
  }

  // The driver: data arrives, then epoll reports the edge.
  void driver() {
    for (int i = 0; i < kArrivals; ++i) {
      data.fetch_add(1);
      io.set_readiness(kReadable);
    }
  }
};

// Two waiters of one task (the first lands in the direct slot, the second in the list)
// are cancelled while the driver wakes them twice: whichever side gets there first, each
// waker reference is released exactly once and each waiter is woken at most once.
struct CancelWorld {
  ScheduledIo io;
  explore::CountingWaker slot_waker, list_waker;
  void owner() {
    IoWaiter w1(kReadable), w2(kReadable);
    uint32_t snap = 0;
    tokio::task::Context c1(&slot_waker), c2(&list_waker);
    (void)io.poll_ready(c1, w1, snap);
    (void)io.poll_ready(c2, w2, snap);
    io.remove_waiter(w1);
    io.remove_waiter(w2);
  }
  void driver() {
    io.set_readiness(kReadable);
    io.set_readiness(kReadable);  // a second edge may find the slot already emptied
  }
};

explore::Execution cancel_vs_wake() {
  auto w = std::make_shared<CancelWorld>();
  explore::Execution ex;
  ex.threads.push_back([w] { w->owner(); });
  ex.threads.push_back([w] { w->driver(); });
  ex.finally = [w] {
    explore::check(w->slot_waker.refs.load() == 0, "slot waiter: waker leaked or dropped twice");
    explore::check(w->list_waker.refs.load() == 0, "list waiter: waker leaked or dropped twice");
    explore::check(w->slot_waker.wakes.load() <= 1 && w->list_waker.wakes.load() <= 1,
                   "cancel vs wake: a waiter was woken twice");
  };
  return ex;
}

explore::Execution read_vs_edges(bool broken) {
  auto w = std::make_shared<IoWorld>();
  w->broken = broken;
  explore::Execution ex;
  ex.threads.push_back([w] { w->reader(); });
  ex.threads.push_back([w] { w->driver(); });
  ex.finally = [w] {
    explore::check(w->consumed == kArrivals, "readiness: data read twice or never");
    explore::check(w->waker.refs.load() == 0, "readiness: a waker reference was leaked");
  };
  return ex;
}

}  // namespace

TEST_CASE("explore: readiness word, set with tick vs clear on EAGAIN") {
  auto make = [] { return read_vs_edges(false); };
  explore::expect_pass("readiness, bound 3", explore::exhaustive(3), make);
  explore::expect_pass("readiness, random", explore::randomized(3000), make);
}

TEST_CASE("explore: cancelling slot and list waiters while the driver wakes them") {
  explore::expect_pass("cancel vs wake, bound 3", explore::exhaustive(3), cancel_vs_wake);
  explore::expect_pass("cancel vs wake, random", explore::randomized(3000), cancel_vs_wake);
}

TEST_CASE("explore: the explorer catches a clear that ignores the tick (lost readiness)") {
  // The reader clears READABLE with the tick current at clear time, so an edge delivered
  // between its EAGAIN and the clear is wiped out: it then waits for a wake that never
  // comes, and the explorer reports every thread waiting.
  auto r = explore::report("broken clear, bound 2", explore::exhaustive(2),
                           [] { return read_vs_edges(true); });
  CHECK(r.failed);
  CHECK(r.message.find("waiting") != std::string::npos);
}
