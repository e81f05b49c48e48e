#pragma once
// The blocking_* forms of the sync primitives (internal helper): drive one leaf awaitable
// to completion on a plain thread, parking the thread between polls.
//
// The leaf is polled with the thread's own waker (a ParkThread, runtime/detail/park.hpp),
// exactly as a task would poll it; a wake unparks the thread, which polls again. Calling
// this from a thread that drives a runtime (a worker, or inside block_on) would block every
// task of that worker, so it throws std::logic_error there, as Tokio panics. Inside
// spawn_blocking and block_in_place it is allowed.

#include "tokio/core/context.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

// Throws std::logic_error naming `what` on a thread that drives a runtime.
void assert_blocking_allowed(const char* what);
// The calling thread's waker (borrowed) and its park: returns after a wake-up of it (or
// spuriously).
Wakeable* blocking_thread_waker();
void blocking_thread_park() noexcept;

// Polls `leaf` until it is ready, then returns its result.
template <class L>
decltype(auto) blocking_wait(L& leaf, const char* what) {
  assert_blocking_allowed(what);
  task::Context cx(blocking_thread_waker());
  while (!leaf.poll(cx)) blocking_thread_park();
  return leaf.await_resume();
}

}  // namespace tokio::detail
