#pragma once
// io::empty(): a reader that is always at end of stream (and a writer that accepts and
// drops everything, as in recent Tokio). Each operation uses one unit of coop budget.

#include <cstddef>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/ready_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

class Empty : public Ext<Empty> {
 public:
  SizeHint size_hint() const noexcept { return {0, 0}; }
  detail::ReadyCountOp read(io::MutableBuffer) noexcept { return detail::ReadyCountOp({0}); }
  auto fill_buf() {
    return detail::instant_op<true>(
        []() -> Result<std::span<const std::byte>> { return std::span<const std::byte>(); });
  }
  void consume(std::size_t) noexcept {}
  detail::ReadyCountOp write(io::ConstBuffer buf) noexcept {
    return detail::ReadyCountOp({buf.size()});
  }
  detail::NothingToDoOp flush() noexcept { return detail::NothingToDoOp({}); }
  detail::NothingToDoOp shutdown() noexcept { return detail::NothingToDoOp({}); }
};

inline Empty empty() noexcept { return {}; }

}  // namespace tokio::io
