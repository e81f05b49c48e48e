#include "tokio/time/detail/driver.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/time/detail/timer.hpp"

namespace tokio::detail {

// --- the driver stack's calls (runtime/detail/driver.hpp) ---------------------------------
TimeDriver* time_driver_create(const Config& cfg, Driver& owner) {
  return new TimeDriver(cfg, owner);
}
void time_driver_destroy(TimeDriver* d) noexcept { delete d; }
std::optional<std::chrono::nanoseconds> time_driver_before_park(
    TimeDriver* d, std::optional<std::chrono::nanoseconds> timeout) {
  return d->before_park(timeout);
}
void time_driver_after_park(TimeDriver* d) { d->after_park(); }
void time_driver_shutdown(TimeDriver* d) noexcept { d->shutdown(); }

// --- the timers' calls (time/detail/timer.hpp) --------------------------------------------
TimeDriver* current_time_driver(const char* what) {
  HandleInner* h = tls.handle;
  if (!h) return nullptr;
  TimeDriver* t = h->driver.time();
  if (TOKIO_UNLIKELY(!t)) throw_timers_disabled(what);
  check_time_driver_alive(t, what);
  return t;
}

void check_time_driver_alive(TimeDriver* d, const char* what) {
  if (TOKIO_UNLIKELY(d->is_shut_down())) {
    throw std::logic_error(std::string("tokio: ") + what +
                           " on a runtime that has been shut down (its Runtime was dropped or "
                           "shut down while this code still ran on it, through a Handle, a "
                           "block_in_place or a spawn_blocking closure): a timer there would "
                           "never fire");
  }
}

TimeDriver* current_time_driver_or_throw(const char* what) {
  if (TimeDriver* d = current_time_driver(what)) return d;
  throw_no_time_runtime(what);
}

TimeDriver* current_time_driver_or_null() noexcept {
  HandleInner* h = tls.handle;
  return h ? h->driver.time() : nullptr;
}

bool timer_register(TimeDriver*& d, TimerEntry& e, time::Instant deadline, Wakeable* w) noexcept {
  TimeDriver* here = current_time_driver_or_null();
  if (TOKIO_UNLIKELY(!here)) {
    // The owner's own word: nobody else reads an off-wheel entry.
    if (e.state.load(std::memory_order_relaxed) != TimerEntry::kOrphaned) {
      e.state.store(TimerEntry::kNoRuntime, std::memory_order_relaxed);
    }
    return true;
  }
  d = here;
  return d->register_timer(e, deadline, w);
}
void timer_cancel(TimeDriver* d, TimerEntry& e) noexcept { d->cancel_timer(e); }
bool timer_fire_if_passed(TimeDriver* d, TimerEntry& e, time::Instant deadline) noexcept {
  return d->fire_if_passed(e, d->deadline_to_tick(deadline), d->last_observed_tick(), deadline);
}
bool timer_set_waker(TimeDriver* d, TimerEntry& e, Wakeable* w) noexcept {
  return d->set_waker(e, w);
}
int64_t timer_ms_left(const TimerEntry& e, TimeDriver* d) noexcept {
  // Relaxed: the word alone is the answer (the latest deadline tick; a lock-free reset only
  // raises it), and nothing else is read through it.
  uint64_t s = e.state.load(std::memory_order_relaxed);
  if (!d || !TimerEntry::is_tick(s)) return -1;
  int64_t ns = d->tick_to_instant(s).nanos() - d->clock().now().nanos();
  return ns > 0 ? ns / 1000000 : 0;
}

void timer_reset(TimeDriver* d, TimerEntry& e, time::Instant deadline) noexcept {
  uint64_t s = e.state.load(std::memory_order_acquire);
  if (TimerEntry::is_tick(s)) {
    uint64_t when = d->deadline_to_tick(deadline);
    // Later (or equal): raise the tick; the driver re-files the entry when it reaches the
    // old slot. Fails only if the driver is taking the entry right now.
    if (when >= s && e.state.compare_exchange_strong(s, when, std::memory_order_acq_rel,
                                                     std::memory_order_acquire)) {
      return;
    }
  }
  d->reregister(e, deadline);
}

TimeDriver::TimeDriver(const Config& cfg, Driver& owner)
    : owner_(owner),
      clock_(cfg.start_paused),
      start_ns_(clock_.now().nanos()),
      last_tick_(static_cast<uint64_t>(INT64_MAX - start_ns_) / 1000000) {}

TimeDriver::~TimeDriver() = default;

std::optional<std::chrono::nanoseconds> TimeDriver::before_park(
    std::optional<std::chrono::nanoseconds> timeout) {
  using std::chrono::nanoseconds;
  if (timeout && timeout->count() <= 0) return timeout;  // a poll: nothing to plan
  std::lock_guard<std::mutex> g(mu_);
  std::optional<uint64_t> next = wheel_.next_expiration_tick();
  if (clock_.is_paused()) {
    if (owner_.blocking_in_flight.load(std::memory_order_acquire) == 0) {
      // Idle on a paused clock: poll instead of sleeping, then jump to the next timer
      // (or to the end of the requested timeout, whichever is first).
      time::Instant now = clock_.now();
      std::optional<time::Instant> target;
      if (next) target = std::max(now, tick_to_instant(*next));
      if (timeout) {
        time::Instant limit = now.saturating_add(*timeout);
        if (!target || limit < *target) target = limit;
      }
      if (target) {
        advance_to_ = target;
        next_wake_.store(0, std::memory_order_relaxed);
        return nanoseconds(0);
      }
      next_wake_.store(kNone, std::memory_order_relaxed);
      return timeout;
    }
    // spawn_blocking work holds the clock back: virtual deadlines mean nothing in real
    // time, so wait in short real slices until that work is done.
    next_wake_.store(0, std::memory_order_relaxed);
    nanoseconds cap = kInhibitedPoll;
    return timeout ? std::min(*timeout, cap) : cap;
  }
  if (!next) {
    next_wake_.store(kNone, std::memory_order_relaxed);
    return timeout;
  }
  next_wake_.store(std::max<uint64_t>(*next, 1), std::memory_order_relaxed);  // 0 = not parked
  time::Instant when = tick_to_instant(*next);
  nanoseconds d = when.saturating_duration_since(clock_.now());
  return timeout ? std::min(*timeout, d) : d;
}

void TimeDriver::after_park() {
  if (next_wake_.load(std::memory_order_relaxed) != 0) {
    next_wake_.store(0, std::memory_order_relaxed);
  }
  if (advance_to_) {
    // A wake-up during the poll means there is work now: don't jump past it.
    if (!owner_.take_unparked()) clock_.advance_to(*advance_to_);
    advance_to_.reset();
  }
  uint64_t now_tick = instant_to_tick(clock_.now());
  if (now_tick > observed_tick_.load(std::memory_order_relaxed)) {
    observed_tick_.store(now_tick, std::memory_order_relaxed);
  }
  if (now_tick < next_due_.load(std::memory_order_relaxed)) return;
  fire_due(now_tick);
}

template <class Pop, class Outcome, class Finish>
void TimeDriver::fire_entries(Pop pop, Outcome outcome, Finish finish) noexcept {
  Wakeable* batch[kWakeBatch];
  std::size_t n = 0;
  std::unique_lock<std::mutex> lk(mu_);
  while (TimerEntry* e = pop()) {
    Wakeable* w = e->waker.load(std::memory_order_relaxed);
    e->waker.store(nullptr, std::memory_order_relaxed);
    const uint64_t done = outcome(*e);
    // Last access to the entry: its owner may free it as soon as it reads kFired or
    // kOrphaned (acquire in Timer::poll/cancel pairs with this release).
    e->state.store(done, std::memory_order_release);
    if (!w) continue;
    batch[n++] = w;
    if (n == kWakeBatch) {
      lk.unlock();
      wake_all(batch, n);
      n = 0;
      lk.lock();
    }
  }
  finish();
  lk.unlock();
  wake_all(batch, n);
}

void TimeDriver::fire_due(uint64_t now_tick) noexcept {
  fire_entries([&] { return wheel_.poll(now_tick); },
               [](const TimerEntry&) { return TimerEntry::kFired; },
               [&] {
                 std::optional<uint64_t> next = wheel_.next_expiration_tick();
                 next_due_.store(next ? *next : kNone, std::memory_order_relaxed);
               });
}

bool TimeDriver::fire_if_passed(TimerEntry& e, uint64_t when, uint64_t seen,
                                time::Instant deadline) noexcept {
  // Only a deadline near (or before) the last tick the driver saw can have passed
  // already: just then is the clock worth reading. Later ones register; if the driver's
  // view was stale they fire at its next turn, which is never early.
  if (when <= seen + 1 && deadline <= clock_.now()) {
    e.state.store(TimerEntry::kFired, std::memory_order_relaxed);
    return true;
  }
  return false;
}

bool TimeDriver::register_timer(TimerEntry& e, time::Instant deadline, Wakeable* w) noexcept {
  uint64_t when = deadline_to_tick(deadline);
  uint64_t seen = observed_tick_.load(std::memory_order_relaxed);
  if (fire_if_passed(e, when, seen, deadline)) return true;
  w->vtable->clone(w);
  bool unpark = false;
  uint64_t not_queued = TimerEntry::kFired;
  {
    std::lock_guard<std::mutex> g(mu_);
    wheel_.advance_empty(seen);
    // The driver may have processed a later tick meanwhile: then the deadline has passed.
    if (when <= wheel_.elapsed()) {
      // kFired stands
    } else if (shutdown_) {
      not_queued = TimerEntry::kOrphaned;  // the deadline is still ahead
    } else {
      e.waker.store(w, std::memory_order_relaxed);
      e.state.store(when, std::memory_order_relaxed);
      lower_next_due(wheel_.insert(&e, when));
      uint64_t nw = next_wake_.load(std::memory_order_relaxed);
      unpark = nw != 0 && when < nw;
      w = nullptr;
    }
  }
  if (w) {
    w->vtable->drop(w);
    e.state.store(not_queued, std::memory_order_relaxed);
    return true;
  }
  if (unpark) owner_.unpark();
  return false;
}

void TimeDriver::cancel_timer(TimerEntry& e) noexcept {
  Wakeable* w;
  {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t s = e.state.load(std::memory_order_relaxed);
    if (TimerEntry::is_off_wheel(s)) return;
    wheel_.remove(&e);
    w = e.waker.load(std::memory_order_relaxed);
    e.waker.store(nullptr, std::memory_order_relaxed);
    e.state.store(TimerEntry::kUnregistered, std::memory_order_relaxed);
  }
  if (w) w->vtable->drop(w);
}

bool TimeDriver::set_waker(TimerEntry& e, Wakeable* w) noexcept {
  w->vtable->clone(w);
  bool fired;
  {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t s = e.state.load(std::memory_order_relaxed);
    fired = s == TimerEntry::kFired || s == TimerEntry::kOrphaned;
    if (!fired) w = e.waker.exchange(w, std::memory_order_relaxed);
  }
  if (w) w->vtable->drop(w);  // the replaced waker, or ours when it fired meanwhile
  return fired;
}

void TimeDriver::reregister(TimerEntry& e, time::Instant deadline) noexcept {
  time::Instant now = clock_.now();
  Wakeable* wake = nullptr;
  bool unpark = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t s = e.state.load(std::memory_order_relaxed);
    if (TimerEntry::is_off_wheel(s)) {
      e.state.store(TimerEntry::kUnregistered, std::memory_order_relaxed);
      return;
    }
    wheel_.remove(&e);
    uint64_t when = deadline_to_tick(deadline);
    const bool passed = deadline <= now || when <= wheel_.elapsed();
    if (passed || shutdown_) {
      wake = e.waker.load(std::memory_order_relaxed);
      e.waker.store(nullptr, std::memory_order_relaxed);
      e.state.store(passed ? TimerEntry::kFired : TimerEntry::kOrphaned, std::memory_order_release);
    } else {
      e.state.store(when, std::memory_order_relaxed);
      lower_next_due(wheel_.insert(&e, when));
      uint64_t nw = next_wake_.load(std::memory_order_relaxed);
      unpark = nw != 0 && when < nw;
    }
  }
  if (wake) wake->vtable->wake(wake);
  if (unpark) owner_.unpark();
}

void TimeDriver::shutdown() noexcept {
  // From here on registrations see shutdown_ and do not queue; every timer already
  // registered is unlinked and woken now, so nothing waits on a dead runtime and no
  // timer's destructor touches this driver afterwards.
  {
    std::lock_guard<std::mutex> g(mu_);
    shutdown_ = true;
    shut_down_.store(true, std::memory_order_relaxed);
  }
  // A timer whose deadline has come (taken off its slot, or its tick reached) fires as
  // usual; the others are orphaned: woken, but their deadline has not passed.
  const uint64_t now_tick = instant_to_tick(clock_.now());
  fire_entries([&] { return wheel_.pop_any(); },
               [now_tick](const TimerEntry& e) {
                 uint64_t s = e.state.load(std::memory_order_relaxed);  // under the lock
                 return s == TimerEntry::kPending || s <= now_tick ? TimerEntry::kFired
                                                                   : TimerEntry::kOrphaned;
               },
               [&] { next_due_.store(kNone, std::memory_order_relaxed); });
}

std::size_t TimeDriver::num_registered() const {
  std::lock_guard<std::mutex> g(mu_);
  return wheel_.size();
}

void throw_timers_disabled(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         ": timers are disabled on this runtime. Call enable_time() (or "
                         "enable_all()) on the runtime Builder to enable them.");
}

void throw_timer_orphaned(const char* what) {
  throw std::runtime_error(std::string("tokio: ") + what +
                           ": the runtime this timer waited in shut down before its deadline, "
                           "and no running runtime polled it again (Tokio panics here: "
                           "\"the timer's runtime is being shutdown\"). Stop awaiting timers "
                           "before their runtime is dropped, or await this one on a running "
                           "runtime: it then waits there for the same deadline.");
}

void throw_no_time_runtime(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         " used outside a tokio runtime: await it from a task or inside "
                         "Runtime::block_on of a runtime built with enable_time()");
}

void throw_timer_no_runtime(const char* what) {
  if (tls.handle) throw_timers_disabled(what);
  throw_no_time_runtime(what);
}

}  // namespace tokio::detail
