#pragma once
// Whole pages from the kernel, and faulting them in ahead. A first write to a fresh 4 KiB
// anonymous page cost about 12 us on the host the benchmarks run on (counted as user time
// of the instruction that touched it, so invisible to instruction counts); a transparent
// huge page is one fault for 2 MiB, and MADV_POPULATE_WRITE faults a range in one call
// (bench/NOTES.md, "Fresh pages"). Used by the frame allocator's slabs, read_to_end's
// staging block and the final copies of large reads.

#include <cstddef>

namespace tokio::detail {

inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

// An anonymous read-write mapping of `len` bytes (a multiple of kPageSize) starting at a
// multiple of `align` (a power of two, at least kPageSize), advised for transparent huge
// pages when `huge` (advice only: with THP off it is faulted a page at a time). Null when
// the kernel refuses it. Release with munmap.
void* map_pages(std::size_t len, std::size_t align, bool huge) noexcept;

// Faults in, writable, the whole pages of [p, p + n) in one system call
// (MADV_POPULATE_WRITE), ahead of a copy that would fault them one at a time; a kernel
// without it (before 5.14) leaves them to the copy. A range of kPrefaultHugeMin or more
// is first advised for huge pages (its whole 2 MiB blocks): an allocation that large has
// pages of its own (glibc maps anything over 32 MiB by itself), all of them about to be
// written, so the advice costs no memory. The memory's contents are not changed. Below
// kPrefaultMin a copy's few faults cost less than the call: callers check.
void prefault_for_write(void* p, std::size_t n) noexcept;
inline constexpr std::size_t kPrefaultMin = 64 * 1024;
inline constexpr std::size_t kPrefaultHugeMin = std::size_t{32} << 20;

}  // namespace tokio::detail
