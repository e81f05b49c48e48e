#pragma once
// The stall detector (Builder::stall_threshold): a watchdog thread that notices a worker
// stuck inside one task's poll (a blocking call in async code) and reports the task.
//
// Each thread that polls a runtime's tasks (a multi-thread worker, the thread holding a
// current-thread core) owns a StallProbe while it does, registered with the runtime's
// StallWatchdog. The poll path (harness.cpp) only stores into the probe:
//   `polls`   count of polls begun on this thread (wraps; compared for equality only);
//   `polling` ident word of the task whose poll is running (TaskHeader::ident: its id, or
//             for a named task where its name and id are), 0 between polls;
//   `resumed` the poll function of the leaf the task was resumed from (names where).
// All three are written by the owning thread only, relaxed: the watchdog samples them, and
// a sample taken across a poll boundary at worst delays a report by one period.
// The watchdog wakes every threshold/4; a probe whose `polls` has not moved while
// `polling` stayed the same non-zero word for at least the threshold is a stall: reported
// once per stalled poll, at most one report per second per runtime (later ones in that
// second are only counted, and the next report says how many were held back).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

// What StallProbe::polling holds while a current-thread runtime polls its block_on future
// (not a task: no id). A task's ident word never equals it (ids stay below 2^63 - 1).
inline constexpr uint64_t kStallBlockOnRoot = ~uint64_t{0};

// StallProbe::worker of a multi-thread runtime's block_on thread (not a worker).
inline constexpr uint32_t kStallBlockOnThread = ~uint32_t{0};

struct StallProbe {
  std::atomic<uint64_t> polls{0};
  std::atomic<uint64_t> polling{0};
  std::atomic<bool (*)(Pollable*, task::Context&) noexcept> resumed{nullptr};
  uint32_t worker = 0;

  // Around one poll by this probe's thread (relaxed stores: the watchdog only samples).
  // begin returns what was being polled around it (a LocalSet polls inside a poll), for end.
  uint64_t begin(uint64_t ident, bool (*leaf)(Pollable*, task::Context&) noexcept) noexcept {
    uint64_t outer = polling.load(std::memory_order_relaxed);
    resumed.store(leaf, std::memory_order_relaxed);
    polling.store(ident, std::memory_order_relaxed);
    polls.store(polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return outer;
  }
  void end(uint64_t outer) noexcept {
    polls.store(polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    polling.store(outer, std::memory_order_relaxed);
  }

  // Watchdog thread only.
  uint64_t seen_polls = 0;
  uint64_t seen_task = 0;
  std::chrono::steady_clock::time_point since{};
  bool reported = false;
};

class StallWatchdog {
 public:
  explicit StallWatchdog(std::chrono::nanoseconds threshold);
  ~StallWatchdog();
  StallWatchdog(const StallWatchdog&) = delete;
  StallWatchdog& operator=(const StallWatchdog&) = delete;

  void add(StallProbe* p);
  void remove(StallProbe* p);
  uint64_t stalls() const noexcept { return stalls_.load(std::memory_order_relaxed); }

 private:
  void run();
  void check(std::chrono::steady_clock::time_point now);
  // One line naming the stalls held back by the one-report-a-second limit (under mu_).
  void report_held_back();
  static std::string describe(uint64_t polling);
  static std::string thread_of(uint32_t worker);

  std::chrono::nanoseconds threshold_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<StallProbe*> probes_;
  std::atomic<uint64_t> stalls_{0};
  std::chrono::steady_clock::time_point last_report_{};
  uint64_t held_back_ = 0;
  // The first few held-back stalls, as " task <id> (<name>) on worker <n>" (under mu_).
  std::string held_back_names_;
  static constexpr uint64_t kHeldBackNamed = 8;
  std::thread thread_;
};

// Registers a probe for the calling thread's polls for a scope (tls.worker->stall).
struct WorkerContext;
struct StallScope {
  StallScope(StallWatchdog* w, StallProbe& p, uint32_t worker);
  ~StallScope();
  StallScope(const StallScope&) = delete;
  StallScope& operator=(const StallScope&) = delete;
  StallWatchdog* w;
  StallProbe* p;
  WorkerContext* ctx;
};

// Registers a probe that is not a worker's for a scope (a multi-thread runtime's block_on
// thread); `w` null: the detector is off, nothing is registered.
struct BlockOnWatch {
  BlockOnWatch(StallWatchdog* wd, StallProbe& probe) : w(wd), p(&probe) {
    if (w) w->add(p);
  }
  ~BlockOnWatch() {
    if (w) w->remove(p);
  }
  BlockOnWatch(const BlockOnWatch&) = delete;
  BlockOnWatch& operator=(const BlockOnWatch&) = delete;
  StallWatchdog* w;
  StallProbe* p;
};

// Readable name of a leaf type from its poll function ("" when unknown): the type as the
// compiler spells it, without the tokio:: and detail:: qualifiers.
std::string leaf_name(bool (*poll_fn)(Pollable*, task::Context&) noexcept);
// The same from the leaf type's entry (null: "").
std::string leaf_name(const LeafName* e);

}  // namespace tokio::detail
