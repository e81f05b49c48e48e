// Out-of-line pieces of read_ext.hpp.
#include "tokio/io/read_ext.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <sys/mman.h>

namespace tokio::detail {

void throw_overlong_read() {
  throw std::logic_error(
      "an AsyncRead/AsyncWrite implementation reported more bytes than the buffer it was "
      "given; fix its read/write to return at most buf.size()");
}

void report_lost_read(std::size_t bytes) noexcept {
  std::fprintf(stderr,
               "tokio: io::read_to_end was cancelled and could not append the %zu bytes it "
               "had read to the container (out of memory): they are lost\n",
               bytes);
}

std::span<std::byte> StagingBuffer::spare(std::size_t first) {
  if (cap_ - len_ < 32) {
    std::size_t want = cap_ * 2 > len_ + 32 ? cap_ * 2 : len_ + 32;
    if (want < first) want = first;
    if (want > SIZE_MAX - 2 * kHugePageSize) throw std::bad_alloc();
    // From 2 MiB on, whole aligned huge pages; below, whole 4 KiB pages.
    const bool huge = want >= kHugePageSize;
    const std::size_t unit = huge ? kHugePageSize : kPageSize;
    want = (want + unit - 1) & ~(unit - 1);
    auto* p = static_cast<std::byte*>(map_pages(want, unit, huge));
    if (!p) throw std::bad_alloc();
    // The bytes staged so far move by page table (mremap onto the new block's start), not
    // by copy; a kernel refusing the move gets a copy.
    if (p_ && ::mremap(p_, cap_, cap_, MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED) {
      std::memcpy(p, p_, len_);
      ::munmap(p_, cap_);
    }
    p_ = p;
    cap_ = want;
  }
  return std::span<std::byte>(p_ + len_, cap_ - len_);
}

void StagingBuffer::release() noexcept {
  if (p_) ::munmap(p_, cap_);
  p_ = nullptr;
  len_ = 0;
  cap_ = 0;
}

}  // namespace tokio::detail
