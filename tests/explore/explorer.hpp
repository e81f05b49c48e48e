#pragma once
// The schedule explorer (issue 11 §2, in the spirit of Tokio's loom): runs a scenario of two
// or three logical threads as real threads, one at a time, and switches between them at
// the preemption points of detail::Atomic (src/tokio/core/detail/atomic.hpp) according to a
// schedule. Built only into build/<cxx>/explore, with TOKIO_SCHEDULE_EXPLORER defined.
//
// Modes:
//  - Exhaustive: depth-first search over every schedule with at most `preemption_bound`
//    preemptions (switching away from a thread that could go on; switching at a spin point
//    or when a thread ends is free), as CHESS and loom's bounded mode do. Most concurrency
//    bugs need one or two preemptions.
//  - Random: `iterations` schedules; at each point the running thread is preempted with a
//    probability drawn per schedule, from a generator seeded with `seed`. Same seed, same
//    schedules.
// A failure (a failed check(); every thread left waiting for another, i.e. a lost wakeup
// or a deadlock; or `max_steps` points in one execution, a livelock) stops the search and
// reports the schedule, a string that TOKIO_EXPLORE_REPLAY=<schedule> replays (the run()
// of whichever case is selected then runs that one schedule).
//
// Invariant the search relies on: a scenario is deterministic given its schedule. Only one
// thread runs at a time and the threads communicate only through memory, so this holds as
// long as a scenario does not branch on time, addresses or other threads' real progress.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace explore {

enum class Mode { Exhaustive, Random };

struct Config {
  Mode mode = Mode::Exhaustive;
  int preemption_bound = 2;      // exhaustive mode
  uint64_t seed = 1;             // random mode
  long iterations = 2000;        // random mode
  long max_executions = 500000;  // exhaustive mode: stop (complete = false) beyond this
  long max_steps = 200000;       // preemption points in one execution before giving up
};

struct Result {
  bool failed = false;
  std::string message;   // the first failed check
  std::string schedule;  // replay string of the failing execution
  long executions = 0;
  bool complete = true;  // exhaustive mode: every schedule within the bound was run
};

// One execution of a scenario: fresh shared state (captured by the functions), the thread
// bodies (2 or 3) and a final check run once every thread has returned.
struct Execution {
  std::vector<std::function<void()>> threads;
  std::function<void()> finally;
};

// Runs executions of make() (called once per execution) under `cfg`.
Result run(const Config& cfg, const std::function<Execution()>& make);

// Records a failed invariant (the first one of an execution is reported). Callable from
// the thread bodies and from `finally`; the execution goes on, so a check must not be
// followed by code that crashes when it failed.
void check(bool ok, const char* what);

// A thread waiting for another (a wake flag, a counter) calls this in its loop: the
// explorer switches to another thread (detail::explore_spin_point) and runs the spinner
// again only after some other thread wrote an atomic of the seam, ended, or called
// progress(). So a scenario whose threads wait on their own bookkeeping (plain
// std::atomic counters, outside the seam) calls progress() after writing it.
void spin();
void progress();

// While one lives, the calling thread's atomics are not preemption points: for set-up
// whose atomics differ between executions (a thread-local cache created by the first
// one), which would make the search see a different scenario each time.
class Quiet {
 public:
  Quiet() noexcept;
  ~Quiet();
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  void* saved_;
};

// "seed=<n> bound=<k> ..." line for logs; the run time of a case is printed by the tests.
std::string describe(const Config& cfg, const Result& r);

}  // namespace explore
