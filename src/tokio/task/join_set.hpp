#pragma once
// task::JoinSet<T>: a set of spawned tasks awaited in completion order.
//
// Each member has an entry whose Wakeable is registered as its task's join waker. When the
// task completes, the entry moves from the idle list to the notified list and the task
// waiting in join_next() (if any) is woken, so join_next is O(1) whatever the set's size.
// Destroying the set aborts every task still in it.
//
// Entry reference count (`refs`): one for membership in the set, one per join-waker clone
// held by the task. The entries and the shared lists are freed by whoever drops the last
// reference, so a task completing after its JoinSet is gone is harmless.

#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/core/detail/sync_primitives.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/runtime.hpp"
#include "tokio/task/detail/spawn_impl.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::detail {

class JoinSetShared;

struct JoinSetEntry {
  enum class List : uint8_t { None, Idle, Notified };
  Wakeable wakeable;  // offset 0: the task's join waker
  std::atomic<uint32_t> refs{1};
  JoinSetShared* set;
  TaskHeader* task;  // the JoinHandle reference, owned by the entry
  JoinSetEntry* prev = nullptr;
  JoinSetEntry* next = nullptr;
  List list = List::None;
};

class JoinSetShared {
 public:
  JoinSetShared() = default;
  void ref_inc() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void ref_dec() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Adds a spawned task (taking over its JoinHandle reference).
  void insert(TaskHeader* t);
  // Pops a completed member (the entry's task reference passes to the caller, who must
  // read the output and then call finish_entry). Returns null when none is ready; then,
  // with `waker`, registers it to be woken by the next completion.
  JoinSetEntry* pop_notified(Wakeable* waker);
  // The caller is done with a popped entry (it keeps the task reference).
  void finish_entry(JoinSetEntry* e) noexcept;
  std::size_t len() const;
  void abort_all();
  // Removes every entry; returns their tasks (each with the JoinHandle reference).
  std::vector<TaskHeader*> take_all();

  static void entry_ref_dec(JoinSetEntry* e) noexcept;

 private:
  friend void join_set_entry_wake_by_ref(Wakeable*) noexcept;
  ~JoinSetShared();
  void push_back(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept;
  void unlink(JoinSetEntry*& head, JoinSetEntry*& tail, JoinSetEntry* e) noexcept;

  std::atomic<std::size_t> refs_{1};
  mutable SpinLock lock_;
  JoinSetEntry* idle_head_ = nullptr;
  JoinSetEntry* idle_tail_ = nullptr;
  JoinSetEntry* notified_head_ = nullptr;
  JoinSetEntry* notified_tail_ = nullptr;
  std::size_t len_ = 0;
  Wakeable* waiter_ = nullptr;  // cloned waker of the task in join_next
};

}  // namespace tokio::detail

namespace tokio::task {

template <class T>
class JoinSet {
 public:
  JoinSet() : shared_(new detail::JoinSetShared()) {}
  JoinSet(JoinSet&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)) {}
  JoinSet& operator=(JoinSet&& o) noexcept {
    if (this != &o) {
      close();
      shared_ = std::exchange(o.shared_, nullptr);
    }
    return *this;
  }
  JoinSet(const JoinSet&) = delete;
  JoinSet& operator=(const JoinSet&) = delete;
  ~JoinSet() { close(); }

  // Spawns onto the current runtime: spawn(task), spawn(awaitable), spawn(f, args...).
  template <class First, class... Rest>
  AbortHandle spawn(First&& first, Rest&&... rest) {
    return add(tokio::spawn(std::forward<First>(first), std::forward<Rest>(rest)...));
  }
  template <class A>
  AbortHandle spawn_on(A&& operand, const runtime::Handle& h) {
    return add(h.spawn(std::forward<A>(operand)));
  }
  template <class F>
  AbortHandle spawn_blocking(F&& f) {
    return add(task::spawn_blocking(std::forward<F>(f)));
  }
  // Adopts an existing handle.
  AbortHandle add(JoinHandle<T>&& h) {
    detail::TaskHeader* t = release_handle(h);
    AbortHandle ah(t);
    shared_->insert(t);
    return ah;
  }

  std::size_t len() const { return shared_ ? shared_->len() : 0; }
  bool is_empty() const { return len() == 0; }

  // Awaits the next task to finish: nullopt when the set is empty, otherwise its value or
  // the JoinError (cancelled / threw). Cancel-safe: a completion is never lost.
  class JoinNext : public detail::Leaf<JoinNext> {
   public:
    explicit JoinNext(detail::JoinSetShared* s) : s_(s) {}
    bool poll(Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      if (s_->len() == 0) return true;
      e_ = s_->pop_notified(cx.raw_waker());
      return e_ != nullptr;
    }
    std::optional<Result<T, JoinError>> await_resume() {
      if (!e_) return std::nullopt;
      return take(s_, std::exchange(e_, nullptr));
    }
    ~JoinNext() {
      // Unreachable in practice: a ready poll resumes the awaiter in the same step.
      if (e_) (void)take(s_, e_);
    }

   private:
    detail::JoinSetShared* s_;
    detail::JoinSetEntry* e_ = nullptr;
  };
  JoinNext join_next() { return JoinNext(checked()); }

  // A finished task's result if one is ready now.
  std::optional<Result<T, JoinError>> try_join_next() {
    if (detail::JoinSetEntry* e = checked()->pop_notified(nullptr)) return take(shared_, e);
    return std::nullopt;
  }

  void abort_all() {
    if (shared_) shared_->abort_all();
  }
  // Removes every task from the set without aborting them.
  void detach_all() {
    if (!shared_) return;
    for (detail::TaskHeader* t : shared_->take_all()) drop_handle(t);
  }
  // Aborts every task and waits until all have finished.
  Task<void> shutdown() {
    abort_all();
    // (Not `while (co_await join_next())`: GCC 12 miscompiles a co_await whose temporary
    // is only used as a loop condition.)
    for (;;) {
      auto r = co_await join_next();
      if (!r) break;
    }
  }
  // Awaits every task; returns their values in completion order. Rethrows the first
  // exception (or JoinError) and aborts the rest, like Tokio's join_all.
  auto join_all() -> Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> {
    if constexpr (std::is_void_v<T>) {
      while (auto r = co_await join_next()) {
        if (!r->has_value()) {
          abort_all();
          r->error().rethrow();
        }
      }
    } else {
      std::vector<T> out;
      while (auto r = co_await join_next()) {
        if (!r->has_value()) {
          abort_all();
          r->error().rethrow();
        }
        out.push_back(std::move(**r));
      }
      co_return out;
    }
  }

 private:
  detail::JoinSetShared* checked() const {
    if (!shared_) detail::throw_misuse("use of a moved-from JoinSet");
    return shared_;
  }
  static detail::TaskHeader* release_handle(JoinHandle<T>& h) {
    detail::TaskHeader* t = h.raw_header();
    h.forget();
    return t;
  }
  static void drop_handle(detail::TaskHeader* t) noexcept {
    if (detail::task_join_release(t)) detail::output_of<T>(t)->clear();
    detail::task_drop_ref(t);
  }
  static Result<T, JoinError> take(detail::JoinSetShared* s, detail::JoinSetEntry* e) {
    detail::TaskHeader* t = e->task;
    auto r = detail::output_of<T>(t)->take_result(Id{t->id});
    s->finish_entry(e);
    drop_handle(t);
    return r;
  }
  void close() noexcept {
    if (!shared_) return;
    shared_->abort_all();
    for (detail::TaskHeader* t : shared_->take_all()) drop_handle(t);
    std::exchange(shared_, nullptr)->ref_dec();
  }

  detail::JoinSetShared* shared_;
};

}  // namespace tokio::task
