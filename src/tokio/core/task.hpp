#pragma once
// tokio::Task<T>: the coroutine type of everything async in this library.
//
// Lazy (nothing runs until it is co_awaited, spawned or block_on'd), move-only, resumed
// by symmetric transfer so arbitrarily deep co_await chains use no stack, and exceptions
// thrown in the body propagate to whoever awaits it. Destroying a Task destroys its frame
// and, with it, every suspended operation inside (this is how cancellation works).

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#if __has_include(<source_location>)
#include <bit>
#include <source_location>
#endif
// g++ >= 12 and clang++ >= 15 name the location std::source_location::current() wraps.
#if defined(__has_builtin)
#if __has_builtin(__builtin_source_location)
#define TOKIO_BUILTIN_SOURCE_LOCATION 1
#endif
#endif

#include "tokio/core/config.hpp"
#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/invoke.hpp"
#include "tokio/core/detail/outcome.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/task_name.hpp"
#include "tokio/core/detail/thread_context.hpp"

namespace tokio {

template <class T = void>
class Task;

namespace detail {

// The alignment a coroutine frame of n bytes needs, as far as its size tells. g++ allocates
// a frame as one object of its frame type, whose size is a multiple of its alignment: a
// size that is not a multiple of 16 means an alignment of at most 8, so the frame's block
// may come from the 8-byte size classes (a spawned task of 80 + 136 bytes then takes 216,
// not 224). That rule was not checked for clang's frames, so under clang every frame asks
// for 16. tests/task_test.cpp checks that 16-aligned locals stay aligned.
constexpr std::size_t frame_alignment(std::size_t n) noexcept {
#if defined(__GNUC__) && !defined(__clang__)
  return n % 16 == 0 ? 16 : 8;
#else
  (void)n;
  return 16;
#endif
}

// Bytes reserved in front of every Task frame. spawn() builds the task header there
// (runtime/detail/task_header.hpp asserts that sizeof(TaskHeader) equals this), so spawning
// costs no allocation beyond the frame itself; a frame that is only co_awaited leaves them
// unused.
inline constexpr std::size_t kTaskPrefix = 80;
static_assert(kTaskPrefix % 16 == 0, "frames must stay 16-byte aligned");

// Symmetric transfer to `h`, or, after kMaxTransfers in a row, a bounce through
// drive_slot's loop (core/detail/poll.hpp) so the native stack stays bounded when the
// compiler emits the transfer as a call rather than a jump (GCC below -O2).
inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> h) noexcept {
  ThreadContext& t = tls;
  if (TOKIO_LIKELY(++t.transfers < kMaxTransfers)) return h;
  t.bounce = h.address();
  return std::noop_coroutine();
}

// Reports an exception nobody can receive (a destructor that threw while a suspended frame
// was destroyed: abort, a lost select, an elapsed timeout, runtime shutdown) on stderr,
// with the task it came from (runtime/detail/harness.cpp).
void report_destroy_exception(const std::exception_ptr& e) noexcept;

// Destroys a coroutine frame. A frame that finished (at its final suspend) has no locals
// left and is simply destroyed. A suspended one may run destructors that throw: C++ then
// calls the promise's unhandled_exception and parks the coroutine at its final suspend
// instead of freeing it, which would lose the exception and leak the frame. Here the
// exception is caught (see Promise::unhandled_exception), the parked frame destroyed for
// good, and the exception reported.
// In both cases the frame's parameter copies die after its promise, outside the body: a
// parameter whose destructor throws (one declared noexcept(false)) throws out of destroy()
// itself. That is caught and reported too, never let out of these noexcept functions (it
// would terminate the process); the parameters after it in the frame are not destroyed.
// What happens to the frame's memory then depends on the compiler (measured: a frame of
// a coroutine whose by-value parameter throws, destroyed in a try block): g++ 12 skips the
// deallocation (so destroy_parameter_threw frees it), clang 19 runs it while unwinding, and
// clang 14 crashes in its own unwind code (README, Compilers).
// Both are out of line: a handler inlined here grew every caller (a Task's destructor, a
// join's branches) past the inliner's limits (callgrind: +220 instructions per block_on of a
// six-way join).
void destroy_suspended(std::coroutine_handle<> h) noexcept;
void destroy_finished(std::coroutine_handle<> h) noexcept;
// What destroy_finished and destroy_suspended do when a parameter's destructor threw out of
// h.destroy() (runtime/detail/harness.cpp).
void destroy_parameter_threw(std::coroutine_handle<> h, const std::exception_ptr& e) noexcept;
// destroy_finished's body, for the one caller that runs it once per item of a stream
// (ChildOp's finished Task operand, io/detail/child_op.hpp): the try block costs nothing
// until a destructor throws, and its handler is a call, so inlined there it saves the
// call to destroy_finished and that function's frame.
TOKIO_ALWAYS_INLINE void destroy_finished_inline(std::coroutine_handle<> h) noexcept {
  try {
    h.destroy();
  } catch (...) {
    destroy_parameter_threw(h, std::current_exception());
  }
}
inline void destroy_coroutine(std::coroutine_handle<> h) noexcept {
  if (h.done()) destroy_finished(h);
  else destroy_suspended(h);
}

// Destroys a suspended chain of Task frames from its innermost frame (`deepest`, the one
// suspended at a leaf) outwards to `root`, without recursion: destroying a frame destroys
// the Task it awaits, which would destroy the next frame down, and so on, a native stack
// frame per level. Each frame's Task of the child already destroyed sees its address in
// tls.destroyed_child and lets go instead. The order is the recursive one: the innermost
// frame's locals first.
inline void destroy_chain(std::coroutine_handle<> deepest, std::coroutine_handle<> root) noexcept {
  ThreadContext& t = tls;
  void* saved = t.destroyed_child;
  void* below = nullptr;
  std::coroutine_handle<> h = deepest;
  for (;;) {
    bool last = h.address() == root.address();
    void* parent = last ? nullptr : parent_link(h.address());
    t.destroyed_child = below;
    destroy_coroutine(h);
    if (last) break;
    below = h.address();  // compared only, never dereferenced
    h = std::coroutine_handle<>::from_address(parent);
  }
  t.destroyed_child = saved;
}

// Where a Task coroutine is: the async backtrace of Handle::dump(). Set where the coroutine
// starts, then at each co_await (the promise's await_transform takes the co_await's
// location as a default argument, which g++ and clang++ both evaluate at the co_await: one
// store per co_await, in the promise the frame already has in cache). With
// std::source_location (g++) one pointer to static data; without (clang++ 14 on
// libstdc++ 12 lacks it) the file and the line. TOKIO_CONFIG_NO_TASK_LOCATIONS leaves it
// out (dumps then show no locations; a word less per Task<T> frame, and two less with a
// file and a line, while a Task<void> frame with one-pointer locations stays the same: the
// location shares its word with the exception, see PromiseBase).
#if defined(TOKIO_CONFIG_NO_TASK_LOCATIONS)
struct TaskWhere {
  const char* file() const noexcept { return nullptr; }
  const char* function() const noexcept { return nullptr; }
  unsigned line() const noexcept { return 0; }
};
// get_return_object's parameters: each default argument is evaluated where the coroutine is
// called only when it is the call itself (not nested in another expression).
#define TOKIO_TASK_WHERE_PARAMS
#define TOKIO_TASK_WHERE_PARAMS_NODEFAULT
#define TOKIO_TASK_WHERE_AFTER
#define TOKIO_TASK_WHERE_MAKE \
  TaskWhere {}
#elif defined(__cpp_lib_source_location) && defined(TOKIO_BUILTIN_SOURCE_LOCATION)
// The location travels as the pointer std::source_location wraps, not as a
// std::source_location: g++ keeps every temporary of a co_await expression in the
// coroutine frame for the whole coroutine, and a class-type default argument is such a
// temporary (8 bytes per co_await site, in every frame: 16 of a parked oneshot waiter's
// 88), while a pointer argument is a plain value and costs the frame nothing.
static_assert(sizeof(std::source_location) == sizeof(const void*),
              "std::source_location is expected to wrap one pointer");
struct TaskWhere {
  std::source_location loc;
  const char* file() const noexcept { return loc.file_name(); }
  const char* function() const noexcept { return loc.function_name(); }
  unsigned line() const noexcept { return loc.line(); }
};
#define TOKIO_TASK_WHERE_PARAMS const void* loc = __builtin_source_location()
#define TOKIO_TASK_WHERE_PARAMS_NODEFAULT const void* loc
#define TOKIO_TASK_WHERE_AFTER , TOKIO_TASK_WHERE_PARAMS
#define TOKIO_TASK_WHERE_MAKE \
  TaskWhere { std::bit_cast<std::source_location>(loc) }
#elif defined(__cpp_lib_source_location)
struct TaskWhere {
  std::source_location loc;
  const char* file() const noexcept { return loc.file_name(); }
  const char* function() const noexcept { return loc.function_name(); }
  unsigned line() const noexcept { return loc.line(); }
};
#define TOKIO_TASK_WHERE_PARAMS std::source_location loc = std::source_location::current()
#define TOKIO_TASK_WHERE_PARAMS_NODEFAULT std::source_location loc
#define TOKIO_TASK_WHERE_AFTER , TOKIO_TASK_WHERE_PARAMS
#define TOKIO_TASK_WHERE_MAKE \
  TaskWhere { loc }
#else
struct TaskWhere {
  const char* file_ = nullptr;
  unsigned line_ = 0;
  const char* file() const noexcept { return file_; }
  const char* function() const noexcept { return nullptr; }
  unsigned line() const noexcept { return line_; }
};
#define TOKIO_TASK_WHERE_PARAMS \
  const char *file = __builtin_FILE(), unsigned line = __builtin_LINE()
#define TOKIO_TASK_WHERE_PARAMS_NODEFAULT const char *file, unsigned line
#define TOKIO_TASK_WHERE_AFTER , TOKIO_TASK_WHERE_PARAMS
#define TOKIO_TASK_WHERE_MAKE \
  TaskWhere { file, line }
#endif
// A location of one pointer can share its word with Task<void>'s exception (PromiseBase).
#if defined(__cpp_lib_source_location) && !defined(TOKIO_CONFIG_NO_TASK_LOCATIONS)
#define TOKIO_TASK_WHERE_WORD 1
static_assert(sizeof(TaskWhere) == sizeof(const void*), "a location is expected to be one pointer");
#endif

// co_await unlocated(x) in a library wrapper coroutine: awaits x without recording the
// wrapper's location (see PromiseBase::await_transform).
template <class A>
struct Unlocated {
  A&& a;
};
template <class A>
Unlocated<A> unlocated(A&& a) noexcept {
  return Unlocated<A>{std::forward<A>(a)};
}

// The Task promise's operator delete (also called by destroy_finished/destroy_suspended
// for a frame whose deallocation a throwing parameter destructor skipped).
TOKIO_ALWAYS_INLINE void task_frame_delete(void* p) noexcept {
  ThreadContext& t = tls;
  if (p == t.keep_frame) {  // a task cell owns this block and frees it on dealloc
    t.keep_frame = nullptr;
    return;
  }
  // The frame that took a Builder's name dies before its spawn: a later frame at the same
  // address must not pass for it (task_name.hpp).
  if (TOKIO_UNLIKELY(p == t.named_frame)) t.named_frame = nullptr;
  frame_free(static_cast<char*>(p) - kTaskPrefix);
}

class PromiseBase {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }
  // Where the coroutine is: set by get_return_object (its default argument is evaluated at
  // the coroutine itself), then by each co_await (await_transform). Handle::dump reads it
  // through the frame (task_where) from suspended frames only: the promise sits 16 bytes
  // into every frame (after the resume and destroy pointers).
#if defined(TOKIO_TASK_WHERE_WORD)
  // Where the location is one pointer, it shares its word with Task<void>'s exception, as
  // the two are never needed at once (a frame that has thrown never awaits again; a dump
  // reads only suspended frames). The word's encoding:
  //   bit 0 set    the body has not finished: the location's pointer + 1 (1: no location,
  //                a library frame), written by get_return_object (the first thing that
  //                runs after the promise is constructed, and noexcept) and each co_await;
  //   bit 0 clear  (Promise<void> only) the body threw: the word holds a std::exception_ptr,
  //                whose representation is the exception object's address (libstdc++ and
  //                libc++: never null once thrown, and at least 8-aligned).
  // A body that returns leaves its last location in place (bit 0 set): no exception.
  // That is 8 bytes out of every Task<void> frame, which for a spawned idle task is the
  // step from one block size class to the next (bench/NOTES.md, forty-eighth session).
  void set_where(TaskWhere w) noexcept {
    // + 1 rather than | 1: the location is 8-aligned static data, and an address plus a
    // constant folds into the one store's operand.
    store_word(
        reinterpret_cast<uintptr_t>(static_cast<const char*>(std::bit_cast<const void*>(w)) + 1));
  }
  TaskWhere where() const noexcept {
    uintptr_t b = load_word();
    if (!(b & 1)) return TaskWhere{};
    return std::bit_cast<TaskWhere>(reinterpret_cast<const void*>(b - 1));
  }

 protected:
  uintptr_t load_word() const noexcept {
    uintptr_t b;
    __builtin_memcpy(&b, word_, sizeof b);
    return b;
  }
  void store_word(uintptr_t b) noexcept { __builtin_memcpy(word_, &b, sizeof b); }
  alignas(std::exception_ptr) unsigned char word_[sizeof(std::exception_ptr)];
  static_assert(sizeof(std::exception_ptr) == sizeof(uintptr_t),
                "std::exception_ptr is expected to be one pointer");

 public:
#else
  void set_where(TaskWhere w) noexcept { where_ = w; }
  TaskWhere where() const noexcept { return where_; }
  [[no_unique_address]] TaskWhere where_{};
#endif

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      void* parent = parent_link(h.address());
      return parent ? transfer_to(std::coroutine_handle<>::from_address(parent))
                    : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  template <class A>
  decltype(auto) await_transform(A&& a TOKIO_TASK_WHERE_AFTER) noexcept {
    static_assert(TokioAwaitable<A>,
                  "a tokio::Task can only co_await tokio awaitables (Task, JoinHandle, sleep, "
                  "channels, I/O...). Wrap a foreign awaitable with tokio::task::poll_fn, or "
                  "run foreign code with spawn_blocking. (A stream pipeline needs parentheses: "
                  "co_await binds tighter than |, so write co_await (s | stream::fold(...)).)");
    set_where(TOKIO_TASK_WHERE_MAKE);
    return awaited_in_place(std::forward<A>(a));
  }
  // A library wrapper's co_await (detail::unlocated): the frame keeps no location, so a
  // dump leaves it out of the backtrace.
  template <class A>
  decltype(auto) await_transform(Unlocated<A>&& u) noexcept {
    return awaited_in_place(std::forward<A>(u.a));
  }

  // Every frame gets kTaskPrefix bytes in front, where spawn() builds the task header.
  // The parent link (the prefix's last word) starts cleared: a frame resumed as a root
  // returns to nobody.
  TOKIO_ALWAYS_INLINE static void* operator new(std::size_t n) {
    // A task::Builder's name waiting for the frame of the task it names (task_name.hpp).
    if (TOKIO_UNLIKELY(tls.pending_name != nullptr)) return frame_alloc_named(n);
    void* frame =
        static_cast<char*>(frame_alloc(kTaskPrefix + n, frame_alignment(n))) + kTaskPrefix;
    clear_parent_link(frame);
    return frame;
  }
  // Coroutines with parameters allocate here: C++ passes the parameters after the size and,
  // for a member function, the object first (GCC does so for lambdas too; Clang leaves a
  // lambda's object out). spawn(callable, args...) uses it to put the frame of the
  // callable's coroutine in the block that already holds the callable
  // (runtime/detail/task_cell.hpp): the coroutine whose object is tls.arena_closure gets
  // tls.arena_frame when its size is the one reserved, and reports its size otherwise.
  //
  // The three allocation functions are always inlined: GCC's -Wmismatched-new-delete (in
  // -Wall) compares only the names of an operator new and the operator delete that may free
  // its result (the ramp's cleanup path), and would flag this template against the plain
  // delete in every coroutine with parameters, at any optimisation level. Inlined, the ramp
  // calls frame_alloc and frame_free, which it does not compare.
  template <class Self, class... Rest>
  TOKIO_ALWAYS_INLINE static void* operator new(std::size_t n, Self& self, Rest&...) {
    ThreadContext& t = tls;
    if (TOKIO_UNLIKELY(t.arena_closure == static_cast<const void*>(__builtin_addressof(self)))) {
      t.arena_closure = nullptr;
      if (t.arena_frame && n == t.arena_size) {
        clear_parent_link(t.arena_frame);
        return t.arena_frame;
      }
      t.arena_size = n;
    }
    return operator new(n);
  }
  TOKIO_ALWAYS_INLINE static void operator delete(void* p) noexcept { task_frame_delete(p); }

  // Called from a Promise's unhandled_exception: true (and the exception kept for
  // destroy_suspended) when the frame is being destroyed and a destructor threw.
  bool caught_while_destroyed(void* frame) noexcept {
    ThreadContext& t = tls;
    if (TOKIO_LIKELY(t.destroying_frame != frame)) return false;
    auto* slot = static_cast<std::exception_ptr*>(t.destroy_exception);
    if (!*slot) *slot = std::current_exception();
    // Its final suspend must not resume the awaiting frame. A root has none, and its link
    // word is its task header's last word (the scheduler pointer): left alone.
    if (parent_link(frame)) clear_parent_link(frame);
    return true;
  }
};

template <class T>
class Promise : public PromiseBase {
 public:
  Task<T> get_return_object(TOKIO_TASK_WHERE_PARAMS) noexcept;
  // co_return runs once, before anything else could set the result (unhandled_exception
  // runs only after the body left, a destructor throwing after the co_return included),
  // so the outcome is still Empty here.
  template <class U = T>
  void return_value(U&& v) {
    result_.set_first_value(std::forward<U>(v));
  }
  void unhandled_exception() noexcept {
    if (caught_while_destroyed(std::coroutine_handle<Promise>::from_promise(*this).address()))
      return;
    result_.set_exception(std::current_exception());
  }
  T take() { return result_.take(); }
  // take() when the frame is destroyed right after (Outcome::take_last).
  T take_last() { return result_.take_last(); }
  bool has_exception() const noexcept { return result_.state() == OutcomeState::Exception; }
  // Moves the result into a task cell's output.
  void move_to(Outcome<T>& out) { out.move_from(result_); }

  Outcome<T> result_;
};

// Task<void>'s promise keeps only what can be observed: the exception, if any (in the
// location's word where it is one pointer: see PromiseBase).
template <>
class Promise<void> : public PromiseBase {
 public:
  Task<void> get_return_object(TOKIO_TASK_WHERE_PARAMS) noexcept;
  void return_void() noexcept {}
  void take() {
    if (has_exception()) std::rethrow_exception(take_exception());
  }
  void move_to(Outcome<void>& out) noexcept {
    if (has_exception()) out.set_exception(take_exception());
    else out.set_value();
  }
#if defined(TOKIO_TASK_WHERE_WORD)
  // Always inlined: out of line, the call cost every Task<void> frame's destruction more
  // than the test it makes (callgrind: 6 instructions a frame).
  TOKIO_ALWAYS_INLINE ~Promise() {
    if (TOKIO_UNLIKELY(has_exception())) thrown().~exception_ptr();
  }
  void unhandled_exception() noexcept {
    if (caught_while_destroyed(std::coroutine_handle<Promise>::from_promise(*this).address()))
      return;
    ::new (static_cast<void*>(word_)) std::exception_ptr(std::current_exception());
  }
  TOKIO_ALWAYS_INLINE bool has_exception() const noexcept {
    uintptr_t b = load_word();
    return b != 0 && !(b & 1);
  }

 private:
  std::exception_ptr& thrown() noexcept {
    return *std::launder(reinterpret_cast<std::exception_ptr*>(word_));
  }
  // The exception, moved out; the word then reads as "returned" (no location, no exception).
  std::exception_ptr take_exception() noexcept {
    std::exception_ptr e = std::move(thrown());
    thrown().~exception_ptr();
    store_word(1);
    return e;
  }
#else
  void unhandled_exception() noexcept {
    if (caught_while_destroyed(std::coroutine_handle<Promise>::from_promise(*this).address()))
      return;
    ex_ = std::current_exception();
  }
  bool has_exception() const noexcept { return static_cast<bool>(ex_); }

 private:
  std::exception_ptr take_exception() noexcept { return detail::exchange(ex_, nullptr); }
  std::exception_ptr ex_;
#endif
};

}  // namespace detail

template <class T>
class TOKIO_MUST_AWAIT Task {
 public:
  using promise_type = detail::Promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;
  using tokio_awaitable = void;

  Task() noexcept = default;
  explicit Task(handle_type h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(detail::exchange(o.h_, nullptr)) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = detail::exchange(o.h_, nullptr);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  bool done() const noexcept { return h_ && h_.done(); }
  handle_type handle() const noexcept { return h_; }
  handle_type release() noexcept { return detail::exchange(h_, nullptr); }
  void reset() noexcept {
    if (auto h = detail::exchange(h_, nullptr)) {
      if (TOKIO_UNLIKELY(h.address() == detail::tls.destroyed_child)) {
        detail::tls.destroyed_child = nullptr;  // destroyed already, bottom-up (destroy_chain)
        return;
      }
      detail::destroy_coroutine(h);
    }
  }

  // Awaiting: starts the child by symmetric transfer; the child's final suspend transfers
  // straight back to the awaiting coroutine.
  struct Awaiter {
    handle_type h;
    bool await_ready() const {
      if (!h) detail::throw_misuse("co_await of an empty tokio::Task (moved-from or default)");
      if (h.done()) detail::throw_misuse("a tokio::Task was co_awaited twice");
      return false;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
      detail::set_parent_link(h.address(), parent.address());
      return detail::transfer_to(h);
    }
    T await_resume() { return h.promise().take(); }
  };
  Awaiter operator co_await() & noexcept { return Awaiter{h_}; }
  Awaiter operator co_await() && noexcept { return Awaiter{h_}; }

 private:
  handle_type h_;
};

namespace detail {

template <class T>
Task<T> Promise<T>::get_return_object(TOKIO_TASK_WHERE_PARAMS_NODEFAULT) noexcept {
  static_assert(alignof(Promise<T>) <= 16,
                "tokio::Task<T> supports results aligned to at most 16 bytes: hold an "
                "over-aligned value through a std::unique_ptr");
  set_where(TOKIO_TASK_WHERE_MAKE);
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object(TOKIO_TASK_WHERE_PARAMS_NODEFAULT) noexcept {
  set_where(TOKIO_TASK_WHERE_MAKE);
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

// Marks a wrapper coroutine of the library's own (spawn(callable, args...)'s): left out of
// a dump's backtrace (a location without a file).
template <class T>
Task<T> library_frame(Task<T> t) noexcept {
  t.handle().promise().set_where(TaskWhere{});
  return t;
}

// The call site of the Task coroutine whose frame is `frame` (see PromiseBase::where).
inline TaskWhere task_where(void* frame) noexcept {
  return std::coroutine_handle<PromiseBase>::from_address(frame).promise().where();
}

// --- awaitable traits ---------------------------------------------------------------------
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else {
    return std::forward<A>(a);
  }
}
template <class A>
using await_result_t =
    decltype(std::declval<decltype(get_awaiter(std::declval<A>()))&>().await_resume());

template <class A>
struct as_task {
  using type = Task<await_result_t<A>>;
};

// Turns any tokio awaitable into a Task that owns it...
template <class A>
Task<await_result_t<A>> make_task(A a) {
  co_return co_await unlocated(std::move(a));
}
// ...or, for an lvalue, one that borrows it (the caller's frame outlives the Task, as with
// `&mut rx` in Tokio's select!).
template <class A>
Task<await_result_t<A&>> make_task_ref(A* a) {
  co_return co_await unlocated(*a);
}

template <class A>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};

template <class A>
auto to_task(A&& a) {
  if constexpr (is_task<std::remove_cvref_t<A>>::value) {
    static_assert(!std::is_lvalue_reference_v<A>,
                  "a tokio::Task held in a variable is handed over by moving it: "
                  "std::move(task) (spawn, select and join take it over, as Rust moves a "
                  "future); to keep it across select iterations, pin it once, `auto fut = "
                  "tokio::pin(std::move(task));`, and pass `fut` (tokio::pin!)");
    // Every operation that takes a future over comes through here (spawn, block_on, select,
    // join, pin, timeout, unconstrained, run_until, run_until_cancelled, TaskLocal::scope): an
    // empty or finished Task would crash the first poll.
    if (TOKIO_UNLIKELY(!a.valid() || a.done())) {
      throw_misuse(
          a.valid() ? "a tokio::Task that already ran was handed over to be run again (to "
                      "spawn, block_on, select, join, pin, timeout...): a Task runs once; make a "
                      "new one"
                    : "an empty tokio::Task (moved from, or default-made) was handed to "
                      "spawn, block_on, select, join, pin, timeout, unconstrained, run_until, "
                      "run_until_cancelled or TaskLocal::scope: a Task runs once; make a "
                      "new one, or pin it (tokio::pin) to await it across select "
                      "iterations");
    }
    return std::forward<A>(a);
  } else if constexpr (std::is_lvalue_reference_v<A>) {
    static_assert(TokioAwaitable<A>, "expected a tokio::Task or another tokio awaitable");
    return library_frame(make_task_ref<std::remove_reference_t<A>>(&a));
  } else if constexpr (!std::is_move_constructible_v<std::remove_cvref_t<A>>) {
    // (Checked first: the frame below would take the awaitable over by moving it.)
    static_assert(std::is_move_constructible_v<std::remove_cvref_t<A>>,
                  "this awaitable cannot be moved, so it is awaited where it is: pass it as "
                  "an lvalue (rt.block_on(x), co_await x), e.g. a LocalSet");
  } else {
    static_assert(TokioAwaitable<A>, "expected a tokio::Task or another tokio awaitable");
    return library_frame(make_task<std::remove_cvref_t<A>>(std::forward<A>(a)));
  }
}

// spawn(callable, args...): the wrapper's frame owns the callable and decayed copies of the
// arguments for as long as the callable's coroutine runs, so a capturing lambda coroutine
// cannot dangle. The arguments are passed as rvalues: by-value parameters take them over,
// reference parameters point into the wrapper's frame, which outlives the call.
template <class F, class... A>
using invoke_task_t = decltype(to_task(detail::invoke(std::declval<F&>(), std::declval<A&&>()...)));

// The frame size (without the task prefix) of the coroutine that callable type F starts when
// called with A..., learned by its first spawn; 0 while unknown. Relaxed: every thread that
// learns it stores the same value, and a stale 0 only costs the two-frame form once more.
template <class F, class... A>
inline std::atomic<std::size_t> g_spawn_frame_size{0};

// Sets the tls arena fields for a scope and restores the previous ones (a callable may spawn
// another callable before it starts its own coroutine).
class ArenaScope {
 public:
  ArenaScope(const void* closure, void* frame, std::size_t size) noexcept
      : t_(tls), closure_(t_.arena_closure), frame_(t_.arena_frame), size_(t_.arena_size) {
    t_.arena_closure = closure;
    t_.arena_frame = frame;
    t_.arena_size = size;
  }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;
  ~ArenaScope() {
    t_.arena_closure = closure_;
    t_.arena_frame = frame_;
    t_.arena_size = size_;
  }
  // The frame size the probed coroutine reported (0: it never allocated with our callable
  // as its object, e.g. a plain function returning a Task, or a compiler that does not pass
  // a lambda's object to operator new).
  std::size_t reported() const noexcept { return t_.arena_closure ? 0 : t_.arena_size; }

 private:
  ThreadContext& t_;
  const void* closure_;
  void* frame_;
  std::size_t size_;
};

// Calls f(a...) as a probe: the frame size it reports is learned for its type.
template <class F, class... A>
invoke_task_t<F, A...> probe_invoke(F& f, A&... a) {
  ArenaScope scope(__builtin_addressof(f), nullptr, 0);
  auto task = to_task(detail::invoke(f, std::move(a)...));
  if (std::size_t n = scope.reported())
    g_spawn_frame_size<F, A...>.store(n, std::memory_order_relaxed);
  return task;
}

template <class F, class... A>
invoke_task_t<F, A...> invoke_owned(F f, A... a) {
  co_return co_await unlocated(probe_invoke(f, a...));
}

}  // namespace detail
}  // namespace tokio
