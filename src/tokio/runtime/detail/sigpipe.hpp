#pragma once
// SIGPIPE around writes to pipes, FIFOs and terminals (sockets pass MSG_NOSIGNAL instead).
//
// A write to a pipe whose reader is gone raises SIGPIPE at the writing thread, and the
// default action kills the process. Rust's runtime ignores SIGPIPE process-wide, so Tokio's
// writes just fail with EPIPE; a library must not change a C++ program's dispositions, so:
//   - the threads the runtime starts (workers and blocking-pool threads, all started by
//     spawn_native_thread) block SIGPIPE for their whole life, once, at start. A write
//     there pays no system call for it, and a user's own write(2) in a task or a
//     spawn_blocking job on those threads fails with EPIPE, as it does under Tokio. The
//     children a Command spawns start with an empty mask (process/detail/spawn.cpp).
//   - on any other thread (the thread of a current-thread runtime, block_on's caller, a
//     user's thread), a SigpipeGuard blocks SIGPIPE for its scope only: two
//     rt_sigprocmask calls.
// After a write failed with EPIPE, the SIGPIPE it raised is pending at this thread; call
// epipe() and the guard takes it (sigtimedwait with a zero timeout, on that error path
// only), unless the user had SIGPIPE blocked before the guard: then what is pending is
// not ours to take. A user who unblocks SIGPIPE on a runtime thread gets the default
// action back there.
// Once a tokio::signal listener catches SIGPIPE (signal(SignalKind::pipe()): our handler is
// installed, for the life of the process, and a SIGPIPE can no longer kill it), all of that
// stops, so the listeners hear of every broken-pipe write, as Tokio's do (its handler then
// replaces Rust's SIG_IGN): guards leave the mask alone and take nothing, and runtime
// threads unblock SIGPIPE at their next wait for work (sigpipe_refresh_thread), which
// delivers one left pending by a write made there before.

#include <climits>
#include <cstddef>
#include <cstdint>

struct iovec;  // <sys/uio.h>, kept out of this header

namespace tokio::detail {

// Blocks SIGPIPE on the calling thread for the rest of its life and records that SigpipeGuard
// need not touch the mask there. Called first thing on every thread the runtime starts.
void block_sigpipe_for_thread() noexcept;
// Our signal handler now catches SIGPIPE (called once it is installed). Release: pairs with
// the acquire loads below, which then see the handler in place.
void sigpipe_now_caught() noexcept;
// On a thread that blocked SIGPIPE for its life, once it is caught: unblock it. Called
// where runtime threads wait for work (a worker's park, a blocking thread between jobs).
void sigpipe_refresh_thread() noexcept;

class SigpipeGuard {
 public:
  SigpipeGuard() noexcept;
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  // The guarded write failed with EPIPE: its SIGPIPE is to be taken.
  void epipe() noexcept { epipe_ = true; }

 private:
  unsigned long old_[16];  // sigset_t storage (128 bytes), kept out of this header
  bool restore_ = false;   // this guard blocked SIGPIPE: put the old mask back
  bool take_ = false;      // a SIGPIPE pending after EPIPE is ours (not blocked by the user)
  bool epipe_ = false;
};

// write_all's result when the fd accepted nothing (a write returned 0): a value no -errno
// can take (-1 is -EPERM, which a sealed memfd or a file under fanotify gives).
inline constexpr int kWriteZero = INT_MIN;

// Writes all of buf to fd, EINTR retried: 0, -errno, or kWriteZero; `written` counts what
// went out either way.
int write_all(int fd, const std::byte* buf, std::size_t len, std::size_t& written) noexcept;
// The same under a SigpipeGuard: a closed pipe or FIFO gives -EPIPE, never a SIGPIPE.
int write_all_nosig(int fd, const std::byte* buf, std::size_t len, std::size_t& written) noexcept;
// One write(2) / writev(2) under a SigpipeGuard, EINTR retried: the bytes written or -errno
// (-EPIPE for a closed pipe, never a SIGPIPE). cnt is at most IOV_MAX.
int64_t write_nosig(int fd, const void* p, std::size_t n) noexcept;
int64_t writev_nosig(int fd, const ::iovec* iov, int cnt) noexcept;

}  // namespace tokio::detail
