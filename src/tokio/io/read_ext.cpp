// Out-of-line pieces of read_ext.hpp.
#include "tokio/io/read_ext.hpp"

#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>

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
    void* p = std::realloc(p_, want);
    if (!p) throw std::bad_alloc();
    p_ = static_cast<std::byte*>(p);
    cap_ = want;
  }
  return std::span<std::byte>(p_ + len_, cap_ - len_);
}

void StagingBuffer::release() noexcept {
  std::free(p_);
  p_ = nullptr;
  len_ = 0;
  cap_ = 0;
}

}  // namespace tokio::detail
