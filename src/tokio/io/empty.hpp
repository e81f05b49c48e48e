#pragma once
// io::empty(): a reader that is always at end of stream (and a writer that accepts and
// drops everything, as in recent Tokio). Each operation uses one unit of coop budget.

#include <cstddef>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/ready_op.hpp"

namespace tokio::io {

class Empty {
 public:
  auto read(std::span<std::byte>) {
    return detail::instant_op<true>([]() -> Result<std::size_t> { return std::size_t{0}; });
  }
  auto fill_buf() {
    return detail::instant_op<true>(
        []() -> Result<std::span<const std::byte>> { return std::span<const std::byte>(); });
  }
  void consume(std::size_t) noexcept {}
  auto write(std::span<const std::byte> buf) {
    return detail::instant_op<true>([n = buf.size()]() -> Result<std::size_t> { return n; });
  }
  auto flush() {
    return detail::instant_op<false>([]() -> Result<void> { return {}; });
  }
  auto shutdown() {
    return detail::instant_op<false>([]() -> Result<void> { return {}; });
  }
};

inline Empty empty() noexcept { return {}; }

}  // namespace tokio::io
