#pragma once
// stream::Generator<T>: a stream written as a coroutine (async-stream's `stream!` in C++).
//
//   tokio::stream::Generator<int> countdown(int n) {
//     for (int i = n; i > 0; --i) {
//       co_await tokio::time::sleep(10ms);   // any tokio awaitable
//       co_yield i;
//     }
//   }
//   auto g = countdown(3);
//   for (;;) { auto v = co_await g.next(); if (!v) break; ... }
//
// How it runs: the generator is polled by the task that calls next(), inside that task's
// poll, like a select branch: its body runs until it reaches `co_yield` (next() completes
// with the value) or a tokio awaitable that is not ready (next() is pending with that
// task's waker registered), or returns (next() yields std::nullopt, and so do all later
// calls). Nothing runs between two next() calls: a generator is lazy and never runs
// concurrently with its consumer.
//
// Cancellation: the suspended body is kept in the Generator, not in the awaitable next()
// returns, so destroying a next() mid-way (a lost select, a timeout) is safe and loses
// nothing: the next call resumes the body where it waits. Destroying the Generator
// destroys its body (its destructors run; whatever it awaited unregisters itself), exactly
// like aborting a task. An exception thrown by the body comes out of that next(); the
// generator has then ended.
//
// A Generator can be moved freely (its body lives in its own frame), also while a wait
// is in progress. Like a tokio::Task, its body can only co_await tokio awaitables.

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/context.hpp"
#include "tokio/core/detail/frame_alloc.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/detail/thread_context.hpp"
#include "tokio/core/task.hpp"
#include "tokio/stream/detail/next_claim.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::stream {

template <class T>
class Generator : public PollStream<Generator<T>, T>,
                  public tokio::detail::NextClaim<Generator<T>> {
  static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                "Generator<T> yields values: T must be a non-const object type");

 public:
  class promise_type {
   public:
    Generator get_return_object() noexcept {
      return Generator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }

    template <class U = T>
      requires std::is_constructible_v<T, U&&> std::suspend_always yield_value(U&& v) {
        value_.emplace(std::forward<U>(v));
        return {};
      }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { ex_ = std::current_exception(); }

    template <class A>
    decltype(auto) await_transform(A&& a) noexcept {
      static_assert(tokio::detail::TokioAwaitable<A>,
                    "a tokio::stream::Generator can only co_await tokio awaitables (Task, "
                    "sleep, channels, I/O...)");
      return tokio::detail::awaited_in_place(std::forward<A>(a));
    }

    // The frame gets a prefix, as a Task frame does (core/task.hpp): the generator's chain
    // is armed with set_starter, which clears the parent-link word just before the frame.
    // 16 bytes keep the frame's alignment.
    static constexpr std::size_t kPrefix = 16;
    static void* operator new(std::size_t n) {
      return static_cast<char*>(tokio::detail::frame_alloc(n + kPrefix)) + kPrefix;
    }
    static void operator delete(void* p) noexcept {
      tokio::detail::frame_free(static_cast<char*>(p) - kPrefix);
    }

   private:
    friend class Generator;
    std::optional<T> value_;
    std::exception_ptr ex_;
  };

  Generator() noexcept = default;
  // Not while another task waits in next(): that aborts (detail::NextClaim), before
  // anything moves (the check is a base's).
  Generator(Generator&& o) noexcept
      : tokio::detail::NextClaim<Generator>(std::move(o)),
        h_(detail::exchange(o.h_, nullptr)),
        slot_(o.slot_),
        started_(o.started_) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      tokio::detail::NextClaim<Generator>::operator=(std::move(o));
      reset();
      h_ = detail::exchange(o.h_, nullptr);
      slot_ = o.slot_;
      started_ = o.started_;
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() { reset(); }

  // True once the body has returned (or thrown, or was never there).
  bool is_done() const noexcept { return !h_ || h_.done(); }

  bool poll_next(task::Context& cx, std::optional<T>& out) {
    if (is_done()) return true;
    if (!started_) {
      started_ = true;
      tokio::detail::set_starter(slot_, h_);
    }
    // Runs the body (and anything it awaits, which registers in slot_) until it yields,
    // returns, or waits on a leaf that is not ready.
    if (!tokio::detail::drive_slot(slot_, cx)) return false;
    promise_type& p = h_.promise();
    if (p.ex_) {
      std::exception_ptr e = detail::exchange(p.ex_, nullptr);
      reset();
      std::rethrow_exception(e);
    }
    if (h_.done()) {
      reset();
      return true;
    }
    out.emplace(std::move(*p.value_));
    p.value_.reset();
    tokio::detail::set_starter(slot_, h_);  // the next poll resumes after the co_yield
    return true;
  }

  // One next() at a time: the body waits in one slot, so a second task's next() would
  // take its waker over and the first task would wait for ever; it throws
  // std::logic_error instead (detail::NextClaim).
  static constexpr const char* kTypeName = "stream::Generator";

 private:
  explicit Generator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  void reset() noexcept {
    if (auto h = detail::exchange(h_, nullptr)) h.destroy();
  }

  std::coroutine_handle<promise_type> h_;
  tokio::detail::PollSlot slot_;
  bool started_ = false;
};

}  // namespace tokio::stream
