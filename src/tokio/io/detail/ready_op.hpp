#pragma once
// detail::InstantOp: the leaf of an operation that never waits on a resource (in-memory
// readers and writers). The work runs in the first poll, never at construction, so an
// awaitable that is built and dropped unawaited has no effect (cancel safety). With
// Coop = true the poll first takes a unit of the task's coop budget, so an endless stream
// (repeat, sink, empty) cannot starve the worker: the task yields every 128 operations.

#include <cstddef>
#include <new>
#include <utility>

#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"

namespace tokio::detail {

template <class Fn, bool Coop>
class TOKIO_MUST_AWAIT InstantOp : public Leaf<InstantOp<Fn, Coop>> {
 public:
  using Value = decltype(std::declval<Fn&>()());

  explicit InstantOp(Fn fn) noexcept : fn_(std::move(fn)) {}

  bool poll(task::Context& cx) noexcept {
    if constexpr (Coop) {
      if (!coop_poll_proceed(cx)) return false;
    } else {
      (void)cx;
    }
    new (&value_) Value(fn_());
    has_ = true;
    return true;
  }
  Value await_resume() { return std::move(value_); }

  InstantOp(const InstantOp& o) noexcept : Leaf<InstantOp>(o), fn_(o.fn_) {}
  ~InstantOp() {
    if (has_) value_.~Value();
  }

 private:
  Fn fn_;
  union {
    Value value_;
  };
  bool has_ = false;
};

template <bool Coop, class Fn>
InstantOp<Fn, Coop> instant_op(Fn fn) noexcept {
  return InstantOp<Fn, Coop>(std::move(fn));
}

// The two operations the in-memory streams share: a count known in advance (Empty's and
// Sink's writes, Empty's read of 0 bytes), with a unit of coop budget; and nothing to do
// (their flush and shutdown).
struct ReadyCount {
  std::size_t n;
  io::Result<std::size_t> operator()() const noexcept { return n; }
};
struct NothingToDo {
  io::Result<void> operator()() const noexcept { return {}; }
};
using ReadyCountOp = InstantOp<ReadyCount, true>;
using NothingToDoOp = InstantOp<NothingToDo, false>;

}  // namespace tokio::detail
