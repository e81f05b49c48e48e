#pragma once
// detail::ChildOp<A> and detail::CompositeLeaf<D>: how the I/O adaptors (BufReader, Take,
// split halves, copy, read_exact...) drive the read/write operations of the stream they
// wrap from inside their own poll, the way a Rust adaptor's poll_read calls the inner
// poll_read.
//
// A leaf operand (a class deriving from detail::Leaf, e.g. a socket or duplex read) is
// constructed in place and polled directly with the outer poll's Context: no allocation,
// no extra indirection. Any other tokio awaitable (a Task, a JoinHandle...) runs as a
// Branch: a child coroutine chain with its own PollSlot, stepped on each outer poll.
//
// Lifecycle: start(make) builds the operand from make()'s prvalue (guaranteed elision, so
// a leaf is never moved); poll(cx) until it returns true; take() returns the result and
// destroys the operand. reset() cancels an unfinished operand (its destructor unregisters
// it). The holder must not move while an operand is live: a composite leaf only moves or
// copies before its first poll, when every ChildOp in it is empty.

#include <concepts>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "tokio/core/detail/branch.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class A>
class ChildOp {
 public:
  using Value = await_result_t<A>;
  static constexpr bool kIsLeaf = std::is_base_of_v<Pollable, A>;
  using Stored = std::conditional_t<kIsLeaf, A, Branch<Value>>;

  ChildOp() noexcept {}
  // Copies happen only before the holder's first poll, when nothing is live.
  ChildOp(const ChildOp&) noexcept {}
  ChildOp& operator=(const ChildOp&) = delete;
  ~ChildOp() { reset(); }

  bool live() const noexcept { return live_; }

  template <class F>
  void start(F&& make) {
    reset();
    if constexpr (kIsLeaf) {
      new (&s_) A(std::forward<F>(make)());
    } else {
      new (&s_) Branch<Value>(to_task(std::forward<F>(make)()));
    }
    live_ = true;
  }

  // Polls the live operand; true once its result is ready.
  bool poll(task::Context& cx) {
    if constexpr (kIsLeaf) {
      if constexpr (requires(A& a, task::Context& c) { { a.poll(c) } -> std::same_as<bool>; }) {
        return s_.poll(cx);
      } else {
        return s_.poll_fn(&s_, cx);
      }
    } else {
      return s_.step(cx);
    }
  }

  // The finished operand's result (rethrows what a coroutine operand threw); the operand
  // is destroyed.
  Value take() {
    struct Reset {
      ChildOp* c;
      ~Reset() { c->reset(); }
    } guard{this};
    if constexpr (kIsLeaf) {
      return s_.await_resume();
    } else {
      return s_.take();
    }
  }

  // Cancels (destroys) the operand, finished or not.
  void reset() noexcept {
    if (live_) {
      live_ = false;
      s_.~Stored();
    }
  }

 private:
  union {
    Stored s_;
  };
  bool live_ = false;
};

// A leaf whose poll drives ChildOps. Derived implements `bool step(task::Context&)`; an
// exception escaping it (a coroutine operand that threw) completes the leaf and is
// rethrown by check() in await_resume, so the awaiting task sees it.
template <class Derived>
class CompositeLeaf : public Leaf<Derived> {
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
    if (exc_) std::rethrow_exception(std::exchange(exc_, nullptr));
  }

 private:
  std::exception_ptr exc_;
};

}  // namespace tokio::detail
