#pragma once
// detail::Timer: a deadline plus the wheel entry it registers lazily. The engine shared by
// Sleep, Interval and Timeout.
//
// Construction records the deadline and nothing else: creating and destroying a timer
// that is never polled takes no lock and touches no shared memory. The first poll registers
// it with the polling thread's runtime's driver (or completes it at once when the deadline
// has passed); later polls read the entry's state word and, unless the task's waker
// changed, return without locking. Destruction of a registered timer unlinks it in O(1)
// under the driver lock; of a fired or unregistered one, costs one atomic load. A timer is
// only ever registered with the driver of the thread polling it: polled where no runtime
// with timers runs, it completes with an error instead (kNoRuntime).
//
// A Timer may be copied or moved at any time: the copy has the same deadline and is
// unregistered (a registered timer is linked by address, so the original keeps its place
// in the wheel until it is destroyed).

#include <atomic>
#include <cstdint>

#include "tokio/core/context.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/time/detail/entry.hpp"
#include "tokio/time/instant.hpp"

namespace tokio::detail {

// The time driver of a runtime (time/detail/driver.hpp). Timers reach it through these
// out-of-line calls only; each takes the driver lock or reads the clock, so the call costs
// nothing next to the work.
class TimeDriver;

// The time driver of the calling thread's runtime; null outside any runtime. Throws
// std::logic_error naming `what` when the runtime was built without enable_time.
TimeDriver* current_time_driver(const char* what);
// As above, and outside a runtime a std::logic_error naming `what` as well.
TimeDriver* current_time_driver_or_throw(const char* what);
// As current_time_driver, but never throws: null when there is no runtime or no driver.
TimeDriver* current_time_driver_or_null() noexcept;
// Throws std::logic_error naming `what` when `d`'s runtime has been shut down (a timer
// awaited through a Handle that outlived its Runtime would otherwise complete at once).
void check_time_driver_alive(TimeDriver* d, const char* what);

// Registers `e` (kUnregistered, kOrphaned or kNoRuntime) with the polling thread's
// runtime's time driver, and sets `d` to it, to fire at `deadline`, waking `w` (borrowed;
// the driver keeps its own reference). Returns true instead when the deadline has already
// passed (`e` is kFired), the runtime is shut down (`e` is kOrphaned), or the thread has
// no runtime with timers (`e` stays kOrphaned or becomes kNoRuntime; `d` is left alone);
// `e` is not registered then.
bool timer_register(TimeDriver*& d, TimerEntry& e, time::Instant deadline, Wakeable* w) noexcept;
// Unregisters `e` if it is still registered (any state).
void timer_cancel(TimeDriver* d, TimerEntry& e) noexcept;
bool timer_fire_if_passed(TimeDriver* d, TimerEntry& e, time::Instant deadline) noexcept;
// Replaces the waker of a registered `e`; returns true if `e` has fired meanwhile.
bool timer_set_waker(TimeDriver* d, TimerEntry& e, Wakeable* w) noexcept;
// Moves a registered `e` to `deadline` (see Timer::reset).
void timer_reset(TimeDriver* d, TimerEntry& e, time::Instant deadline) noexcept;
// For a task dump (a leaf's dump_ms_left), from any thread: the milliseconds until a
// registered `e` fires, on the driver's clock, read from `e`'s atomic state word alone; -1
// when it is not registered.
int64_t timer_ms_left(const TimerEntry& e, TimeDriver* d) noexcept;
// The error of a timer polled after its runtime shut down before the deadline, with no
// running runtime to wait in instead (std::runtime_error naming `what`).
[[noreturn]] void throw_timer_orphaned(const char* what);
// The error of a timer polled where no runtime has timers (kNoRuntime): std::logic_error
// naming `what`, saying whether the thread is in a runtime built without enable_time() or
// in none.
[[noreturn]] void throw_timer_no_runtime(const char* what);

class Timer {
 public:
  // Made inside a runtime without timers (or one shut down), throws std::logic_error
  // naming `what` at once; made outside any runtime, binds when first polled. Either way
  // no driver is kept: the first poll registers the timer with the polling thread's
  // runtime and sets driver_, which nothing reads before that (see resolve_or_throw).
  Timer(time::Instant deadline, const char* what) : deadline_(deadline) {
    (void)current_time_driver(what);
  }
  Timer(const Timer& o) noexcept : deadline_(o.deadline_) {}
  Timer& operator=(const Timer& o) noexcept {
    if (this != &o) {
      cancel();
      entry_.state.store(TimerEntry::kUnregistered, std::memory_order_relaxed);
      deadline_ = o.deadline_;
    }
    return *this;
  }
  ~Timer() { cancel(); }

  // Binds an unregistered timer to the runtime awaiting it; throws a clear error outside a
  // runtime, on a runtime without timers, or on one shut down. Called from await_suspend,
  // where throwing is allowed.
  //
  // Why not the runtime it was made in: that runtime may have been dropped since (a Sleep
  // made in one runtime's block_on and awaited in the next), and the driver pointer taken at
  // construction would then be dangling. Holding a reference from construction on would
  // put two atomic operations on a shared counter into every timer made (Tokio's Sleep
  // clones its runtime handle); binding at registration costs a thread-local read. So a
  // timer awaited, or polled, where no runtime with timers runs is an error, even when the
  // runtime it was made in still runs (where Tokio's Sleep would register there).
  // A registered timer's driver is alive: a runtime's shutdown fires (unregisters) every
  // timer in its wheel before the runtime is freed.
  void resolve_or_throw(const char* what) {
    if (TOKIO_LIKELY(!is_registered())) {
      driver_ = current_time_driver_or_throw(what);  // checks timers are on, not shut down
      return;
    }
    check_time_driver_alive(driver_, what);
  }

  // True once the deadline has passed; registers the current waker otherwise. Also true,
  // with errored() set, when the runtime shut down before the deadline and the polling
  // thread has no running runtime to wait in, or when the polling thread has no runtime
  // with timers at all (the caller reports it: throw_if_errored). An orphan polled from a
  // running runtime registers there. No coop budget (the callers account for it).
  bool poll(task::Context& cx) noexcept {
    uint64_t s = entry_.state.load(std::memory_order_acquire);
    if (s == TimerEntry::kFired) return true;
    if (TimerEntry::is_off_wheel(s))
      return timer_register(driver_, entry_, deadline_, cx.raw_waker());
    if (TOKIO_LIKELY(entry_.waker.load(std::memory_order_relaxed) == cx.raw_waker())) return false;
    return timer_set_waker(driver_, entry_, cx.raw_waker());
  }

  // Leaf's try_poll: true when the deadline has passed, found without registering (the
  // timer is then fired); false leaves it as it was. Only a timer bound to its driver
  // (resolve_or_throw) and not yet registered is asked; any other state waits for poll.
  bool try_poll() noexcept {
    uint64_t s = entry_.state.load(std::memory_order_acquire);
    if (s == TimerEntry::kFired) return true;
    if (s != TimerEntry::kUnregistered || driver_ == nullptr) return false;
    return timer_fire_if_passed(driver_, entry_, deadline_);
  }

  // Sets a new deadline. A registered timer moves in the wheel (to a later deadline
  // without the lock) and keeps its waker; a fired one becomes unregistered again.
  void reset(time::Instant deadline) noexcept {
    deadline_ = deadline;
    uint64_t s = entry_.state.load(std::memory_order_acquire);
    if (TimerEntry::is_off_wheel(s)) {
      if (s != TimerEntry::kUnregistered) {
        entry_.state.store(TimerEntry::kUnregistered, std::memory_order_relaxed);
      }
      return;
    }
    timer_reset(driver_, entry_, deadline);
  }

  // Unregisters the timer if it is registered.
  void cancel() noexcept {
    if (TimerEntry::is_off_wheel(entry_.state.load(std::memory_order_acquire))) return;
    timer_cancel(driver_, entry_);
  }

  time::Instant deadline() const noexcept { return deadline_; }
  bool has_fired() const noexcept {
    return entry_.state.load(std::memory_order_acquire) == TimerEntry::kFired;
  }
  // Fired, or the deadline is past on the runtime's clock.
  bool is_elapsed() const noexcept { return has_fired() || deadline_ <= time::Instant::now(); }
  bool is_registered() const noexcept {
    return !TimerEntry::is_off_wheel(entry_.state.load(std::memory_order_acquire));
  }
  // poll() completed it with an error: the runtime shut down before the deadline and no
  // running runtime took the timer over (kOrphaned), or it was polled where no runtime has
  // timers (kNoRuntime).
  bool errored() const noexcept {
    uint64_t s = entry_.state.load(std::memory_order_acquire);
    return s == TimerEntry::kOrphaned || s == TimerEntry::kNoRuntime;
  }
  // After poll() returned true: a timer that completed only because it cannot be served
  // is an error for the awaiting code (Tokio panics there), never a deadline reached.
  void throw_if_errored(const char* what) const {
    uint64_t s = entry_.state.load(std::memory_order_acquire);
    if (TOKIO_UNLIKELY(s == TimerEntry::kOrphaned)) throw_timer_orphaned(what);
    if (TOKIO_UNLIKELY(s == TimerEntry::kNoRuntime)) throw_timer_no_runtime(what);
  }
  // For a dump of a task suspended on this timer (see timer_ms_left).
  int64_t dump_ms_left() const noexcept { return timer_ms_left(entry_, driver_); }

 private:
  TimerEntry entry_;
  time::Instant deadline_;
  TimeDriver* driver_ = nullptr;  // set by registration; read only while registered
};

}  // namespace tokio::detail
