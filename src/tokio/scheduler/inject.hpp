#pragma once
// Inject: the scheduler-wide FIFO of tasks woken or spawned from outside a worker, and the
// overflow target of full local queues. An intrusive singly linked list through
// TaskHeader::queue_next under a spin-then-futex Mutex; `len_` is kept beside it so emptiness checks on the
// hot path are a single relaxed load without the lock.

#include <atomic>
#include <cstddef>
#include <mutex>

#include "tokio/core/sync_primitives.hpp"
#include "tokio/task/header.hpp"

namespace tokio::detail {

class Inject {
 public:
  bool is_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const noexcept { return len_.load(std::memory_order_acquire); }

  // `remote`: counts toward the remote_schedule_count metric (a wake or spawn from outside
  // a worker, as opposed to a local-queue overflow).
  void push(TaskHeader* t, bool remote = false) noexcept {
    t->queue_next = nullptr;
    std::lock_guard<Mutex> g(mu_);
    if (tail_) tail_->queue_next = t;
    else head_ = t;
    tail_ = t;
    len_.store(len_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    if (remote) remote_.store(remote_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint64_t remote_pushes() const noexcept { return remote_.load(std::memory_order_relaxed); }
  // Appends first..last (already linked through queue_next), n tasks.
  void push_batch(TaskHeader* first, TaskHeader* last, std::size_t n) noexcept {
    last->queue_next = nullptr;
    std::lock_guard<Mutex> g(mu_);
    if (tail_) tail_->queue_next = first;
    else head_ = first;
    tail_ = last;
    len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  TaskHeader* pop() noexcept {
    if (is_empty()) return nullptr;
    std::lock_guard<Mutex> g(mu_);
    return pop_locked();
  }
  // Pops up to n tasks into out[]; returns how many.
  std::size_t pop_n(TaskHeader** out, std::size_t n) noexcept {
    if (is_empty()) return 0;
    std::lock_guard<Mutex> g(mu_);
    std::size_t k = 0;
    while (k < n) {
      TaskHeader* t = pop_locked();
      if (!t) break;
      out[k++] = t;
    }
    return k;
  }

 private:
  TaskHeader* pop_locked() noexcept {
    TaskHeader* t = head_;
    if (!t) return nullptr;
    head_ = t->queue_next;
    if (!head_) tail_ = nullptr;
    t->queue_next = nullptr;
    len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_release);
    return t;
  }

  Mutex mu_;
  TaskHeader* head_ = nullptr;
  TaskHeader* tail_ = nullptr;
  std::atomic<std::size_t> len_{0};
  std::atomic<uint64_t> remote_{0};  // written under mu_
};

}  // namespace tokio::detail
