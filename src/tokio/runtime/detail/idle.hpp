#pragma once
// Idle: which multi-thread workers are parked, and how many are searching for work.
//
// `state_` encoding (32 bits):
//   bits 0..15   number of workers in the searching state (stealing / checking inject)
//   bits 16..31  number of workers not parked
// Waking is throttled: nobody is woken while any worker is searching (a searcher that finds
// work wakes the next one itself), and at most half the workers search at once. The
// sleepers list is under a mutex; the counters are read lock-free on the notify fast path.
// The SeqCst operations pair with the run-queue checks of the last searcher to park, so a
// task pushed while every worker parks is always noticed (see notify_if_work_pending).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/futex.hpp"
#include "tokio/runtime/detail/config.hpp"

namespace tokio::detail {

// Cache-line aligned for the same reason as Inject: every wake from outside reads the
// state word with a locked instruction (should_wake).
class alignas(kCacheLine) Idle {
 public:
  static constexpr uint32_t kSearchMask = 0xFFFF;
  static constexpr uint32_t kUnparkShift = 16;
  static_assert(kMaxWorkerThreads <= kSearchMask, "worker counts must fit 16 bits");

  explicit Idle(uint32_t num_workers) : num_workers_(num_workers) {
    state_.store(num_workers << kUnparkShift, std::memory_order_relaxed);
    sleepers_.reserve(num_workers);
  }

  static uint32_t searching(uint32_t s) noexcept { return s & kSearchMask; }
  static uint32_t unparked(uint32_t s) noexcept { return s >> kUnparkShift; }

  // A worker to wake for new work, or nullopt when waking one is not useful.
  std::optional<uint32_t> worker_to_notify() {
    if (!should_wake()) return std::nullopt;
    std::lock_guard<Mutex> g(mu_);
    if (!should_wake() || sleepers_.empty()) return std::nullopt;
    // The woken worker starts out searching and unparked.
    state_.fetch_add(1 | (1u << kUnparkShift), std::memory_order_seq_cst);
    uint32_t w = sleepers_.back();
    sleepers_.pop_back();
    return w;
  }

  // Returns true when this was the last searching worker.
  bool transition_worker_to_parked(uint32_t worker, bool is_searching) {
    std::lock_guard<Mutex> g(mu_);
    uint32_t dec = (1u << kUnparkShift) + (is_searching ? 1 : 0);
    uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
    sleepers_.push_back(worker);
    return is_searching && searching(prev) == 1;
  }

  bool transition_worker_to_searching() noexcept {
    uint32_t s = state_.load(std::memory_order_seq_cst);
    if (2 * searching(s) >= num_workers_) return false;
    // May briefly exceed half under races; the limit only curbs contention.
    state_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }

  // Returns true when this was the last searching worker.
  bool transition_worker_from_searching() noexcept {
    uint32_t prev = state_.fetch_sub(1, std::memory_order_seq_cst);
    return searching(prev) == 1;
  }

  // Takes `worker` off the sleepers list if it is there (it woke for another reason).
  bool unpark_worker_by_id(uint32_t worker) {
    std::lock_guard<Mutex> g(mu_);
    for (std::size_t i = 0; i < sleepers_.size(); ++i) {
      if (sleepers_[i] == worker) {
        sleepers_[i] = sleepers_.back();
        sleepers_.pop_back();
        state_.fetch_add(1u << kUnparkShift, std::memory_order_seq_cst);
        return true;
      }
    }
    return false;
  }

  bool is_parked(uint32_t worker) {
    std::lock_guard<Mutex> g(mu_);
    for (uint32_t w : sleepers_) {
      if (w == worker) return true;
    }
    return false;
  }

  std::vector<uint32_t> all_sleepers() {
    std::lock_guard<Mutex> g(mu_);
    return sleepers_;
  }

 private:
  bool should_wake() noexcept {
    uint32_t s = state_.fetch_add(0, std::memory_order_seq_cst);
    return searching(s) == 0 && unparked(s) < num_workers_;
  }

  std::atomic<uint32_t> state_{0};
  const uint32_t num_workers_;
  Mutex mu_;
  std::vector<uint32_t> sleepers_;
};

}  // namespace tokio::detail
