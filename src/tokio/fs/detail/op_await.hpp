#pragma once
// FsAwait<T>: the leaf awaitable every fs free function returns. It owns one reference on
// an operation object (FsOp, opaque here: defined in fs/detail/op.hpp and reached only
// through the out-of-line calls below, so a user TU never parses the engines).
//
// Lifecycle: the function that returns the FsAwait builds the operation (nothing runs
// yet, as a Rust future does nothing until polled); the first poll hands it to the
// runtime's fs engine (io_uring or the blocking pool); later polls check for completion.
// Destroying an FsAwait whose operation is still running cancels it: the engine asks the
// kernel to stop (IORING_OP_ASYNC_CANCEL) or skips a blocking job that has not started,
// and keeps the operation's buffers alive until the kernel (or the blocking thread) is
// done with them. Nothing the kernel may still write is ever freed early.

#include <cstddef>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"

namespace tokio::detail {

struct FsOp;

// First call: submits the op to the current runtime's engine (throws std::logic_error
// outside a runtime). Returns true once the op finished; otherwise the task is woken when
// it does. Spends one unit of coop budget.
bool fs_op_poll(FsOp* op, task::Context& cx);
// Hands `op` to `engine` now (fs_op_poll's first step, for callers that start an op
// themselves: ReadDir prefetches its next batch).
class FsEngine;
void fs_op_start(FsOp* op, FsEngine* engine) noexcept;
// The awaiting side is done with the op: cancels it if it is still running, then drops
// the waiter's reference.
void fs_op_release(FsOp* op) noexcept;

template <class T>
class TOKIO_MUST_AWAIT FsAwait : public Leaf<FsAwait<T>> {
 public:
  using Take = io::Result<T> (*)(FsOp*);

  FsAwait(FsOp* op, Take take) noexcept : op_(op), take_(take) {}
  // Moves happen before the first poll only (a suspended leaf never moves).
  FsAwait(FsAwait&& o) noexcept : op_(detail::exchange(o.op_, nullptr)), take_(o.take_) {}
  FsAwait(const FsAwait&) = delete;
  FsAwait& operator=(const FsAwait&) = delete;
  FsAwait& operator=(FsAwait&&) = delete;
  ~FsAwait() {
    if (op_) fs_op_release(op_);
  }

  bool poll(task::Context& cx) {
    if (!coop_poll_proceed(cx)) return false;
    return fs_op_poll(op_, cx);
  }
  io::Result<T> await_resume() {
    static_assert(
        std::is_void_v<T> || requires { sizeof(T); },
        "this tokio::fs result holds a std::filesystem::path: #include <filesystem> "
        "in this file (tokio.hpp declares path without defining it)");
    return take_(op_);
  }

 private:
  FsOp* op_;
  Take take_;
};

}  // namespace tokio::detail
