#include "tokio/time/clock.hpp"

#include <stdexcept>
#include <string>

#include "tokio/core/detail/thread_context.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/spawn.hpp"
#include "tokio/time/detail/clock.hpp"
#include "tokio/time/detail/driver.hpp"

namespace tokio::detail {

namespace time_clock_impl {
int64_t steady_now_ns() noexcept { return time::Instant(time::Instant::clock::now()).nanos(); }

// The clock of the calling thread's runtime, for pause/resume/advance.
Clock& current_clock(const char* what) {
  HandleInner* h = tls.handle;
  if (!h) {
    throw std::logic_error(std::string("tokio: ") + what +
                           " called outside a tokio runtime: time can only be paused from "
                           "inside a current-thread runtime (a task or Runtime::block_on)");
  }
  TimeDriver* d = current_time_driver(what);
  return d->clock();
}
}  // namespace time_clock_impl

Clock::Clock(bool start_paused) {
  base_ns_ = unfrozen_ns_ = time_clock_impl::steady_now_ns();
  if (start_paused) {
    paused_.store(true, std::memory_order_relaxed);
    ever_paused_.store(true, std::memory_order_release);
    g_clock_ever_paused.store(true, std::memory_order_release);
  }
}

time::Instant Clock::now_locked() const noexcept {
  std::lock_guard<std::mutex> g(mu_);
  if (paused_.load(std::memory_order_relaxed)) return time::Instant::from_ns(base_ns_);
  return time::Instant::from_ns(base_ns_ + (time_clock_impl::steady_now_ns() - unfrozen_ns_));
}

void Clock::pause() {
  std::lock_guard<std::mutex> g(mu_);
  if (paused_.load(std::memory_order_relaxed)) {
    throw std::logic_error("tokio: time::pause() called while time is already paused");
  }
  base_ns_ += time_clock_impl::steady_now_ns() - unfrozen_ns_;
  paused_.store(true, std::memory_order_release);
  ever_paused_.store(true, std::memory_order_release);
  g_clock_ever_paused.store(true, std::memory_order_release);
}

void Clock::resume() {
  std::lock_guard<std::mutex> g(mu_);
  if (!paused_.load(std::memory_order_relaxed)) {
    throw std::logic_error("tokio: time::resume() called while time is not paused");
  }
  unfrozen_ns_ = time_clock_impl::steady_now_ns();
  paused_.store(false, std::memory_order_release);
}

void Clock::advance(time::Duration d) {
  std::lock_guard<std::mutex> g(mu_);
  if (!paused_.load(std::memory_order_relaxed)) {
    throw std::logic_error(
        "tokio: time::advance() called while time is not paused: call time::pause() first "
        "(or build the runtime with start_paused(true))");
  }
  base_ns_ = time::Instant::from_ns(base_ns_).saturating_add(d).nanos();
}

void Clock::advance_to(time::Instant t) noexcept {
  std::lock_guard<std::mutex> g(mu_);
  if (paused_.load(std::memory_order_relaxed) && t.nanos() > base_ns_) base_ns_ = t.nanos();
}

time::Instant clock_now_slow() noexcept {
  if (HandleInner* h = tls.handle) {
    if (TimeDriver* t = h->driver.time()) return t->clock().now();
  }
  return time::Instant(time::Instant::clock::now());
}

Task<> advance_clock(time::Duration d) {
  if (d.count() < 0) {
    throw std::invalid_argument("tokio: time::advance() needs a non-negative duration");
  }
  time_clock_impl::current_clock("time::advance()").advance(d);
  // Let the driver fire what is now due before the caller continues.
  co_await task::yield_now();
}

}  // namespace tokio::detail

namespace tokio::time {

void pause() {
  detail::HandleInner* h = detail::tls.handle;
  if (h && h->flavor() != runtime::RuntimeFlavor::CurrentThread) {
    throw std::logic_error(
        "tokio: time::pause() requires the current-thread runtime "
        "(Builder::new_current_thread().enable_time()); the multi-thread runtime's clock "
        "cannot be paused");
  }
  detail::time_clock_impl::current_clock("time::pause()").pause();
}

void resume() { detail::time_clock_impl::current_clock("time::resume()").resume(); }

}  // namespace tokio::time
