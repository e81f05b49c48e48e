// FsEngine selection and lifetime, the blocking-pool path both engines share, and the
// FsOp completion protocol (see engine.hpp and op.hpp).
#include "tokio/fs/detail/engine.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "tokio/fs/detail/blocking_engine.hpp"
#include "tokio/fs/detail/op_await.hpp"
#include "tokio/fs/detail/uring_engine.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/task/detail/spawn_impl.hpp"

namespace tokio::detail {

namespace fs_engine_impl {

// What a runtime's engine slot holds once the runtime shut down: fails every operation.
class ClosedEngine final : public FsEngine {
 public:
  ClosedEngine() noexcept : FsEngine(nullptr) { ref_inc(); }  // static: never deleted
  Kind kind() const noexcept override { return Kind::Closed; }
  void submit(FsOp* op) noexcept override {
    op->fail(ECANCELED);
    fs_op_finish(op);
  }
  void cancel(FsOp*) noexcept override {}
  void shutdown() noexcept override {}
};

ClosedEngine& closed_engine() noexcept {
  static ClosedEngine e;
  return e;
}

// Guards engine creation and closing (rare; one process-wide lock is plenty).
std::mutex& create_mu() {
  static std::mutex mu;
  return mu;
}

std::atomic<unsigned> g_uring_entries{0};

bool env_forces_blocking() noexcept {
  const char* v = std::getenv("TOKIO_FS_ENGINE");
  return v && (std::strcmp(v, "blocking") == 0 || std::strcmp(v, "fallback") == 0);
}

// /proc/sys/kernel/io_uring_disabled: 0 allowed, 1 restricted to a group (setup tells us),
// 2 disabled for everyone (do not even try).
bool io_uring_disabled_by_sysctl() noexcept {
  int fd = ::open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char c = 0;
  ssize_t n = ::read(fd, &c, 1);
  ::close(fd);
  return n == 1 && c == '2';
}

FsEngine* create_engine(HandleInner* h) {
  const Config& cfg = h->config;
  bool try_uring = !cfg.disable_io_uring && h->driver.io() != nullptr && !env_forces_blocking() &&
                   !io_uring_disabled_by_sysctl();
  if (try_uring) {
    if (FsEngine* e = UringEngine::create(h, g_uring_entries.load(std::memory_order_relaxed))) {
      return e;
    }
  }
  return new BlockingEngine(h);
}

// The blocking-pool job of one op; holds the engine's reference on it. A job dropped
// before it ran (a runtime shutting down cancels queued jobs) fails the op instead.
struct BlockingJob {
  FsOp* op;
  explicit BlockingJob(FsOp* o) noexcept : op(o) {}
  BlockingJob(BlockingJob&& o) noexcept : op(std::exchange(o.op, nullptr)) {}
  BlockingJob(const BlockingJob&) = delete;
  ~BlockingJob() {
    if (op) {
      op->fail(ECANCELED);
      fs_op_finish(op);
    }
  }
  void operator()() noexcept {
    FsOp* o = std::exchange(op, nullptr);
    if (o->cancel_requested()) o->fail(ECANCELED);
    else o->run_blocking();
    fs_op_finish(o);
  }
  static void run_mandatory(void* arg) noexcept {
    BlockingJob job(static_cast<FsOp*>(arg));
    job();
  }
};

}  // namespace fs_engine_impl

// --- the runtime's hook (runtime/detail/driver.hpp) ---------------------------------------
void fs_engine_close(std::atomic<FsEngine*>& slot) noexcept {
  FsEngine* closed = &fs_engine_impl::closed_engine();
  FsEngine* e;
  {
    std::lock_guard<std::mutex> g(fs_engine_impl::create_mu());
    e = slot.exchange(closed, std::memory_order_acq_rel);
  }
  if (e && e != closed) {
    e->shutdown();
    e->ref_dec();
  }
}

FsEngine* fs_engine_current(const char* what) {
  HandleInner* h = current_handle_or_throw(what);
  std::atomic<FsEngine*>& slot = h->driver.fs_engine_slot();
  if (FsEngine* e = slot.load(std::memory_order_acquire)) return e;
  std::lock_guard<std::mutex> g(fs_engine_impl::create_mu());
  if (FsEngine* e = slot.load(std::memory_order_acquire)) return e;
  FsEngine* e = fs_engine_impl::create_engine(h);
  slot.store(e, std::memory_order_release);
  return e;
}

void fs_set_uring_entries(unsigned entries) noexcept {
  fs_engine_impl::g_uring_entries.store(entries, std::memory_order_relaxed);
}

namespace fs_engine_impl {
constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
}  // namespace fs_engine_impl

std::atomic<std::size_t> g_fs_uring_max_chunk{fs_engine_impl::kMaxChunk};

void fs_set_uring_max_chunk(std::size_t bytes) noexcept {
  g_fs_uring_max_chunk.store(
      bytes ? std::min(bytes, fs_engine_impl::kMaxChunk) : fs_engine_impl::kMaxChunk,
      std::memory_order_relaxed);
}

// --- FsEngine ----------------------------------------------------------------------------
FsEngine::FsEngine(HandleInner* h) noexcept : handle_(h) {
  if (h) h->ref_inc();
}

void FsEngine::submit_blocking(FsOp* op) noexcept {
  active_.fetch_add(1, std::memory_order_seq_cst);
  if (closed_.load(std::memory_order_seq_cst)) {
    active_.fetch_sub(1, std::memory_order_release);
    op->fail(ECANCELED);
    fs_op_finish(op);
    return;
  }
  try {
    if (op->mandatory) {
      // As Tokio's File writes (spawn_mandatory_blocking): runs even if the runtime is
      // shutting down, so a write accepted by write() reaches the file.
      handle_->blocking.spawn_mandatory(&fs_engine_impl::BlockingJob::run_mandatory, op);
    } else {
      (void)spawn_blocking_on(handle_, fs_engine_impl::BlockingJob(op));
    }
  } catch (...) {
    // No thread could be started: the job (and its reference) is gone unless mandatory.
    if (op->mandatory) {
      op->fail(EAGAIN);
      fs_op_finish(op);
    }
  }
  active_.fetch_sub(1, std::memory_order_release);
}

void FsEngine::close_blocking() noexcept {
  closed_.store(true, std::memory_order_seq_cst);
  while (active_.load(std::memory_order_seq_cst) != 0) ::sched_yield();
  if (HandleInner* h = std::exchange(handle_, nullptr)) h->ref_dec();
}

// --- FsOp completion protocol ----------------------------------------------------------
void FsOp::complete() noexcept {
  lock.lock();
  state.fetch_or(DONE, std::memory_order_release);
  Wakeable* w = std::exchange(waker, nullptr);
  lock.unlock();
  if (w) w->vtable->wake(w);
}

bool FsOp::poll_done(task::Context& cx) noexcept {
  if (state.load(std::memory_order_acquire) & DONE) return true;
  Wakeable* old = nullptr;
  Wakeable* cur = cx.raw_waker();
  lock.lock();
  if (state.load(std::memory_order_acquire) & DONE) {
    lock.unlock();
    return true;
  }
  const bool repoll = waker == cur;
  if (!repoll) {
    old = waker;
    cur->vtable->clone(cur);
    waker = cur;
  }
  lock.unlock();
  if (old) old->vtable->drop(old);
  if (repoll && engine) {
    // Polled again by the task already waiting (see FsEngine::nudge): helper-89's select
    // loop with an always-ready branch never completed a read on a current-thread runtime.
    engine->nudge();
    return state.load(std::memory_order_acquire) & DONE;
  }
  return false;
}

void FsOp::take_waker_and_drop() noexcept {
  lock.lock();
  Wakeable* w = std::exchange(waker, nullptr);
  lock.unlock();
  if (w) w->vtable->drop(w);
}

bool fs_op_poll(FsOp* op, task::Context& cx) {
  if (TOKIO_UNLIKELY(!(op->state.load(std::memory_order_relaxed) & FsOp::SUBMITTED))) {
    if (op->is_done()) return true;  // failed before it could start (invalid input)
    fs_op_start(op, fs_engine_current("a tokio::fs operation"));
  }
  return op->poll_done(cx);
}

void fs_op_start(FsOp* op, FsEngine* e) noexcept {
  op->state.fetch_or(FsOp::SUBMITTED, std::memory_order_relaxed);
  op->engine = e;
  op->ref_inc();  // the engine's reference, released after complete()
  // A paused clock must not jump while the file operation runs in real time (Tokio's run
  // on the blocking pool, which holds it back); see FsOp::clock_hold. The engine is the
  // current runtime's (every caller got it from fs_engine_current).
  HandleInner* h = tls.handle;
  if (h && h->config.flavor == runtime::RuntimeFlavor::CurrentThread && h->config.enable_time) {
    h->ref_inc();
    h->driver.blocking_in_flight.fetch_add(1, std::memory_order_acq_rel);
    op->clock_hold = h;
  }
  e->submit(op);
}

void fs_op_release_clock(HandleInner* h) noexcept {
  h->driver.blocking_in_flight.fetch_sub(1, std::memory_order_acq_rel);
  h->ref_dec();
}

void fs_op_release(FsOp* op) noexcept {
  uint32_t s = op->state.load(std::memory_order_acquire);
  if ((s & FsOp::SUBMITTED) && !(s & FsOp::DONE)) {
    op->state.fetch_or(FsOp::CANCEL, std::memory_order_acq_rel);
    if (!op->is_done()) op->engine->cancel(op);
  }
  op->take_waker_and_drop();
  op->ref_dec();
}

}  // namespace tokio::detail
