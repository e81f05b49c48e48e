#pragma once
// io::sink(): a writer that accepts and discards everything. Each write uses one unit of
// coop budget.

#include <cstddef>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/ready_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

class Sink : public Ext<Sink> {
 public:
  detail::ReadyCountOp write(io::ConstBuffer buf) noexcept {
    return detail::ReadyCountOp({buf.size()});
  }
  detail::ReadyCountOp write_vectored(std::span<const IoSlice> bufs) noexcept {
    std::size_t n = 0;
    for (const IoSlice& b : bufs) n += b.size();
    return detail::ReadyCountOp({n});
  }
  detail::NothingToDoOp flush() noexcept { return detail::NothingToDoOp({}); }
  detail::NothingToDoOp shutdown() noexcept { return detail::NothingToDoOp({}); }
};

inline Sink sink() noexcept { return {}; }

}  // namespace tokio::io
