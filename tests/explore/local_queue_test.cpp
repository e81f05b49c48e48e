// LocalQueue (runtime/detail/local_queue.hpp) under the explorer: the owner pushes and pops
// while one or two other workers steal. Invariant: every task pushed is taken exactly
// once (popped by the owner, stolen, moved to the inject queue on overflow, or still
// queued at the end): none lost, none duplicated.
#include <cstdint>
#include <memory>
#include <vector>

#include "cases.hpp"
#include "tokio/runtime/detail/local_queue.hpp"

namespace {

using tokio::detail::Inject;
using tokio::detail::LocalQueue;
using tokio::detail::TaskHeader;

// Tasks are never dereferenced by the queues: distinct fake addresses stand for them.
TaskHeader* fake_task(int id) {
  return reinterpret_cast<TaskHeader*>(static_cast<uintptr_t>(id + 1) * 64);
}
int task_id(TaskHeader* t) { return static_cast<int>(reinterpret_cast<uintptr_t>(t) / 64) - 1; }

struct QueueWorld {
  int ntasks;
  LocalQueue owner;
  LocalQueue dst[2];  // the stealers' own queues
  Inject inject;
  std::vector<int> taken[3];  // per thread: what it got (each thread writes its own)

  explicit QueueWorld(int n) : ntasks(n) {}

  // A stealer: steal once into its queue, then run (pop) whatever it took.
  void steal(int self) {
    uint32_t n = 0;
    LocalQueue& mine = dst[self - 1];
    if (TaskHeader* t = owner.steal_into(mine, &n)) {
      taken[self].push_back(task_id(t));
      while (TaskHeader* u = mine.pop()) taken[self].push_back(task_id(u));
    }
  }

  // Once every thread has returned: collect what is left and count each task.
  void final_check() {
    std::vector<int> seen(static_cast<std::size_t>(ntasks), 0);
    auto count = [&](int id) {
      explore::check(id >= 0 && id < ntasks, "local queue: a task that was never pushed");
      if (id >= 0 && id < ntasks) ++seen[static_cast<std::size_t>(id)];
    };
    for (auto& v : taken) {
      for (int id : v) count(id);
    }
    while (TaskHeader* t = owner.pop()) count(task_id(t));
    for (auto& d : dst) {
      while (TaskHeader* t = d.pop()) count(task_id(t));
    }
    while (TaskHeader* t = inject.pop()) count(task_id(t));
    for (int c : seen) {
      explore::check(c != 0, "local queue: a task was lost");
      explore::check(c <= 1, "local queue: a task was taken twice");
    }
  }
};

// Owner: push 0, push 1, pop, push 2, pop, pop; `stealers` others steal once each.
explore::Execution push_pop_vs_steal(int stealers) {
  auto w = std::make_shared<QueueWorld>(3);
  explore::Execution ex;
  ex.threads.push_back([w] {
    w->owner.push_back_or_overflow(fake_task(0), w->inject);
    w->owner.push_back_or_overflow(fake_task(1), w->inject);
    if (TaskHeader* t = w->owner.pop()) w->taken[0].push_back(task_id(t));
    w->owner.push_back_or_overflow(fake_task(2), w->inject);
    for (int i = 0; i < 2; ++i) {
      if (TaskHeader* t = w->owner.pop()) w->taken[0].push_back(task_id(t));
    }
  });
  for (int s = 1; s <= stealers; ++s) ex.threads.push_back([w, s] { w->steal(s); });
  ex.finally = [w] { w->final_check(); };
  return ex;
}

// The queue starts full but one (filled before the threads run); the owner pushes two
// more, which overflows half the queue into the inject queue, while a stealer takes half.
explore::Execution overflow_vs_steal() {
  constexpr int kPre = LocalQueue::kCapacity - 1;
  auto w = std::make_shared<QueueWorld>(kPre + 2);
  for (int i = 0; i < kPre; ++i) w->owner.push_back_or_overflow(fake_task(i), w->inject);
  explore::Execution ex;
  ex.threads.push_back([w] {
    w->owner.push_back_or_overflow(fake_task(kPre), w->inject);
    w->owner.push_back_or_overflow(fake_task(kPre + 1), w->inject);
    if (TaskHeader* t = w->owner.pop()) w->taken[0].push_back(task_id(t));
  });
  ex.threads.push_back([w] { w->steal(1); });
  ex.finally = [w] { w->final_check(); };
  return ex;
}

}  // namespace

TEST_CASE("explore: local queue, owner push/pop vs one stealer") {
  explore::expect_pass("queue 1 stealer, bound 3", explore::exhaustive(3),
                       [] { return push_pop_vs_steal(1); });
}

TEST_CASE("explore: local queue, owner push/pop vs two stealers") {
  explore::expect_pass("queue 2 stealers, bound 2", explore::exhaustive(2),
                       [] { return push_pop_vs_steal(2); });
  explore::expect_pass("queue 2 stealers, random", explore::randomized(2000),
                       [] { return push_pop_vs_steal(2); });
}

TEST_CASE("explore: local queue overflow into the inject queue vs a stealer") {
  explore::expect_pass("queue overflow, bound 1", explore::exhaustive(1), overflow_vs_steal);
  explore::expect_pass("queue overflow, random", explore::randomized(300), overflow_vs_steal);
}
