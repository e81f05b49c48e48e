#pragma once
// JoinHandle<T> (await a spawned task's output) and AbortHandle (cancel it from anywhere).

#include <exception>
#include <type_traits>
#include <atomic>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/await_claim.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/task/join_error.hpp"

namespace tokio::detail {

// A completed task's output as JoinHandle and JoinSet hand it out: the value, or a
// JoinError (the task threw, or was cancelled). The output is consumed.
template <class T>
Result<T, task::JoinError> take_join_result(TaskHeader* t) {
  Outcome<T>* out = output_of<T>(t);
  task::Id id{t->id()};
  if (out->state() == OutcomeState::Value) {
    if constexpr (std::is_void_v<T>) {
      out->take_value();
      return {};
    } else {
      return Result<T, task::JoinError>(out->take_value());
    }
  }
  if (std::exception_ptr e = out->take_exception()) {
    return unexpected(task::JoinError::panic(id, std::move(e)));
  }
  return unexpected(task::JoinError::cancelled(id));
}

// Lets go of a JoinHandle's reference (JoinHandle, JoinSet). An output nobody read goes
// with it; an exception in it is reported first (TaskFailure::DroppedUnread).
template <class T>
void release_join(TaskHeader* t) noexcept {
  if (task_join_release(t)) {
    Outcome<T>* out = output_of<T>(t);
    if (const std::exception_ptr* e = out->exception()) task_output_dropped(t, *e);
    out->clear();
  }
  task_drop_ref(t);
}

}  // namespace tokio::detail

namespace tokio::task {

// Cancels a task without owning its output. Copyable; any thread may call abort().
class AbortHandle {
 public:
  AbortHandle() noexcept = default;
  explicit AbortHandle(detail::TaskHeader* t) noexcept : t_(t) {
    if (t_) detail::task_ref_inc(t_);
  }
  AbortHandle(const AbortHandle& o) noexcept : AbortHandle(o.t_) {}
  AbortHandle(AbortHandle&& o) noexcept : t_(detail::exchange(o.t_, nullptr)) {}
  AbortHandle& operator=(AbortHandle o) noexcept {
    detail::swap_values(t_, o.t_);
    return *this;
  }
  ~AbortHandle() {
    if (t_) detail::task_drop_ref(t_);
  }

  // Requests cancellation: the task's frame is destroyed at its current suspension point
  // (or before it starts). No effect on a finished task.
  void abort() const noexcept {
    if (t_) detail::task_abort(t_);
  }
  bool is_finished() const noexcept {
    return t_ && (t_->state.load() & detail::TaskState::COMPLETE);
  }
  Id id() const noexcept { return Id{t_ ? t_->id() : 0}; }

 private:
  detail::TaskHeader* t_ = nullptr;
};

// Owned permission to await a spawned task. Not [[nodiscard]]: as in Tokio, spawning and
// dropping the handle is the normal fire-and-forget. Destroying it detaches the task (it keeps
// running), as in Tokio. `co_await handle` yields the task's value, rethrows the exception
// the task threw, or throws JoinError when the task was cancelled; `co_await
// handle.result()` returns a Result<T, JoinError> instead of throwing.
//
// Cancel safety: awaiting is cancel-safe; the output stays in the task until awaited again.
template <class T>
class JoinHandle {
 public:
  JoinHandle() noexcept = default;
  explicit JoinHandle(detail::TaskHeader* t) noexcept : t_(t) {}  // adopts the handle's ref
  JoinHandle(JoinHandle&& o) noexcept
      : t_(detail::exchange(o.t_, nullptr)), taken_(detail::exchange(o.taken_, false)) {}
  JoinHandle& operator=(JoinHandle&& o) noexcept {
    if (this != &o) {
      release();
      t_ = detail::exchange(o.t_, nullptr);
      taken_ = detail::exchange(o.taken_, false);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { release(); }

  void abort() const noexcept {
    if (t_) detail::task_abort(t_);
  }
  bool is_finished() const noexcept {
    return t_ && (t_->state.load() & detail::TaskState::COMPLETE);
  }
  Id id() const noexcept { return Id{t_ ? t_->id() : 0}; }
  AbortHandle abort_handle() const noexcept { return AbortHandle(t_); }
  bool valid() const noexcept { return t_ != nullptr; }
  // Detaches the task explicitly (same as destroying the handle).
  void detach() noexcept { release(); }
  // Low level (JoinSet): the task header, and giving up the handle's reference to the
  // caller without releasing it.
  detail::TaskHeader* raw_header() const noexcept { return t_; }
  bool output_taken() const noexcept { return taken_; }
  void forget() noexcept { t_ = nullptr; }

  template <bool Throwing>
  class TOKIO_MUST_AWAIT Awaiter : public detail::Leaf<Awaiter<Throwing>> {
   public:
    explicit Awaiter(JoinHandle& h) : h_(h) {
      if (!h.t_) detail::throw_misuse("co_await of an empty JoinHandle (moved-from or detached)");
      if (h.taken_) {
        detail::throw_misuse("JoinHandle awaited twice: its output was already taken");
      }
      // One await at a time (Rust's &mut self): a second one's waker would replace the
      // first's, and one of them would never wake (or find the output gone).
      claim_.take(h.awaited_, "a JoinHandle");
    }
    bool poll(Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      return detail::task_join_poll(h_.t_, cx);
    }
    // poll without setting the join waker (Leaf's try_poll).
    bool try_poll() noexcept {
      return detail::coop_try([&] { return h_.is_finished(); });
    }
    auto await_resume() {
      h_.taken_ = true;
      auto r = detail::take_join_result<T>(h_.t_);
      // Joined: the task leaves the runtime's task list now (a dump stops listing it as
      // completed, not joined); the handle keeps its reference for id() and is_finished().
      (void)detail::task_join_release(h_.t_);
      if constexpr (Throwing) {
        if constexpr (std::is_void_v<T>) {
          if (!r) r.error().rethrow();
        } else {
          if (!r) r.error().rethrow();
          return std::move(*r);
        }
      } else {
        return r;
      }
    }

   private:
    JoinHandle& h_;
    detail::AwaitClaim claim_;  // moves with the awaiter (the await's temporary)
  };

  Awaiter<true> operator co_await() & { return Awaiter<true>(*this); }
  Awaiter<true> operator co_await() && { return Awaiter<true>(*this); }

  struct ResultAwaitable {
    using tokio_awaitable = void;
    JoinHandle& h;
    Awaiter<false> operator co_await() && { return Awaiter<false>(h); }
  };
  // The same, owning the handle: `co_await tokio::spawn(f).result()`.
  struct OwnedResultAwaitable {
    using tokio_awaitable = void;
    JoinHandle h;
    Awaiter<false> operator co_await() && { return Awaiter<false>(h); }
  };
  // Awaits the task and returns Result<T, JoinError> instead of throwing.
  ResultAwaitable result() & { return ResultAwaitable{*this}; }
  OwnedResultAwaitable result() && { return OwnedResultAwaitable{std::move(*this)}; }

  using tokio_awaitable = void;

 private:
  void release() noexcept {
    auto* t = detail::exchange(t_, nullptr);
    if (!t) return;
    if (taken_) detail::task_drop_ref(t);  // join interest already released when awaited
    else detail::release_join<T>(t);
  }

  detail::TaskHeader* t_ = nullptr;
  bool taken_ = false;
  detail::AwaitFlag awaited_;  // an Awaiter exists (core/detail/await_claim.hpp)
};

}  // namespace tokio::task

namespace tokio {
using task::JoinHandle;
}  // namespace tokio
