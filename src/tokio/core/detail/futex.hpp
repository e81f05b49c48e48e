#pragma once
// futex(2) wait and wake on a 32-bit atomic word (out of line: a syscall costs far more
// than the call, and no user TU needs <linux/futex.h>), and a condition variable for
// detail::Mutex.

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/mutex.hpp"

namespace tokio::detail {

// Sleeps while *word == expected (up to rel_timeout when given). Returns false when the
// timeout passed; true on a wake-up, a changed word, or a signal (callers re-check).
bool futex_wait(std::atomic<uint32_t>* word, uint32_t expected,
                const struct timespec* rel_timeout) noexcept;
void futex_wake(std::atomic<uint32_t>* word, int count) noexcept;

// A condition variable for detail::Mutex: a futex sequence word. Waiters are counted so a
// notify with nobody waiting costs no syscall.
class Condvar {
 public:
  void notify_one() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    if (waiters_.load(std::memory_order_seq_cst) > 0) futex_wake(&seq_, 1);
  }
  void notify_all() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    if (waiters_.load(std::memory_order_seq_cst) > 0) futex_wake(&seq_, INT32_MAX);
  }
  // Waits for a notify (or spuriously). `m` is locked on entry and on return.
  void wait(Mutex& m) noexcept { wait_rel(m, nullptr); }
  // Returns false when the timeout passed (spurious returns may report true).
  bool wait_for(Mutex& m, std::chrono::nanoseconds d) noexcept {
    if (d.count() <= 0) return false;
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(d.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(d.count() % 1000000000);
    return wait_rel(m, &ts);
  }

 private:
  bool wait_rel(Mutex& m, const struct timespec* ts) noexcept {
    uint32_t s = seq_.load(std::memory_order_acquire);
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    m.unlock();
    bool woken = futex_wait(&seq_, s, ts);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    m.lock();
    return woken;
  }
  std::atomic<uint32_t> seq_{0};
  std::atomic<uint32_t> waiters_{0};
};

}  // namespace tokio::detail
