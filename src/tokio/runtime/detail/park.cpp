#include "tokio/runtime/detail/park.hpp"

#include <time.h>

#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

bool park_spin(std::atomic<uint32_t>& word, const ParkWord& v, int spins) noexcept {
  for (int i = 0; i < spins; ++i) {
    cpu_relax();
    if (word.load(std::memory_order_relaxed) == v.notified) {
      uint32_t expected = v.notified;
      // Acquire pairs with the unparker's release swap: what it wrote before is visible.
      if (word.compare_exchange_strong(expected, v.empty, std::memory_order_acquire)) return true;
    }
  }
  return false;
}

bool park_sleep(std::atomic<uint32_t>& word, const ParkWord& v,
                std::optional<std::chrono::nanoseconds> timeout) noexcept {
  uint32_t expected = v.empty;
  if (!word.compare_exchange_strong(expected, v.parked, std::memory_order_acquire)) {
    // Only an unpark can have changed `empty`: consume it.
    word.exchange(v.empty, std::memory_order_acquire);
    return true;
  }
  using clock = std::chrono::steady_clock;
  auto deadline = timeout ? clock::now() + *timeout : clock::time_point::max();
  for (;;) {
    if (timeout) {
      auto left = deadline - clock::now();
      if (left.count() <= 0) {
        // Timed out: leave `parked` unless an unpark raced in.
        return word.exchange(v.empty, std::memory_order_acquire) == v.notified;
      }
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      struct timespec ts;
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
      futex_wait(&word, v.parked, &ts);
    } else {
      futex_wait(&word, v.parked, nullptr);
    }
    expected = v.notified;
    if (word.compare_exchange_strong(expected, v.empty, std::memory_order_acquire)) return true;
    // Spurious wake-up: still `parked`.
  }
}

bool Parker::park(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  // Fast path: a pending unpark.
  uint32_t expected = NOTIFIED;
  if (state_.compare_exchange_strong(expected, EMPTY, std::memory_order_acquire)) return true;
  if (timeout && timeout->count() <= 0) return false;
  // Spin briefly first (the driver's parker; spins_ is 0 for a ParkThread): a wake that is
  // microseconds away (a task finishing on another thread) then costs no futex sleep and
  // wake-up.
  if (park_spin(state_, kWord, spins_)) return true;
  return park_sleep(state_, kWord, timeout);
}

namespace runtime_park_impl {
void pt_wake_by_ref(Wakeable* w) noexcept { reinterpret_cast<ParkThread*>(w)->parker.unpark(); }
void pt_drop(Wakeable* w) noexcept {
  auto* p = reinterpret_cast<ParkThread*>(w);
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
}
void pt_wake(Wakeable* w) noexcept {
  pt_wake_by_ref(w);
  pt_drop(w);
}
void pt_clone(Wakeable* w) noexcept {
  reinterpret_cast<ParkThread*>(w)->refs.fetch_add(1, std::memory_order_relaxed);
}
const WakeableVTable kParkThreadVTable{&pt_wake, &pt_wake_by_ref, &pt_clone, &pt_drop};

struct ParkThreadHolder {
  ParkThread* p = nullptr;
  ~ParkThreadHolder() {
    if (p) pt_drop(&p->wakeable);
  }
};
thread_local ParkThreadHolder tls_park_thread;
}  // namespace runtime_park_impl

ParkThread* ParkThread::current() {
  runtime_park_impl::ParkThreadHolder& h = runtime_park_impl::tls_park_thread;
  if (!h.p) {
    h.p = new ParkThread();
    h.p->wakeable.vtable = &runtime_park_impl::kParkThreadVTable;
  }
  return h.p;
}

}  // namespace tokio::detail
