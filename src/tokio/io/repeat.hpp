#pragma once
// io::repeat(byte): a reader that yields the same byte forever (fill a buffer, or bound
// it with io::take). Each read uses one unit of coop budget, so a task copying from it
// still yields to others.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <cstring>
#include <span>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/ready_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

class Repeat : public Ext<Repeat> {
 public:
  explicit Repeat(std::byte b) noexcept : byte_(b) {}
  SizeHint size_hint() const noexcept { return {UINT64_MAX, std::nullopt}; }  // endless

  auto read(io::MutableBuffer buf) {
    return detail::instant_op<true>([b = byte_, buf]() -> Result<std::size_t> {
      if (!buf.empty()) std::memset(buf.data(), std::to_integer<int>(b), buf.size());
      return buf.size();
    });
  }

 private:
  std::byte byte_;
};

inline Repeat repeat(std::byte b) noexcept { return Repeat(b); }
inline Repeat repeat(unsigned char b) noexcept { return Repeat(std::byte{b}); }

}  // namespace tokio::io
