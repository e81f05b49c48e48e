// BatchSemaphore (sync/detail/batch_semaphore.hpp) under the explorer, through AcquireOp as
// the awaitables use it: three threads acquire (queueing, partial grants, FIFO hand-over)
// and release, or one closes the semaphore while two wait. Invariants:
//  - permits are conserved: at the end the semaphore holds exactly its initial permits;
//  - never more permits held at once than exist;
//  - no lost wakeup: a queued acquirer is woken when served or closed (a waiter that is
//    never woken spins until the explorer's step limit, a failure);
//  - every waker reference the semaphore took is released.
#include <atomic>
#include <memory>

#include "cases.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"

namespace {

using tokio::detail::AcquireOp;
using tokio::detail::BatchSemaphore;
using PollResult = BatchSemaphore::PollResult;

struct SemWorld {
  std::size_t total;
  BatchSemaphore sem;
  std::atomic<std::size_t> held{0};
  explore::CountingWaker wakers[3];

  explicit SemWorld(std::size_t n) : total(n), sem(n, BatchSemaphore::Unchecked{}) {}

  // Acquires n permits (waiting for a wake while pending), holds them, releases them.
  // Returns false when the semaphore was closed.
  bool acquire_release(int self, std::size_t n) {
    explore::CountingWaker& wk = wakers[self];
    bool ok;
    {
      AcquireOp op(&sem, n);
      int seen = wk.wakes.load();
      PollResult r = op.poll(&wk);
      while (r == PollResult::Pending) {
        while (wk.wakes.load() == seen) explore::spin();  // parked until woken
        seen = wk.wakes.load();
        r = op.poll(&wk);
      }
      ok = r == PollResult::Ready;
      if (ok) op.take();
    }
    if (!ok) return false;
    std::size_t now = held.fetch_add(n) + n;
    explore::check(now <= total, "semaphore: more permits held than exist");
    held.fetch_sub(n);
    sem.release(n);
    return true;
  }

  void final_check() {
    explore::check(sem.available_permits() == total, "semaphore: permits not conserved");
    for (auto& w : wakers) {
      explore::check(w.refs.load() == 0, "semaphore: a waker reference was leaked");
    }
  }
};

// 2 permits; acquires of 2, 1 and 1.
explore::Execution three_acquirers() {
  auto w = std::make_shared<SemWorld>(2);
  explore::Execution ex;
  ex.threads.push_back([w] { explore::check(w->acquire_release(0, 2), "semaphore: closed?"); });
  ex.threads.push_back([w] { explore::check(w->acquire_release(1, 1), "semaphore: closed?"); });
  ex.threads.push_back([w] { explore::check(w->acquire_release(2, 1), "semaphore: closed?"); });
  ex.finally = [w] { w->final_check(); };
  return ex;
}

// 1 permit; two acquire (2 and 1: the first can only be partly served) while a third
// closes the semaphore. Permits still come back after close.
explore::Execution acquire_vs_close() {
  auto w = std::make_shared<SemWorld>(1);
  explore::Execution ex;
  ex.threads.push_back([w] { (void)w->acquire_release(0, 1); });
  ex.threads.push_back([w] { (void)w->acquire_release(1, 1); });
  ex.threads.push_back([w] {
    w->sem.close();
    explore::check(w->sem.is_closed(), "semaphore: close() did not stick");
  });
  ex.finally = [w] { w->final_check(); };
  return ex;
}

}  // namespace

TEST_CASE("explore: batch semaphore, three acquirers and releases") {
  explore::expect_pass("semaphore 3 acquirers, bound 2", explore::exhaustive(2), three_acquirers);
  explore::expect_pass("semaphore 3 acquirers, random", explore::randomized(3000), three_acquirers);
}

TEST_CASE("explore: batch semaphore, acquire and release vs close") {
  explore::expect_pass("semaphore close, bound 2", explore::exhaustive(2), acquire_vs_close);
  explore::expect_pass("semaphore close, random", explore::randomized(3000), acquire_vs_close);
}
