// Out-of-line pieces of read_ext.hpp.
#include "tokio/io/read_ext.hpp"

#include <cstdint>
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

void prefault_for_write(void* p, std::size_t n) noexcept {
  constexpr std::uintptr_t kPage = 4096;
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t first = (at + kPage - 1) & ~(kPage - 1);
  std::uintptr_t end = (at + n) & ~(kPage - 1);
  if (end <= first) return;
  if (n >= kPrefaultHugeMin) {
    const std::uintptr_t hfirst = (at + kHuge - 1) & ~(kHuge - 1);
    const std::uintptr_t hend = (at + n) & ~(kHuge - 1);
    if (hend > hfirst) {
      (void)::madvise(reinterpret_cast<void*>(hfirst), hend - hfirst, MADV_HUGEPAGE);
    }
  }
#ifdef MADV_POPULATE_WRITE
  (void)::madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
#else
  (void)::madvise(reinterpret_cast<void*>(first), end - first, 23);  // MADV_POPULATE_WRITE
#endif
}

namespace read_ext_impl {

// Staging blocks of 2 MiB or more are whole, aligned transparent huge pages; smaller ones
// are whole 4 KiB pages (see StagingBuffer).
constexpr std::size_t kPage = 4096;
constexpr std::size_t kHugePage = std::size_t{2} << 20;

// An anonymous mapping of `len` bytes; with `huge` (len a multiple of kHugePage) at a
// kHugePage boundary and advised for huge pages. Null when the kernel refuses it.
std::byte* map_staging(std::size_t len, bool huge) noexcept {
  const std::size_t slack = huge ? kHugePage : 0;
  void* raw =
      ::mmap(nullptr, len + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  if (!huge) return static_cast<std::byte*>(raw);
  const auto at = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (at + kHugePage - 1) & ~(kHugePage - 1);
  const std::size_t head = aligned - at;
  if (head) ::munmap(raw, head);
  ::munmap(reinterpret_cast<void*>(aligned + len), kHugePage - head);
  // Advice only: with transparent huge pages off, the block is faulted a page at a time.
  (void)::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
  return reinterpret_cast<std::byte*>(aligned);
}

}  // namespace read_ext_impl

std::span<std::byte> StagingBuffer::spare(std::size_t first) {
  using read_ext_impl::kHugePage;
  using read_ext_impl::kPage;
  if (cap_ - len_ < 32) {
    std::size_t want = cap_ * 2 > len_ + 32 ? cap_ * 2 : len_ + 32;
    if (want < first) want = first;
    if (want > SIZE_MAX - 2 * kHugePage) throw std::bad_alloc();
    const bool huge = want >= kHugePage;
    const std::size_t unit = huge ? kHugePage : kPage;
    want = (want + unit - 1) & ~(unit - 1);
    std::byte* p = read_ext_impl::map_staging(want, huge);
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
