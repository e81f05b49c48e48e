#pragma once
// Helpers for the time suites: a waker that counts wake-ups and references, for polling
// leaves by hand the way tokio_test::task::spawn does in Tokio's own time tests.

#include <atomic>

#include "internals.hpp"
#include "test_util.hpp"

namespace timetest {

struct MockWaker {
  tokio::detail::Wakeable wakeable;  // first member: the vtable casts back to MockWaker
  std::atomic<int> wakes{0};
  std::atomic<int> refs{0};  // references handed out minus references returned
  void (*on_wake)(MockWaker*, void*) = nullptr;
  void* arg = nullptr;

  MockWaker() : wakeable{&kVTable} {}
  MockWaker(const MockWaker&) = delete;

  tokio::task::Context cx() { return tokio::task::Context(&wakeable); }
  // True if woken since the last call.
  bool is_woken() { return wakes.exchange(0) > 0; }

  static MockWaker* of(tokio::detail::Wakeable* w) { return reinterpret_cast<MockWaker*>(w); }
  static void do_wake(MockWaker* m) {
    m->wakes.fetch_add(1);
    if (m->on_wake) m->on_wake(m, m->arg);
  }
  static const tokio::detail::WakeableVTable kVTable;
};

inline const tokio::detail::WakeableVTable MockWaker::kVTable{
    [](tokio::detail::Wakeable* w) noexcept {
      do_wake(of(w));
      of(w)->refs.fetch_sub(1);
    },
    [](tokio::detail::Wakeable* w) noexcept { do_wake(of(w)); },
    [](tokio::detail::Wakeable* w) noexcept { of(w)->refs.fetch_add(1); },
    [](tokio::detail::Wakeable* w) noexcept { of(w)->refs.fetch_sub(1); },
};

// Polls a leaf (Sleep, Interval::Tick, ...) once with `w`, outside the coop budget.
template <class L>
bool poll_with(L& leaf, MockWaker& w) {
  int32_t saved = tokio::detail::tls.budget;
  tokio::detail::tls.budget = -1;
  auto cx = w.cx();
  bool r = leaf.poll(cx);
  tokio::detail::tls.budget = saved;
  return r;
}

inline bool poll_tick(tokio::time::Interval& iv, MockWaker& w, tokio::time::Instant& out) {
  int32_t saved = tokio::detail::tls.budget;
  tokio::detail::tls.budget = -1;
  auto cx = w.cx();
  bool r = iv.poll_tick(cx, out);
  tokio::detail::tls.budget = saved;
  return r;
}

inline tokio::runtime::Runtime paused_rt() {
  return tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build();
}
inline tokio::runtime::Runtime time_rt() {
  return tokio::runtime::Builder::new_current_thread().enable_time().build();
}
inline tokio::runtime::Runtime time_mt(std::size_t workers = 2) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_time().build();
}

// Timers registered with the current runtime's wheel.
inline std::size_t registered() {
  return tokio::detail::current_time_driver_or_throw("registered")->num_registered();
}

constexpr std::chrono::milliseconds ms(long n) { return std::chrono::milliseconds(n); }

}  // namespace timetest
