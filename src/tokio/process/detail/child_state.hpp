#pragma once
// ChildState: what a Child owns (heap-allocated, so a Child can move while a wait() on
// it is suspended, and its destructor can hand the process to the orphan reaper).
//
// Exit notification, one of:
//   pidfd   (Linux >= 5.3) pidfd_open(pid) registered with the spawning runtime's reactor,
//           and moved to the reactor of the runtime that awaits wait() when that is
//           another one (the spawning runtime may be idle, or gone): it becomes readable
//           when the child exits, one wake-up per exit;
//   SIGCHLD a signal::unix listener for SIGCHLD: every SIGCHLD wakes every waiting Child,
//           which each try waitpid(pid, WNOHANG) (Tokio 1.24's scheme; O(children) per
//           SIGCHLD).
// pidfd is used when the kernel has it and descriptors are plentiful: a child spawned when
// the table is three quarters full (under the soft RLIMIT_NOFILE) is watched by SIGCHLD,
// so many children at once cannot take the program's last descriptors. The mode is per
// child (`chld.sig` set: SIGCHLD). TOKIO_PROCESS_NO_PIDFD=1 in the environment (read at
// the first spawn), or process_force_sigchld(true), selects SIGCHLD for the children
// spawned from then on (tests use both).

#include <atomic>
#include <cstdint>

#include "tokio/core/detail/mutex.hpp"
#include "tokio/core/result.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/signal/detail/registry.hpp"

namespace tokio::detail {

struct ChildState {
  // Serialises everything below across threads once the Child is handed out: waits (their
  // polls and their destruction), try_wait, start_kill and id. Several tasks may wait on
  // one Child at once, from any runtimes' threads; the reap (waitpid, then `reaped` and
  // `status`) and a kill by pid must not interleave, or a kill could reach a recycled pid.
  // Held for a waitpid or kill and a wait's registrations; what it wakes meanwhile (other
  // SIGCHLD listeners) is only scheduled, never polled under it.
  mutable Mutex mu;
  // Owners: the Child (until it is dropped or moved from) and each live ChildWaitOp, so a
  // wait may outlive its Child. The last one out frees the state (child_state_release).
  // acq_rel decrement: the last owner sees every other owner's writes (made under `mu` or
  // before their release) before it frees.
  std::atomic<uint32_t> refs{1};
  int pid = -1;
  bool reaped = false;
  int status = 0;  // the raw wait status, once reaped
  bool kill_on_drop = false;
  PollSocket pidfd;  // pidfd mode: registered with the reactor
  // pidfd mode: ChildWaitOps parked on pidfd's registration (a wait moves the
  // registration to its own runtime only when no other wait is parked on it). Under `mu`.
  uint32_t pidfd_waits = 0;
  SignalListener chld;  // SIGCHLD mode (chld.sig == SIGCHLD)
};

// waitpid(pid, WNOHANG) unless reaped: 1 reaped (status stored), 0 still running, -errno.
int child_try_reap(ChildState& s) noexcept;
// (s.mu held.) Once the child is reaped and no wait is parked on the pidfd's registration,
// closes the pidfd: a program keeping finished Children (a job table) holds no descriptor
// for each. A wait arriving later sees `reaped` first and never looks at the pidfd.
void child_release_pidfd_if_reaped(ChildState& s) noexcept;
// Sets up exit notification for a freshly spawned child (pidfd, else SIGCHLD).
io::Result<void> child_watch(ChildState& s);
// The Child lets go of `s`: kills the process if kill_on_drop (and not reaped), then
// drops the Child's reference.
void child_state_drop(ChildState* s) noexcept;
// One more owner (a ChildWaitOp), and one fewer: the last hands an unreaped child to the
// reaper (no zombie) and frees `s`.
void child_state_retain(ChildState* s) noexcept;
void child_state_release(ChildState* s) noexcept;
// Reaps `pid` now if it has exited, else hands it to the reaper (with a pidfd when pidfds
// are in use). For children that never got a ChildState.
void orphan_child(int pid) noexcept;

// Test and configuration switch: true = SIGCHLD mode for children spawned from now on.
void process_force_sigchld(bool on) noexcept;
bool process_uses_pidfd() noexcept;

}  // namespace tokio::detail
