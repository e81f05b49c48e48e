#pragma once
// MpscList<T> (internal): the lock-free, unbounded, multi-producer single-consumer queue
// under both mpsc channels: a linked list of fixed-size blocks, as in Tokio.
//
// Positions: every push (and the final close marker) claims the next position with one
// fetch_add on `tail_position_`; position p lives in the block whose `start` is
// p & ~(kCap-1), at slot p & (kCap-1). Producers walk from `block_tail_` to that block,
// appending blocks as needed, write the slot and set its ready bit. The consumer reads
// positions in order from `head_`.
//
// Block `ready` word (64 bits):
//   bits 0..kCap-1  slot i holds a value (set by its producer after writing it)
//   bit 32 RELEASED     block_tail_ moved past this block; observed_tail is valid
//   bit 33 TX_CLOSED    the close marker position is in this block
//
// Reclamation: a producer that finds block_tail_ pointing at a block whose slots are all
// written may advance block_tail_ past it; it then records observed_tail = the current
// tail position and sets RELEASED. A producer still walking through that block claimed
// its position before observed_tail (it read tail_position_ before block_tail_ moved: the
// fetch_add(0, release) after the CAS and the producers' fetch_add(acquire) order this),
// so once the consumer has read every position below observed_tail no producer can touch
// the block: the consumer recycles it to the end of the list (up to 3 attempts) or frees
// it. Blocks are therefore only freed by the consumer.
//
// Block size: 32 slots, fewer for large T so a block stays near 16 KiB (Tokio always uses
// 32, i.e. a 1 MiB block for a 32 KiB message).

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/atomic.hpp"
#include "tokio/core/detail/spin_lock.hpp"

namespace tokio::detail {

template <class T>
constexpr std::size_t mpsc_block_cap() noexcept {
  std::size_t fit = 16384 / (sizeof(T) ? sizeof(T) : 1);
  if (fit >= 32) return 32;
  if (fit == 0) return 1;
  return std::bit_floor(fit);
}

template <class T>
struct MpscBlock {
  static constexpr std::size_t kCap = mpsc_block_cap<T>();
  static constexpr uint64_t READY_MASK = kCap == 64 ? ~0ull : ((1ull << kCap) - 1);
  static constexpr uint64_t RELEASED = 1ull << 32;
  static constexpr uint64_t TX_CLOSED = 1ull << 33;

  explicit MpscBlock(std::size_t s) noexcept : start(s) {}

  Atomic<uint64_t> ready{0};
  Atomic<MpscBlock*> next{nullptr};
  std::size_t start;
  std::size_t observed_tail = 0;  // written before RELEASED is set
  alignas(T) unsigned char slots[kCap][sizeof(T)];

  T* slot(std::size_t i) noexcept { return std::launder(reinterpret_cast<T*>(slots[i])); }
  bool is_final() const noexcept {
    return (ready.load(std::memory_order_acquire) & READY_MASK) == READY_MASK;
  }
  void reset(std::size_t s) noexcept {
    start = s;
    observed_tail = 0;
    ready.store(0, std::memory_order_relaxed);
    next.store(nullptr, std::memory_order_relaxed);
  }
};

template <class T>
class MpscList {
 public:
  using Block = MpscBlock<T>;
  static constexpr std::size_t kCap = Block::kCap;

  enum class Pop { Value, Empty, Closed };

  MpscList() {
    Block* b = new Block(0);
    block_tail_.store(b, std::memory_order_relaxed);
    head_ = free_head_ = b;
  }
  MpscList(const MpscList&) = delete;
  MpscList& operator=(const MpscList&) = delete;
  // Only when nobody else can touch the list: destroys every value still stored (also
  // any pushed after the close marker by a permit that outlived its sender) and frees
  // the blocks.
  ~MpscList() {
    std::size_t end = tail_position_.load(std::memory_order_acquire);
    for (std::size_t pos = index_; pos != end; ++pos) {
      std::size_t start = pos & ~(kCap - 1);
      while (head_->start != start) head_ = head_->next.load(std::memory_order_acquire);
      std::size_t off = pos & (kCap - 1);
      if (head_->ready.load(std::memory_order_acquire) & (1ull << off)) head_->slot(off)->~T();
    }
    Block* b = free_head_;
    while (b) {
      Block* n = b->next.load(std::memory_order_relaxed);
      delete b;
      b = n;
    }
  }

  // --- producers ---------------------------------------------------------------------------
  template <class U>
  void push(U&& v) {
    std::size_t pos = tail_position_.fetch_add(1, std::memory_order_acquire);
    Block* b = find_block(pos);
    std::size_t off = pos & (kCap - 1);
    new (b->slots[off]) T(std::forward<U>(v));
    // seq_cst: pairs with the consumer's register-then-recheck (see AtomicWaker).
    b->ready.fetch_or(1ull << off, std::memory_order_seq_cst);
  }
  // Claims the final position as the close marker (the last producer calls it once).
  void close() {
    std::size_t pos = tail_position_.fetch_add(1, std::memory_order_acquire);
    Block* b = find_block(pos);
    b->ready.fetch_or(Block::TX_CLOSED, std::memory_order_seq_cst);
  }
  std::size_t tail_position() const noexcept {
    return tail_position_.load(std::memory_order_acquire);
  }

  // --- consumer ------------------------------------------------------------------------------
  // Hands the next value, when one is ready, to sink(T&&) (which must not throw), then
  // destroys the slot.
  template <class Sink>
  Pop pop(Sink&& sink) noexcept {
    std::size_t start = index_ & ~(kCap - 1);
    while (head_->start != start) {
      Block* n = head_->next.load(std::memory_order_acquire);
      if (!n) return Pop::Empty;
      head_ = n;
    }
    reclaim();
    std::size_t off = index_ & (kCap - 1);
    uint64_t r = head_->ready.load(std::memory_order_seq_cst);
    if (!(r & (1ull << off))) return (r & Block::TX_CLOSED) ? Pop::Closed : Pop::Empty;
    T* src = head_->slot(off);
    sink(std::move(*src));
    src->~T();
    ++index_;
    return Pop::Value;
  }
  // True when a value is ready at the head (the consumer only).
  bool has_ready() noexcept {
    std::size_t start = index_ & ~(kCap - 1);
    Block* b = head_;
    while (b->start != start) {
      b = b->next.load(std::memory_order_acquire);
      if (!b) return false;
    }
    return b->ready.load(std::memory_order_acquire) & (1ull << (index_ & (kCap - 1)));
  }
  std::size_t index() const noexcept { return index_; }

 private:
  Block* find_block(std::size_t pos) {
    std::size_t start = pos & ~(kCap - 1);
    std::size_t off = pos & (kCap - 1);
    Block* b = block_tail_.load(std::memory_order_acquire);
    // Only producers far enough behind the block they need try to move the tail, so the
    // first producers of a fresh block do not all race for it.
    bool try_advance = (start - b->start) / kCap > off;
    while (b->start != start) {
      Block* n = b->next.load(std::memory_order_acquire);
      if (!n) n = grow(b);
      try_advance = try_advance && b->is_final();
      if (try_advance) {
        Block* expected = b;
        if (block_tail_.compare_exchange_strong(expected, n, std::memory_order_release,
                                                std::memory_order_relaxed)) {
          b->observed_tail = tail_position_.fetch_add(0, std::memory_order_release);
          b->ready.fetch_or(Block::RELEASED, std::memory_order_release);
        } else {
          try_advance = false;
        }
      }
      b = n;
    }
    return b;
  }

  // Appends a block after `b`; returns b's successor (ours or a concurrent one). A block
  // that lost the race is appended further down instead of being wasted.
  Block* grow(Block* b) {
    Block* fresh = new Block(b->start + kCap);
    Block* expected = nullptr;
    if (b->next.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      return fresh;
    }
    Block* succ = expected;
    Block* cur = succ;
    for (;;) {
      fresh->start = cur->start + kCap;
      Block* nx = nullptr;
      if (cur->next.compare_exchange_strong(nx, fresh, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        return succ;
      }
      cur = nx;
      cpu_relax();
    }
  }

  void reclaim() noexcept {
    while (free_head_ != head_) {
      Block* b = free_head_;
      uint64_t r = b->ready.load(std::memory_order_acquire);
      if (!(r & Block::RELEASED) || b->observed_tail > index_) return;
      free_head_ = b->next.load(std::memory_order_relaxed);
      recycle(b);
    }
  }
  void recycle(Block* b) noexcept {
    Block* cur = block_tail_.load(std::memory_order_acquire);
    for (int i = 0; i < 3; ++i) {
      b->reset(cur->start + kCap);
      Block* expected = nullptr;
      if (cur->next.compare_exchange_strong(expected, b, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        return;
      }
      cur = expected;
    }
    delete b;
  }

  // Producer side: every producer writes it. The padding keeps the groups kCacheLine
  // bytes apart without over-aligning the object (an over-aligned allocation costs a
  // memalign per channel).
  Atomic<std::size_t> tail_position_{0};
  Atomic<Block*> block_tail_{nullptr};
  char pad_[kCacheLine];
  // Consumer side.
  Block* head_ = nullptr;
  Block* free_head_ = nullptr;
  std::size_t index_ = 0;
};

}  // namespace tokio::detail
