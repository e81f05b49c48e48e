#pragma once
// Inject: the scheduler-wide FIFO of tasks woken or spawned from outside a worker, and the
// overflow target of full local queues. A growable ring of task pointers under a
// spin-then-futex Mutex (tasks carry no queue link: the header stays at 80 bytes); `len_` is
// kept beside it so the emptiness checks on the hot path are a single load without the lock.
// The ring grows when a backlog fills it (a push allocates only then) and, once drained,
// gives a burst's growth back (core/detail/ring.hpp).

#include <atomic>
#include <cstddef>
#include <mutex>

#include "tokio/core/detail/ring.hpp"
#include "tokio/core/config.hpp"
#include "tokio/core/detail/futex.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

// Cache-line aligned (and so padded): every remote wake pushes here from a foreign thread
// while workers pop, and the line must not also hold fields of its neighbours in the
// scheduler (or a user's data next to the runtime's allocation), which would turn each
// push into misses on unrelated reads.
class alignas(kCacheLine) Inject {
 public:
  bool is_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const noexcept { return len_.load(std::memory_order_acquire); }

  // `remote`: counts toward the remote_schedule_count metric (a wake or spawn from outside
  // a worker, as opposed to a local-queue overflow). Once closed (the scheduler shut down)
  // the queue refuses tasks and releases the queue reference it was handed: the task is
  // already cancelled or being cancelled, and nobody will drain the queue again.
  void push(TaskHeader* t, bool remote = false) noexcept {
    {
      std::lock_guard<Mutex> g(mu_);
      if (!closed_) {
        ring_.push_back(t);
        len_.store(ring_.size(), std::memory_order_release);
        if (remote)
          remote_.store(remote_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return;
      }
    }
    task_drop_ref(t);
  }
  // Refuses further pushes and returns every queued task (their queue references pass to
  // the caller).
  template <class F>
  void close_and_drain(F&& each) noexcept {
    PtrRing<TaskHeader> taken(1);
    {
      std::lock_guard<Mutex> g(mu_);
      closed_ = true;
      while (TaskHeader* t = ring_.pop_front()) taken.push_back(t);
      len_.store(0, std::memory_order_release);
    }
    while (TaskHeader* t = taken.pop_front()) each(t);
  }
  void push_batch(TaskHeader* const* tasks, std::size_t n) noexcept {
    {
      std::lock_guard<Mutex> g(mu_);
      if (!closed_) {
        for (std::size_t i = 0; i < n; ++i) ring_.push_back(tasks[i]);
        len_.store(ring_.size(), std::memory_order_release);
        return;
      }
    }
    for (std::size_t i = 0; i < n; ++i) task_drop_ref(tasks[i]);
  }
  uint64_t remote_pushes() const noexcept { return remote_.load(std::memory_order_relaxed); }

  TaskHeader* pop() noexcept {
    if (is_empty()) return nullptr;
    std::lock_guard<Mutex> g(mu_);
    TaskHeader* t = ring_.pop_front();
    len_.store(ring_.size(), std::memory_order_release);
    return t;
  }
  // Pops up to n tasks into out[]; returns how many.
  std::size_t pop_n(TaskHeader** out, std::size_t n) noexcept {
    if (is_empty()) return 0;
    std::lock_guard<Mutex> g(mu_);
    std::size_t k = 0;
    while (k < n) {
      TaskHeader* t = ring_.pop_front();
      if (!t) break;
      out[k++] = t;
    }
    len_.store(ring_.size(), std::memory_order_release);
    return k;
  }

 private:
  Mutex mu_;
  bool closed_ = false;              // under mu_
  PtrRing<TaskHeader> ring_{256};    // under mu_
  std::atomic<std::size_t> len_{0};  // ring_.size(), written under mu_
  std::atomic<uint64_t> remote_{0};  // written under mu_
};

}  // namespace tokio::detail
