#include "tokio/runtime/detail/blocking_pool.hpp"

#include <algorithm>
#include <mutex>
#include <string>

#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"
#include "tokio/runtime/detail/thread.hpp"

namespace tokio::detail {

BlockingPool::BlockingPool(HandleInner* owner, const Config& cfg, std::size_t thread_cap)
    : owner_(owner), cfg_(cfg), thread_cap_(std::max<std::size_t>(thread_cap, 1)) {}

BlockingPool::~BlockingPool() {
  // Runs when the last reference to the runtime goes, possibly on one of our own threads
  // (it held the last reference). Every other thread has already dropped its reference.
  pthread_t self = pthread_self();
  for (pthread_t th : finished_) {
    if (pthread_equal(th, self)) pthread_detach(th);
    else pthread_join(th, nullptr);
  }
  for (pthread_t th : running_) {
    if (pthread_equal(th, self)) pthread_detach(th);
    else pthread_join(th, nullptr);
  }
}

void BlockingPool::spawn_task(TaskHeader* t, bool mandatory) {
  std::unique_lock<Mutex> lk(mu_);
  // From begin_shutdown on, only mandatory tasks (stdio writes whose bytes a write already
  // accepted) are still run, until shutdown() starts waiting for the threads; the others
  // are held for shutdown() to cancel (see the header).
  if (stopped_) {
    lk.unlock();
    task_reject(t);
    return;
  }
  // In flight from now until it ran or was cancelled (holds a paused clock's auto-advance).
  owner_->driver.blocking_in_flight.fetch_add(1, std::memory_order_acq_rel);
  if (shutdown_ && !mandatory) {
    held_.push_back(Job{t, nullptr, nullptr, false});
    return;
  }
  Action a = submit(Job{t, nullptr, nullptr, mandatory});
  lk.unlock();
  try {
    act(a, t);
  } catch (...) {
    owner_->driver.blocking_in_flight.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
}

void BlockingPool::spawn_mandatory(void (*fn)(void*), void* arg) {
  std::unique_lock<Mutex> lk(mu_);
  ++num_mandatory_;  // counted from submission, so metrics never see a worker as blocking
  Action a = submit(Job{nullptr, fn, arg, true});
  lk.unlock();
  try {
    act(a, nullptr, arg);
  } catch (...) {
    lk.lock();
    --num_mandatory_;
    throw;
  }
}

// Called with mu_ held. What the caller does once it has unlocked: notify an idle thread,
// or start a new one (num_threads_ already counts it).
BlockingPool::Action BlockingPool::submit(Job job) {
  queue_.push_back(job);
  if (num_idle_ > num_notified_) {
    ++num_notified_;
    return Action::kNotify;
  }
  if (num_threads_ >= thread_cap_) return Action::kNone;  // waits for a busy thread
  join_finished();
  ++num_threads_;
  ++num_starting_;
  owner_->ref_inc();  // released by the thread as it exits
  return Action::kSpawn;
}

// Without mu_: notifying after unlocking lets the woken thread take the lock at once, and
// starting a thread (clone, a stack mapping: tens of microseconds) outside it keeps threads
// that finished a job from queueing on the lock meanwhile, unseen as idle, which made every
// later submission start yet another thread (320 threads for 256 reads in flight, in
// fs read_files/fallback). A new thread exits only once registered in running_ (run_thread).
void BlockingPool::act(Action a, TaskHeader* task, void* arg) {
  if (a == Action::kNotify) cv_.notify_one();
  if (a != Action::kSpawn) return;
  pthread_t th;
  try {
    std::string name = cfg_.thread_name_fn ? cfg_.thread_name_fn() : cfg_.thread_name;
    th = spawn_native_thread(name, cfg_.thread_stack_size, [this] { run_thread(); });
  } catch (...) {
    std::lock_guard<Mutex> g(mu_);
    --num_threads_;
    --num_starting_;
    owner_->ref_dec();
    exit_cv_.notify_all();
    // Other threads exist: the job waits for one of them. None: nobody can take it from
    // the queue, so it is taken back and the caller gets the error.
    if (num_threads_ > 0) return;
    auto it = std::find_if(queue_.rbegin(), queue_.rend(),
                           [&](const Job& j) { return j.task == task && (task || j.arg == arg); });
    if (it != queue_.rend()) queue_.erase(std::next(it).base());
    throw;
  }
  std::lock_guard<Mutex> g(mu_);
  running_.push_back(th);
  exit_cv_.notify_all();  // the thread may be waiting to exit until it is registered
}

// Called with mu_ held.
void BlockingPool::join_finished() {
  for (pthread_t th : finished_) pthread_join(th, nullptr);
  finished_.clear();
}

void BlockingPool::run_thread() {
  // Handle::current() works inside spawn_blocking closures, as in Tokio.
  tls.handle = owner_;
  call_thread_hook(cfg_.on_thread_start, "on_thread_start");
  std::unique_lock<Mutex> lk(mu_);
  --num_starting_;
  for (;;) {
    while (!queue_.empty()) {
      Job job = queue_.front();
      queue_.pop_front();
      lk.unlock();
      if (job.task) {
        ++tls.blocking_region;
        job.task->vt()->run(job.task);
        --tls.blocking_region;
        owner_->driver.blocking_in_flight.fetch_sub(1, std::memory_order_acq_rel);
      } else {
        job.fn(job.arg);
      }
      lk.lock();
      if (job.task == nullptr) --num_mandatory_;
    }
    if (shutdown_) break;
    sigpipe_refresh_thread();  // before it waits for work, as a worker's park does
    ++num_idle_;
    auto deadline = std::chrono::steady_clock::now() + cfg_.thread_keep_alive;
    bool timed_out = false;
    for (;;) {
      if (num_notified_ > 0) {
        --num_notified_;
        break;
      }
      if (shutdown_) break;
      if (timed_out) break;
      auto left = deadline - std::chrono::steady_clock::now();
      timed_out = left.count() <= 0 ||
                  (!cv_.wait_for(mu_, std::chrono::duration_cast<std::chrono::nanoseconds>(left)) &&
                   std::chrono::steady_clock::now() >= deadline);
    }
    --num_idle_;
    if (queue_.empty() && (shutdown_ || timed_out)) break;
  }
  // Exit: hand our pthread_t to whoever joins next, then drop our runtime reference. The
  // thread that started us registers us in running_ after pthread_create returns, without
  // the lock in between: wait for that, so no pthread_t is joined twice or never.
  pthread_t self = pthread_self();
  auto mine = [&] {
    return std::find_if(running_.begin(), running_.end(),
                        [&](pthread_t th) { return pthread_equal(th, self); });
  };
  while (mine() == running_.end()) exit_cv_.wait(mu_);
  auto it = mine();
  finished_.push_back(*it);
  running_.erase(it);
  --num_threads_;
  exit_cv_.notify_all();
  lk.unlock();
  call_thread_hook(cfg_.on_thread_stop, "on_thread_stop");
  tls.handle = nullptr;
  owner_->ref_dec();
}

void BlockingPool::begin_shutdown() {
  std::lock_guard<Mutex> lk(mu_);
  if (!shutdown_) {
    shutdown_ = true;
    // Queued spawn_blocking tasks that have not started are set aside (held_), to be
    // cancelled by shutdown() once the runtime's tasks are gone. Tokio documents that a
    // blocking task not yet started may be cancelled by a shutdown; its idle threads
    // cancel what they find queued, though one busy at that moment runs what is queued
    // behind it (at max_blocking_threads, every queued closure: a race there, cancelled
    // here, whatever the threads are doing). Mandatory jobs (worker loops,
    // fs writes) still run so they can observe shutdown, and so do mandatory tasks (stdio
    // writes: bytes a write accepted reach the fd). So do, as in Tokio, the jobs a thread
    // was started for and has not reached yet: it runs the queue before it looks at the
    // shutdown, so a spawn_blocking issued just before the runtime goes is not dropped
    // for having lost a race with that thread's start.
    std::deque<Job> keep;
    std::size_t spare = num_starting_;
    for (Job& j : queue_) {
      if (j.mandatory) {
        keep.push_back(j);
      } else if (spare > 0) {
        --spare;
        keep.push_back(j);
      } else {
        held_.push_back(j);
      }
    }
    queue_.swap(keep);
    cv_.notify_all();
  }
}

void BlockingPool::shutdown(std::optional<std::chrono::nanoseconds> timeout) {
  begin_shutdown();
  std::unique_lock<Mutex> lk(mu_);
  stopped_ = true;
  std::deque<Job> cancelled;
  cancelled.swap(held_);
  lk.unlock();
  for (Job& j : cancelled) {
    task_reject(j.task);
    owner_->driver.blocking_in_flight.fetch_sub(1, std::memory_order_acq_rel);
  }
  lk.lock();
  pthread_t self = pthread_self();
  auto only_self_left = [&] {
    return num_threads_ == 0 ||
           (num_threads_ == 1 && running_.size() == 1 && pthread_equal(running_[0], self));
  };
  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::hours(1));
  while (!only_self_left()) {
    if (!timeout) {
      exit_cv_.wait(mu_);
      continue;
    }
    auto left = deadline - std::chrono::steady_clock::now();
    if (left.count() <= 0) break;
    exit_cv_.wait_for(mu_, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
  }
  join_finished();
}

std::size_t BlockingPool::num_threads() const {
  std::lock_guard<Mutex> g(mu_);
  return num_threads_;
}
std::size_t BlockingPool::num_idle_threads() const {
  std::lock_guard<Mutex> g(mu_);
  return num_idle_;
}
std::size_t BlockingPool::queue_depth() const {
  std::lock_guard<Mutex> g(mu_);
  std::size_t n = 0;
  for (const Job& j : queue_) n += j.task != nullptr;
  return n;
}
std::size_t BlockingPool::num_mandatory_running() const {
  std::lock_guard<Mutex> g(mu_);
  return num_mandatory_;
}

}  // namespace tokio::detail
