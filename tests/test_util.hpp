#ifndef TOKIO_TEST_UTIL_HPP
#define TOKIO_TEST_UTIL_HPP
// Shared helpers for the doctest suites. Every suite is compiled against the generated
// tokio.hpp (test what ships); main.cpp is the one TU defining TOKIO_IMPLEMENTATION.

#include <doctest/doctest.h>

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include <thread>

#include "tokio.hpp"

using namespace std::chrono_literals;

namespace test {

// Large workloads shrink under ThreadSanitizer, whose 5-15x slowdown would otherwise
// dominate the CI budget. Every other build (including ASan) runs them at full size.
// -DTOKIO_TEST_SCALE=N overrides the divisor (`make test-tsan-full` builds with 1).
#if defined(TOKIO_TEST_SCALE)
inline constexpr std::size_t kScale = TOKIO_TEST_SCALE;
static_assert(kScale >= 1, "TOKIO_TEST_SCALE must be at least 1");
#elif defined(__SANITIZE_THREAD__)
inline constexpr std::size_t kScale = 20;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr std::size_t kScale = 20;
#else
inline constexpr std::size_t kScale = 1;
#endif
#else
inline constexpr std::size_t kScale = 1;
#endif

// The divisor in effect: TOKIO_TEST_SCALE in the environment (a number >= 1) overrides
// the built-in one at run time, so CI runs a full-scale subset with the TSan binary it
// already built (.ci/run).
inline std::size_t scale() {
  static const std::size_t s = [] {
    if (const char* e = std::getenv("TOKIO_TEST_SCALE")) {
      char* end = nullptr;
      unsigned long v = std::strtoul(e, &end, 10);
      if (end != e && *end == '\0' && v >= 1) return static_cast<std::size_t>(v);
    }
    return kScale;
  }();
  return s;
}
inline std::size_t scaled(std::size_t n) { return n / scale() > 0 ? n / scale() : 1; }

// Sanitizer builds (any kind) keep less stack discipline: GCC does not turn symmetric
// transfer into tail calls under ASan/TSan instrumentation.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

inline tokio::runtime::Runtime current_thread() {
  return tokio::runtime::Builder::new_current_thread().build();
}
inline tokio::runtime::Runtime multi_thread(std::size_t workers = 2) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
}
// Either flavour (multi-thread with 2 workers), with every driver enabled.
inline tokio::runtime::Runtime either_flavour_all(bool multi) {
  auto b = multi ? tokio::runtime::Builder::new_multi_thread()
                 : tokio::runtime::Builder::new_current_thread();
  if (multi) b.worker_threads(2);
  return b.enable_all().build();
}

// Runs f() on a thread of its own whose stack is `bytes`, and waits for it; an exception
// f() throws (a failed REQUIRE too) is rethrown here. For the cases that prove something
// is done without recursing once per level: on the main thread's 8 MiB a recursion needs
// a depth the TSan build (kScale 20) does not reach, on a small stack any depth the suite
// runs overflows it.
inline constexpr std::size_t kSmallStack = 512 * 1024;
template <class F>
void on_stack(std::size_t bytes, F f) {
  struct Run {
    F* f;
    std::exception_ptr error;
  } run{&f, nullptr};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, bytes) == 0);
  pthread_t thread;
  int rc = pthread_create(
      &thread, &attr,
      [](void* p) -> void* {
        auto* r = static_cast<Run*>(p);
        try {
          (*r->f)();
        } catch (...) {
          r->error = std::current_exception();
        }
        return nullptr;
      },
      &run);
  pthread_attr_destroy(&attr);
  REQUIRE(rc == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  if (run.error) std::rethrow_exception(run.error);
}

// Counts destructor runs: put one in a coroutine frame to observe cancellation.
struct DropCounter {
  std::atomic<int>* count;
  explicit DropCounter(std::atomic<int>& c) : count(&c) {}
  DropCounter(const DropCounter&) = delete;
  DropCounter(DropCounter&& o) noexcept : count(o.count) { o.count = nullptr; }
  ~DropCounter() {
    if (count) count->fetch_add(1);
  }
};

// Spins (with a real sleep) until pred() or the deadline; returns pred().
template <class P>
bool eventually(P pred, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A task that completes at once with `v`.
inline tokio::Task<int> ready_value(int v) { co_return v; }

// A future that never completes (awaits a oneshot whose sender is parked in `keep`).
inline tokio::Task<> forever(tokio::sync::oneshot::Receiver<int> rx) {
  (void)co_await std::move(rx);
}

// The suites' one pseudo-random source (xorshift64): seeded, so a failure replays.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  // 32 high-quality bits (the low bits of xorshift are the weakest).
  uint32_t operator()() { return static_cast<uint32_t>(next() >> 16); }
  // Uniform-enough in [0, n); 0 when n is 0.
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  std::vector<int> ints(std::size_t n, int range = 100) {
    std::vector<int> v(n);
    for (auto& x : v) x = static_cast<int>(below(static_cast<std::size_t>(range)));
    return v;
  }
};

// The message of the std::logic_error that awaiting `a` throws within `limit`, or "" when
// it completed or ran out of time without one. An lvalue `a` is borrowed (as select and
// timeout borrow it), so the same future can be tried again.
template <class A>
tokio::Task<std::string> logic_error_of(A&& a, std::chrono::milliseconds limit) {
  try {
    (void)co_await tokio::time::timeout(limit, std::forward<A>(a));
  } catch (const std::logic_error& e) {
    co_return std::string(e.what());
  }
  co_return std::string();
}

}  // namespace test

#endif  // TOKIO_TEST_UTIL_HPP
