#pragma once
// Ring: one io_uring instance through raw system calls (no liburing): setup, the three
// mmapped regions, and the submission / completion queue accessors.
//
// Memory ordering with the kernel (the kernel's side is in io_uring/io_uring.c):
//   SQ tail    written by us (release) after the entries it publishes; the kernel reads it
//              with acquire.
//   SQ head    written by the kernel as it consumes entries; read by us with acquire
//              before we overwrite an entry slot.
//   CQ tail    written by the kernel (release) after the entries; read by us with acquire.
//   CQ head    written by us (release) once we copied the entries out.
// The Ring itself is not thread-safe: its owner (UringEngine) guards the SQ side and the CQ
// side with one lock each.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "tokio/fs/detail/uring_abi.hpp"

namespace tokio::detail {

class Ring {
 public:
  // Sets up a ring with `entries` submission slots and `cq_entries` completion slots.
  // Returns null with the errno in `err` when the kernel refuses (ENOSYS: no io_uring;
  // EPERM: seccomp or io_uring_disabled; ENOMEM: locked-memory limit...).
  static std::unique_ptr<Ring> create(unsigned entries, unsigned cq_entries, int& err);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  int fd() const noexcept { return fd_; }
  unsigned sq_entries() const noexcept { return sq_entries_; }
  unsigned cq_entries() const noexcept { return cq_entries_; }
  bool supports(uint8_t opcode) const noexcept { return opcode < uring::kOpLast && ops_[opcode]; }
  bool submit_all() const noexcept { return submit_all_; }

  // --- submission side (caller holds the SQ lock)
  // Free submission slots (entries the kernel has consumed are free again).
  unsigned sq_space() const noexcept;
  // The next free entry, zeroed; call sq_space() first. Not visible to the kernel until
  // sq_publish().
  uring::Sqe* sq_next() noexcept;
  void sq_publish() noexcept;
  // Entries published and not yet consumed by the kernel.
  unsigned sq_unsubmitted() const noexcept;

  // io_uring_enter(2): submits every entry published so far; with `wait` blocks until at
  // least one completion is available. Returns the count submitted, or -errno.
  // There is deliberately no "submit n entries" form: a count read before the call can be
  // stale by the time the kernel runs it (another thread may have submitted those entries
  // and published a linked step since), and a count that ends inside a linked step cuts
  // the link at the submission boundary, so the step's tail runs on its own (seen: a
  // fs::read's probe read ran before the open into its direct slot and got EBADF). The
  // kernel only ever sees whole steps published, so "everything published" never splits
  // one.
  int enter(bool wait) noexcept;
  // True when the kernel holds completions that did not fit the CQ (an enter with
  // GETEVENTS moves them in).
  bool cq_overflowed() const noexcept;

  // --- completion side (caller holds the CQ lock)
  // Copies up to `max` completions into `out` and releases their slots. Returns the count.
  unsigned cq_take(uring::Cqe* out, unsigned max) noexcept;

  // --- registration
  // Every completion posted signals `efd` (IORING_REGISTER_EVENTFD). Not the _ASYNC
  // variant: that one stays silent for completions posted by task work in the submitting
  // thread (a buffered read retried after its page came in), which nobody would reap.
  int register_eventfd(int efd) noexcept;
  // A table of `n` direct descriptors, all empty. Returns 0 or -errno.
  int register_sparse_files(unsigned n) noexcept;
  // Caps the kernel's worker threads for this ring's submitters: [bounded, unbounded]
  // (0 keeps the current value). Returns 0 or -errno.
  int set_max_workers(unsigned bounded, unsigned unbounded) noexcept;

 private:
  Ring() = default;
  int map(const uring::Params& p) noexcept;
  void probe() noexcept;

  int fd_ = -1;
  unsigned sq_entries_ = 0;
  unsigned cq_entries_ = 0;
  bool submit_all_ = false;
  bool single_mmap_ = false;

  void* sq_map_ = nullptr;
  std::size_t sq_map_len_ = 0;
  void* cq_map_ = nullptr;
  std::size_t cq_map_len_ = 0;
  uring::Sqe* sqes_ = nullptr;
  std::size_t sqes_len_ = 0;

  uint32_t* sq_khead_ = nullptr;
  uint32_t* sq_ktail_ = nullptr;
  uint32_t* sq_kflags_ = nullptr;
  uint32_t sq_mask_ = 0;
  uint32_t sq_tail_ = 0;  // our next tail (published by sq_publish)

  uint32_t* cq_khead_ = nullptr;
  uint32_t* cq_ktail_ = nullptr;
  uint32_t cq_mask_ = 0;
  uring::Cqe* cqes_ = nullptr;

  bool ops_[uring::kOpLast] = {};
};

}  // namespace tokio::detail
