#pragma once
// The blocking pool: threads for spawn_blocking closures, for the multi-thread runtime's
// workers, and for worker hand-offs during block_in_place.
//
// One mutex-protected FIFO and a condition variable, as in Tokio (spin-then-futex Mutex). A job goes to an idle
// thread when there is one; otherwise a new thread starts while fewer than `thread_cap`
// exist (started after the lock is released: unlike Tokio, which starts it under its lock);
// otherwise it waits in the queue. Idle threads exit after `keep_alive`.
// Shutdown cancels queued spawn_blocking tasks that have not started (their JoinHandles
// report cancellation), lets running ones finish, and waits for the threads (bounded by
// shutdown_timeout). It comes in two steps around the runtime cancelling its tasks:
// begin_shutdown sets the unstarted tasks aside (held_: no thread starts them) and holds
// new ones there too, and shutdown cancels them, by which time the tasks awaiting them are
// gone. Cancelled at once, they would wake their awaiting tasks with the cancellation (an
// fs call failing with ECANCELED), which workers not yet stopped would poll: a task that
// retries on error spun until its worker stopped. Pool threads hold a reference on the
// runtime's shared state, so a thread that outlives shutdown_timeout never touches freed
// memory.

#include <pthread.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "tokio/core/detail/futex.hpp"
#include "tokio/runtime/detail/config.hpp"
#include "tokio/runtime/detail/owned_tasks.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

struct HandleInner;

class BlockingPool {
 public:
  BlockingPool(HandleInner* owner, const Config& cfg, std::size_t thread_cap);
  ~BlockingPool();

  // Queues a spawn_blocking task (its header holds TaskState::INITIAL). Once shutdown
  // begins the task is held, not started, and cancelled by shutdown(), unless `mandatory`
  // (stdio writes: taken until shutdown() waits for the threads, and run); once shutdown()
  // runs it is cancelled right away.
  void spawn_task(TaskHeader* t, bool mandatory = false);
  // Runs fn(arg) on a pool thread even during shutdown (workers and core hand-offs).
  // Throws std::system_error when no thread can be started.
  void spawn_mandatory(void (*fn)(void*), void* arg);

  // Stops starting work: queued tasks, mandatory ones excepted, and those submitted from
  // now on are held (never started) until shutdown(). Waits for nothing. Idempotent. A
  // runtime's shutdown calls it first, so that threads its workers or finished jobs leave
  // free do not start queued closures while it cancels its tasks.
  void begin_shutdown();
  // begin_shutdown, then cancels the held tasks, then waits up to `timeout` (nullopt:
  // forever) for running jobs. Idempotent.
  void shutdown(std::optional<std::chrono::nanoseconds> timeout);

  std::size_t num_threads() const;
  std::size_t num_idle_threads() const;
  std::size_t queue_depth() const;
  // Mandatory jobs (worker loops) queued or running: their threads are excluded from the
  // blocking-thread metrics.
  std::size_t num_mandatory_running() const;

 private:
  struct Job {
    TaskHeader* task;  // spawn_blocking task, or null for a mandatory job
    void (*fn)(void*);
    void* arg;
    bool mandatory;  // shutdown leaves it queued, to run (every job; stdio-write tasks)
  };
  enum class Action { kNone, kNotify, kSpawn };
  Action submit(Job job);
  void act(Action a, TaskHeader* task, void* arg = nullptr);
  void run_thread();
  void join_finished();

  HandleInner* owner_;
  const Config& cfg_;
  std::size_t thread_cap_;
  mutable Mutex mu_;
  Condvar cv_;       // idle threads wait here
  Condvar exit_cv_;  // shutdown waits here for threads to exit
  std::deque<Job> queue_;
  std::deque<Job> held_;  // from begin_shutdown: tasks never to start; shutdown cancels them
  std::size_t num_threads_ = 0;
  std::size_t num_idle_ = 0;
  std::size_t num_notified_ = 0;  // idle threads already promised a job
  // Threads started for a job that have not taken the lock yet: each runs the queue
  // before it looks at shutdown_, so shutdown() leaves them that many queued jobs.
  std::size_t num_starting_ = 0;
  std::size_t num_mandatory_ = 0;
  bool shutdown_ = false;  // begin_shutdown ran: new non-mandatory tasks are held
  bool stopped_ = false;   // shutdown() is waiting for the threads: all new tasks cancelled
  std::vector<pthread_t> running_;   // threads still alive
  std::vector<pthread_t> finished_;  // exited threads waiting to be joined
};

}  // namespace tokio::detail
