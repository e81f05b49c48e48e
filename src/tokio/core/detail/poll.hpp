#pragma once
// The poll protocol that joins C++ coroutines to Tokio's waker model.
//
// A spawned task (or a block_on root) is a chain of tokio::Task coroutines linked by
// symmetric transfer. The chain only ever suspends at a *leaf* awaitable (a JoinHandle, a
// channel receive, a sleep, an I/O readiness wait...). A leaf is a Pollable: on suspension
// it records itself in the current PollSlot, and whenever the task is woken the scheduler
// calls the leaf's poll function again; when that returns true the leaf's result is stored
// in the awaitable and the suspended coroutine is resumed. This is Rust's Future::poll
// contract, so spurious wake-ups are harmless and a waker may outlive the operation that
// registered it (it only ever references the task, never the coroutine frame).
//
// Composite awaitables (select, join, task-local scopes, unconstrained) are leaves whose
// poll drives several child chains, each with its own PollSlot.

#include <concepts>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/context.hpp"
#include "tokio/core/detail/thread_context.hpp"

namespace tokio::detail {

[[noreturn]] void throw_misuse(const char* msg);
[[noreturn]] void throw_not_in_task(const char* what);
// A leaf that yields its result once (a lock's guard, a send's value) awaited again after
// it completed; `what` names it ("sync::Mutex::lock").
[[noreturn]] void throw_awaited_after_completion(const char* what);

// Base of every leaf awaitable (a tag: the leaf's state is its own business).
struct Pollable {};

// Where the suspended leaf of one coroutine chain is recorded: the leaf, how to poll it, and
// the coroutine to resume when it is ready. Keeping the poll function and the continuation
// here rather than in each awaitable keeps coroutine frames small: GCC gives every co_await
// site its own awaiter storage, and a spawned task has exactly one slot (in its header).
struct PollSlot {
  Pollable* leaf = nullptr;
  bool (*poll_fn)(Pollable*, task::Context&) noexcept = nullptr;  // true = ready
  std::coroutine_handle<> continuation;
};

// --- coop budget -------------------------------------------------------------------------
inline constexpr int32_t kInitialBudget = 128;

// Leaf resources call this at the top of poll. Returns false when the task has used its
// budget; the task is then woken to run again later and the leaf must report Pending.
bool coop_poll_proceed_slow(task::Context& cx) noexcept;
inline bool coop_poll_proceed(task::Context& cx) noexcept {
  ThreadContext& t = tls;
  int32_t& b = t.budget;
  if (TOKIO_LIKELY(b > 0)) {
    --b;
    t.coop_took = true;
    return true;
  }
  if (b < 0) return true;  // unconstrained
  t.coop_took = false;
  return coop_poll_proceed_slow(cx);
}

// A leaf's try_poll (see Leaf) around `ready()` (true: the resource was ready and taken):
// with budget left, a ready resource takes one unit, as a ready poll does. When the
// budget is spent, `ready` is not called and nothing is taken or woken: try_poll reports
// not ready and the leaf's poll does the forced yield.
template <class Ready>
TOKIO_ALWAYS_INLINE bool coop_try(Ready&& ready) noexcept(noexcept(ready())) {
  int32_t& b = tls.budget;
  if (b == 0 || !ready()) return false;
  if (b > 0) --b;
  return true;
}

// What a poll-level composition (a stream's poll_next, the codec drivers) is called with
// when it is only asked, for a leaf's try_poll (see Leaf): it polls its inner leaves
// through their try_poll and registers nothing. The compositions that can be asked take
// their context as a template parameter, task::Context or TryContext, and are constrained
// on their inner parts being askable (an inner part without try_poll cannot be asked
// exactly, and an inexact "not ready" could change which select branch wins).
struct TryContext {};

template <class Cx>
concept PollContext = std::same_as<Cx, task::Context> || std::same_as<Cx, TryContext>;

// coop_poll_proceed for a composition's own items (stream::iter): asked, it takes a unit
// only when there is budget, as coop_try.
inline bool coop_poll_proceed(TryContext&) noexcept {
  return coop_try([] { return true; });
}

// For a composition that polls several inner parts in turn (StreamMap): true when the
// task's budget is spent, so every part still to be polled would be refused (Tokio's
// StreamMap polls them all anyway: 64 refused polls per forced yield over 64 channels).
// Polled with a task::Context, the forced yield's wake is arranged here, once, as a
// refused leaf would: the parts this poll skips were not asked to register a waker, so
// without it a part that became ready meanwhile could go unseen. Asked (TryContext),
// nothing registers anyway.
inline bool coop_budget_spent(task::Context& cx) noexcept {
  return tls.budget == 0 && !coop_poll_proceed(cx);
}
inline bool coop_budget_spent(TryContext&) noexcept { return tls.budget == 0; }

// Polls a leaf, giving back the budget unit its resource took when it is not ready (Tokio's
// RestoreOnPending): polling something that is not ready costs no budget. Without this, a
// loop that selects over an empty channel and an always-ready branch spends a unit per
// iteration, runs out after kInitialBudget, and from then on never sees the channel's next
// message while it loops. Every place that polls a leaf goes through here: the first poll in
// Leaf::await_ready (unless the leaf says every poll inside it is settled already:
// kSettlesBudget, as a stream's next() over a combinator chain does), later ones through
// the slot in drive_slot, and the poll-level compositions, which poll inner leaves
// themselves (ChildOp's leaf children, the inner streams of stream combinators and
// StreamMap: detail::Upstream). coop_took starts clear for each leaf poll and gets the
// caller's value back after it, so a composite leaf (select, join) is not refunded for
// what the leaves of its branches took and kept: each of those was settled at its own
// poll. Only the last take of a poll is given back (a stream
// combinator that consumed ready items before its inner stream went pending keeps those).
template <class Poll>
TOKIO_ALWAYS_INLINE bool poll_leaf_restoring(ThreadContext& t, Poll&& poll) {
  const bool outer = t.coop_took;
  t.coop_took = false;
  const bool ready = poll();
  if (!ready && t.coop_took) ++t.budget;
  t.coop_took = outer;
  return ready;
}

// A pollable whose polls settle every budget unit they take themselves (each through
// poll_leaf_restoring inside it) says so with `static constexpr bool kSettlesBudget =
// true;`: it is polled without another poll_leaf_restoring around it (Leaf's first poll,
// stream combinators over it: stream/detail/upstream.hpp).
template <class P>
concept SettlesBudget = requires {
  requires P::kSettlesBudget;
};

// yield_now's wake-up: deferred until the scheduler has run everything else ready and
// polled its drivers (as in Tokio, so a yielding task lets I/O, timers and the block_on
// future make progress); immediate when no scheduler runs this thread. A spawned task that
// yields is deferred as the task itself: its poll ends with RUNNING -> NOTIFIED in one
// transition and the runner's reference moves to the defer list (Tokio clones a waker and
// wakes it later: two more atomic read-modify-writes per yield). Other wakers (block_on
// roots) are deferred as clones (defer_waker, runtime/detail/harness.cpp).
void defer_waker(Wakeable* w);
inline void defer_wake(task::Context& cx) {
  ThreadContext& t = tls;
  if (t.defer) {
    Wakeable* w = cx.raw_waker();
    // A spawned task's own waker (TaskHeader starts with its Wakeable): the task run loop
    // re-queues it when this poll returns.
    if (t.task && w == reinterpret_cast<Wakeable*>(t.task)) {
      t.yield_requested = true;
      return;
    }
    defer_waker(w);
    return;
  }
  cx.wake_by_ref();
}

// Marker checked by Task's await_transform: only awaitables that speak the poll protocol
// may be co_awaited inside a tokio::Task.
template <class A>
concept TokioAwaitable = requires {
  typename std::remove_cvref_t<A>::tokio_awaitable;
};

// What a tokio coroutine's await_transform hands to co_await. g++ (12) keeps the awaiter of
// every co_await site in frame storage of its own for the whole coroutine and, when
// await_transform returns the awaitable by reference, copies it into that storage: a
// 72-byte Mutex::lock() future took 144 bytes of every frame awaiting it, and was
// move-constructed once per co_await. An awaitable that is its own awaiter (a leaf, no
// operator co_await) is therefore awaited through AwaitInPlace, one pointer, which polls
// it where it is; one with operator co_await (Task, JoinHandle, Notified, Sleep...) makes a
// small awaiter of its own and is passed on as it is.
template <class A>
class AwaitInPlace {
 public:
  explicit AwaitInPlace(A& a) noexcept : a_(&a) {}
  decltype(auto) await_ready() { return a_->await_ready(); }
  template <class P>
  decltype(auto) await_suspend(std::coroutine_handle<P> h) {
    return a_->await_suspend(h);
  }
  decltype(auto) await_resume() { return a_->await_resume(); }

 private:
  A* a_;
};
// clang++ awaits the object itself, as the standard says, and lays out its frame from what
// lives across a suspension: there the proxy would only add a pointer per site.
template <class A>
decltype(auto) awaited_in_place(A&& a) noexcept {
#if defined(__clang__)
  return std::forward<A>(a);
#else
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a);
  } else {
    return AwaitInPlace<std::remove_reference_t<A>>(a);
  }
#endif
}

// The awaitable of an operation whose waiting state is a leaf L made from one object (a
// stream's next(), an mpsc receive): it only names the object, and its co_await makes L
// from it, in the awaiter's storage. Two objects rather than one leaf because of g++'s
// copy above: a leaf returned by value from operator co_await is awaited where it was
// made, so its fields are reached at fixed frame offsets and the test await_resume makes
// can also settle its destructor, where through AwaitInPlace's pointer, reloaded after
// every call the poll makes, neither happens (a next() loop over iter | map | filter: 17
// instructions more an item, of 58; mpsc receives 3-5% more; callgrind, bench/NOTES.md
// fifty-sixth session). select, join and timeout make and drive L themselves (LeafBranch),
// so each co_await, and each select it is handed to, starts a fresh operation.
template <class L, class Obj>
class TOKIO_MUST_AWAIT MakesLeaf {
 public:
  using tokio_awaitable = void;
  explicit MakesLeaf(Obj* o) noexcept : o_(o) {}
  L operator co_await() const noexcept { return L(o_); }

 private:
  Obj* o_;
};

// Runs one step of the chain registered in `slot`: polls its leaf and, when ready, resumes
// the chain until it suspends again (registering a new leaf) or finishes (leaving none).
// Returns true when the chain finished.
//
// Resumption is depth-independent: a Task awaiting a Task hands control over by symmetric
// transfer, which GCC turns into a tail call only from -O2; so after kMaxTransfers
// transfers in a row a transfer suspends instead and leaves the next coroutine in
// tls.bounce, and this loop resumes it with an empty stack (see transfer_to, core/task.hpp).
inline constexpr uint32_t kMaxTransfers = 64;
// resume_in_slot is its second half: resumes `h` (the coroutine the slot's leaf was ready
// for, or a chain's first frame) with `slot` as the slot its leaves suspend in. Returns
// true when the chain finished (no leaf left in the slot).
inline bool resume_in_slot(ThreadContext& t, PollSlot& slot, std::coroutine_handle<> h) {
  slot.leaf = nullptr;
  slot.poll_fn = nullptr;
  PollSlot* saved = t.slot;
  uint32_t saved_transfers = t.transfers;
  t.slot = &slot;
  t.transfers = 0;
  h.resume();
  while (void* next = t.bounce) {
    t.bounce = nullptr;
    t.transfers = 0;
    std::coroutine_handle<>::from_address(next).resume();
  }
  t.slot = saved;
  t.transfers = saved_transfers;
  return slot.poll_fn == nullptr;
}
inline bool drive_slot(PollSlot& slot, task::Context& cx) {
  ThreadContext& t = tls;
  if (!poll_leaf_restoring(t, [&] { return slot.poll_fn(slot.leaf, cx); })) return false;
  return resume_in_slot(t, slot, slot.continuation);
}

inline bool poll_always_ready(Pollable*, task::Context&) noexcept { return true; }

// The frame a Task frame returns to when it finishes: kept, tagged with bit 0, in the last
// word of its task prefix (core/task.hpp: every Task frame has kTaskPrefix bytes in front,
// raw memory unless the frame is a spawned task's root, whose prefix is the task header).
// Written when the frame is awaited; cleared when it becomes the root of a chain
// (set_starter): a root has no parent, and a task header's last word is a pointer, so its
// bit 0 is clear. Keeping the link here rather than in the promise saves a word per frame,
// and lets a cancelled chain be destroyed from its innermost frame upwards (destroy_chain).
inline void set_parent_link(void* frame, void* parent) noexcept {
  *reinterpret_cast<uintptr_t*>(static_cast<char*>(frame) - sizeof(uintptr_t)) =
      reinterpret_cast<uintptr_t>(parent) | 1;
}
inline void clear_parent_link(void* frame) noexcept {
  *reinterpret_cast<uintptr_t*>(static_cast<char*>(frame) - sizeof(uintptr_t)) = 0;
}
inline void* parent_link(void* frame) noexcept {
  uintptr_t w = *reinterpret_cast<uintptr_t*>(static_cast<char*>(frame) - sizeof(uintptr_t));
  return (w & 1) ? reinterpret_cast<void*>(w & ~uintptr_t{1}) : nullptr;
}

// Arms a slot so that its first poll starts the coroutine `h`.
inline void set_starter(PollSlot& slot, std::coroutine_handle<> h) noexcept {
  clear_parent_link(h.address());
  slot.leaf = nullptr;
  slot.poll_fn = &poll_always_ready;
  slot.continuation = h;
}

// --- leaf names (task dumps, stall reports) ---------------------------------------------
// Every leaf type's poll function is listed with the type's name, so a dump can say what a
// suspended task waits on from its PollSlot alone. Each entry is a static object linked in
// while the program starts (one per leaf type ever awaited); nothing happens per await.
// `g_leaf_names` is constant-initialised; pushes race only with each other (CAS), and a
// dump reads the list with acquire loads.
//
// A leaf that waits for a deadline (a sleep, an interval's tick) also says how long is
// left, for the dump ("waiting on time::sleep, 250 ms left"): a `dump_ms_left() const
// noexcept` member returning the milliseconds, or -1 when it cannot tell. A dump calls it
// from another thread while the task is suspended, so it may only read what does not
// change while the leaf waits, or atomics.
using LeafMsLeftFn = int64_t (*)(const Pollable*) noexcept;
struct LeafName {
  bool (*poll_fn)(Pollable*, task::Context&) noexcept;
  const char* (*pretty)() noexcept;  // a __PRETTY_FUNCTION__ naming the type ("... D = X]")
  LeafMsLeftFn ms_left;              // or null
  LeafName* next = nullptr;
  LeafName(bool (*f)(Pollable*, task::Context&) noexcept, const char* (*n)() noexcept,
           LeafMsLeftFn ms) noexcept;
};
// The entry of the leaf type whose poll function is `f`, or null if unknown (or `f` null).
const LeafName* leaf_entry(bool (*f)(Pollable*, task::Context&) noexcept) noexcept;
template <class D>
constexpr LeafMsLeftFn leaf_ms_left_of() noexcept {
  if constexpr (requires(const D& d) {
                  { d.dump_ms_left() }
                  noexcept;
                }) {
    return [](const Pollable* p) noexcept -> int64_t {
      return static_cast<const D*>(p)->dump_ms_left();
    };
  } else {
    return nullptr;
  }
}
// A leaf's name taken from a type that names itself with `kLeafName` (a wait users know by
// the call that started it, such as "sync::Mutex::lock"; a generic leaf forwards the name
// of the op or maker that specialises it), or null.
template <class T>
constexpr const char* leaf_name_of() noexcept {
  if constexpr (requires { T::kLeafName; }) return T::kLeafName;
  else return nullptr;
}
// What a dump calls a leaf: its own name, else its type as the compiler spells it.
template <class D>
const char* leaf_type_pretty() noexcept {
  if (const char* n = leaf_name_of<D>()) return n;
  return __PRETTY_FUNCTION__;
}

// Moves the value out of an optional a poll has just filled, member by member. A whole-
// optional move of a small trivially copyable T (what `return std::move(out_)` compiles to)
// is one load as wide as the optional, reading the value and the flag the poll wrote with
// two narrower stores: the store buffer cannot forward it, and the load waits for both
// stores to retire. On a next() loop over a fast stream that cost most of the time
// (bench/NOTES.md, 2026-12-06).
template <class T>
std::optional<T> take_fresh(std::optional<T>& o) {
  if (!o) return std::nullopt;
  return std::optional<T>(std::in_place, std::move(*o));
}

// CRTP base of leaf awaitables. Derived provides `bool poll(task::Context&) noexcept`
// (ready?) and `await_resume()`, and may provide `void before_first_poll()`, called before
// the first poll of each await and allowed to throw (a timer leaf checks there that the
// runtime has a timer driver). Derived does not override await_ready or await_suspend:
// select, join, try_join and timeout poll a leaf directly (LeafBranch,
// core/detail/branch.hpp), and a leaf that overrides them is awaited there through a Task
// frame instead. The first poll happens inside await_ready, so a ready
// resource is consumed without suspending (it still costs one unit of coop budget). A leaf
// whose polls settle every unit they take themselves says so with `static constexpr bool
// kSettlesBudget = true;`, and its first poll is not wrapped in poll_leaf_restoring. Leaves
// hold no bookkeeping of their own (see PollSlot), so they copy and move freely before they
// first suspend; once suspended they are registered by address and must not move.
//
// A leaf may also provide `bool try_poll() noexcept`: ready now? asked without a waker, so
// false must leave nothing registered and consume nothing a pending poll would not (a
// write_all that wrote part of its buffer before EAGAIN keeps that progress, as after a
// pending poll). true completes the leaf exactly as a ready poll would, errors included
// (a closed semaphore answers true, with the error), budget included: coop_try. select
// asks the leaves that have it on its first poll and polls (registers) them only when no
// branch was ready, so a branch that loses to a ready sibling never joins a queue, and
// the winner is the one its poll order would have picked (Select::poll).
template <class Derived>
class Leaf : public Pollable {
 public:
  using tokio_awaitable = void;

  // The first poll: a ready leaf completes here and the co_await goes straight on to
  // await_resume, without the suspension's bookkeeping (a next() loop over a stream, a
  // receive from a channel holding messages). Outside a task nothing is polled and
  // await_suspend reports the misuse. Always inlined: g++ left it out of line for the
  // claimed next() of merge and StreamMap, a call and a spill per item (callgrind, `stream
  // merge 1 10` 364.3M -> 319.1M instructions, `stream_map 1 2` 140.3M -> 131.3M; the
  // other rows measured moved by under 1%, and text by under 1 KB).
  TOKIO_ALWAYS_INLINE bool await_ready() {
    ThreadContext& t = tls;
    if (TOKIO_UNLIKELY(t.slot == nullptr)) return false;
    if constexpr (requires(Derived & d) { d.before_first_poll(); }) {
      static_cast<Derived*>(this)->before_first_poll();
    }
    task::Context cx(t.waker);
    if constexpr (SettlesBudget<Derived>) {
      return static_cast<Derived*>(this)->poll(cx);  // each poll inside it is settled
    } else {
      return poll_leaf_restoring(t, [&] { return static_cast<Derived*>(this)->poll(cx); });
    }
  }
  // Pending: await_ready's poll registered the task's waker; the slot records the leaf, so
  // the next wake polls it again.
  void await_suspend(std::coroutine_handle<> h) {
    ThreadContext& t = tls;
    if (TOKIO_UNLIKELY(t.slot == nullptr)) throw_not_in_task("co_await of a tokio awaitable");
    PollSlot* s = t.slot;
    s->leaf = this;
    s->poll_fn = &poll_thunk;
    s->continuation = h;
    (void)&name_entry;  // instantiates this type's LeafName (registered at start-up)
  }

 private:
  static bool poll_thunk(Pollable* p, task::Context& cx) noexcept {
    return static_cast<Derived*>(p)->poll(cx);
  }
  static inline LeafName name_entry{&poll_thunk, &leaf_type_pretty<Derived>,
                                    leaf_ms_left_of<Derived>()};
};

}  // namespace tokio::detail
