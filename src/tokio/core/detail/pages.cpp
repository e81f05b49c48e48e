// Page mappings and prefaulting: see pages.hpp.
#include "tokio/core/detail/pages.hpp"

#include <sys/mman.h>

#include <cstdint>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack the name
#endif

namespace tokio::detail {

void* map_pages(std::size_t len, std::size_t align, bool huge) noexcept {
  const std::size_t slack = align > kPageSize ? align : 0;
  void* raw =
      ::mmap(nullptr, len + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto at = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t start = (at + align - 1) & ~(std::uintptr_t{align} - 1);
  // The slack before and after the aligned block goes back at once.
  if (start > at) ::munmap(raw, start - at);
  if (at + slack > start) ::munmap(reinterpret_cast<void*>(start + len), at + slack - start);
  if (huge) (void)::madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(start);
}

void prefault_for_write(void* p, std::size_t n) noexcept {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (at + kPageSize - 1) & ~(std::uintptr_t{kPageSize} - 1);
  const std::uintptr_t end = (at + n) & ~(std::uintptr_t{kPageSize} - 1);
  if (end <= first) return;
  if (n >= kPrefaultHugeMin) {
    const std::uintptr_t hfirst = (at + kHugePageSize - 1) & ~(std::uintptr_t{kHugePageSize} - 1);
    const std::uintptr_t hend = (at + n) & ~(std::uintptr_t{kHugePageSize} - 1);
    if (hend > hfirst) {
      (void)::madvise(reinterpret_cast<void*>(hfirst), hend - hfirst, MADV_HUGEPAGE);
    }
  }
  (void)::madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
}

}  // namespace tokio::detail
