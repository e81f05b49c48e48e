#pragma once
// A growable FIFO ring of pointers (power-of-two capacity), single-threaded.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace tokio::detail {

template <class T>
class PtrRing {
 public:
  explicit PtrRing(std::size_t initial = 64) {
    std::size_t c = 1;
    while (c < initial) c <<= 1;
    buf_ = std::make_unique<T*[]>(c);
    mask_ = c - 1;
    initial_ = c;
  }
  std::size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return head_ == tail_; }
  std::size_t capacity() const noexcept { return mask_ + 1; }
  // Grows (allocates) only when full; an allocation failure terminates, like a failed
  // intrusive link would never happen.
  void push_back(T* v) noexcept {
    if (size() == mask_ + 1) grow();
    buf_[tail_++ & mask_] = v;
  }
  T* pop_front() noexcept {
    if (head_ == tail_) return nullptr;
    T* v = buf_[head_++ & mask_];
    // A drained ring gives back what a burst made it grow to.
    if (head_ == tail_ && mask_ + 1 > kShrinkAbove) shrink();
    return v;
  }

 private:
  static constexpr std::size_t kShrinkAbove = 4096;
  void shrink() noexcept {
    head_ = tail_ = 0;
    T** small = new (std::nothrow) T*[initial_];
    if (!small) return;  // out of memory: keep the large buffer rather than terminate
    buf_.reset(small);
    mask_ = initial_ - 1;
  }
  void grow() noexcept {
    std::size_t cap = (mask_ + 1) * 2;
    // Default-initialised, not zeroed: a large buffer is fresh pages from the system, and
    // zeroing them would touch (make resident) the whole new capacity at once, on top of
    // the old buffer, when only the copied half is needed now. A wake of a million parked
    // tasks from outside the runtime once peaked at 12 MiB of ring here instead of 8.
    auto nb = std::make_unique_for_overwrite<T*[]>(cap);
    std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) nb[i] = buf_[(head_ + i) & mask_];
    buf_ = std::move(nb);
    mask_ = cap - 1;
    head_ = 0;
    tail_ = n;
  }
  std::unique_ptr<T*[]> buf_;
  std::size_t initial_ = 64;
  std::size_t mask_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

}  // namespace tokio::detail
