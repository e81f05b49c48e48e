#pragma once
// The orphan reaper: children whose Child was dropped before they were waited for are
// reaped in the background, so they never linger as zombies, even after the runtime that
// spawned them is gone (Tokio reaps them on later SIGCHLDs, best-effort).
//
// A lazily started thread ("tokio-reaper") owns an epoll instance:
//   - pidfd mode: each orphan's pidfd is in the epoll set; its exit wakes the thread,
//     which reaps exactly that child (waitpid(pid, WNOHANG)) and closes the pidfd;
//   - SIGCHLD mode (no pidfd): the thread waits on the SIGCHLD slot of the signal registry
//     (a waiter whose waker writes the thread's eventfd) and also watches a dup of the
//     signal self-pipe, dispatching deliveries itself when no runtime does; on each
//     SIGCHLD it tries waitpid(pid, WNOHANG) on every such orphan, and once a second as
//     a safety net (a program that replaced our SIGCHLD handler).
// Only the orphans' own pids are ever waited for (never waitpid(-1)), so children the
// program spawned by other means are left alone.

#include <cstddef>

namespace tokio::detail {

// Takes over `pid` (not yet reaped) and its pidfd (-1 in SIGCHLD mode).
void reaper_adopt(int pid, int pidfd) noexcept;

// When the reaper's thread could not start (EMFILE, EAGAIN) while orphans wait, tries
// again now (cheap otherwise: one atomic load). Called whenever a Child's last owner lets
// go, reaped or not: waiting for the next adopt alone would leave those orphans as zombies
// when every later child is reaped by its own wait.
void reaper_retry() noexcept;

// Orphans not reaped yet (for tests).
std::size_t reaper_orphans() noexcept;

}  // namespace tokio::detail
