#pragma once
// DeferList: wake-ups postponed until the scheduler has run everything else ready and
// polled its drivers (yield_now; see defer_wake in core/detail/poll.hpp). Each scheduler
// worker owns one and points tls.defer at it while it runs tasks.

#include <vector>

#include "tokio/core/waker.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

struct DeferList {
  std::vector<Wakeable*> wakers;   // cloned references (block_on roots)
  std::vector<TaskHeader*> tasks;  // yielded tasks, each with its runner's reference
  bool empty() const noexcept { return wakers.empty() && tasks.empty(); }
};

// Wakes (and empties) a defer list.
void wake_deferred(DeferList& d) noexcept;

}  // namespace tokio::detail
