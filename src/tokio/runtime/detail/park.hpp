#pragma once
// Thread parking.
//
// Parker: one thread parks, any thread unparks, and an unpark that happens before the park
// is remembered (the park returns at once). State word encoding (`state_`, 32 bits so it
// can be a futex):
//   0 EMPTY     nobody parked, no pending unpark
//   1 PARKED    the owner sleeps (or is about to) in futex_wait on this word
//   2 NOTIFIED  an unpark is pending; the next park consumes it
// unpark() swaps in NOTIFIED and issues the futex wake only if the owner was PARKED, so
// unparking a running thread costs one atomic swap and no syscall.
//
// ParkThread: a refcounted Wakeable around a Parker, cached per thread; it is the waker of
// a future driven by block_on on a thread that is not a worker.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "tokio/core/detail/futex.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

// Polls of the state word (with a pause instruction between) before the driver's parker
// (the thread holding the driver of a runtime without I/O: a multi-thread worker, or a
// current_thread runtime's block_on thread) sleeps in the kernel: a few microseconds, enough for the common hand-off where the wake
// comes from a task about to finish on another core, too short to matter when it does not.
// A thread outside the runtime (ParkThread: block_on's thread, a blocking_recv) does not
// spin, as Tokio's CachedParkThread does not: it competes for the cores with the workers
// that produce its wake, and on 2 cores its spin cost more than the futex sleep it saves
// (`bench/ab.py`, spinning / not: `sync_mpsc contention/bounded_full w=6` 500 / 311 ms,
// `user mpsc_bounded` 673 / 537, `io duplex_copy w=2` 249 / 224; the rt rows unchanged).
inline constexpr int kParkSpins = 64;

// The two halves of a park on a futex word, shared by Parker and WorkerParker (park.cpp).
// The word's values differ per parker; ParkWord names them.
struct ParkWord {
  uint32_t empty;     // running, no pending unpark
  uint32_t parked;    // the owner sleeps in futex_wait on the word
  uint32_t notified;  // an unpark is pending
};
// Polls `word` up to `spins` times (a pause between) for `notified`; true when it consumed
// one (the word is back to `empty`).
bool park_spin(std::atomic<uint32_t>& word, const ParkWord& v, int spins) noexcept;
// Moves the word from `empty` to `parked` and sleeps until an unpark (true) or the timeout
// (nullopt: none; false unless an unpark raced in). Either way the word ends `empty`; an
// unpark that came before the move is consumed at once.
bool park_sleep(std::atomic<uint32_t>& word, const ParkWord& v,
                std::optional<std::chrono::nanoseconds> timeout) noexcept;

class Parker {
 public:
  explicit Parker(int spins = kParkSpins) noexcept : spins_(spins) {}

  static constexpr uint32_t EMPTY = 0;
  static constexpr uint32_t PARKED = 1;
  static constexpr uint32_t NOTIFIED = 2;

  // Sleeps until unpark() or the timeout (nullopt: no limit; zero: just consume a pending
  // unpark). Returns true when woken by unpark().
  bool park(std::optional<std::chrono::nanoseconds> timeout = std::nullopt) noexcept;
  void unpark() noexcept {
    if (state_.exchange(NOTIFIED, std::memory_order_release) == PARKED) futex_wake(&state_, 1);
  }

 private:
  static constexpr ParkWord kWord{EMPTY, PARKED, NOTIFIED};
  std::atomic<uint32_t> state_{EMPTY};
  int spins_;  // polls of state_ before the futex sleep: kParkSpins, or 0 (ParkThread)
};

struct ParkThread {
  Wakeable wakeable;  // offset 0
  std::atomic<std::size_t> refs{1};
  Parker parker{0};  // no spin: see kParkSpins

  static ParkThread* current();  // this thread's instance (not an added reference)
};

}  // namespace tokio::detail
