#pragma once
// Task cells for coroutine tasks: the vtable of a spawned tokio::Task<T>, the step that
// turns an unstarted Task into a cell in its own frame block (see task_header.hpp), and
// spawn(callable, args...) in one allocation.
//
// spawn(callable, args...) must keep the callable and decayed copies of the arguments alive
// while the coroutine the callable starts runs (a lambda coroutine reads its captures
// through its object; a reference parameter points into the copies). Its block:
//
//   [ SpawnClosure C (callable, args) ][ TaskHeader ][ coroutine frame of callable(args) ]
//
// The closure is built first; the frame is then placed right after the header by the Task
// promise's operator new, which recognises the coroutine by its object (the callable, at a
// known address) and needs the frame size: that is learned by the first spawn of each
// callable type, which takes the two-frame form (invoke_owned: a wrapper frame owning the
// closure) and probes the size. Where the compiler does not pass a lambda's object to
// operator new (Clang) or the callable is not itself a coroutine, the two-frame form stays.
// A plain function whose parameters are all values needs neither: it is called directly; so
// is a lambda without captures whose parameters are all values (the common case), so it
// costs exactly what spawn(coroutine(args...)) costs: header and frame in one block.

#include <coroutine>
#include <cstddef>
#include <new>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/task_header.hpp"

namespace tokio::detail {

void task_wake(Wakeable* w) noexcept;
void task_wake_by_ref(Wakeable* w) noexcept;
void task_clone(Wakeable* w) noexcept;
void task_drop(Wakeable* w) noexcept;

template <class T, class Closure = void>
struct TaskCellOps {
  using Handle = std::coroutine_handle<Promise<T>>;
  static Handle root(TaskHeader* t) noexcept {
    return Handle::from_address(reinterpret_cast<char*>(t) + kTaskPrefix);
  }
  // Destroys the task's frames (a suspended chain innermost first, see destroy_chain) but
  // keeps the root's block, then builds the output where the root frame was.
  static Outcome<T>* destroy_frame(TaskHeader* t) noexcept {
    Handle h = root(t);
    void* frame = h.address();
    ThreadContext& c = tls;
    void* saved = c.keep_frame;  // a destructor may finish another task cell meanwhile
    c.keep_frame = frame;
    if (t->slot.poll_fn && t->slot.continuation) destroy_chain(t->slot.continuation, h);
    else destroy_coroutine(h);
    c.keep_frame = saved;
    return new (frame) Outcome<T>();
  }
  // Bytes in front of the header: the spawn closure, if any (16-aligned).
  static constexpr std::size_t kClosureBytes = [] {
    if constexpr (std::is_void_v<Closure>) return std::size_t{0};
    else return (sizeof(Closure) + 15) & ~std::size_t{15};
  }();
  // The closure dies after the frame (the frame's destructors may still read captures). A
  // capture whose destructor throws is reported like one in the frame (destroy_coroutine).
  static void destroy_closure(TaskHeader* t) noexcept {
    if constexpr (!std::is_void_v<Closure>) {
      Closure* c =
          std::launder(reinterpret_cast<Closure*>(reinterpret_cast<char*>(t) - kClosureBytes));
      if constexpr (std::is_nothrow_destructible_v<Closure>) {
        c->~Closure();
      } else {
        try {
          c->~Closure();
        } catch (...) {
          report_destroy_exception(std::current_exception());
        }
      }
    }
  }
  static void finish(TaskHeader* t) noexcept {
    Handle h = root(t);
    Outcome<T> result;
    h.promise().move_to(result);
    Outcome<T>* out = destroy_frame(t);
    destroy_closure(t);
    out->move_from(result);
  }
  static void cancel(TaskHeader* t) noexcept {
    Outcome<T>* out = destroy_frame(t);
    destroy_closure(t);
    out->set_cancelled();
  }
  static void drop_output(TaskHeader* t) noexcept { output_of<T>(t)->clear(); }
  static const std::exception_ptr* exception(TaskHeader* t) noexcept {
    return output_of<T>(t)->exception();
  }
  static void dealloc(TaskHeader* t) noexcept {
    output_of<T>(t)->~Outcome<T>();
    t->~TaskHeader();
    frame_free(reinterpret_cast<char*>(t) - kClosureBytes);
  }
  static constexpr TaskVTable vtable{{&task_wake, &task_wake_by_ref, &task_clone, &task_drop},
                                     &task_run_coroutine,
                                     &finish,
                                     &cancel,
                                     &drop_output,
                                     &dealloc,
                                     &exception};
};

// Converts an unstarted Task into a task cell in its own frame block. The header starts
// with the refs in TaskState::INITIAL; the caller binds it to a scheduler and schedules it.
template <class T, class Closure = void>
TaskHeader* make_task_cell(Task<T>&& task) {
  auto h = task.release();
  if (!h) throw_misuse("spawn of an empty tokio::Task (moved-from or default)");
  if (h.done()) throw_misuse("spawn of a tokio::Task that already ran");
  // The frame address is what the promise's operator new returned (GCC and Clang), so the
  // prefix is right in front of it.
  auto* t = new (static_cast<char*>(h.address()) - kTaskPrefix) TaskHeader();
  t->wakeable.vtable = &TaskCellOps<T, Closure>::vtable.waker;
  t->set_id(next_task_id());
  set_starter(t->slot, h);
  return t;
}

// A new task cell and the type of its output (the JoinHandle's T).
template <class T>
struct SpawnedCell {
  using value_type = T;
  TaskHeader* header;
};
template <class T>
SpawnedCell<T> spawned_cell(Task<T>&& task) {
  return {make_task_cell(std::move(task))};
}

// What spawn(callable, args...) keeps alive for the task's life.
template <class F, class... A>
struct SpawnClosure {
  F f;
  std::tuple<A...> args;
};

// Owns a closure built in a frame block of its own (the fallback of make_closure_cell).
template <class C>
class ClosureBlock {
 public:
  explicit ClosureBlock(C* c) noexcept : c_(c) {}
  ClosureBlock(ClosureBlock&& o) noexcept : c_(detail::exchange(o.c_, nullptr)) {}
  ClosureBlock(const ClosureBlock&) = delete;
  ClosureBlock& operator=(const ClosureBlock&) = delete;
  ~ClosureBlock() {
    if (c_) {
      c_->~C();
      frame_free(c_);
    }
  }

 private:
  C* c_;
};
template <class C, class T>
Task<T> hold_closure(ClosureBlock<C> owner, Task<T> task) {
  (void)owner;
  co_return co_await unlocated(std::move(task));
}

// Whether a coroutine whose parameters are P..., called with decayed copies of the
// arguments (types D...), owns in its frame everything it uses, so the copies may die with
// the spawn statement: each parameter is a value of its argument's own type (moved into
// the frame), or a value made from a scalar argument (a number, a pointer: nothing of the
// copy can be referred to). A parameter of another type made from a class argument may
// view the copy (std::string_view from a std::string, std::span from a std::vector) and
// would dangle; a reference parameter would refer to it. Those keep the general path,
// where the copies live as long as the task.
template <class P, class D>
inline constexpr bool parameter_owns_argument =
    !std::is_reference_v<P> && (std::is_same_v<std::remove_cv_t<P>, D> || std::is_scalar_v<D>);
template <class... P>
struct ParameterList {};
template <class Params, class... D>
struct owns_arguments : std::false_type {};
template <class... P, class... D>
  requires(sizeof...(P) == sizeof...(D))
struct owns_arguments<ParameterList<P...>, D...>
    : std::bool_constant<(parameter_owns_argument<P, D> && ...)> {};

// The parameters of a plain function pointer; of a call operator (a member pointer whose
// object argument is the function object itself, see stateless_by_value). Only these two
// kinds take the paths below (any other F gives `void`, which owns_arguments refuses): a
// pointer to another member function is called with the object among the arguments, and
// its frame keeps just `this`, which would point at the argument copy (or into what a
// shared_ptr argument owns), so it keeps the general path.
template <class F>
struct function_parameters {
  using type = void;
};
template <class R, class... P>
struct function_parameters<R (*)(P...)> {
  using type = ParameterList<P...>;
};
template <class R, class... P>
struct function_parameters<R (*)(P...) noexcept> : function_parameters<R (*)(P...)> {};
template <class F>
struct call_operator_parameters {
  using type = void;
};
template <class R, class C, class... P>
struct call_operator_parameters<R (C::*)(P...)> : function_parameters<R (*)(P...)> {};
template <class R, class C, class... P>
struct call_operator_parameters<R (C::*)(P...) const> : function_parameters<R (*)(P...)> {};
template <class R, class C, class... P>
struct call_operator_parameters<R (C::*)(P...) noexcept> : function_parameters<R (*)(P...)> {};
template <class R, class C, class... P>
struct call_operator_parameters<R (C::*)(P...) const noexcept> : function_parameters<R (*)(P...)> {
};

// A plain function (pointer or reference) called with arguments its frame owns (above):
// once called, nothing refers to the callable or the argument copies.
template <class Fn, class... D>
constexpr bool plain_function_owns_arguments() {
  return owns_arguments<typename function_parameters<Fn>::type, D...>::value;
}

// A function object with no state (a lambda without captures) whose call operator's frame
// owns its arguments: once called, its coroutine frame holds everything it uses (the
// frame's copy of `this` is never read: there is nothing to read), so like a plain function
// it needs no storage beyond the frame. Generic lambdas (auto parameters) do not qualify.
template <class Fn, class... D>
constexpr bool stateless_by_value() {
  if constexpr (std::is_empty_v<Fn> && requires { &Fn::operator(); }) {
    using Params = typename call_operator_parameters<decltype(&Fn::operator())>::type;
    return owns_arguments<Params, D...>::value;
  } else {
    return false;
  }
}

// spawn(callable, args...) as one task cell (see the top of this file).
template <class F, class... A>
auto make_closure_cell(F&& f, A&&... a) {
  using Fn = std::decay_t<F>;
  using C = SpawnClosure<Fn, std::decay_t<A>...>;
  using T = typename invoke_task_t<Fn, std::decay_t<A>...>::value_type;
  if constexpr (plain_function_owns_arguments<Fn, std::decay_t<A>...>()) {
    return spawned_cell(
        to_task(detail::invoke(Fn(std::forward<F>(f)), std::decay_t<A>(std::forward<A>(a))...)));
  } else if constexpr (stateless_by_value<Fn, std::decay_t<A>...>()) {
    // One block, the frame's (as spawn(coroutine(args...)) costs): the arguments go
    // straight into the frame's parameters; the callable object dies with this scope.
    Fn fn(std::forward<F>(f));
    return spawned_cell(to_task(detail::invoke(fn, std::decay_t<A>(std::forward<A>(a))...)));
  } else {
    std::size_t n = g_spawn_frame_size<Fn, std::decay_t<A>...>.load(std::memory_order_relaxed);
    if (n != 0 && alignof(C) <= 16) {
      using Ops = TaskCellOps<T, C>;
      // A task::Builder's name goes after the frame, 8-aligned (task_name.hpp).
      std::size_t name_at = kTaskPrefix + ((n + 7) & ~std::size_t{7});
      std::size_t name_room = pending_name_room();
      void* block =
          frame_alloc(Ops::kClosureBytes + (name_room ? name_at + name_room : kTaskPrefix + n));
      char* header = static_cast<char*>(block) + Ops::kClosureBytes;
      if (name_room) take_pending_name(header + name_at, header + kTaskPrefix);
      C* c;
      try {
        c = new (block) C{Fn(std::forward<F>(f)), {std::decay_t<A>(std::forward<A>(a))...}};
      } catch (...) {
        frame_free(block);
        throw;
      }
      Task<T> task;
      try {
        ArenaScope scope(__builtin_addressof(c->f), header + kTaskPrefix, n);
        task = to_task(std::apply(
            [c](auto&... args) { return detail::invoke(c->f, std::move(args)...); }, c->args));
      } catch (...) {
        c->~C();
        frame_free(block);
        throw;
      }
      if (TOKIO_LIKELY(task.handle().address() == header + kTaskPrefix)) {
        return SpawnedCell<T>{make_task_cell<T, C>(std::move(task))};
      }
      // The learned size did not fit this call (cannot happen for one callable type, but
      // nothing here may dangle if it does): a frame elsewhere may still refer to the
      // closure, so a wrapper owns it until the task ends.
      return spawned_cell(library_frame(hold_closure(ClosureBlock<C>(c), std::move(task))));
    }
    return spawned_cell(library_frame(
        invoke_owned(Fn(std::forward<F>(f)), std::decay_t<A>(std::forward<A>(a))...)));
  }
}

// An operand of spawn(f, args...) that cannot be stored: an lvalue (A deduced as X&) whose
// decayed type can be moved but not copied. The task keeps a decayed copy of f and of each
// argument, so an lvalue is copied; for a move-only one that copy is deleted, and the
// compiler would say so deep inside the cell's construction.
template <class A>
inline constexpr bool is_move_only_lvalue =
    std::is_lvalue_reference_v<A> && !std::is_constructible_v<std::decay_t<A>, A> &&
    std::is_constructible_v<std::decay_t<A>, std::decay_t<A>&&>;

// Checks the operands of every spawn(f, args...) form (spawn, spawn_local, task::Builder,
// JoinSet, and spawn_blocking through make_blocking_fn): stops at the call with the fix
// instead. Its result gates the construction (if constexpr) so nothing else is reported.
template <class F, class... A>
constexpr bool spawn_operands_storable() {
  constexpr bool ok = !is_move_only_lvalue<F> && (!is_move_only_lvalue<A> && ...);
  static_assert(ok,
                "tokio::spawn(f, args...): an argument is a move-only lvalue; pass std::move(x) "
                "(arguments are copied or moved into the task)");
  return ok;
}

// The cell of a spawn-like call: spawn(awaitable) or spawn(callable, args...).
template <class First, class... Rest>
auto make_spawn_cell(First&& first, Rest&&... rest) {
  if constexpr (sizeof...(Rest) == 0 && TokioAwaitable<First>) {
    return spawned_cell(to_task(std::forward<First>(first)));
  } else {
    static_assert(std::is_invocable_v<std::decay_t<First>&, std::decay_t<Rest>&&...>,
                  "spawn(f, args...) needs a callable f(args...) returning a tokio::Task or "
                  "another tokio awaitable");
    if constexpr (spawn_operands_storable<First, Rest...>()) {
      return make_closure_cell(std::forward<First>(first), std::forward<Rest>(rest)...);
    } else {
      // Not reached: its static_assert stops the build. A cell of the right type keeps the
      // callers (JoinSet<T>::spawn) from adding errors of their own.
      using T = typename invoke_task_t<std::decay_t<First>, std::decay_t<Rest>...>::value_type;
      return SpawnedCell<T>{nullptr};
    }
  }
}

// The name a named spawn offers to the frames it creates (core/detail/task_name.hpp): none
// for a ready-made Task (its frame exists; it took the name already if it was created in
// the statement of a `Builder().name(n)`), else the root frame made here (a callable's, an
// awaitable's wrapper) holds it in its block.
template <class First, class... Rest>
std::size_t name_to_offer(std::string_view name) noexcept {
  if constexpr (sizeof...(Rest) == 0 && is_task<std::decay_t<First>>::value) return 0;
  else return name.size();
}

// make_spawn_cell for a named spawn (task::Builder): offers the name to the frames it
// creates, and names the task before anyone can see it.
template <class First, class... Rest>
auto make_named_spawn_cell(const NamedSpawn& named, First&& first, Rest&&... rest) {
  NamingScope naming(named, name_to_offer<First, Rest...>(named.name));
  auto cell = make_spawn_cell(std::forward<First>(first), std::forward<Rest>(rest)...);
  if (!named.name.empty()) set_task_name(cell.header, named.name.data(), named.name.size());
  return cell;
}

}  // namespace tokio::detail
