#pragma once
// FsEngine: what runs the fs operations of one runtime. Two implementations:
//   UringEngine     io_uring through raw system calls, completions fed to the reactor
//                   (fs/detail/uring_engine.hpp);
//   BlockingEngine  every operation on the runtime's blocking pool, as Tokio does.
// Operations io_uring has no opcode for (read_dir, copy, canonicalize...) use the blocking
// pool under both engines (submit_blocking).
//
// One engine per runtime, created on the first fs operation and kept in the runtime's
// driver (Driver::fs_engine_slot, runtime/detail/driver.hpp). The choice:
//   - Builder::disable_io_uring(), or TOKIO_FS_ENGINE=blocking in the environment, or a
//     runtime without the I/O driver (enable_io), or /proc/sys/kernel/io_uring_disabled
//     = 2: the blocking engine;
//   - otherwise io_uring, falling back to the blocking engine when the kernel refuses it
//     (ENOSYS on old kernels, EPERM under seccomp or io_uring_disabled = 1, a kernel too
//     old for the opcodes the engine needs).
// Shutdown (fs_engine_close, from Driver::shutdown): stops accepting operations (later
// ones fail with std::errc::operation_canceled), cancels the ones whose waiter is gone,
// and waits (bounded) until the kernel and the blocking threads are done with every
// buffer. The engine object is reference counted: every File holds a reference, so a File
// outliving its runtime stays safe (its operations then fail).

#include <atomic>
#include <cstdint>

#include "tokio/fs/detail/op.hpp"

namespace tokio::detail {

struct HandleInner;

class FsEngine {
 public:
  enum class Kind : uint8_t { IoUring, Blocking, Closed };

  explicit FsEngine(HandleInner* h) noexcept;
  virtual ~FsEngine() = default;
  FsEngine(const FsEngine&) = delete;
  FsEngine& operator=(const FsEngine&) = delete;

  virtual Kind kind() const noexcept = 0;
  // Takes `op` (the caller already added the engine's reference) and runs it; may
  // complete it before returning.
  virtual void submit(FsOp* op) noexcept = 0;
  // The op's waiter is gone (CANCEL is set): stop it early if possible.
  virtual void cancel(FsOp* op) noexcept = 0;
  // See above. Called once, from fs_engine_close.
  virtual void shutdown() noexcept = 0;
  // A task polled an op it is already waiting on, and the op is not done: it was polled
  // again without suspending in between (a select loop with an always-ready branch), so
  // submissions deferred to the end of this thread's run of tasks, and completions left
  // for the reactor, would never come while it keeps running. Push them out now.
  virtual void nudge() noexcept {}

  // Runs `op` on the runtime's blocking pool: a job that calls op->run_blocking(), or
  // fails it with ECANCELED if the job is dropped unstarted (runtime shutdown) or the
  // waiter left before it started. Mandatory ops (File writes) run even during shutdown.
  void submit_blocking(FsOp* op) noexcept;

  void ref_inc() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void ref_dec() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  // Stops submit_blocking (later calls fail the op) and waits for the ones in progress,
  // then releases the runtime reference.
  void close_blocking() noexcept;

 private:
  std::atomic<uint32_t> refs_{1};
  // The runtime (one reference, dropped by close_blocking) whose blocking pool runs jobs.
  HandleInner* handle_;
  // submit_blocking in progress / closed: a tiny reader-writer gate so shutdown never
  // releases the runtime while a submission is using it. seq_cst on both sides (the
  // submitter's increment then check, the closer's store then check).
  std::atomic<uint32_t> active_{0};
  std::atomic<bool> closed_{false};
};

// The engine of the runtime this thread is in (created on first use); throws
// std::logic_error naming `what` outside a runtime. After the runtime shut down, an engine
// that fails every operation.
FsEngine* fs_engine_current(const char* what);

// Tests and benchmarks: the SQ size of rings created from now on (0: the default).
void fs_set_uring_entries(unsigned entries) noexcept;

// The most bytes one io_uring read or write step moves: 1 GiB (an SQE's length is 32 bits;
// Linux moves at most 0x7ffff000 bytes per call). Tests lower it (0: back to the default)
// to run the chunking of long reads and writes without gigabytes of data.
extern std::atomic<std::size_t> g_fs_uring_max_chunk;  // relaxed: set by tests between runtimes
inline std::size_t fs_uring_max_chunk() noexcept {
  return g_fs_uring_max_chunk.load(std::memory_order_relaxed);  // read per read/write step
}
void fs_set_uring_max_chunk(std::size_t bytes) noexcept;

}  // namespace tokio::detail
