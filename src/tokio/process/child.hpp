#pragma once
// process::Child: a spawned child process (Command::spawn()).
//
//   auto child = Command("sort").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn();
//   co_await io::write_all(*child->stdin, "b\na\n");
//   child->stdin.reset();                          // EOF for sort
//   auto out = co_await std::move(*child).wait_with_output();   // io::Result<Output>
//
// wait()             io::Result<ExitStatus>; cancel-safe: a wait destroyed before the exit
//                    loses nothing, and once reaped the status is kept (every later wait
//                    and try_wait returns it). Closes stdin first, as Tokio does, so a
//                    child reading its stdin cannot deadlock against the wait.
// try_wait()         the status if the child has exited (reaping it), else nullopt.
// start_kill()       sends SIGKILL; an error once the child has been reaped.
// kill()             start_kill() then wait(), both when the Task first runs (does not
//                    close stdin). Like a wait, the Task may outlive its Child.
// wait_with_output() closes stdin, reads stdout and stderr to their end concurrently while
//                    waiting (no deadlock on large output); consumes the Child.
// id()               the pid, until the child is reaped.
//
// Dropping a Child does not kill the process (unless Command::kill_on_drop(true)), as in
// Tokio: it keeps running, and is reaped in the background when it exits (no zombies; see
// process/detail/reaper.hpp). Exit is watched with a pidfd registered with the reactor of
// the runtime that awaits wait() (at first the one that spawned the child: a wait on
// another runtime moves it, so a spawner left idle or dropped is no trap), or SIGCHLD
// where pidfds are not available (see process/detail/child_state.hpp). Several waits may
// be pending at once, in any tasks on any runtimes (Rust's `&mut self` forbids it; here it
// is safe): each completes with the one exit status. A wait may outlive its Child: dropping
// the Child (kill_on_drop kills it then) leaves the pending waits to complete.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "tokio/core/detail/owned.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/process/child_io.hpp"
#include "tokio/process/exit_status.hpp"
#include "tokio/signal/detail/registry.hpp"
#include "tokio/io/detail/scheduled_io.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

struct ChildState;    // process/detail/child_state.hpp
struct ChildFactory;  // process/command.cpp
class PollSocket;     // net/detail/socket.hpp
struct HandleInner;   // runtime/detail/handle_inner.hpp

class TOKIO_MUST_AWAIT ChildWaitOp : public Leaf<ChildWaitOp> {
 public:
  // Each ChildWaitOp owns a reference to the state, so it may outlive its Child.
  explicit ChildWaitOp(ChildState* s) noexcept;
  ChildWaitOp(const ChildWaitOp& o) noexcept;
  ChildWaitOp& operator=(const ChildWaitOp&) = delete;
  ~ChildWaitOp();
  bool poll(task::Context& cx) noexcept;
  // Leaf's try_poll: reaps the child if it has exited (the waitpid poll starts with),
  // registering nothing otherwise.
  bool try_poll() noexcept;
  io::Result<process::ExitStatus> await_resume() const noexcept;
  ChildState* state() const noexcept { return s_; }  // held (counted) for this op's life

 private:
  void follow_runtime() noexcept;
  bool moves_to(HandleInner* h) const noexcept;
  ScheduledIo* parked_io() const noexcept;
  void unpark() noexcept;
  void drop_own() noexcept;
  void let_go() noexcept;

  ChildState* s_;
  IoWaiter io_{io::Ready::kReadable | io::Ready::kReadClosed};  // pidfd mode
  // The reactor entry io_ is linked on (null: none): own_'s when there is one, else the
  // Child's registration's (and then counted in s_->pidfd_waits). own_ is made after
  // parking ends and dropped only after it ended.
  ScheduledIo* parked_on_ = nullptr;
  // pidfd mode, when other waits pin the Child's registration to another runtime (which may
  // be idle): a dup of the pidfd registered on this wait's runtime. Never copied (a copy of
  // the op starts without one); freed under s_->mu (drop_own), which the destructor holds.
  Owned<PollSocket> own_;
  SignalRecvNode sig_;  // SIGCHLD mode
  int err_ = 0;         // errno, or -1: the reactor shut down
};

}  // namespace tokio::detail

namespace tokio::process {

class Child {
 public:
  // The parent's ends of the pipes requested with Stdio::piped() (empty otherwise).
  std::optional<ChildStdin> stdin;
  std::optional<ChildStdout> stdout;
  std::optional<ChildStderr> stderr;

  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  // The OS pid, until the child has been reaped (then nullopt).
  std::optional<uint32_t> id() const noexcept;

  detail::ChildWaitOp wait() noexcept;
  io::Result<std::optional<ExitStatus>> try_wait() noexcept;
  io::Result<void> start_kill() noexcept;
  Task<io::Result<void>> kill();
  // Consumes the child (call as std::move(child).wait_with_output()).
  Task<io::Result<Output>> wait_with_output() &&;
  template <class Self = Child>
  Task<io::Result<Output>> wait_with_output() const& {
    static_assert(detail::consumes_self<Self>,
                  "Child::wait_with_output() consumes the child: write "
                  "std::move(child).wait_with_output() (Rust moves it implicitly)");
    __builtin_unreachable();  // never instantiated without failing above
  }

 private:
  friend struct detail::ChildFactory;
  explicit Child(detail::ChildState* s) noexcept;

  detail::ChildState* st_ = nullptr;
};

}  // namespace tokio::process
