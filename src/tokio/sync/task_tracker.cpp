#include "tokio/sync/task_tracker.hpp"

namespace tokio::sync {

TaskTracker::TaskTracker() : s_(std::make_shared<detail::TaskTrackerShared>()) {}

Task<> TaskTracker::wait() const { return wait_on(s_); }

Task<> TaskTracker::wait_on(std::shared_ptr<detail::TaskTrackerShared> s) {
  for (;;) {
    auto n = s->idle.notified();  // before the read: see the comment at the top
    if (s->state.load(std::memory_order_acquire) == detail::TaskTrackerShared::CLOSED) {
      co_return;
    }
    co_await std::move(n);
  }
}

}  // namespace tokio::sync
