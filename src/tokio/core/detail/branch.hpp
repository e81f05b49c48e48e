#pragma once
// Branch<T>: a child coroutine chain driven from inside another task's poll. select, join,
// try_join, task-local scopes, unconstrained and LocalSet::run_until are leaves whose poll
// steps one or more branches; a branch shares the task's waker but has its own PollSlot,
// so any number of branches can be suspended at once.
//
// A branch that finishes gives its result to the Branch and its coroutine frame is
// destroyed at once, with the parameters and locals it still held (Tokio's join! drops a
// completed future; an async fn drops its arguments when its body ends): a finished
// join branch that owned a ChildStdin or an mpsc Sender closes it while the other branches
// still run, so a branch waiting for that EOF or close can finish. (For a T whose move
// can throw, the result stays in the frame, which then lives as long as the Branch.)
//
// LeafBranch<A>: the same interface for an operand that is a plain leaf (rx.recv(),
// notify.notified(), a JoinHandle...): the composite polls the leaf itself, with no Task
// frame around it (make_branch picks the kind). A select loop over two such operands costs
// no allocation and no coroutine resume per iteration.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class T>
using void_to_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// (A ChildOp, which takes the result in the poll that finished the chain, steps its Task
// operand with a leaner TaskChild, io/detail/child_op.hpp.)
template <class T>
class Branch {
 public:
  using value_type = T;
  explicit Branch(Task<T> t) noexcept : task_(std::move(t)) {}
  Branch(Branch&& o) noexcept : task_(std::move(o.task_)) {}  // only before the first step
  Branch(const Branch&) = delete;

  // Polls the branch once (the first call starts it). Returns true once it finished.
  bool step(task::Context& cx) {
    if (done_) return true;
    if (!started_) {
      // The first step starts the chain at once: what set_starter + drive_slot do, without
      // polling the starter's always-ready leaf through the slot.
      started_ = true;
      clear_parent_link(task_.handle().address());
      done_ = resume_in_slot(tls, slot_, task_.handle());
    } else {
      done_ = drive_slot(slot_, cx);
    }
    if constexpr (kReleaseEarly) {
      if (done_) {
        // At its final suspend: the result moves out, then the frame goes (a destructor
        // that throws there is reported by destroy_finished, as any frame's).
        task_.handle().promise().move_to(out_);
        task_.reset();
      }
    }
    return done_;
  }
  bool done() const noexcept { return done_; }
  bool failed() const noexcept {
    if constexpr (kReleaseEarly) {
      return done_ && out_.exception() != nullptr;
    } else {
      return done_ && task_.handle().promise().has_exception();
    }
  }
  // The finished branch's value; rethrows what it threw.
  T take() {
    if constexpr (kReleaseEarly) {
      return out_.take();
    } else {
      return task_.handle().promise().take();
    }
  }
  // Destroys the branch's coroutines now (cancellation), innermost frame first.
  void cancel() noexcept {
    if (started_ && !done_ && slot_.poll_fn) {
      auto root = task_.release();
      slot_.poll_fn = nullptr;  // idempotent: the destructor cancels again
      destroy_chain(slot_.continuation, root);
      return;
    }
    task_.reset();
  }
  ~Branch() { cancel(); }
  // cancel(), and a finished branch's unclaimed result goes too: join and try_join drop
  // every other operand in argument order when one fails, finished or not, as the tuple
  // of futures inside Tokio's join! is dropped.
  void discard() noexcept {
    cancel();
    if constexpr (kReleaseEarly) out_.clear();
  }
  Task<T>& task() noexcept { return task_; }

 private:
  static constexpr bool kReleaseEarly =
      std::is_void_v<T> || std::is_nothrow_move_constructible_v<T>;
  struct NoOutcome {};

  Task<T> task_;
  PollSlot slot_;
  // The finished branch's result (kReleaseEarly), once its frame is gone.
  [[no_unique_address]] std::conditional_t<kReleaseEarly, Outcome<T>, NoOutcome> out_;
  bool started_ = false;
  bool done_ = false;
};

// A leaf type whose await_ready/await_suspend are Leaf's own: awaiting it is exactly
// "before_first_poll() if it has one, poll until ready, then await_resume", so it can be
// polled directly. (A leaf that overrides them is awaited through a Task frame instead.)
template <class L>
concept PlainLeaf = std::is_base_of_v<Leaf<L>, L> && requires(L& l, task::Context& cx) {
  { l.poll(cx) } -> std::same_as<bool>;
  requires std::is_same_v<decltype(&L::await_suspend), void (Leaf<L>::*)(std::coroutine_handle<>)>;
  requires std::is_same_v<decltype(&L::await_ready), bool (Leaf<L>::*)()>;
};

// Borrowed (an lvalue) or movable into the branch.
template <class A>
concept HeldByBranch =
    std::is_lvalue_reference_v<A> || std::is_move_constructible_v<std::remove_cvref_t<A>>;
// An operand (A as passed: an lvalue reference when borrowed) that LeafBranch can drive:
// either a plain leaf itself, or an awaitable whose operator co_await makes one.
template <class A, class Awaiter = decltype(get_awaiter(std::declval<A>()))>
concept DirectOperand = !is_task<std::remove_cvref_t<A>>::value && TokioAwaitable<A> &&
                        !std::is_const_v<std::remove_reference_t<A>> && HeldByBranch<A> &&
                        PlainLeaf<std::remove_cvref_t<Awaiter>> &&
                        (!std::is_reference_v<Awaiter> ||
                         std::is_same_v<std::remove_cvref_t<Awaiter>, std::remove_cvref_t<A>>);

// g++ -O1 cannot see that the unions below are only destroyed while st_ says they were built.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class A>
class LeafBranch {
  using Awaitable = std::remove_cvref_t<A>;
  static constexpr bool kBorrowed = std::is_lvalue_reference_v<A>;
  using AwaiterRef = decltype(get_awaiter(std::declval<A>()));
  // The awaitable makes its leaf with operator co_await (Notified, JoinHandle...); else
  // the awaitable is the leaf (mpsc Recv...).
  static constexpr bool kMakesAwaiter = !std::is_reference_v<AwaiterRef>;
  using L = std::remove_cvref_t<AwaiterRef>;

 public:
  using value_type = await_result_t<A>;

  explicit LeafBranch(A&& a) noexcept(kBorrowed ||
                                      std::is_nothrow_move_constructible_v<Awaitable>) {
    if constexpr (kBorrowed) {
      held_.p = std::addressof(a);
    } else {
      ::new (static_cast<void*>(&held_.v)) Awaitable(std::move(a));
    }
  }
  // Only before the first step (the leaf registers itself by address once polled).
  LeafBranch(LeafBranch&& o) noexcept(kBorrowed ||
                                      std::is_nothrow_move_constructible_v<Awaitable>) {
    if constexpr (kBorrowed) {
      held_.p = o.held_.p;
    } else {
      ::new (static_cast<void*>(&held_.v)) Awaitable(std::move(o.held_.v));
    }
  }
  LeafBranch(const LeafBranch&) = delete;
  LeafBranch& operator=(const LeafBranch&) = delete;
  ~LeafBranch() { cancel(); }

  // The leaf can be asked whether it is ready without registering (Leaf's try_poll).
  static constexpr bool kTries = requires(L & l) {
    { l.try_poll() } -> std::same_as<bool>;
  };

  // Polls the leaf once (the first call makes it). Once ready, the result (or what making,
  // polling or resuming threw) is kept and the leaf and an owned awaitable are destroyed
  // at once, as Branch destroys a finished frame.
  bool step(task::Context& cx) noexcept {
    return advance([&] { return poll_leaf_restoring(tls, [&] { return leaf().poll(cx); }); });
  }
  // As step, but through the leaf's try_poll (kTries): false leaves nothing registered.
  bool try_step() noexcept {
    return advance([&] { return leaf().try_poll(); });
  }
  bool done() const noexcept { return st_ == St::Done; }
  bool failed() const noexcept { return st_ == St::Done && out_.exception() != nullptr; }
  value_type take() { return out_.take(); }
  // Destroys the leaf (leaving whatever queue it waits in) and an owned awaitable.
  void cancel() noexcept {
    if (st_ == St::Done) return;
    if constexpr (kMakesAwaiter) {
      if (st_ == St::Polling) aw_.w.~L();
    }
    if constexpr (!kBorrowed) held_.v.~Awaitable();
    st_ = St::Done;
  }
  // cancel(), and a finished leaf's unclaimed result goes too (Branch::discard).
  void discard() noexcept {
    cancel();
    out_.clear();
  }

 private:
  template <class Poll>
  bool advance(Poll&& poll) noexcept {
    if (st_ == St::Done) return true;
    try {
      if (st_ == St::Fresh) {
        if constexpr (kMakesAwaiter) {
          if constexpr (kBorrowed) {
            ::new (static_cast<void*>(&aw_.w)) L(get_awaiter(*held_.p));
          } else {
            ::new (static_cast<void*>(&aw_.w)) L(get_awaiter(std::move(held_.v)));
          }
        }
        st_ = St::Polling;
        if constexpr (requires(L & l) { l.before_first_poll(); }) leaf().before_first_poll();
      }
      if (!poll()) return false;
      if constexpr (std::is_void_v<value_type>) {
        leaf().await_resume();
        out_.set_value();
      } else {
        out_.set_value(leaf().await_resume());
      }
    } catch (...) {
      out_.set_exception(std::current_exception());
    }
    cancel();
    return true;
  }

  L& leaf() noexcept {
    if constexpr (kMakesAwaiter) {
      return aw_.w;
    } else if constexpr (kBorrowed) {
      return *held_.p;
    } else {
      return held_.v;
    }
  }

  union Held {
    Held() noexcept {}
    ~Held() {}
    Awaitable* p;
    Awaitable v;
  };
  union AwaiterSlot {
    AwaiterSlot() noexcept {}
    ~AwaiterSlot() {}
    L w;
  };
  struct NoAwaiter {};
  enum class St : uint8_t { Fresh, Polling, Done };

  Held held_;
  [[no_unique_address]] std::conditional_t<kMakesAwaiter, AwaiterSlot, NoAwaiter> aw_;
  Outcome<value_type> out_;
  St st_ = St::Fresh;
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The branch an operand runs in: a LeafBranch when it is a plain leaf (or makes one), else
// a Branch over the Task to_task makes of it.
template <class A>
auto make_branch(A&& a) {
  if constexpr (DirectOperand<A>) {
    return LeafBranch<A>(std::forward<A>(a));
  } else {
    using T = typename decltype(to_task(std::forward<A>(a)))::value_type;
    return Branch<T>(to_task(std::forward<A>(a)));
  }
}
template <class A>
using branch_t = decltype(make_branch(std::declval<A>()));

// Builds a value where it is stored: a tuple element initialised from InPlace{f} is f()'s
// prvalue itself (no move), so select and join build each branch, and the operand inside
// it, once. Usage: `InPlace{[&] { return make_branch(std::forward<A>(a)); }}`.
template <class F>
struct InPlace {
  F f;
  operator std::invoke_result_t<F&>() && { return f(); }  // NOLINT(google-explicit-constructor)
};
template <class F>
InPlace(F) -> InPlace<F>;

// A finished branch's value, std::monostate for void (as select and join hand it out);
// rethrows what the branch threw.
template <class B>
void_to_monostate_t<typename B::value_type> take_value(B& b) {
  if constexpr (std::is_void_v<typename B::value_type>) {
    b.take();
    return std::monostate{};
  } else {
    return b.take();
  }
}

// The jump table of with_index (below), for many branches.
template <std::size_t N, class F>
decltype(auto) with_index_table(std::size_t i, F&& f) {
  using Fn = std::remove_reference_t<F>;
  using R = decltype(f(std::integral_constant<std::size_t, 0>{}));
  return [&]<std::size_t... I>(std::index_sequence<I...>)->R {
    using Entry = R (*)(Fn&);
    static constexpr Entry table[] = {
        [](Fn& g) -> R { return g(std::integral_constant<std::size_t, I>{}); }...};
    return table[i](f);
  }
  (std::make_index_sequence<N>{});
}

// with_index for a few branches: a chain of comparisons the compiler inlines (select's
// result goes through it per message; the table above costs an indirect call).
template <std::size_t I, std::size_t N, class F>
TOKIO_ALWAYS_INLINE decltype(auto) with_index_chain(std::size_t i, F& f) {
  if constexpr (I + 1 == N) {
    return f(std::integral_constant<std::size_t, I>{});
  } else {
    if (i == I) return f(std::integral_constant<std::size_t, I>{});
    return with_index_chain<I + 1, N>(i, f);
  }
}

// Calls f(std::integral_constant<size_t, I>) for the runtime index i < N. The result is
// constructed once, never default-constructed and assigned: returned through the chain
// above for up to four branches, else through a jump table.
template <std::size_t N, class F>
decltype(auto) with_index(std::size_t i, F&& f) {
  if constexpr (N <= 4) {
    return with_index_chain<0, N>(i, f);
  } else {
    return with_index_table<N>(i, f);
  }
}

// Calls f(std::integral_constant<size_t, I>) for I = start, start + 1, ..., N - 1, 0, ...,
// start - 1 until a call returns true; returns that I, or N when none did. Unrolled (each
// call inlined, no table of function pointers): select's poll goes through it per message.
template <std::size_t N, class F>
TOKIO_ALWAYS_INLINE std::size_t first_from(std::size_t start, F&& f) {
  std::size_t hit = N;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (void)(((I >= start && f(std::integral_constant<std::size_t, I>{}) && (hit = I, true)) ||
            ...) ||
           ((I < start && f(std::integral_constant<std::size_t, I>{}) && (hit = I, true)) || ...));
  }
  (std::make_index_sequence<N>{});
  return hit;
}

// A one-branch composite that runs `before()`/`after()` around every step of its inner
// chain (task-local scopes, unconstrained).
template <class T, class Hooks>
class TOKIO_MUST_AWAIT ScopedBranch : public Leaf<ScopedBranch<T, Hooks>> {
 public:
  ScopedBranch(Task<T> t, Hooks hooks) : branch_(std::move(t)), hooks_(std::move(hooks)) {}
  ScopedBranch(ScopedBranch&& o) noexcept
      : Leaf<ScopedBranch<T, Hooks>>(o),
        branch_(std::move(o.branch_)),
        hooks_(std::move(o.hooks_)) {}
  ~ScopedBranch() {
    // Destroy the inner chain inside the scope too (its destructors may read the scope).
    if (branch_.task().valid() && !branch_.done()) {
      auto token = hooks_.before();
      branch_.cancel();
      hooks_.after(token);
    }
  }

  bool poll(task::Context& cx) noexcept {
    auto token = hooks_.before();
    bool done = branch_.step(cx);
    hooks_.after(token);
    return done;
  }
  T await_resume() { return branch_.take(); }

  Hooks& hooks() noexcept { return hooks_; }

 private:
  Branch<T> branch_;
  Hooks hooks_;
};

}  // namespace tokio::detail
