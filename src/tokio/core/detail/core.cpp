// Non-template definitions for core/: spin-lock back-off, random seeds, misuse errors.
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tokio/core/detail/await_claim.hpp"

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/detail/mutex.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/rand.hpp"
#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

void yield_thread() noexcept { sched_yield(); }

namespace core_leaf_names_impl {
constinit std::atomic<LeafName*> g_leaf_names{nullptr};
}

LeafName::LeafName(bool (*f)(Pollable*, task::Context&) noexcept, const char* (*n)() noexcept,
                   LeafMsLeftFn ms) noexcept
    : poll_fn(f), pretty(n), ms_left(ms) {
  auto& head = core_leaf_names_impl::g_leaf_names;
  LeafName* h = head.load(std::memory_order_relaxed);
  do {
    next = h;
    // Release: a dump that sees this entry (acquire) sees its fields.
  } while (
      !head.compare_exchange_weak(h, this, std::memory_order_release, std::memory_order_relaxed));
}

const LeafName* leaf_entry(bool (*f)(Pollable*, task::Context&) noexcept) noexcept {
  if (!f) return nullptr;
  for (LeafName* e = core_leaf_names_impl::g_leaf_names.load(std::memory_order_acquire); e;
       e = e->next) {
    if (e->poll_fn == f) return e;
  }
  return nullptr;
}

// (For tokio::signal / tokio::process, ThreadSanitizer builds only.) TSan runs a signal
// handler only when the thread that took the signal passes through a call TSan intercepts,
// and a raw futex wait is not one: a thread parked in one (block_on on a multi-thread
// runtime, an idle blocking-pool thread: the threads the kernel tends to pick for a
// process-directed signal or a SIGCHLD) would hold a SIGTERM or a SIGCHLD undelivered until
// something else woke it. So under TSan a futex wait lasts at most 10 ms, and usleep(0),
// which TSan intercepts, then runs any deferred handler; callers already treat an early
// return as spurious (a slice that ends reports a wake-up, not a timeout).
bool futex_wait(std::atomic<uint32_t>* word, uint32_t expected,
                const struct timespec* rel_timeout) noexcept {
#ifdef TOKIO_TSAN
  struct timespec slice = {0, 10 * 1000 * 1000};
  bool sliced = !rel_timeout || rel_timeout->tv_sec > 0 || rel_timeout->tv_nsec > slice.tv_nsec;
  if (sliced) rel_timeout = &slice;
#endif
  long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected,
                    rel_timeout, nullptr, 0);
  bool timed_out = rc == -1 && errno == ETIMEDOUT;
#ifdef TOKIO_TSAN
  ::usleep(0);
  if (sliced) return true;
#endif
  return !timed_out;
}

void futex_wake(std::atomic<uint32_t>* word, int count) noexcept {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr,
          0);
}

void Mutex::lock_contended() noexcept {
  for (int i = 0; i < 100; ++i) {
    uint32_t c = state_.load(std::memory_order_relaxed);
    if (c == 0 &&
        state_.compare_exchange_weak(c, 1, std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
    if (c == 2) break;  // others already sleep: join them
    cpu_relax();
  }
  while (state_.exchange(2, std::memory_order_acquire) != 0) futex_wait(&state_, 2, nullptr);
}

void Mutex::wake_one() noexcept { futex_wake(&state_, 1); }

uint64_t random_seed() noexcept {
  static std::atomic<uint64_t> counter{0};
  uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  uint64_t c = counter.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed);
  uint64_t x = t ^ c ^ reinterpret_cast<uintptr_t>(&c);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x ? x : 1;
}

void throw_misuse(const char* msg) { throw std::logic_error(std::string("tokio: ") + msg); }

void throw_second_await(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         " awaited by two operations at once (two tasks, or a join / select "
                         "naming it twice): it keeps one waker, so one of them would never "
                         "wake; await it in one place");
}

void throw_awaited_after_completion(const char* what) {
  throw std::logic_error(std::string("tokio: a ") + what +
                         " future was awaited again after it completed: it yields its result "
                         "once (Tokio's would panic), and a second acquire or send from it "
                         "could wait for ever or send a moved-from value; make a new one "
                         "for each await (call " +
                         what + "() again)");
}

void throw_not_in_task(const char* what) {
  throw std::logic_error(std::string("tokio: ") + what +
                         " outside a tokio task: await it inside a coroutine that runs on a "
                         "runtime (Runtime::block_on, tokio::spawn)");
}

}  // namespace tokio::detail
