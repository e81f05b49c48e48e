#pragma once
// detail::Atomic<T>: the one seam the lock-free core's atomics go through, so a test build
// can explore their interleavings (tests/explore/, `make explore`; issue 11 §2, after
// Tokio's loom).
//
// Normal builds: `Atomic<T>` is an alias of `std::atomic<T>`, not a wrapper. The
// declarations that use it name exactly the type they named before, so the generated code,
// the layout and the memory orderings are the ones of plain std::atomic: zero cost by
// construction, nothing for the optimiser to see through.
//
// Explorer builds (TOKIO_SCHEDULE_EXPLORER defined; only tests/explore/ does that, and it
// compiles src/ on its own, never beside a normal TU, since the macro changes types in
// headers): `Atomic<T>` wraps a std::atomic<T> and calls explore_preemption_point() before
// each operation, then performs the real operation with the caller's orderings. The
// explorer lets one thread run at a time and may hand the CPU to another thread at each of
// those points, so every schedule it runs is a sequentially consistent interleaving of the
// atomic operations (weaker orderings are kept but not explored: see README, "Checks").
// explore_spin_point() marks a thread that waits for another (cpu_relax in a spin loop):
// the explorer switches away there and does not run the spinner again until some other
// thread has written an atomic (explore_wrote(), after every store, exchange, successful
// compare-exchange and fetch_op), so a spin loop costs one switch, not a branch per turn.
//
// Components behind the seam: the local run queue, the task state word, the batch
// semaphore (and the SpinLock and waker slots of its waiter list), the mpsc block list,
// the readiness word, the frame allocator's remote free stack, AtomicWaker and the byte
// pipe of io::duplex.

#include <atomic>

#if defined(TOKIO_SCHEDULE_EXPLORER)
#include <type_traits>
#endif

namespace tokio::detail {

#if !defined(TOKIO_SCHEDULE_EXPLORER)

template <class T>
using Atomic = std::atomic<T>;

inline void explore_spin_point() noexcept {}

#else

// Defined by the explorer (tests/explore/explorer.cpp), never by the library. Threads the
// explorer does not run return at once.
void explore_preemption_point() noexcept;
void explore_spin_point() noexcept;
void explore_wrote() noexcept;

template <class T>
class Atomic {
 public:
  using value_type = T;
  Atomic() noexcept = default;
  constexpr Atomic(T v) noexcept : a_(v) {}  // NOLINT(google-explicit-constructor): as std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept {
    explore_preemption_point();
    return a_.load(o);
  }
  // Operations that may write: the preemption point before, the write notice after (a
  // spinner woken before the write would only spin again).
  void store(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    explore_preemption_point();
    a_.store(v, o);
    explore_wrote();
  }
  T exchange(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.exchange(v, o); });
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    return cas([&](std::atomic<T>& a) { return a.compare_exchange_weak(e, d, s, f); });
  }
  bool compare_exchange_weak(T& e, T d, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return cas([&](std::atomic<T>& a) { return a.compare_exchange_weak(e, d, o); });
  }
  bool compare_exchange_strong(T& e, T d, std::memory_order s, std::memory_order f) noexcept {
    return cas([&](std::atomic<T>& a) { return a.compare_exchange_strong(e, d, s, f); });
  }
  bool compare_exchange_strong(T& e, T d,
                               std::memory_order o = std::memory_order_seq_cst) noexcept {
    return cas([&](std::atomic<T>& a) { return a.compare_exchange_strong(e, d, o); });
  }
  template <class D>
  T fetch_add(D d, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.fetch_add(d, o); });
  }
  template <class D>
  T fetch_sub(D d, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.fetch_sub(d, o); });
  }
  T fetch_and(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.fetch_and(v, o); });
  }
  T fetch_or(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.fetch_or(v, o); });
  }
  T fetch_xor(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    return rmw([&](std::atomic<T>& a) { return a.fetch_xor(v, o); });
  }

 private:
  // Every operation that may write: the preemption point before it, the write notice
  // after it (always for a read-modify-write, only on success for a compare-exchange).
  template <class Op>
  T rmw(Op op) noexcept {
    explore_preemption_point();
    T r = op(a_);
    explore_wrote();
    return r;
  }
  template <class Op>
  bool cas(Op op) noexcept {
    explore_preemption_point();
    bool ok = op(a_);
    if (ok) explore_wrote();
    return ok;
  }

  std::atomic<T> a_;
};

static_assert(sizeof(Atomic<unsigned long>) == sizeof(std::atomic<unsigned long>));
static_assert(std::is_standard_layout_v<Atomic<void*>>);

#endif

}  // namespace tokio::detail
