#include "tokio/process/child.hpp"

#include <fcntl.h>
#include <signal.h>

#include <string>
#include <utility>

#include "tokio/core/combinators.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/reactor_error.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/process/detail/child_state.hpp"
#include "tokio/process/detail/spawn_error.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

// The error every operation of a moved-from Child returns (its state went with the move).
std::error_code moved_from_child_error() noexcept {
  try {
    return error_with_message(EINVAL,
                              "process::Child used after it was moved from: use the Child it "
                              "was moved into");
  } catch (...) {
    return std::error_code(EINVAL, std::system_category());  // no memory for the message
  }
}

ChildWaitOp::ChildWaitOp(ChildState* s) noexcept : s_(s) {
  if (s_) child_state_retain(s_);
}

ChildWaitOp::ChildWaitOp(const ChildWaitOp& o) noexcept : Leaf<ChildWaitOp>(o), s_(o.s_) {
  if (s_) child_state_retain(s_);
}

ChildWaitOp::~ChildWaitOp() {
  if (!s_) return;
  {
    LockGuard<Mutex> g(s_->mu);
    let_go();
  }
  child_state_release(s_);  // the last owner when the Child is gone: reaper, then free
}

// (s_->mu held.) The entry io_ is linked on stays alive until this unlinks from it: the
// Child's registration moves only while no other wait is parked on it, and own_ is ours.
void ChildWaitOp::unpark() noexcept {
  ScheduledIo* io = std::exchange(parked_on_, nullptr);
  if (!io) return;
  io->remove_waiter(io_);
  if (!own_) --s_->pidfd_waits;
}

void ChildWaitOp::drop_own() noexcept {
  own_.reset();  // deregisters and closes the dup
}

// (s_->mu held.) Out of every wait this op joined: the reactor entry, its dup, SIGCHLD.
void ChildWaitOp::let_go() noexcept {
  unpark();
  drop_own();
  if (s_->chld.sig) signal_cancel_recv(s_->chld, sig_);
  child_release_pidfd_if_reaped(*s_);
}

// (s_->mu held.) The reactor entry a wait parks on: its own dup's, else the Child's.
ScheduledIo* ChildWaitOp::parked_io() const noexcept { return own_ ? own_->io() : s_->pidfd.io(); }

// (s_->mu held.) Whether follow_runtime moves the wait to h: h has an I/O driver and the
// wait is registered neither there (the Child's pidfd) nor with a dup of its own.
bool ChildWaitOp::moves_to(HandleInner* h) const noexcept {
  return h && h->driver.io() != nullptr && !s_->pidfd.registered_on(h) &&
         !(own_ && own_->registered_on(h));
}

// Tokio's wait completes on whichever runtime awaits it (its SIGCHLD listener is fed by
// every runtime's driver); a pidfd registered with the spawning runtime would wait for a
// runtime nobody drives, or fail once it is gone. So the registration moves to the
// awaiting runtime; while another wait is parked on it (it may sit on an idle runtime),
// it stays, and this wait registers a dup of the pidfd on its own runtime instead.
void ChildWaitOp::follow_runtime() noexcept {
  HandleInner* h = tls.handle;
  if (!moves_to(h)) {
    // Back on the runtime of the Child's registration: a dup of our own is not needed.
    if (own_ && h && h->driver.io() != nullptr && s_->pidfd.registered_on(h)) {
      unpark();
      drop_own();
    }
    return;
  }
  unpark();
  drop_own();
  // On failure (an epoll_ctl error, a dup refused, std::bad_alloc; the no-runtime error
  // cannot happen, h has an I/O driver) the Child's registration stays where it is and the
  // poll parks on it, as it would had the wait not moved.
  try {
    if (s_->pidfd_waits == 0) {
      (void)s_->pidfd.reregister_here(io::Interest::READABLE, "process::Child::wait");
      return;
    }
    int dup = ::fcntl(s_->pidfd.fd(), F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return;
    auto own = PollSocket::adopt(OwnedFd(dup), io::Interest::READABLE, "process::Child::wait");
    if (own) own_ = Owned<PollSocket>(new PollSocket(std::move(*own)));
  } catch (...) {
  }
}

bool ChildWaitOp::poll(task::Context& cx) noexcept {
  if (!s_) {
    err_ = EINVAL;  // a moved-from Child
    return true;
  }
  LockGuard<Mutex> g(s_->mu);
  if (s_->reaped) return true;
  if (!coop_poll_proceed(cx)) return false;
  if (s_->pidfd.is_open()) follow_runtime();
  for (;;) {
    ScheduledIo* io = parked_io();
    uint32_t snap = io ? io->load() : 0;
    int r = child_try_reap(*s_);
    if (r != 0) {
      if (r < 0) err_ = -r;
      break;
    }
    if (io) {
      if (snap & ScheduledIo::kShutdown) {
        err_ = -1;
        break;
      }
      // Readable means exited, which the waitpid above would have seen: a stale edge.
      if (snap & io::Ready::kReadable) io->clear_readiness(snap, io::Ready::kReadable);
      uint32_t now;
      if (parked_on_ != io) {  // not parked yet (or, defensively, somewhere else)
        unpark();
        parked_on_ = io;
        if (!own_) ++s_->pidfd_waits;
      }
      if (io->poll_ready(cx, io_, now)) continue;  // exited meanwhile (or shut down)
      return false;
    }
    if (s_->chld.sig) {
      if (signal_poll_recv(s_->chld, sig_, cx)) continue;  // a SIGCHLD: look again
      return false;
    }
    err_ = ECHILD;  // not watched (cannot happen for a spawned Child)
    break;
  }
  let_go();
  return true;
}

bool ChildWaitOp::try_poll() noexcept {
  if (!s_) {
    err_ = EINVAL;  // a moved-from Child
    return true;
  }
  LockGuard<Mutex> g(s_->mu);
  if (s_->reaped) return true;
  // Where poll would stay parked (it follows the runtime only for an open pidfd, and
  // moves_to says when), a reactor that shut down completes the wait with that error, as
  // poll reports it.
  const bool stays = !s_->pidfd.is_open() || !moves_to(tls.handle);
  if (!coop_try([&] {
        int r = child_try_reap(*s_);
        if (r < 0) err_ = -r;
        if (r != 0) return true;
        ScheduledIo* io = parked_io();
        if (stays && io && (io->load() & ScheduledIo::kShutdown)) {
          err_ = -1;
          return true;
        }
        return false;
      })) {
    return false;
  }
  let_go();  // as poll's exit: whatever an earlier poll of this op registered
  return true;
}

io::Result<process::ExitStatus> ChildWaitOp::await_resume() const noexcept {
  if (err_ == -1) return tokio::unexpected(make_error_code(io::ReactorErrc::shutdown));
  if (!s_) return tokio::unexpected(moved_from_child_error());
  if (err_) return io::os_error(err_);
  return process::ExitStatus::from_raw(s_->status);
}

}  // namespace tokio::detail

namespace tokio::detail::process_child_impl {

template <class P>
Task<io::Result<std::string>> read_all(std::optional<P> p) {
  std::string s;
  if (!p) co_return s;
  auto r = co_await io::read_to_end(*p, s);
  if (!r) co_return tokio::unexpected(r.error());
  co_return s;
}

// The coroutine owns the Child, so the Task may outlive the object it was called on.
Task<io::Result<process::Output>> wait_with_output(process::Child c) {
  c.stdin.reset();
  auto out = read_all(std::move(c.stdout));
  auto err = read_all(std::move(c.stderr));
  auto [st, o, e] = co_await tokio::join(c.wait(), std::move(out), std::move(err));
  if (!st) co_return tokio::unexpected(st.error());
  if (!o) co_return tokio::unexpected(o.error());
  if (!e) co_return tokio::unexpected(e.error());
  co_return process::Output{*st, std::move(*o), std::move(*e)};
}

// SIGKILL to the child of `s`, unless it has been reaped (s null: a moved-from Child).
io::Result<void> start_kill(ChildState* s) noexcept {
  if (!s) return tokio::unexpected(moved_from_child_error());
  LockGuard<Mutex> g(s->mu);
  if (s->reaped) {
    try {
      return tokio::unexpected(
          error_with_message(EINVAL, "invalid argument: can't kill an exited process"));
    } catch (...) {
      return io::os_error(EINVAL);  // no memory for the message: the errno alone
    }
  }
  // Not reaped yet, so the pid still names our child (a zombie at worst).
  if (::kill(s->pid, SIGKILL) < 0) return io::last_os_error();
  return {};
}

// Child::kill's body. It holds the state through its own wait (w owns a reference), not the
// Child, so the Child may be moved or dropped before this Task runs or while it waits.
Task<io::Result<void>> kill_then_wait(ChildWaitOp w) {
  auto k = start_kill(w.state());
  if (!k) co_return k;
  auto st = co_await w;
  if (!st) co_return tokio::unexpected(st.error());
  co_return io::Result<void>();
}

}  // namespace tokio::detail::process_child_impl

namespace tokio::process {

Child::Child(detail::ChildState* s) noexcept : st_(s) {}

Child::Child(Child&& o) noexcept
    : stdin(std::move(o.stdin)),
      stdout(std::move(o.stdout)),
      stderr(std::move(o.stderr)),
      st_(std::exchange(o.st_, nullptr)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    stdin = std::move(o.stdin);
    stdout = std::move(o.stdout);
    stderr = std::move(o.stderr);
    detail::child_state_drop(std::exchange(st_, std::exchange(o.st_, nullptr)));
  }
  return *this;
}

Child::~Child() {
  // The pipes close first (members are destroyed after this body runs, so close them
  // here): a child blocked writing to us sees EPIPE instead of hanging.
  stdin.reset();
  stdout.reset();
  stderr.reset();
  detail::child_state_drop(st_);
}

std::optional<uint32_t> Child::id() const noexcept {
  if (!st_) return std::nullopt;
  detail::LockGuard<detail::Mutex> g(st_->mu);
  if (st_->reaped) return std::nullopt;
  return static_cast<uint32_t>(st_->pid);
}

detail::ChildWaitOp Child::wait() noexcept {
  stdin.reset();
  return detail::ChildWaitOp(st_);
}

io::Result<std::optional<ExitStatus>> Child::try_wait() noexcept {
  if (!st_) return tokio::unexpected(detail::moved_from_child_error());
  detail::LockGuard<detail::Mutex> g(st_->mu);
  int r = detail::child_try_reap(*st_);
  if (r < 0) return io::os_error(-r);
  if (r == 0) return std::optional<ExitStatus>();
  detail::child_release_pidfd_if_reaped(*st_);
  return std::optional<ExitStatus>(ExitStatus::from_raw(st_->status));
}

io::Result<void> Child::start_kill() noexcept {
  return detail::process_child_impl::start_kill(st_);
}

Task<io::Result<void>> Child::kill() {
  return detail::process_child_impl::kill_then_wait(detail::ChildWaitOp(st_));
}

Task<io::Result<Output>> Child::wait_with_output() && {
  return detail::process_child_impl::wait_with_output(std::move(*this));
}

}  // namespace tokio::process
