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

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/await_claim.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/detail/task_header.hpp"
#include "tokio/runtime/runtime.hpp"
#include "tokio/task/join_handle.hpp"
#include "tokio/task/local_set.hpp"
#include "tokio/task/spawn.hpp"

namespace tokio::detail {

// The set's shared state and its entries live in task/join_set.cpp.
class JoinSetShared;
struct JoinSetEntry;

JoinSetShared* join_set_create();
// Drops the JoinSet's reference (entries still held by tasks keep the state alive).
void join_set_release(JoinSetShared* s) noexcept;
// Adds a spawned task (taking over its JoinHandle reference).
void join_set_insert(JoinSetShared* s, TaskHeader* t);
// What join_set_pop_notified found: a completed member; no member at all; members, none
// completed (with a waker: registered, and the set held by `op` until it completes or
// join_set_unclaim); or the set held by another pending operation.
enum class JoinSetPoll : uint8_t { Entry, Empty, Pending, Busy };
// Pops a completed member (the entry's task reference passes to the caller, who reads the
// output and then calls join_set_finish_entry); null otherwise, `st` saying why. One lock.
JoinSetEntry* join_set_pop_notified(JoinSetShared* s, Wakeable* waker, JoinSetPoll& st,
                                    const void* op);
// A pending operation that registered its waker goes away (destroyed, or lost a select).
void join_set_unclaim(JoinSetShared* s, const void* op) noexcept;
// What a Busy set throws (core/detail/await_claim.hpp's message).
inline constexpr const char* kJoinSetBusy = "JoinSet::join_next() / shutdown()";
TaskHeader* join_set_entry_task(const JoinSetEntry* e) noexcept;
// The caller is done with a popped entry (it keeps the task reference).
void join_set_finish_entry(JoinSetEntry* e) noexcept;
std::size_t join_set_len(const JoinSetShared* s);
void join_set_abort_all(JoinSetShared* s);
// Removes one member, finished or not, without aborting it; returns its task (with the
// JoinHandle reference), or null when the set is empty.
TaskHeader* join_set_take_one(JoinSetShared* s) noexcept;

}  // namespace tokio::detail

namespace tokio::task {

// JoinSet<T>: the tasks' result type (JoinSet<> for tasks that return nothing, as Task<>).
template <class T = void>
class JoinSet {
 public:
  JoinSet() : shared_(detail::join_set_create()) {}
  JoinSet(JoinSet&& o) noexcept : shared_(detail::exchange(o.shared_, nullptr)) {}
  JoinSet& operator=(JoinSet&& o) noexcept {
    if (this != &o) {
      close();
      shared_ = detail::exchange(o.shared_, nullptr);
    }
    return *this;
  }
  JoinSet(const JoinSet&) = delete;
  JoinSet& operator=(const JoinSet&) = delete;
  ~JoinSet() { close(); }

  // Spawns onto the current runtime: spawn(task), spawn(awaitable), spawn(f, args...).
  template <class First, class... Rest>
  AbortHandle spawn(First&& first, Rest&&... rest) {
    (void)checked();  // before the task exists
    return add(tokio::spawn(std::forward<First>(first), std::forward<Rest>(rest)...));
  }
  template <class A>
  AbortHandle spawn_on(A&& operand, const runtime::Handle& h) {
    (void)checked();
    return add(h.spawn(std::forward<A>(operand)));
  }
  // task::spawn_local (inside a LocalSet), the same forms as spawn.
  template <class First, class... Rest>
  AbortHandle spawn_local(First&& first, Rest&&... rest) {
    (void)checked();
    return add(task::spawn_local(std::forward<First>(first), std::forward<Rest>(rest)...));
  }
  // spawn_blocking(f) or spawn_blocking(f, args...), as task::spawn_blocking.
  template <class F, class... Args>
  AbortHandle spawn_blocking(F&& f, Args&&... args) {
    (void)checked();
    return add(task::spawn_blocking(std::forward<F>(f), std::forward<Args>(args)...));
  }
  // Tokio's spawn_blocking_on(f, handle): onto the blocking pool of `h`'s runtime.
  template <class F>
  AbortHandle spawn_blocking_on(F&& f, const runtime::Handle& h) {
    (void)checked();
    return add(h.spawn_blocking(std::forward<F>(f)));
  }
  // Tokio's spawn_local_on(future, local_set): onto that LocalSet.
  template <class A>
  AbortHandle spawn_local_on(A&& operand, LocalSet& set) {
    (void)checked();
    return add(set.spawn_local(std::forward<A>(operand)));
  }
  // Adopts an existing handle.
  // On a moved-from set every form throws before anything is spawned (add: the handle
  // stays the caller's).
  AbortHandle add(JoinHandle<T>&& h) {
    detail::JoinSetShared* shared = checked();
    if (h.output_taken()) {
      detail::throw_misuse(
          "JoinSet::add of a JoinHandle that was already awaited: its output is gone; add the "
          "handle before awaiting it");
    }
    detail::TaskHeader* t = release_handle(h);
    AbortHandle ah(t);
    detail::join_set_insert(shared, t);
    return ah;
  }

  std::size_t len() const { return shared_ ? detail::join_set_len(shared_) : 0; }
  bool is_empty() const { return len() == 0; }

  // join_next_with_id's value: the task's id with its value (just the id for T = void).
  using IdValue = std::conditional_t<std::is_void_v<T>, Id, std::pair<Id, T>>;

  // Awaits the next task to finish: nullopt when the set is empty, otherwise its value or
  // the JoinError (cancelled / threw). Cancel-safe: a completion is never lost. With
  // WithId (join_next_with_id), the value comes with the task's id.
  template <bool WithId>
  class TOKIO_MUST_AWAIT JoinNextOp : public detail::Leaf<JoinNextOp<WithId>> {
    using Out = std::conditional_t<WithId, IdValue, T>;

   public:
    explicit JoinNextOp(detail::JoinSetShared* s) : s_(s) {}
    JoinNextOp(const JoinNextOp& o) noexcept : detail::Leaf<JoinNextOp>(o), s_(o.s_) {}
    bool poll(Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      e_ = detail::join_set_pop_notified(s_, cx.raw_waker(), st_, this);
      return st_ != detail::JoinSetPoll::Pending;
    }
    // Leaf's try_poll: a finished member (or an empty set) now; otherwise no waker is
    // left with the set, and a claim an earlier poll took is kept.
    bool try_poll() noexcept {
      return detail::coop_try([&] {
        auto st = detail::JoinSetPoll::Pending;
        detail::JoinSetEntry* e = detail::join_set_pop_notified(s_, nullptr, st, this);
        if (st == detail::JoinSetPoll::Pending) return false;
        e_ = e;
        st_ = st;
        return true;
      });
    }
    std::optional<Result<Out, JoinError>> await_resume() {
      if (st_ == detail::JoinSetPoll::Busy) detail::throw_second_await(detail::kJoinSetBusy);
      if (!e_) return std::nullopt;
      return take<WithId>(detail::exchange(e_, nullptr));
    }
    ~JoinNextOp() {
      if (st_ == detail::JoinSetPoll::Pending) detail::join_set_unclaim(s_, this);
      // Unreachable in practice: a ready poll resumes the awaiter in the same step.
      if (e_) (void)take<WithId>(e_);
    }

   private:
    detail::JoinSetShared* s_;
    detail::JoinSetEntry* e_ = nullptr;
    detail::JoinSetPoll st_ = detail::JoinSetPoll::Empty;  // what the last poll found
  };
  using JoinNext = JoinNextOp<false>;
  JoinNext join_next() { return JoinNext(checked()); }
  JoinNextOp<true> join_next_with_id() { return JoinNextOp<true>(checked()); }

  // A finished task's result if one is ready now.
  // A finished task's result if one is ready now. Throws std::logic_error while another
  // task's join_next() / shutdown() is pending on the set.
  std::optional<Result<T, JoinError>> try_join_next() {
    if (detail::JoinSetEntry* e = try_pop()) return take<false>(e);
    return std::nullopt;
  }
  std::optional<Result<IdValue, JoinError>> try_join_next_with_id() {
    if (detail::JoinSetEntry* e = try_pop()) return take<true>(e);
    return std::nullopt;
  }

  void abort_all() {
    if (shared_) detail::join_set_abort_all(shared_);
  }
  // Removes every task from the set without aborting them.
  void detach_all() {
    if (!shared_) return;
    while (detail::TaskHeader* t = detail::join_set_take_one(shared_)) drop_handle(t);
  }
  // Aborts every task and waits until all have finished. Their outputs are dropped unread:
  // an exception a task threw before the abort reached it is reported on stderr
  // (TaskFailure::DroppedUnread), as when the set itself is dropped. (Tokio's shutdown
  // discards panics silently.)
  class TOKIO_MUST_AWAIT Shutdown : public detail::Leaf<Shutdown> {
   public:
    explicit Shutdown(detail::JoinSetShared* s) : s_(s) {}
    Shutdown(const Shutdown& o) noexcept : detail::Leaf<Shutdown>(o), s_(o.s_) {}
    ~Shutdown() {
      if (st_ == detail::JoinSetPoll::Pending) detail::join_set_unclaim(s_, this);
    }
    bool poll(Context& cx) noexcept {
      if (!detail::exchange(aborted_, true)) detail::join_set_abort_all(s_);  // at the first poll
      if (!detail::coop_poll_proceed(cx)) return false;
      for (;;) {
        detail::JoinSetEntry* e = detail::join_set_pop_notified(s_, cx.raw_waker(), st_, this);
        if (!e) return st_ != detail::JoinSetPoll::Pending;
        detail::TaskHeader* t = detail::join_set_entry_task(e);
        detail::join_set_finish_entry(e);
        drop_handle(t);
      }
    }
    void await_resume() const {
      if (st_ == detail::JoinSetPoll::Busy) detail::throw_second_await(detail::kJoinSetBusy);
    }

   private:
    detail::JoinSetShared* s_;
    detail::JoinSetPoll st_ = detail::JoinSetPoll::Empty;
    bool aborted_ = false;
  };
  Shutdown shutdown() { return Shutdown(checked()); }
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
  detail::JoinSetEntry* try_pop() {
    detail::JoinSetPoll st;
    detail::JoinSetEntry* e = detail::join_set_pop_notified(checked(), nullptr, st, nullptr);
    if (st == detail::JoinSetPoll::Busy) detail::throw_second_await(detail::kJoinSetBusy);
    return e;
  }
  static detail::TaskHeader* release_handle(JoinHandle<T>& h) {
    detail::TaskHeader* t = h.raw_header();
    h.forget();
    return t;
  }
  static void drop_handle(detail::TaskHeader* t) noexcept { detail::release_join<T>(t); }
  template <bool WithId>
  static auto take(detail::JoinSetEntry* e) {
    detail::TaskHeader* t = detail::join_set_entry_task(e);
    const Id id{t->id()};
    auto r = detail::take_join_result<T>(t);
    detail::join_set_finish_entry(e);
    drop_handle(t);  // the output was read: nothing left to report
    if constexpr (!WithId) {
      return r;
    } else if constexpr (std::is_void_v<T>) {
      return r.transform([id] { return id; });
    } else {
      return std::move(r).transform([id](T&& v) { return IdValue(id, std::move(v)); });
    }
  }
  void close() noexcept {
    if (!shared_) return;
    detail::join_set_abort_all(shared_);
    while (detail::TaskHeader* t = detail::join_set_take_one(shared_)) drop_handle(t);
    detail::join_set_release(detail::exchange(shared_, nullptr));
  }

  detail::JoinSetShared* shared_;
};

}  // namespace tokio::task
