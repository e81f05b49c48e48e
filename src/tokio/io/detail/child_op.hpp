#pragma once
// The skeleton every I/O adaptor operation shares (BufReader, Take, Chain, split halves,
// copy, read_exact, write_all...), so that each adaptor states only its own state and
// step, the way a Rust adaptor's poll_read calls the inner poll_read:
//
//   detail::ChildOp<A>    one operation of the wrapped stream, driven from inside the
//                         adaptor's poll: poll_with(cx, make) starts it if none is live,
//                         polls it, and hands back its result once it is ready.
//   detail::Poll<T>       what one poll produces: pending (`return detail::pending;`,
//                         Rust's Poll::Pending) or ready with the result (an io::Result);
//                         map_ok chains a step onto a ready, successful one.
//   detail::AdaptorOp<S>  the leaf awaitable: S holds the operation's state (back pointer,
//                         buffers, ChildOps) and `Poll<Out> poll(task::Context&)`; the leaf
//                         keeps the output and hands it to the awaiting coroutine.
//
// A leaf operand (a class deriving from detail::Leaf, e.g. a socket or duplex read) is
// constructed in place inside the ChildOp and polled directly with the outer poll's
// Context: no allocation, no extra indirection. Any other tokio awaitable (a Task, a
// JoinHandle...) runs as a TaskChild (below): a child coroutine chain with its own
// PollSlot, stepped on each outer poll, as a Branch of select or join is.
//
// ChildOp lifecycle: the operand is built from make()'s prvalue (guaranteed elision, so a
// leaf is never moved) when poll_with finds none live; once it is ready its result is
// taken and the operand destroyed. reset() cancels an unfinished operand (its destructor
// unregisters it). The holder must not move while an operand is live: an adaptor op only
// moves or copies before its first poll, when every ChildOp in it is empty.

#include <concepts>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/branch.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

// The outcome of one poll: pending, or ready with a T (an io::Result). A small optional of
// its own: it is instantiated for a handful of result types in every user TU that
// includes the I/O headers, and std::optional costs several times more to instantiate.
struct Pending {};
inline constexpr Pending pending{};
struct ReadyFrom {};

template <class T>
class [[nodiscard]] Poll {
 public:
  using value_type = T;

  Poll() noexcept {}
  Poll(Pending) noexcept {}  // NOLINT: implicit, `return pending;`
  template <class U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, Poll> &&
             !std::is_same_v<std::remove_cvref_t<U>, Pending>)
  Poll(U&& v) : ready_(true) {  // NOLINT: implicit, `return n;` for a ready value
    ::new (&v_) T(std::forward<U>(v));
  }
  // Ready with f()'s result built in place: f returns a T prvalue, so the value is never
  // moved (ready_from below; a line or a frame handed out is a string or buffer that would
  // otherwise move once more per layer).
  template <class F>
  Poll(ReadyFrom, F&& f) {
    ::new (&v_) T(std::forward<F>(f)());
    ready_ = true;
  }
  Poll(const Poll& o) : ready_(o.ready_) {
    if (ready_) ::new (&v_) T(o.v_);
  }
  Poll(Poll&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ready_(o.ready_) {
    if (ready_) ::new (&v_) T(std::move(o.v_));
  }
  Poll& operator=(Poll&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      reset();
      if (o.ready_) ::new (&v_) T(std::move(o.v_));
      ready_ = o.ready_;
    }
    return *this;
  }
  ~Poll() { reset(); }

  bool has_value() const noexcept { return ready_; }
  explicit operator bool() const noexcept { return ready_; }
  T& operator*() noexcept { return v_; }
  T* operator->() noexcept { return &v_; }

 private:
  void reset() noexcept {
    if (detail::exchange(ready_, false)) v_.~T();
  }
  union {
    T v_;
  };
  bool ready_ = false;
};

// Ready with f()'s result, constructed where the caller's Poll lives (no move).
template <class F>
auto ready_from(F&& f) -> Poll<decltype(std::forward<F>(f)())> {
  return {ReadyFrom{}, std::forward<F>(f)};
}

// Once `d` is ready: its error, or f() when it succeeded (f runs only then).
template <class U, class F>
auto map_ok(Poll<Result<U, std::error_code>>&& d, F&& f)
    -> Poll<Result<decltype(std::forward<F>(f)()), std::error_code>> {
  if (!d) return pending;
  if (!*d) return unexpected(std::move(*d).error());
  return std::forward<F>(f)();
}

// A ChildOp's operand that is not a plain leaf: a Task (to_task makes one of any other
// awaitable), stepped in a PollSlot of its own as a Branch is, but for one consumer that
// takes the result in the poll that finished it. So the result stays in the frame until
// take() (no move into an Outcome of its own, as select and join need to release a
// finished branch early), and the frame's state is known at each end: take() destroys a
// finished frame (finish), reset() a frame that may be unstarted, suspended or finished
// (cancel). Its owner (ChildOp) calls exactly one of the two, once.
//
// Bookkeeping is kept to what the poll protocol needs, as this runs once per item of a
// stream::then (callgrind, bench/NOTES.md forty-ninth session): `started_` says whether the
// frame ran; once it has, slot_.poll_fn says whether it is suspended at a leaf (set) or
// finished (null: resume_in_slot clears it, and only a leaf's suspension sets it).
template <class T>
class TaskChild {
 public:
  explicit TaskChild(Task<T> t) noexcept : h_(t.release()) {}
  TaskChild(const TaskChild&) = delete;
  TaskChild& operator=(const TaskChild&) = delete;

  // Polls the chain once (the first call starts it). Returns true once it finished.
  bool step(task::Context& cx) {
    if (!started_) {
      // The root frame's parent link was cleared by the promise's operator new and only a
      // co_await writes it: an operand handed over to run was never awaited (to_task
      // refuses a finished Task; one left suspended by another awaiter could not be
      // resumed here anyway), so Branch's second clearing is not repeated.
      started_ = true;
      return resume_in_slot(tls, slot_, h_);
    }
    if (slot_.poll_fn == nullptr) return true;  // finished, polled again before take()
    return drive_slot(slot_, cx);
  }
  // The finished chain's value; rethrows what it threw. The frame stays until finish(),
  // which its owner calls next (the result is left for the promise's destructor).
  T take() {
    if constexpr (std::is_void_v<T>) {
      h_.promise().take();
    } else {
      return h_.promise().take_last();
    }
  }
  // Destroys the frame of a finished chain (after step returned true).
  void finish() noexcept { destroy_finished_inline(h_); }
  // Destroys the chain in whatever state it is: unstarted (suspended at its initial
  // suspend), suspended at a leaf (innermost frame first, as Branch::cancel), or finished.
  // The root is never another frame's awaited child (it was resumed through the slot), so
  // no bottom-up destruction can have taken it already (Task::reset's destroyed_child).
  void cancel() noexcept {
    if (started_ && slot_.poll_fn != nullptr) destroy_chain(slot_.continuation, h_);
    else destroy_coroutine(h_);
  }

 private:
  std::coroutine_handle<Promise<T>> h_;
  PollSlot slot_;
  bool started_ = false;
};

// g++ -O1 cannot see that an operand is only destroyed while `live_` says it was built, and
// warns (-Wmaybe-uninitialized) about the operand's fields in its destructor. g++ 12 reads
// the pragma where the warned statement is written: it covers the statements of this class,
// not an operand's own destructor inlined through it (reset() below).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class A>
class ChildOp {
 public:
  using Value = await_result_t<A>;
  static constexpr bool kIsLeaf = std::is_base_of_v<Pollable, A>;
  using Stored = std::conditional_t<kIsLeaf, A, TaskChild<Value>>;

  ChildOp() noexcept {}
  // Copies happen only before the holder's first poll, when nothing is live.
  ChildOp(const ChildOp&) noexcept {}
  ChildOp& operator=(const ChildOp&) = delete;
  ~ChildOp() { reset(); }

  bool live() const noexcept { return live_; }

  // Starts an operand from make() unless one is live (make runs only then, so it may also
  // prepare the buffer the operand will use), polls it, and once it is ready returns its
  // result (rethrowing what a coroutine operand threw), destroying the operand.
  template <class F>
  Poll<Value> poll_with(task::Context& cx, F&& make) {
    if (!live_) start(std::forward<F>(make));
    if (!poll(cx)) return pending;
    return take();
  }

  // Cancels (destroys) the operand, finished or not (a holder's move or destruction, a
  // cancel). Out of line: inlined into code that has just moved a holder (a ReceiverStream
  // handed back in an std::optional by StreamMap::insert), g++ 12 -O2 cannot see that the
  // moved-to holder's operand was never built and reports the operand's fields as "may be
  // used uninitialized", an error under -Werror in users' code; the pragma around this
  // class does not reach the operand's own destructor. take(), the path of every completed
  // operation, destroys inline.
  void reset() noexcept {
    if (live_) destroy_live();
  }

  // The three steps poll_with runs, for callers that do work between them (the stream
  // and codec drivers): start(make) when !live(), poll(cx) until true, then take().
  // A leaf's before_first_poll (a timer's binding to the runtime's driver) runs here, as
  // where a leaf is awaited (Leaf, LeafBranch): before it is first polled or asked. What
  // it throws propagates (the operand is then not live).
  template <class F>
  void start(F&& make) {
    if constexpr (kIsLeaf) {
      new (&s_) A(std::forward<F>(make)());
      if constexpr (requires(A & a) { a.before_first_poll(); }) {
        try {
          s_.before_first_poll();
        } catch (...) {
          s_.~A();
          throw;
        }
      }
    } else {
      new (&s_) Stored(to_task(std::forward<F>(make)()));
    }
    live_ = true;
  }

  // A leaf child is polled as a leaf of its own: a budget unit it takes and then reports
  // not-ready is given back (poll_leaf_restoring, core/detail/poll.hpp). A branch's leaves
  // are settled where the branch polls them.
  bool poll(task::Context& cx) {
    if constexpr (kIsLeaf) {
      return poll_leaf_restoring(tls, [&] {
        if constexpr (requires(A & a, task::Context & c) {
                        { a.poll(c) } -> std::same_as<bool>;
                      }) {
          return s_.poll(cx);
        } else {
          return s_.poll_fn(&s_, cx);
        }
      });
    } else {
      return s_.step(cx);
    }
  }

  // A leaf child that can be asked without registering (Leaf's try_poll).
  static constexpr bool kTries = kIsLeaf && requires(A & a) {
    { a.try_poll() } -> std::same_as<bool>;
  };
  bool try_poll() noexcept requires kTries { return s_.try_poll(); }

  Value take() {
    struct Destroy {
      ChildOp* c;
      ~Destroy() { c->destroy_ready(); }
    } guard{this};  // take() follows a poll that returned true: the operand is live
    if constexpr (kIsLeaf) {
      return s_.await_resume();
    } else {
      return s_.take();
    }
  }

 private:
  // The operand after a poll that returned true (a finished Task frame goes without the
  // checks of a cancel).
  void destroy_ready() noexcept {
    live_ = false;
    if constexpr (kIsLeaf) s_.~A();
    else s_.finish();
  }
  TOKIO_NOINLINE void destroy_live() noexcept {
    live_ = false;
    if constexpr (kIsLeaf) s_.~A();
    else s_.cancel();
  }

  union {
    Stored s_;
  };
  bool live_ = false;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Polls a live child with the caller's context: task::Context polls it (registering), a
// TryContext asks it (ChildPolls says when that is possible).
template <class A>
bool poll_child(ChildOp<A>& op, task::Context& cx) {
  return op.poll(cx);
}
template <class A>
bool poll_child(ChildOp<A>& op, TryContext&) noexcept requires ChildOp<A>::kTries {
  return op.try_poll();
}
template <class A, class Cx>
concept ChildPolls = std::same_as<Cx, task::Context> ||
    (std::same_as<Cx, TryContext>&& ChildOp<A>::kTries);

// The leaf of an adaptor operation. S is the operation's state with
// `Poll<Out> poll(task::Context&)`; an exception escaping it (a coroutine operand that
// threw, a broken reader) completes the leaf and is rethrown by await_resume, so the
// awaiting task sees it. The ops are built from their state: `return {{this, buf}};`.
template <class S>
class TOKIO_MUST_AWAIT AdaptorOp : public Leaf<AdaptorOp<S>> {
 public:
  using Out =
      typename decltype(std::declval<S&>().poll(std::declval<task::Context&>()))::value_type;

  AdaptorOp(S s) noexcept(std::is_nothrow_move_constructible_v<S>) : s_(std::move(s)) {}  // NOLINT

  bool poll(task::Context& cx) noexcept {
    // The state's Poll is built straight in out_'s storage (a prvalue: guaranteed elision)
    // instead of being move-assigned in: one move of the output fewer per operation.
    out_.~Poll<Out>();
    try {
      ::new (static_cast<void*>(&out_)) Poll<Out>(s_.poll(cx));
    } catch (...) {
      ::new (static_cast<void*>(&out_)) Poll<Out>();
      exc_ = std::current_exception();
      return true;
    }
    return out_.has_value();
  }
  Out await_resume() {
    if (exc_) std::rethrow_exception(detail::exchange(exc_, nullptr));
    return std::move(*out_);
  }

 private:
  S s_;
  Poll<Out> out_;
  std::exception_ptr exc_;
};

// The leaf of an operation whose Derived::step(cx) returns true when done and keeps its
// own output (the stream and codec consumers: fold, collect, Framed send/flush). An
// exception escaping step completes the leaf; Derived's await_resume calls check() first.
template <class Derived>
class TOKIO_MUST_AWAIT CompositeLeaf : public Leaf<Derived> {
 public:
  bool poll(task::Context& cx) noexcept {
    try {
      return static_cast<Derived*>(this)->step(cx);
    } catch (...) {
      exc_ = std::current_exception();
      return true;
    }
  }

 protected:
  void check() {
    if (exc_) std::rethrow_exception(detail::exchange(exc_, nullptr));
  }

 private:
  std::exception_ptr exc_;
};

}  // namespace tokio::detail
