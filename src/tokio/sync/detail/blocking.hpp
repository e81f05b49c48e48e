#pragma once
// The blocking_* forms of the sync primitives (internal helper): drive one leaf awaitable
// to completion on a plain thread, parking the thread between polls.
//
// The leaf is polled with the thread's ParkThread waker, exactly as a task would poll it;
// a wake unparks the thread, which polls again. Calling this from a thread that drives a
// runtime (a worker, or inside block_on) would block every task of that worker, so it
// throws std::logic_error there, as Tokio panics. Inside spawn_blocking and
// block_in_place it is allowed.

#include <stdexcept>
#include <string>

#include "tokio/runtime/detail/park.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

inline void assert_blocking_allowed(const char* what) {
  const ThreadContext& t = tls;
  if (t.runtime_depth > 0 && t.blocking_region == 0) {
    throw std::logic_error(
        std::string("tokio: ") + what +
        " called from inside an asynchronous runtime: it would block the worker thread. "
        "Await the async form instead, or call it from spawn_blocking, block_in_place or "
        "a plain thread.");
  }
}

// Polls `leaf` until it is ready, then returns its result.
template <class L>
decltype(auto) blocking_wait(L& leaf, const char* what) {
  assert_blocking_allowed(what);
  ParkThread* pt = ParkThread::current();
  task::Context cx(&pt->wakeable);
  while (!leaf.poll(cx)) pt->parker.park();
  return leaf.await_resume();
}

}  // namespace tokio::detail
