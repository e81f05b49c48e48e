// The task state word (runtime/detail/task_state.hpp) under the explorer: a runner polls
// the task from a model run queue while two wakers wake it (by reference and by value) and
// the JoinHandle goes away. Invariants (task_state.hpp):
//  - NOTIFIED while not RUNNING means exactly one queue entry: never two entries at once;
//  - a wake is never lost: every wake is seen by a later poll, so the task completes (it
//    completes once a poll has seen both wakes);
//  - the reference count never underflows and reaches zero exactly once (one dealloc),
//    after which nobody touches the word.
// Also a deliberately broken wake (a load and a store instead of one CAS), which the
// explorer must catch: the proof that these checks can fail.
#include <atomic>
#include <memory>

#include "cases.hpp"
#include "tokio/runtime/detail/task_state_ops.hpp"

namespace {

using tokio::detail::TaskState;

constexpr int kWakes = 2;

// The test's bookkeeping is plain std::atomic (no preemption points): only the state word
// is under test.
struct TaskWorld {
  TaskState st{TaskState::INITIAL + 2 * TaskState::REF_ONE};  // + the two wakers' refs
  std::atomic<int> queued{1};  // queue entries not taken yet (INITIAL holds one)
  std::atomic<int> wakes_done{0};
  std::atomic<int> events{0};  // what a poll observes: a wake happened
  std::atomic<int> deallocs{0};
  bool completed = false;

  void sane(const char* where) {
    (void)where;
    uint64_t s = st.load();
    explore::check(deallocs.load() == 0, "task state: the word was used after dealloc");
    explore::check(TaskState::refs(s) <= 6, "task state: reference count underflow");
  }
  void release(uint64_t n) {
    sane("release");
    if (st.ref_dec_n(n)) deallocs.fetch_add(1);
  }
  void submit() {
    explore::check(queued.fetch_add(1) == 0,
                   "task state: a second queue entry while one was queued (double submit)");
    explore::progress();  // the runner may be waiting for an entry
  }

  // The runner: takes queue entries and polls; a poll completes the task once it has seen
  // every wake, else it returns pending.
  void runner() {
    for (;;) {
      if (queued.load() == 0) {
        if (completed || wakes_done.load() == 2) break;
        explore::spin();
        continue;
      }
      queued.fetch_sub(1);
      sane("to_running");
      auto r = st.to_running(0);
      if (r == TaskState::ToRunning::Failed) {  // complete already: drop the entry's ref
        release(1);
        continue;
      }
      explore::check(r == TaskState::ToRunning::Acquired, "task state: cancelled unexpectedly");
      bool done = events.load() == kWakes;  // the poll
      if (done) {
        uint64_t after = st.to_complete();
        explore::check((after & TaskState::COMPLETE) && !(after & TaskState::RUNNING),
                       "task state: to_complete left the wrong bits");
        completed = true;
        release(2);  // the runner's ref and the owned list's (the task leaves the list)
        continue;
      }
      switch (st.to_idle(0)) {
        case TaskState::ToIdle::OkNotified: submit(); break;  // runner's ref -> the queue
        case TaskState::ToIdle::Ok: break;
        case TaskState::ToIdle::OkDealloc: deallocs.fetch_add(1); break;
        case TaskState::ToIdle::Cancelled: explore::check(false, "task state: cancelled"); break;
      }
    }
  }
};

explore::Execution wake_vs_run() {
  auto w = std::make_shared<TaskWorld>();
  explore::Execution ex;
  ex.threads.push_back([w] { w->runner(); });
  ex.threads.push_back([w] {  // waker A: wake_by_ref, then drop the waker
    w->events.fetch_add(1);
    w->sane("wake_by_ref");
    if (w->st.to_notified_by_ref([] { return uint64_t{0}; }) == TaskState::Notify::Submit)
      w->submit();
    w->wakes_done.fetch_add(1);
    explore::progress();
    w->release(1);
  });
  ex.threads.push_back([w] {  // waker B: wake by value; then the JoinHandle is dropped
    w->events.fetch_add(1);
    w->sane("wake");
    switch (w->st.to_notified_by_val([] { return uint64_t{0}; })) {
      case TaskState::Notify::Submit: w->submit(); break;
      case TaskState::Notify::Dealloc: w->deallocs.fetch_add(1); break;
      case TaskState::Notify::DoNothing: break;
    }
    w->wakes_done.fetch_add(1);
    explore::progress();
    w->sane("drop_join_interest");
    w->st.drop_join_interest();
    w->release(1);
  });
  ex.finally = [w] {
    explore::check(w->completed, "task state: a wake was lost (the task never completed)");
    explore::check(w->deallocs.load() == 1, "task state: dealloc did not happen exactly once");
    explore::check(TaskState::refs(w->st.load()) == 0, "task state: references left over");
    explore::check(w->queued.load() == 0, "task state: a queue entry was left behind");
  };
  return ex;
}

// The broken variant: wake_by_ref as a load then a store (the state word's encoding, but
// not one atomic RMW). Two concurrent wakes of an idle task can both see !NOTIFIED and
// both submit: the double-submit invariant above catches it.
struct BrokenWord {
  tokio::detail::Atomic<uint64_t> word{TaskState::REF_ONE * 3};
  TaskState::Notify wake_by_ref() {
    uint64_t cur = word.load(std::memory_order_acquire);
    if (cur & (TaskState::COMPLETE | TaskState::NOTIFIED)) return TaskState::Notify::DoNothing;
    word.store(cur | TaskState::NOTIFIED | (cur & TaskState::RUNNING ? 0 : TaskState::REF_ONE),
               std::memory_order_release);
    return (cur & TaskState::RUNNING) ? TaskState::Notify::DoNothing : TaskState::Notify::Submit;
  }
};

explore::Execution broken_double_wake() {
  auto w = std::make_shared<BrokenWord>();
  auto submits = std::make_shared<std::atomic<int>>(0);
  explore::Execution ex;
  for (int i = 0; i < 2; ++i) {
    ex.threads.push_back([w, submits] {
      if (w->wake_by_ref() == TaskState::Notify::Submit) submits->fetch_add(1);
    });
  }
  ex.finally = [submits] {
    explore::check(submits->load() == 1,
                   "broken wake: two wakes of an idle task submitted it "
                   "twice");
  };
  return ex;
}

}  // namespace

TEST_CASE("explore: task state, wake by ref and by value vs run, idle, complete") {
  explore::expect_pass("task state, bound 3", explore::exhaustive(3), wake_vs_run);
  explore::expect_pass("task state, random", explore::randomized(3000), wake_vs_run);
}

TEST_CASE("explore: the explorer catches a broken wake (load + store instead of a CAS)") {
  auto r = explore::report("broken wake, bound 1", explore::exhaustive(1), broken_double_wake);
  CHECK(r.failed);
  CHECK(r.message.find("twice") != std::string::npos);
  // No schedule without a preemption shows it: the bug needs the explorer to switch.
  auto r0 = explore::report("broken wake, bound 0", explore::exhaustive(0), broken_double_wake);
  CHECK_FALSE(r0.failed);
  auto rr = explore::report("broken wake, random", explore::randomized(200), broken_double_wake);
  CHECK(rr.failed);
}
