#pragma once
// The process-wide signal registry behind signal::unix::Signal (and the SIGCHLD fallback
// of tokio::process).
//
// Delivery path. The first listener of a signal installs one OS handler for it, for the life
// of the process. The handler is async-signal-safe and does two things only: it sets the
// signal's bit in a pending mask (a lock-free atomic) and writes to one process-wide
// eventfd (the self-pipe); then it chains to the handler that was installed before it.
// Listeners are woken from there through the reactor:
//
//   handler ─ pending |= bit; write(eventfd) ─▶ epoll of every runtime that has listeners
//            (each registers its own dup of the eventfd) ─▶ waiting listeners' tasks woken
//   a woken listener dispatches: read(eventfd) (drains it), pending.exchange(0), and for
//   each pending signal bumps its version and wakes every waiter of that signal
//
// Dispatch runs inside any listener's poll (and when a listener is created), on whichever
// runtime gets there first; there is no driver task and no owner runtime. A signal slot's
// version is a counter of dispatched deliveries: a listener remembers the version it last
// saw, so deliveries between two recv()s coalesce into one, and a listener created after a
// delivery (creation dispatches first, then snapshots the version) does not see it.
//
// Several runtimes. Each runtime that has listeners has one SignalWatcher: a dup of the
// eventfd registered with that runtime's reactor, shared by its listeners and released
// with the last of them. Every watcher's epoll sees each write, so whichever runtime is
// awake dispatches and wakes all listeners, in every runtime, through the signal's waiter
// list; the other epolls may then find the eventfd already drained, which is harmless
// because their listeners were woken through the list. Dropping one runtime therefore
// never affects listeners of another. A listener polled on a runtime other than its
// watcher's re-binds to that runtime (when it has an I/O driver): a Signal created on
// runtime A and awaited on B is woken by B's reactor whether A is dropped, or alive but
// idle (a current_thread runtime nobody drives never reads its epoll).
//
// Ordering (the handler vs a dispatch): the handler sets the bit before writing the
// eventfd; a dispatch reads the eventfd before exchanging the mask. A bit set after the
// exchange is followed by a write after the read, i.e. a new readiness edge, so it is
// dispatched later; a bit set before the exchange is dispatched now (its write may cause
// one spurious wake-up). A version bump and the wake of the waiter list happen under the
// slot's lock, and a waiter links itself under that lock after re-checking the version,
// so a waiter either sees the new version or is on the list when it is woken.

#include <atomic>
#include <cstdint>

#include "tokio/core/result.hpp"
#include "tokio/core/waker.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/io/detail/scheduled_io.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

// Linux signal numbers run from 1 to SIGRTMAX (64).
inline constexpr int kMaxSignal = 64;

// A wait node in one signal's waiter list (inside the awaiting operation: no allocation per
// wait). prev/next/waker are guarded by the slot's lock; `linked` is written under it and
// read without it by the owner: once it reads false (acquire), the list no longer touches
// the node.
struct SignalWaiter {
  SignalWaiter* prev = nullptr;
  SignalWaiter* next = nullptr;
  Wakeable* waker = nullptr;  // an owned reference while linked
  std::atomic<bool> linked{false};

  SignalWaiter() noexcept = default;
  // Awaitables are copied before they first suspend: a copy is never linked.
  SignalWaiter(const SignalWaiter&) noexcept {}
  SignalWaiter& operator=(const SignalWaiter&) = delete;
};

class SignalWatcher;

// One listener: the state of a Signal.
struct SignalListener {
  int sig = 0;                       // 0: none (moved-from)
  uint64_t seen = 0;                 // the slot version this listener has seen
  SignalWatcher* watcher = nullptr;  // one reference; null when no runtime watches for it
  // Recv nodes parked on `watcher`'s reactor entry. Several waits share a Child's listener;
  // while another one is parked there, the listener keeps its watcher (the parked wait
  // unlinks from it later, so it must stay alive), and a wait polled on another runtime
  // watches through a watcher of its own (SignalRecvNode::own). Guarded by the owner's
  // exclusion: the Child's mutex, or a Signal's single recv.
  uint32_t parked = 0;
  // Held by the recv being polled, from its first poll until it completes or is destroyed:
  // a second recv, maybe on another runtime's thread at the same time, is refused.
  BasicExclusiveUse<true> recv_use;
};

// The waits of one recv: on the signal's list, and on a watcher's reactor entry.
struct SignalRecvNode {
  SignalRecvNode() noexcept = default;
  // Awaitables are copied before they first suspend: a copy starts unparked, owning nothing.
  SignalRecvNode(const SignalRecvNode& o) noexcept : list(o.list), io(o.io) {}
  SignalRecvNode& operator=(const SignalRecvNode&) = delete;

  SignalWaiter list;
  IoWaiter io{io::Ready::kReadable | io::Ready::kReadClosed};
  // The reactor entry `io` is linked on (null: none): own's when the node has its own
  // watcher, else the listener's watcher's (and then counted in SignalListener::parked).
  // `own` is taken after parking ends and dropped only after it ended.
  ScheduledIo* parked = nullptr;
  SignalWatcher* own = nullptr;  // a reference: this wait's own watcher (see `parked`)
};

// Installs the handler for `sig` (once per process), binds the listener to the current
// runtime's watcher, dispatches pending deliveries and snapshots the version. Errors: a
// forbidden or out-of-range signal, sigaction's or eventfd's errno. Throws
// std::logic_error (naming `what`) outside a runtime or on one without the I/O driver.
io::Result<void> signal_listener_init(SignalListener& l, int sig, const char* what);
// Drops the listener's watcher reference (idempotent).
void signal_listener_release(SignalListener& l) noexcept;

// One step of a recv: true when a delivery the listener has not seen was dispatched (and
// marks it seen); otherwise leaves the node waiting with cx's waker.
bool signal_poll_recv(SignalListener& l, SignalRecvNode& n, task::Context& cx) noexcept;
// signal_poll_recv without a waker (a leaf's try_poll): true (as that poll) when a
// delivery the listener has not seen is there, dispatching what the handler left pending;
// false with nothing linked or parked.
bool signal_try_recv(SignalListener& l, SignalRecvNode& n) noexcept;
// Unlinks the node from whatever it waits on (a recv that completed or was destroyed).
void signal_cancel_recv(SignalListener& l, SignalRecvNode& n) noexcept;

// --- for waiters that are not tasks (the process reaper thread) ----------------------------
// Installs the handler for `sig` if needed (sig must be allowed). reclaim: also when it
// was installed but another disposition has replaced it since (process spawns reclaim
// SIGCHLD from SIG_IGN, which would have the kernel reap their children).
io::Result<void> signal_install(int sig, bool reclaim = false);
// Reads the eventfd and broadcasts every pending delivery.
void signal_dispatch() noexcept;
uint64_t signal_version(int sig) noexcept;
// Links `w` with `waker` (cloned) on sig's list unless the version moved past `seen`
// (then returns false and links nothing). Linking a linked node only swaps its waker.
bool signal_link_waiter(int sig, uint64_t seen, SignalWaiter& w, Wakeable* waker) noexcept;
void signal_unlink_waiter(int sig, SignalWaiter& w) noexcept;
// A new close-on-exec dup of the self-pipe's eventfd (non-blocking), or -1 with errno.
int signal_dup_event_fd() noexcept;

}  // namespace tokio::detail
