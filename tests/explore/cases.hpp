#pragma once
// Shared helpers of the explorer's scenarios: configurations (with the environment
// overrides), a run-and-report wrapper for doctest, and a Wakeable that counts wakes.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "explorer.hpp"
#include "tokio/core/waker.hpp"

namespace explore {

inline Config exhaustive(int bound) {
  Config c;
  c.mode = Mode::Exhaustive;
  c.preemption_bound = bound;
  return c;
}

// TOKIO_EXPLORE_SEED and TOKIO_EXPLORE_ITERATIONS override the fixed seed and the count.
inline Config randomized(long iterations, uint64_t seed = 0x70C10) {
  Config c;
  c.mode = Mode::Random;
  c.seed = seed;
  c.iterations = iterations;
  if (const char* s = std::getenv("TOKIO_EXPLORE_SEED"); s && *s) {
    c.seed = std::strtoull(s, nullptr, 0);
  }
  if (const char* s = std::getenv("TOKIO_EXPLORE_ITERATIONS"); s && *s) {
    c.iterations = std::atol(s);
  }
  return c;
}

// Runs and reports (one line per run: mode, executions, time; the replay string on
// failure). Returns the result for cases that expect a failure.
template <class Make>
Result report(const char* name, const Config& cfg, Make&& make) {
  auto t0 = std::chrono::steady_clock::now();
  Result r = run(cfg, std::forward<Make>(make));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  %-34s %s (%.0f ms)\n", name, describe(cfg, r).c_str(), ms);
  return r;
}

template <class Make>
void expect_pass(const char* name, const Config& cfg, Make&& make) {
  Result r = report(name, cfg, std::forward<Make>(make));
  INFO(name << ": " << r.message << " (replay: TOKIO_EXPLORE_REPLAY=" << r.schedule << ")");
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
}

// A waker that counts: wakes (by value or by reference) and live references. Its counters
// are plain std::atomic, outside the seam: they are the test's bookkeeping, not the code
// under test.
struct CountingWaker : tokio::detail::Wakeable {
  std::atomic<int> wakes{0};
  std::atomic<int> refs{0};
  CountingWaker() noexcept;
};

namespace counting_waker_impl {
inline CountingWaker* self(tokio::detail::Wakeable* w) noexcept {
  return static_cast<CountingWaker*>(w);
}
inline constexpr tokio::detail::WakeableVTable kVTable{
    [](tokio::detail::Wakeable* w) noexcept {
      self(w)->wakes.fetch_add(1);
      self(w)->refs.fetch_sub(1);
      progress();  // a thread parked on this waker may go on
    },
    [](tokio::detail::Wakeable* w) noexcept {
      self(w)->wakes.fetch_add(1);
      progress();
    },
    [](tokio::detail::Wakeable* w) noexcept { self(w)->refs.fetch_add(1); },
    [](tokio::detail::Wakeable* w) noexcept { self(w)->refs.fetch_sub(1); },
};
}  // namespace counting_waker_impl

inline CountingWaker::CountingWaker() noexcept : Wakeable{&counting_waker_impl::kVTable} {}

}  // namespace explore
