#pragma once
// io::sink(): a writer that accepts and discards everything. Each write uses one unit of
// coop budget.

#include <cstddef>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/ready_op.hpp"

namespace tokio::io {

class Sink {
 public:
  auto write(std::span<const std::byte> buf) {
    return detail::instant_op<true>([n = buf.size()]() -> Result<std::size_t> { return n; });
  }
  auto write_vectored(std::span<const IoSlice> bufs) {
    std::size_t n = 0;
    for (const IoSlice& b : bufs) n += b.size();
    return detail::instant_op<true>([n]() -> Result<std::size_t> { return n; });
  }
  auto flush() {
    return detail::instant_op<false>([]() -> Result<void> { return {}; });
  }
  auto shutdown() {
    return detail::instant_op<false>([]() -> Result<void> { return {}; });
  }
};

inline Sink sink() noexcept { return {}; }

}  // namespace tokio::io
