// The blocking_* forms' thread waiting (sync/detail/blocking.hpp).
#include "tokio/sync/detail/blocking.hpp"

#include <stdexcept>
#include <string>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/park.hpp"

namespace tokio::detail {

void assert_blocking_allowed(const char* what) {
  const ThreadContext& t = tls;
  if (t.runtime_depth > 0 && t.blocking_region == 0) {
    throw std::logic_error(
        std::string("tokio: ") + what +
        " called from inside an asynchronous runtime: it would block the worker thread. "
        "Await the async form instead, or call it from spawn_blocking, block_in_place or "
        "a plain thread.");
  }
}

Wakeable* blocking_thread_waker() { return &ParkThread::current()->wakeable; }

void blocking_thread_park() noexcept { ParkThread::current()->parker.park(); }

}  // namespace tokio::detail
