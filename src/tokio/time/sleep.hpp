#pragma once
// time::sleep, time::sleep_until and the Sleep awaitable.
//
//   co_await tokio::time::sleep(100ms);
//
//   auto s = tokio::time::sleep(1s);          // a reusable deadline, e.g. in a select loop
//   for (;;) {
//     auto r = co_await tokio::select(s, rx.recv());
//     if (r.index() == 0) { ...; s.reset(tokio::time::Instant::now() + 1s); }
//   }
//
// A Sleep completes once its deadline has passed on the runtime clock, never earlier; the
// driver works in whole milliseconds, so the deadline is rounded up to the next one. It
// costs nothing until first awaited (no lock, no registration); awaiting registers it with
// the timer wheel of the runtime awaiting it (which need not be the one it was made in, and
// the one it was made in may be gone), destroying it unregisters it (cancellation).
// Awaiting a completed Sleep completes at once. Durations too large to represent
// (hours::max()) saturate to a deadline ~30 years away; negative durations mean no wait.
//
// Must be created or first awaited on a runtime built with enable_time() (else
// std::logic_error). A runtime's shutdown wakes every Sleep registered with it (destroying
// one later is safe) without completing it: awaited again on a running runtime, it waits
// there for the same deadline; awaited where no runtime runs any more (a Handle::block_on
// of the dropped runtime, say), it throws std::runtime_error, as Tokio panics.
// Each await draws one unit of the task's coop budget.

#include <chrono>
#include <coroutine>

#include "tokio/core/detail/await_claim.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/time/instant.hpp"
#include "tokio/time/detail/timer.hpp"

namespace tokio::time {

class TOKIO_MUST_AWAIT Sleep {
 public:
  using tokio_awaitable = void;

  explicit Sleep(Instant deadline) : timer_(deadline, "time::sleep") {}
  // A copy has the same deadline and is not registered (the original keeps its place).
  Sleep(const Sleep& o) noexcept = default;
  // Takes the other Sleep's deadline (and runtime); this one is unregistered first.
  Sleep& operator=(const Sleep& o) noexcept = default;

  // The instant at which the sleep completes.
  Instant deadline() const noexcept { return timer_.deadline(); }
  // True once the deadline has passed (or the Sleep fired).
  bool is_elapsed() const noexcept { return timer_.is_elapsed(); }
  // Moves the deadline, earlier or later; a pending await waits for the new one. A
  // completed Sleep becomes awaitable again.
  void reset(Instant deadline) noexcept { timer_.reset(deadline); }

  // Poll form (Rust's Future::poll): true once elapsed, else the waker of `cx` is
  // registered. Draws one unit of coop budget. Throws std::runtime_error when the runtime
  // shut down before the deadline and the poll comes from no running runtime (see below).
  bool poll(task::Context& cx) {
    if (!poll_ready(cx)) return false;
    timer_.throw_if_errored("time::sleep");
    return true;
  }

  // The awaiter refers to the Sleep (an lvalue Sleep is awaited in place, never copied:
  // its registration survives a lost select).
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter> {
   public:
    static constexpr const char* kLeafName = "time::sleep";  // in task dumps
    explicit Awaiter(Sleep& s) : s_(&s), claim_(s.awaited_, "a time::Sleep") {}
    bool poll(task::Context& cx) noexcept { return s_->poll_ready(cx); }
    bool try_poll() noexcept { return s_->try_ready(); }
    void before_first_poll() { s_->timer_.resolve_or_throw("time::sleep"); }
    void await_resume() const { s_->timer_.throw_if_errored("time::sleep"); }
    // In task dumps: "time::sleep, 250 ms left".
    int64_t dump_ms_left() const noexcept { return s_->timer_.dump_ms_left(); }

   private:
    Sleep* s_;
    detail::AwaitClaim claim_;
  };
  // Throws std::logic_error when the Sleep is already being awaited elsewhere.
  Awaiter operator co_await() & { return Awaiter(*this); }
  Awaiter operator co_await() && { return Awaiter(*this); }

 private:
  bool poll_ready(task::Context& cx) noexcept {
    if (!detail::coop_poll_proceed(cx)) return false;
    return timer_.poll(cx);
  }
  // poll_ready without registering: a deadline not yet passed arms no timer.
  bool try_ready() noexcept {
    return detail::coop_try([&] { return timer_.try_poll(); });
  }

  detail::Timer timer_;
  detail::AwaitFlag awaited_;  // an Awaiter exists (core/detail/await_claim.hpp)
};

// Waits until `deadline`.
inline Sleep sleep_until(Instant deadline) { return Sleep(deadline); }

// Waits for `d` (any std::chrono duration).
template <class Rep, class Period>
Sleep sleep(std::chrono::duration<Rep, Period> d) {
  return Sleep(detail::deadline_after(d));
}

}  // namespace tokio::time
