#pragma once
// BytePipe (internal): one direction of io::duplex and io::simplex. A bounded byte FIFO
// whose reading side and writing side run at the same time on two threads without a lock:
// the bytes are copied in and out while the other side copies too. Tokio's pipe copies
// under a mutex; with a reader and a writer on two cores that lock is where the time went
// (bench/NOTES.md, duplex_copy).
//
// Storage: a singly linked list of segments of seg_cap bytes, written at the tail by the
// writer and read at the head by the reader. A segment is never written again once the
// writer has moved past it, and the reader frees (or recycles) a segment only after moving
// past it, so the two sides never touch the same byte at the same time: the reader reads
// only bytes that `len_` says were published, the writer writes only after them.
//   - The pipe starts with an empty sentinel segment (capacity 0) inside the object, so the
//     first write links a real segment after it like any other; nothing is allocated until
//     bytes are written (as Tokio's pipe, whose buffer grows on demand).
//   - At most ceil(max / seg_cap) + 1 segments hold bytes. A segment the reader moved past
//     goes back to the writer (`spare_`, then the writer's `free_`), never to the
//     allocator until the pipe dies: a steady stream allocates nothing, and a pipe keeps
//     about that many segments (one or two more when the writer allocates while the
//     reader is handing one back), as the ring it replaced kept its largest size.
//
// Atomic words and their orderings:
//   len_      bytes published and not yet consumed (0..max). The writer adds after copying
//             in, the reader subtracts after copying out. seq_cst: each side's update is
//             followed by a load of the other side's waker state (AtomicWaker::wake), and
//             each side's waker registration by a load of len_, the Dekker pattern: either
//             the updater sees the registration or the registrant sees the update. The
//             update also releases the copied bytes (writer) or the freed room (reader) to
//             the other side's acquiring load of len_.
//   closed_   set once (close()), seq_cst before both wakers are woken; a side that
//             registered and then reads closed_ (seq_cst) cannot miss it.
//   next      a segment's link, stored once by the writer (release) before the len_ update
//             that publishes bytes in the new segment; the reader loads it (acquire) only
//             when len_ says such bytes exist, so it is never null there.
//   spare_    a stack of segments the reader moved past, linked through `next`: the reader
//             pushes with a compare-exchange (release), the writer takes the whole stack
//             with one exchange (acquire) into its private `free_` list when that is
//             empty. The writer never takes single nodes, so there is no ABA.
//   reading_, writing_
//             "a read / write is being polled": taken with exchange (acquire) and released
//             with a store (release), so two polls of one side never overlap (two tasks
//             reading one end at once is misuse; it costs them a retry, not the memory)
//             and each poll sees the last poll's head / tail position wherever it ran.
//
// Layout: the words both sides touch share one cache line (each side's len_ update is
// followed by a read of the other's waker on the same line); the reader's and the
// writer's private positions have lines of their own.

#include <cstddef>
#include <cstdint>
#include <span>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"
#include "tokio/core/detail/atomic_waker.hpp"

namespace tokio::detail {

struct PipeSegment {
  // A real segment's bytes start kDataOffset bytes in, on a 64-byte boundary (segments are
  // allocated 64-byte aligned): copies into and out of data that started 16 bytes into a
  // cache line ran 11% slower (bench/NOTES.md). The sentinel (cap 0) has no bytes.
  static constexpr std::size_t kDataOffset = 64;
  static constexpr std::size_t kAlign = 64;

  Atomic<PipeSegment*> next{nullptr};
  std::size_t cap = 0;
  std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this) + kDataOffset; }
};
static_assert(sizeof(PipeSegment) <= PipeSegment::kDataOffset);

class BytePipe {
 public:
  // A pipe buffering at most `max` (> 0) bytes, in segments of `seg_cap` bytes (0: chosen
  // from max: a quarter of it, rounded up to a power of two, between 256 B and 64 KiB).
  explicit BytePipe(std::size_t max, std::size_t seg_cap = 0) noexcept;
  ~BytePipe();
  BytePipe(const BytePipe&) = delete;
  BytePipe& operator=(const BytePipe&) = delete;

  // A side (write = false: the reader, true: the writer) is claimed around each poll:
  // enter() is false when another poll of that side runs now; exit() releases it. Between
  // them, try_read() moves up to dst.size() buffered bytes out (0 = none buffered), and
  // try_write() appends as much of src as there is room for (0 = full; it throws
  // std::bad_alloc only when it could append nothing for want of a segment).
  bool enter(bool write) noexcept {
    return !(write ? writing_ : reading_).exchange(true, std::memory_order_acquire);
  }
  void exit(bool write) noexcept {
    (write ? writing_ : reading_).store(false, std::memory_order_release);
  }
  std::size_t try_read(std::span<std::byte> dst) noexcept;
  std::size_t try_write(std::span<const std::byte> src);

  // Set by close(); never cleared.
  bool closed() const noexcept { return closed_.load(std::memory_order_seq_cst); }
  // Marks the pipe closed, then wakes the waiting read and write (if any).
  void close() noexcept;

  // Under the side's claim: numbers the side's registrations (1, 2, ...), so a destroyed
  // operation unregisters its waker only if no later registration of the side replaced
  // its own (the same task's waker, registered again by another of its operations).
  // Each counter is only touched under its side's claim, so relaxed suffices; they are
  // atomics because for `write ? write_regs_ : read_regs_` clang may load both fields and
  // select, and ThreadSanitizer then sees one side read the other's counter while that
  // side bumps it (a report in users' builds, not a real race).
  uint64_t next_registration(bool write) noexcept {
    Atomic<uint64_t>& r = write ? write_regs_ : read_regs_;
    uint64_t n = r.load(std::memory_order_relaxed) + 1;
    r.store(n, std::memory_order_relaxed);
    return n;
  }
  uint64_t registration(bool write) const noexcept {
    return (write ? write_regs_ : read_regs_).load(std::memory_order_relaxed);
  }

  // The waker of the side's waiting operation (one registrant each).
  AtomicWaker& waker(bool write) noexcept { return write ? writer_waker_ : reader_waker_; }

  // Bytes buffered now (exact only when neither side is moving bytes).
  std::size_t size() const noexcept { return len_.load(std::memory_order_acquire); }

 private:
  PipeSegment* new_segment();  // null when out of memory
  void recycle(PipeSegment* s) noexcept;
  static void free_segments(PipeSegment* s) noexcept;

  // Shared by both sides.
  alignas(kCacheLine) Atomic<std::size_t> len_{0};
  Atomic<bool> closed_{false};
  AtomicWaker reader_waker_;
  AtomicWaker writer_waker_;
  Atomic<PipeSegment*> spare_{nullptr};
  const std::size_t max_;
  const std::size_t seg_cap_;
  PipeSegment sentinel_;

  // The reader's own.
  alignas(kCacheLine) Atomic<bool> reading_{false};
  PipeSegment* head_ = &sentinel_;
  std::size_t head_pos_ = 0;
  Atomic<uint64_t> read_regs_{0};

  // The writer's own.
  alignas(kCacheLine) Atomic<bool> writing_{false};
  PipeSegment* tail_ = &sentinel_;
  std::size_t tail_pos_ = 0;
  PipeSegment* free_ = nullptr;  // segments taken from spare_, linked through next
  Atomic<uint64_t> write_regs_{0};
};

}  // namespace tokio::detail
