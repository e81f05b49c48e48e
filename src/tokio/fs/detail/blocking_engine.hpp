#pragma once
// BlockingEngine: the fallback. Every operation is one job on the runtime's blocking
// pool running op->run_blocking() (the same code the io_uring engine uses for what it has
// no opcode for), so both engines behave identically by construction. Cancellation: a job
// that has not started when its waiter leaves does nothing (FsOp::CANCEL); one already
// running finishes (a blocking system call cannot be interrupted), and its buffers live
// until it does because the job holds a reference on the op.

#include "tokio/fs/detail/engine.hpp"

namespace tokio::detail {

class BlockingEngine final : public FsEngine {
 public:
  explicit BlockingEngine(HandleInner* h) noexcept : FsEngine(h) {}
  Kind kind() const noexcept override { return Kind::Blocking; }
  void submit(FsOp* op) noexcept override { submit_blocking(op); }
  void cancel(FsOp*) noexcept override {}
  void shutdown() noexcept override { close_blocking(); }
};

}  // namespace tokio::detail
