// UringEngine: see uring_engine.hpp.
#include "tokio/fs/detail/uring_engine.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>

#include "tokio/fs/detail/tsan.hpp"
#include "tokio/io/detail/io_driver.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

namespace fs_uring_impl {

constexpr uint64_t kTagOp = 0;
constexpr uint64_t kTagCancel = 1;
constexpr uint64_t kTagSlotClose = 2;
constexpr uint64_t kTagMask = 3;

constexpr unsigned kDefaultEntries = 1024;
constexpr unsigned kControlReserve = 64;  // entries kept for cancellations and slot closes
constexpr unsigned kTakeBatch = 64;
// io-wq's bounded workers per ring (the kernel's default is 4 per CPU): truncating opens
// and writes that wait on the journal run there, and more of them in flight is what the
// fs write_files benchmark needs (64: 240 ms against 322 ms with the default and 344 ms for
// Tokio's blocking pool; 256 was no better). Workers are created on demand, so an idle
// ring costs nothing. TOKIO_FS_URING_WORKERS overrides it (0: the kernel's default).
constexpr unsigned kIowqWorkers = 64;

std::atomic<uint64_t> g_next_gen{1};

// Set while this thread runs a reap loop: steps queued by completions are pushed out by
// the loop itself instead of a nested enter-and-reap, and finished ops' slot closes are
// queued in one batch per completion batch (tl_closes) instead of one lock each.
thread_local bool tl_reaping = false;
struct PendingClose {
  UringRing* ring;
  int slot;
};
thread_local std::vector<PendingClose> tl_closes;

uint64_t op_tag(FsOp* op, unsigned idx) noexcept {
  return reinterpret_cast<uint64_t>(op) | (uint64_t{idx} << 2) | kTagOp;
}

// Tuning knobs read once per engine (TOKIO_FS_URING_ENTRIES / _RINGS / _DIRECT / _SUBMIT):
// for measurements and tests, not part of the documented interface.
unsigned env_unsigned(const char* name, unsigned dflt) noexcept {
  const char* v = std::getenv(name);
  if (!v || !*v) return dflt;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  return (end && *end == '\0' && n >= 0 && n < (1 << 20)) ? static_cast<unsigned>(n) : dflt;
}

}  // namespace fs_uring_impl

const WakeableVTable UringEngine::kEventVTable{&UringEngine::on_event, &UringEngine::on_event,
                                               &UringEngine::noop_ref, &UringEngine::noop_ref};
const WakeableVTable UringEngine::kFlushVTable{&UringEngine::on_flush, &UringEngine::on_flush,
                                               &UringEngine::noop_ref, &UringEngine::noop_ref};

UringEngine::UringEngine(HandleInner* h) noexcept
    : FsEngine(h),
      h_(h),
      gen_(fs_uring_impl::g_next_gen.fetch_add(1)),
      waiter_(io::Interest::READABLE.mask()) {}

UringEngine* UringEngine::create(HandleInner* h, unsigned entries) {
  auto* e = new UringEngine(h);
  if (!e->init(entries)) {
    e->shutdown();
    e->ref_dec();
    return nullptr;
  }
  return e;
}

bool UringEngine::init(unsigned entries) noexcept {
  driver_ = h_->driver.io();
  if (!driver_) return false;
  if (entries == 0) entries = fs_uring_impl::env_unsigned("TOKIO_FS_URING_ENTRIES", 0);
  if (entries == 0) entries = fs_uring_impl::kDefaultEntries;
  unsigned n = 1;
  if (h_->flavor() == runtime::RuntimeFlavor::MultiThread) {
    n = static_cast<unsigned>(h_->num_workers());
  }
  n = std::max(1u, fs_uring_impl::env_unsigned("TOKIO_FS_URING_RINGS", n));
  entries = std::max(8u, entries);  // room for a 4-entry step plus control entries
  if (const char* m = std::getenv("TOKIO_FS_URING_SUBMIT")) {
    deferred_ = std::strcmp(m, "immediate") != 0;
  }
  rings_.reset(new (std::nothrow) UringRing[n]);
  if (!rings_) return false;
  nrings_ = n;
  efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd_ < 0) return false;
  for (unsigned i = 0; i < n; ++i) {
    UringRing& r = rings_[i];
    r.flush_waker.vtable = &kFlushVTable;
    r.owner = this;
    int err = 0;
    // Smaller rings when the locked-memory limit (kernels before 5.12) refuses big ones.
    for (unsigned want = entries; want >= 8 && !r.ring; want /= 4) {
      r.ring = Ring::create(want, want * 2, err);
      if (!r.ring && err != ENOMEM) break;
    }
    if (!r.ring) return false;
    Ring& ring = *r.ring;
    // The engine needs these (Linux 5.6+); the rest fall back per operation.
    for (uint8_t op : {uring::kOpOpenat, uring::kOpRead, uring::kOpWrite, uring::kOpClose,
                       uring::kOpStatx, uring::kOpAsyncCancel}) {
      if (!ring.supports(op)) return false;
    }
    if (ring.register_eventfd(efd_) < 0) return false;
    unsigned control = std::min(fs_uring_impl::kControlReserve, ring.sq_entries() / 4);
    r.cap = ring.sq_entries() - control;
    // Direct descriptors (5.19 sparse tables) for linked open -> read/write -> close.
    unsigned slots = ring.sq_entries();
    if (fs_uring_impl::env_unsigned("TOKIO_FS_URING_DIRECT", 1) != 0 &&
        ring.register_sparse_files(slots) == 0) {
      r.free_slots.reserve(slots);
      for (unsigned s = slots; s-- > 0;) r.free_slots.push_back(static_cast<int>(s));
    }
    // io_uring's workers (for what cannot complete inline: creating or truncating opens,
    // blocked writes...) default to 4 per CPU per submitting thread; file work that waits on
    // the disk (a truncate waiting for writeback) wants more in flight, as Tokio's blocking
    // pool has.
    if (unsigned w =
            fs_uring_impl::env_unsigned("TOKIO_FS_URING_WORKERS", fs_uring_impl::kIowqWorkers)) {
      (void)ring.set_max_workers(w, 0);
    }
    if (i == 0) {
      for (unsigned op = 0; op < uring::kOpLast; ++op) {
        ops_[op] = ring.supports(static_cast<uint8_t>(op));
      }
    }
  }
  auto reg = driver_->add(efd_, io::Interest::READABLE);
  if (!reg) return false;
  io_ = *reg;
  // Arm the waiter: from now on the reactor calls on_event when a completion arrives.
  task::Context cx(&event_waker_.wakeable);
  uint32_t snap;
  if (io_->poll_ready(cx, waiter_, snap)) handle_event();
  return true;
}

UringEngine::~UringEngine() {
  // shutdown() ran (fs_engine_close, or create's failure path) before the last reference.
  if (efd_ >= 0) ::close(efd_);
}

UringCaps UringEngine::caps_for(FsOp* op) const noexcept {
  UringCaps c;
  c.direct_slots = op->slot >= 0;
  c.ops = ops_;
  return c;
}

UringRing& UringEngine::ring_for_thread() noexcept {
  struct Cache {
    uint64_t gen;
    uint32_t idx;
  };
  static thread_local Cache tl{0, 0};
  if (TOKIO_UNLIKELY(tl.gen != gen_)) {
    WorkerContext* w = tls.worker;
    bool worker = w && w->handle == h_;
    uint32_t k = worker ? next_worker_.fetch_add(1, std::memory_order_relaxed)
                        : next_other_.fetch_add(1, std::memory_order_relaxed);
    tl.gen = gen_;
    tl.idx = k % nrings_;
  }
  return rings_[tl.idx];
}

// --- submission --------------------------------------------------------------------------
void UringEngine::submit(FsOp* op) noexcept {
  UringRing& r = ring_for_thread();
  if (op->mandatory) mandatory_live_.fetch_add(1, std::memory_order_relaxed);
  op->ring.store(&r, std::memory_order_release);
  if (queue_step(r, op, true)) kick(r);
}

bool UringEngine::queue_step(UringRing& r, FsOp* op, bool first) noexcept {
  r.sq_mu.lock();
  if (TOKIO_UNLIKELY((r.closed && (first || r.final_)) || (!first && op->cancel_requested()))) {
    r.sq_mu.unlock();
    op->fail(ECANCELED);
    finish_op(r, op);
    return false;
  }
  if (!op->stepped && op->slot < 0 && op->wants_slot() && !r.free_slots.empty()) {
    op->slot = r.free_slots.back();
    r.free_slots.pop_back();
  }
  unsigned n = op->uring_plan(caps_for(op));
  if (n == 0) {
    // No opcode for it on this kernel: the blocking pool runs the whole operation.
    int slot = std::exchange(op->slot, -1);
    if (slot >= 0) r.free_slots.push_back(slot);
    r.sq_mu.unlock();
    hand_to_blocking(op);
    return false;
  }
  if (r.backlog_head || r.inflight.load(std::memory_order_relaxed) + n > r.cap) {
    op->next = nullptr;
    if (r.backlog_tail) r.backlog_tail->next = op;
    else r.backlog_head = op;
    r.backlog_tail = op;
    r.sq_mu.unlock();
    return false;
  }
  write_step(r, op, n);
  r.sq_mu.unlock();
  return true;
}

void UringEngine::reserve_sq(UringRing& r, unsigned n) noexcept {
  // The budget keeps op entries below the SQ size; only control entries piling up behind
  // a deferred flush can fill it. Push the queue out (rare; under the lock).
  while (r.ring->sq_space() < n) {
    int rc = r.ring->enter(false);
    if (rc < 0 && rc != -EAGAIN && rc != -EBUSY) break;
    if (rc <= 0) ::sched_yield();
  }
}

void UringEngine::write_step(UringRing& r, FsOp* op, unsigned n) noexcept {
  reserve_sq(r, n);
  uring::Sqe* sqes[kFsMaxSqes];
  for (unsigned i = 0; i < n; ++i) sqes[i] = r.ring->sq_next();
  op->nsqe = static_cast<uint8_t>(n);
  op->stepped = true;
  op->pending_cqes.store(static_cast<uint8_t>(n), std::memory_order_relaxed);
  op->uring_prep(sqes, n);
  for (unsigned i = 0; i < n; ++i) sqes[i]->user_data = fs_uring_impl::op_tag(op, i);
  r.inflight.fetch_add(n, std::memory_order_relaxed);
  fs_tsan_release(op);  // pairs with the acquire in dispatch (through the kernel)
  r.ring->sq_publish();
}

void UringEngine::queue_slot_close(UringRing& r, int slot) noexcept {
  r.sq_mu.lock();
  write_slot_close(r, slot);
  r.ring->sq_publish();
  r.sq_mu.unlock();
}

void UringEngine::write_slot_close(UringRing& r, int slot) noexcept {
  reserve_sq(r, 1);
  uring::Sqe* e = r.ring->sq_next();
  e->opcode = uring::kOpClose;
  e->file_index = static_cast<uint32_t>(slot) + 1;
  e->user_data = (static_cast<uint64_t>(slot) << 4) | fs_uring_impl::kTagSlotClose;
  r.inflight.fetch_add(1, std::memory_order_relaxed);
}

void UringEngine::flush_pending_closes() noexcept {
  auto& v = fs_uring_impl::tl_closes;
  std::size_t i = 0;
  while (i < v.size()) {
    UringRing& r = *v[i].ring;
    r.sq_mu.lock();
    for (; i < v.size() && v[i].ring == &r; ++i) write_slot_close(r, v[i].slot);
    r.ring->sq_publish();
    r.sq_mu.unlock();
  }
  v.clear();
}

void UringEngine::kick(UringRing& r) noexcept {
  if (fs_uring_impl::tl_reaping) return;  // the reap loop in progress pushes it out
  ThreadContext& t = tls;
  if (deferred_ && t.defer && t.worker && t.worker->handle == h_) {
    // End of this worker's current run of tasks (see defer_wake in core/detail/poll.hpp).
    if (!r.flush_scheduled.exchange(true, std::memory_order_acq_rel)) {
      defer_waker(&r.flush_waker);
    }
    return;
  }
  flush(r);
}

void UringEngine::nudge() noexcept {
  if (fs_uring_impl::tl_reaping) return;
  UringRing& r = ring_for_thread();
  // The deferred flush now (it stays scheduled: that later one finds nothing to enter and
  // only reaps), else just the completions the kernel has posted.
  if (r.flush_scheduled.load(std::memory_order_acquire)) {
    flush(r);
  } else {
    reap(r);
  }
}

void UringEngine::on_flush(Wakeable* w) noexcept {
  auto* r = reinterpret_cast<UringRing*>(w);  // flush_waker is the first member
  r->flush_scheduled.store(false, std::memory_order_release);
  r->owner->flush(*r);
}

void UringEngine::flush(UringRing& r) noexcept {
  r.sq_mu.lock();
  unsigned pending = r.ring->sq_unsubmitted();
  r.sq_mu.unlock();
  if (pending) (void)r.ring->enter(false);
  reap(r);
}

// --- completion --------------------------------------------------------------------------
void UringEngine::reap(UringRing& r) noexcept {
  bool outer = !fs_uring_impl::tl_reaping;
  fs_uring_impl::tl_reaping = true;
  uring::Cqe buf[fs_uring_impl::kTakeBatch];
  for (;;) {
    r.cq_mu.lock();
    unsigned n = r.ring->cq_take(buf, fs_uring_impl::kTakeBatch);
    r.cq_mu.unlock();
    if (n) {
      r.inflight.fetch_sub(n, std::memory_order_relaxed);
      int freed[fs_uring_impl::kTakeBatch];
      unsigned nfreed = 0;
      for (unsigned i = 0; i < n; ++i) {
        uint64_t ud = buf[i].user_data;
        if ((ud & fs_uring_impl::kTagMask) == fs_uring_impl::kTagSlotClose) {
          freed[nfreed++] = static_cast<int>(ud >> 4);
        } else {
          dispatch(r, ud, buf[i].res);
        }
      }
      if (nfreed) {
        r.sq_mu.lock();
        for (unsigned i = 0; i < nfreed; ++i) r.free_slots.push_back(freed[i]);
        r.sq_mu.unlock();
      }
      if (!fs_uring_impl::tl_closes.empty()) flush_pending_closes();
      continue;
    }
    if (!outer) break;  // a nested call (from dispatch): the outer loop carries on
    r.sq_mu.lock();
    bool moved = r.backlog_head && drain_backlog(r);
    unsigned pending = r.ring->sq_unsubmitted();
    r.sq_mu.unlock();
    // A flush already scheduled (kick: a worker's deferred flush) will push these entries
    // out, so leave the enter to it. Entering here would usually be another worker's ring
    // (the reactor reaps every ring): the two threads would queue on the ring's kernel lock,
    // and the task work of the entries submitted here would run on this thread and take that
    // lock again (perf: 9% of fs read_files in mutex_spin_on_owner). No entry is stranded:
    // the flag is cleared before the flush reads sq_unsubmitted under sq_mu, so reading it
    // set after our sq_mu section means that read comes after our entries.
    if (pending && !r.flush_scheduled.load(std::memory_order_acquire)) {
      int rc = r.ring->enter(false);
      if (rc > 0 || moved) continue;
    }
    if (r.ring->cq_overflowed()) {
      (void)r.ring->enter(false);
      continue;
    }
    break;
  }
  if (outer) fs_uring_impl::tl_reaping = false;
}

void UringEngine::dispatch(UringRing& r, uint64_t ud, int32_t res) noexcept {
  switch (ud & fs_uring_impl::kTagMask) {
    case fs_uring_impl::kTagOp: {
      auto* op = reinterpret_cast<FsOp*>(ud & ~uint64_t{15});
      unsigned idx = static_cast<unsigned>((ud >> 2) & 3);
      fs_tsan_acquire(op);
      op->res[idx] = res;
      // acq_rel: the last completion of the step sees the other entries' results.
      if (op->pending_cqes.fetch_sub(1, std::memory_order_acq_rel) == 1) step_done(r, op);
      break;
    }
    case fs_uring_impl::kTagCancel: {
      // The cancellation entry was written on another thread; the kernel orders it before
      // this completion, which TSan cannot see (fs/detail/tsan.hpp). Its result does not
      // matter: found, the entry completes with ECANCELED; not found (ENOENT), the entry
      // had completed, or it waits behind an earlier entry of its link and will fail with
      // ECANCELED when that one does (a plain link) or never waits once issued (the one
      // hard-linked entry, ReadFileOp's end-of-file probe, reads with RWF_NOWAIT).
      auto* op = reinterpret_cast<FsOp*>(ud & ~uint64_t{15});
      fs_tsan_acquire(op);
      op->ref_dec();
      break;
    }
    case fs_uring_impl::kTagSlotClose:
      r.sq_mu.lock();
      r.free_slots.push_back(static_cast<int>(ud >> 4));
      r.sq_mu.unlock();
      break;
    default: break;
  }
}

void UringEngine::step_done(UringRing& r, FsOp* op) noexcept {
  // A request the kernel cancelled on its own (the thread that submitted it exited, e.g.
  // an idle blocking-pool thread) or interrupted: the step did nothing, run it again.
  int32_t head = op->res[0];
  if ((head == -ECANCELED || head == -EINTR) && !op->cancel_requested() &&
      !shutting_down_.load(std::memory_order_acquire)) {
    if (queue_step(r, op, false)) kick(r);
    return;
  }
  switch (op->uring_step_done()) {
    case StepOutcome::Continue:
      if (queue_step(r, op, false)) kick(r);
      return;
    case StepOutcome::Blocking:
      release_slot(r, op);
      hand_to_blocking(op);
      return;
    case StepOutcome::Finished: break;
  }
  finish_op(r, op);
}

void UringEngine::finish_op(UringRing& r, FsOp* op) noexcept {
  release_slot(r, op);
  if (op->mandatory) mandatory_live_.fetch_sub(1, std::memory_order_relaxed);
  fs_op_finish(op);  // may free op
}

void UringEngine::hand_to_blocking(FsOp* op) noexcept {
  if (op->mandatory) mandatory_live_.fetch_sub(1, std::memory_order_relaxed);
  op->ring.store(nullptr, std::memory_order_release);
  submit_blocking(op);
}

void UringEngine::release_slot(UringRing& r, FsOp* op) noexcept {
  if (op->slot >= 0) {
    int slot = std::exchange(op->slot, -1);
    if (std::exchange(op->slot_open, false)) {
      if (fs_uring_impl::tl_reaping) {
        try {
          fs_uring_impl::tl_closes.push_back({&r, slot});  // queued after this batch
        } catch (...) {
          queue_slot_close(r, slot);
        }
      } else {
        queue_slot_close(r, slot);
        kick(r);
      }
    } else {
      r.sq_mu.lock();
      r.free_slots.push_back(slot);
      r.sq_mu.unlock();
    }
  }
}

bool UringEngine::drain_backlog(UringRing& r) noexcept {
  bool moved = false;
  while (FsOp* op = r.backlog_head) {
    // A slot only before the first step: an op already running on a plain fd keeps it.
    if (!op->stepped && op->slot < 0 && op->wants_slot() && !r.free_slots.empty()) {
      op->slot = r.free_slots.back();
      r.free_slots.pop_back();
    }
    unsigned n = op->uring_plan(caps_for(op));
    if (r.inflight.load(std::memory_order_relaxed) + n > r.cap) break;
    r.backlog_head = op->next;
    if (!r.backlog_head) r.backlog_tail = nullptr;
    op->next = nullptr;
    write_step(r, op, n);
    moved = true;
  }
  return moved;
}

// --- cancellation --------------------------------------------------------------------------
void UringEngine::cancel(FsOp* op) noexcept {
  UringRing* rp = op->ring.load(std::memory_order_acquire);
  if (!rp) return;  // running on the blocking pool: the job checks CANCEL
  UringRing& r = *rp;
  r.sq_mu.lock();
  if (r.closed) {
    r.sq_mu.unlock();
    return;
  }
  // Still in the backlog: the kernel never saw it.
  FsOp* prev = nullptr;
  for (FsOp* p = r.backlog_head; p; prev = p, p = p->next) {
    if (p != op) continue;
    if (prev) prev->next = p->next;
    else r.backlog_head = p->next;
    if (r.backlog_tail == p) r.backlog_tail = prev;
    p->next = nullptr;
    r.sq_mu.unlock();
    op->fail(ECANCELED);
    finish_op(r, op);
    return;
  }
  if (op->is_done()) {
    r.sq_mu.unlock();
    return;
  }
  // In the kernel (or queued for it): one cancellation per entry of the current step. Each
  // holds a reference, so this op's address cannot be reused while one is pending.
  unsigned n = op->nsqe;
  reserve_sq(r, n);
  for (unsigned i = 0; i < n; ++i) {
    write_cancel(r, op, i);
    op->ref_inc();
  }
  r.ring->sq_publish();
  r.sq_mu.unlock();
  kick(r);
}

// Under the SQ lock, with room reserved: a cancellation of entry `idx` of op's step. Its
// completion (kTagCancel) carries the op, whose reference it holds.
void UringEngine::write_cancel(UringRing& r, FsOp* op, unsigned idx) noexcept {
  uring::Sqe* e = r.ring->sq_next();
  e->opcode = uring::kOpAsyncCancel;
  e->addr = fs_uring_impl::op_tag(op, idx);
  e->user_data = reinterpret_cast<uint64_t>(op) | fs_uring_impl::kTagCancel;
  r.inflight.fetch_add(1, std::memory_order_relaxed);
  fs_tsan_release(op);  // pairs with the acquire at kTagCancel in dispatch (through the kernel)
}

// --- the reactor side --------------------------------------------------------------------
void UringEngine::on_event(Wakeable* w) noexcept {
  reinterpret_cast<EventWaker*>(w)->self->handle_event();
}

void UringEngine::handle_event() noexcept {
  for (;;) {
    uint32_t snap = io_->load();
    // The eventfd is never read: it is edge-triggered in epoll and every signal is a new
    // edge. Clearing with the observed tick keeps an edge that arrives meanwhile.
    io_->clear_readiness(snap, io::Interest::READABLE.mask());
    for (uint32_t i = 0; i < nrings_; ++i) reap(rings_[i]);
    if (snap & ScheduledIo::kShutdown) return;
    task::Context cx(&event_waker_.wakeable);
    uint32_t now;
    if (!io_->poll_ready(cx, waiter_, now)) return;  // armed again
    if (now & ScheduledIo::kShutdown) return;
  }
}

void UringEngine::unregister_reactor() noexcept {
  if (!io_) return;
  io_->remove_waiter(waiter_);
  (void)driver_->remove(efd_, io_);
  io_ = nullptr;
}

// --- shutdown ----------------------------------------------------------------------------
void UringEngine::shutdown() noexcept {
  shutting_down_.store(true, std::memory_order_release);
  // 1. No new operations. The backlog (accepted, not in the kernel yet: with many writes
  // in flight, File writes that must reach the file) is submitted as room frees up below.
  for (uint32_t i = 0; i < nrings_; ++i) {
    UringRing& r = rings_[i];
    if (!r.ring) continue;
    r.sq_mu.lock();
    r.closed = true;
    r.sq_mu.unlock();
  }
  // Fails what is still in the backlogs (after the grace periods below).
  auto fail_backlogs = [&] {
    for (uint32_t i = 0; i < nrings_; ++i) {
      UringRing& r = rings_[i];
      if (!r.ring) continue;
      r.sq_mu.lock();
      r.final_ = true;
      FsOp* list = std::exchange(r.backlog_head, nullptr);
      r.backlog_tail = nullptr;
      r.sq_mu.unlock();
      while (list) {
        FsOp* op = list;
        list = op->next;
        op->next = nullptr;
        op->fail(ECANCELED);
        finish_op(r, op);
      }
    }
  };
  // 2. Let the kernel finish: abandoned operations were cancelled by their waiters, File
  // writes complete, the backlog drains. Once no File write is left, or after a grace
  // period, fail the backlog and cancel everything; after another, give up and leak what
  // is left (never free memory the kernel may still write).
  auto idle = [&] {
    for (uint32_t i = 0; i < nrings_; ++i) {
      UringRing& r = rings_[i];
      if (!r.ring) continue;
      if (r.inflight.load(std::memory_order_acquire) != 0) return false;
      r.sq_mu.lock();
      bool queued = r.backlog_head != nullptr;
      r.sq_mu.unlock();
      if (queued) return false;
    }
    return true;
  };

  // Up to `limit`, until nothing is in flight.
  // - for_mandatory: only while a File write is left. Every other op was abandoned (the
  //   tasks are gone), and one whose cancellation cannot reach it (a read of a FIFO nobody
  //   writes) would hold shutdown for the whole grace period; the rest are cancelled at once.
  // - otherwise everything was cancelled (an entry still waiting behind an earlier one of
  //   its link fails with it, or never waits: see kTagCancel in dispatch).
  auto drive = [&](std::chrono::milliseconds limit, bool for_mandatory) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      for (uint32_t i = 0; i < nrings_; ++i) {
        if (rings_[i].ring) flush(rings_[i]);
      }
      if (idle()) return true;
      if (for_mandatory && mandatory_live_.load(std::memory_order_relaxed) == 0) return false;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      struct pollfd p = {efd_, POLLIN, 0};
      (void)::poll(&p, 1, 5);
      uint64_t v;
      while (::read(efd_, &v, sizeof v) > 0) {
      }
    }
  };
  if (efd_ >= 0 && !drive(std::chrono::milliseconds(2000), true)) {
    fail_backlogs();
    // Cancels everything each ring holds (IORING_ASYNC_CANCEL_ALL | ANY; user_data 3 is a
    // tag dispatch ignores).
    for (uint32_t i = 0; i < nrings_; ++i) {
      UringRing& r = rings_[i];
      if (!r.ring) continue;
      r.sq_mu.lock();
      reserve_sq(r, 1);
      uring::Sqe* e = r.ring->sq_next();
      e->opcode = uring::kOpAsyncCancel;
      e->op_flags = uring::kCancelAll | uring::kCancelAny;
      e->user_data = 3;
      r.inflight.fetch_add(1, std::memory_order_relaxed);
      r.ring->sq_publish();
      r.sq_mu.unlock();
    }
    (void)drive(std::chrono::milliseconds(2000), false);
  }
  fail_backlogs();  // no reactor (efd_ < 0), or ops a last step queued meanwhile
  unregister_reactor();
  // Operations that fell back to the blocking pool.
  close_blocking();
  // 3. Close the rings. Ops still in flight here are leaked on purpose.
  for (uint32_t i = 0; i < nrings_; ++i) {
    UringRing& r = rings_[i];
    r.cq_mu.lock();
    r.sq_mu.lock();
    r.ring.reset();
    r.sq_mu.unlock();
    r.cq_mu.unlock();
  }
}

}  // namespace tokio::detail
