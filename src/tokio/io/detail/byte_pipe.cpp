// BytePipe: see byte_pipe.hpp.
#include "tokio/io/detail/byte_pipe.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace tokio::detail {

namespace byte_pipe_impl {

std::size_t default_segment(std::size_t max) noexcept {
  return std::bit_ceil(std::clamp<std::size_t>(max / 4, 256, 64 * 1024));
}

}  // namespace byte_pipe_impl

BytePipe::BytePipe(std::size_t max, std::size_t seg_cap) noexcept
    : max_(max), seg_cap_(seg_cap != 0 ? seg_cap : byte_pipe_impl::default_segment(max)) {}

BytePipe::~BytePipe() {
  // Nobody reads or writes any more: the list from the reader's head (past the sentinel,
  // which is part of this object) is every segment holding bytes.
  free_segments(head_ == &sentinel_ ? sentinel_.next.load(std::memory_order_relaxed) : head_);
  free_segments(spare_.load(std::memory_order_relaxed));
  free_segments(free_);
}

// Frees a list of segments linked through next.
void BytePipe::free_segments(PipeSegment* s) noexcept {
  while (s != nullptr) {
    PipeSegment* next = s->next.load(std::memory_order_relaxed);
    s->~PipeSegment();
    ::operator delete (static_cast<void*>(s), std::align_val_t{PipeSegment::kAlign});
    s = next;
  }
}

PipeSegment* BytePipe::new_segment() {
  // One load first: the exchange (a read-modify-write on the shared line) only when there
  // are segments to take.
  if (free_ == nullptr && spare_.load(std::memory_order_relaxed) != nullptr) {
    free_ = spare_.exchange(nullptr, std::memory_order_acquire);
  }
  PipeSegment* s = free_;
  if (s == nullptr) {
    void* mem = ::operator new (PipeSegment::kDataOffset + seg_cap_,
                                std::align_val_t{PipeSegment::kAlign}, std::nothrow);
    if (mem == nullptr) return nullptr;
    s = ::new (mem) PipeSegment();
    s->cap = seg_cap_;
    return s;
  }
  free_ = s->next.load(std::memory_order_relaxed);
  s->next.store(nullptr, std::memory_order_relaxed);  // nobody else sees it yet
  return s;
}

void BytePipe::recycle(PipeSegment* s) noexcept {
  if (s == &sentinel_) return;
  // release: the reader's last reads of the segment (and the link) happen before the
  // writer that takes the stack (acquire in new_segment) writes into it again.
  PipeSegment* top = spare_.load(std::memory_order_relaxed);
  do {
    s->next.store(top, std::memory_order_relaxed);
  } while (
      !spare_.compare_exchange_weak(top, s, std::memory_order_release, std::memory_order_relaxed));
}

std::size_t BytePipe::try_read(std::span<std::byte> dst) noexcept {
  // seq_cst: the re-check after registering the reader's waker (see the header).
  std::size_t avail = len_.load(std::memory_order_seq_cst);
  std::size_t n = std::min(avail, dst.size());
  if (n == 0) return 0;
  std::size_t done = 0;
  while (done < n) {
    if (head_pos_ == head_->cap) {
      // Bytes beyond this segment are published, so the writer linked the next one.
      PipeSegment* next = head_->next.load(std::memory_order_acquire);
      PipeSegment* old = head_;
      head_ = next;
      head_pos_ = 0;
      recycle(old);
    }
    std::size_t k = std::min(n - done, head_->cap - head_pos_);
    std::memcpy(dst.data() + done, head_->data() + head_pos_, k);
    head_pos_ += k;
    done += k;
  }
  len_.fetch_sub(n, std::memory_order_seq_cst);
  return n;
}

std::size_t BytePipe::try_write(std::span<const std::byte> src) {
  std::size_t used = len_.load(std::memory_order_seq_cst);
  std::size_t n = std::min(max_ - used, src.size());
  if (n == 0) return 0;
  std::size_t done = 0;
  while (done < n) {
    if (tail_pos_ == tail_->cap) {
      PipeSegment* s = new_segment();
      if (s == nullptr) {
        // Out of memory: publish what was copied (the positions already include it, so it
        // must not be reported as unwritten), and fail only when that is nothing.
        if (done == 0) throw std::bad_alloc();
        n = done;
        break;
      }
      tail_->next.store(s, std::memory_order_release);
      tail_ = s;
      tail_pos_ = 0;
    }
    std::size_t k = std::min(n - done, tail_->cap - tail_pos_);
    std::memcpy(tail_->data() + tail_pos_, src.data() + done, k);
    tail_pos_ += k;
    done += k;
  }
  len_.fetch_add(n, std::memory_order_seq_cst);
  return n;
}

void BytePipe::close() noexcept {
  closed_.store(true, std::memory_order_seq_cst);
  waker(false).wake_always();
  waker(true).wake_always();
}

}  // namespace tokio::detail
