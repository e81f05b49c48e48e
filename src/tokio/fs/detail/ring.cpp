// Ring: see ring.hpp.
#include "tokio/fs/detail/ring.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>

namespace tokio::detail {

namespace fs_ring_impl {

long sys_setup(unsigned entries, uring::Params* p) noexcept {
  return ::syscall(uring::kSysSetup, entries, p);
}
long sys_register(int fd, unsigned op, const void* arg, unsigned nr) noexcept {
  return ::syscall(uring::kSysRegister, fd, op, arg, nr);
}
long sys_enter_empty(int fd) noexcept {
  return ::syscall(uring::kSysEnter, fd, 0u, 0u, 0u, nullptr, 0);
}

uint32_t load_acquire(const uint32_t* p) noexcept {
  return std::atomic_ref<const uint32_t>(*p).load(std::memory_order_acquire);
}
void store_release(uint32_t* p, uint32_t v) noexcept {
  std::atomic_ref<uint32_t>(*p).store(v, std::memory_order_release);
}

}  // namespace fs_ring_impl

std::unique_ptr<Ring> Ring::create(unsigned entries, unsigned cq_entries, int& err) {
  std::unique_ptr<Ring> r(new Ring());
  // Newest flags first: SUBMIT_ALL (5.18) keeps submitting past an entry that fails its
  // preparation; without it the rest of the batch waits for the next enter.
  const uint32_t tries[] = {uring::kSetupCqSize | uring::kSetupClamp | uring::kSetupSubmitAll,
                            uring::kSetupCqSize | uring::kSetupClamp, 0};
  long fd = -1;
  uring::Params p;
  for (uint32_t flags : tries) {
    std::memset(&p, 0, sizeof p);
    p.flags = flags;
    p.cq_entries = cq_entries;
    fd = fs_ring_impl::sys_setup(entries, &p);
    if (fd >= 0) {
      r->submit_all_ = (flags & uring::kSetupSubmitAll) != 0;
      break;
    }
    if (errno != EINVAL) break;  // ENOSYS, EPERM, ENOMEM...: no io_uring for us
  }
  if (fd < 0) {
    err = errno;
    return nullptr;
  }
  r->fd_ = static_cast<int>(fd);
  // The kernel clamps or rounds what we asked for; NODROP (5.5) keeps completions that do
  // not fit the CQ instead of losing them, and RW_CUR_POS (5.6) lets reads and writes use
  // the file position (offset -1), both of which the engine relies on.
  if (!(p.features & uring::kFeatNodrop) || !(p.features & uring::kFeatRwCurPos)) {
    err = ENOSYS;
    return nullptr;
  }
  if (int e = r->map(p)) {
    err = e;
    return nullptr;
  }
  // A seccomp filter (a container's) may allow io_uring_setup and refuse io_uring_enter
  // (EPERM or ENOSYS): nothing submitted would ever complete, and every fs call would hang.
  // An empty enter (nothing to submit, nothing to wait for) tells, and the engine then
  // falls back to the blocking pool as when setup is refused.
  if (fs_ring_impl::sys_enter_empty(r->fd_) < 0) {
    err = errno;
    return nullptr;
  }
  r->probe();
  return r;
}

int Ring::map(const uring::Params& p) noexcept {
  sq_entries_ = p.sq_entries;
  cq_entries_ = p.cq_entries;
  single_mmap_ = (p.features & uring::kFeatSingleMmap) != 0;
  sq_map_len_ = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
  cq_map_len_ = p.cq_off.cqes + p.cq_entries * sizeof(uring::Cqe);
  if (single_mmap_ && cq_map_len_ > sq_map_len_) sq_map_len_ = cq_map_len_;
  sq_map_ = ::mmap(nullptr, sq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                   uring::kOffSqRing);
  if (sq_map_ == MAP_FAILED) {
    sq_map_ = nullptr;
    return errno;
  }
  if (single_mmap_) {
    cq_map_ = sq_map_;
  } else {
    cq_map_ = ::mmap(nullptr, cq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                     uring::kOffCqRing);
    if (cq_map_ == MAP_FAILED) {
      cq_map_ = nullptr;
      return errno;
    }
  }
  sqes_len_ = p.sq_entries * sizeof(uring::Sqe);
  void* s = ::mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                   uring::kOffSqes);
  if (s == MAP_FAILED) return errno;
  sqes_ = static_cast<uring::Sqe*>(s);

  auto* sq = static_cast<char*>(sq_map_);
  sq_khead_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.head);
  sq_ktail_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.tail);
  sq_kflags_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.flags);
  sq_mask_ = *reinterpret_cast<uint32_t*>(sq + p.sq_off.ring_mask);
  // The indirection array maps ring positions to entries: identity, set once.
  auto* array = reinterpret_cast<uint32_t*>(sq + p.sq_off.array);
  for (uint32_t i = 0; i < p.sq_entries; ++i) array[i] = i;
  sq_tail_ = *sq_ktail_;

  auto* cq = static_cast<char*>(cq_map_);
  cq_khead_ = reinterpret_cast<uint32_t*>(cq + p.cq_off.head);
  cq_ktail_ = reinterpret_cast<uint32_t*>(cq + p.cq_off.tail);
  cq_mask_ = *reinterpret_cast<uint32_t*>(cq + p.cq_off.ring_mask);
  cqes_ = reinterpret_cast<uring::Cqe*>(cq + p.cq_off.cqes);
  return 0;
}

void Ring::probe() noexcept {
  auto* pr = new (std::nothrow) uring::Probe();
  if (!pr) return;
  std::memset(pr, 0, sizeof *pr);
  if (fs_ring_impl::sys_register(fd_, uring::kRegisterProbe, pr, uring::kOpLast) == 0) {
    for (unsigned i = 0; i < pr->ops_len && i < uring::kOpLast; ++i) {
      if (pr->ops[i].flags & uring::kProbeOpSupported) ops_[pr->ops[i].op] = true;
    }
  }
  delete pr;
}

Ring::~Ring() {
  if (sqes_) ::munmap(sqes_, sqes_len_);
  if (cq_map_ && cq_map_ != sq_map_) ::munmap(cq_map_, cq_map_len_);
  if (sq_map_) ::munmap(sq_map_, sq_map_len_);
  if (fd_ >= 0) ::close(fd_);
}

unsigned Ring::sq_space() const noexcept {
  return sq_entries_ - (sq_tail_ - fs_ring_impl::load_acquire(sq_khead_));
}

uring::Sqe* Ring::sq_next() noexcept {
  uring::Sqe* e = &sqes_[sq_tail_ & sq_mask_];
  std::memset(e, 0, sizeof *e);
  ++sq_tail_;
  return e;
}

void Ring::sq_publish() noexcept { fs_ring_impl::store_release(sq_ktail_, sq_tail_); }

unsigned Ring::sq_unsubmitted() const noexcept {
  return sq_tail_ - fs_ring_impl::load_acquire(sq_khead_);
}

int Ring::enter(bool wait) noexcept {
  // The kernel clamps the count to the entries published (tail - head, read once).
  const unsigned to_submit = sq_entries_;
  unsigned flags = wait ? uring::kEnterGetEvents : 0;
  if (cq_overflowed()) flags |= uring::kEnterGetEvents;
  for (;;) {
    long r = ::syscall(uring::kSysEnter, fd_, to_submit, wait ? 1u : 0u, flags, nullptr, 0);
    if (r >= 0) return static_cast<int>(r);
    if (errno == EINTR && !wait) continue;
    return -errno;
  }
}

bool Ring::cq_overflowed() const noexcept {
  return (fs_ring_impl::load_acquire(sq_kflags_) & uring::kSqCqOverflow) != 0;
}

unsigned Ring::cq_take(uring::Cqe* out, unsigned max) noexcept {
  uint32_t head = *cq_khead_;  // only we write it (under the CQ lock)
  uint32_t tail = fs_ring_impl::load_acquire(cq_ktail_);
  unsigned n = 0;
  while (head != tail && n < max) {
    out[n++] = cqes_[head & cq_mask_];
    ++head;
  }
  if (n) fs_ring_impl::store_release(cq_khead_, head);
  return n;
}

int Ring::register_eventfd(int efd) noexcept {
  if (fs_ring_impl::sys_register(fd_, uring::kRegisterEventfd, &efd, 1) < 0) return -errno;
  return 0;
}

int Ring::register_sparse_files(unsigned n) noexcept {
  uring::RsrcRegister reg{};
  reg.nr = n;
  reg.flags = uring::kRsrcRegisterSparse;
  if (fs_ring_impl::sys_register(fd_, uring::kRegisterFiles2, &reg, sizeof reg) == 0) return 0;
  return -errno;
}

int Ring::set_max_workers(unsigned bounded, unsigned unbounded) noexcept {
  unsigned vals[2] = {bounded, unbounded};
  if (fs_ring_impl::sys_register(fd_, uring::kRegisterIowqMaxWorkers, vals, 2) == 0) return 0;
  return -errno;
}

}  // namespace tokio::detail
