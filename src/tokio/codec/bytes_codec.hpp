#pragma once
// codec::BytesCodec: raw bytes, no framing (tokio-util's BytesCodec). Decoding yields
// whatever bytes have arrived (a BytesMut, never empty); encoding copies the bytes.

#include <optional>
#include <span>
#include <string_view>

#include "tokio/codec/bytes.hpp"
#include "tokio/core/result.hpp"

namespace tokio::codec {

class BytesCodec {
 public:
  static BytesCodec new_() noexcept { return BytesCodec(); }  // Rust's BytesCodec::new()
  Result<std::optional<BytesMut>, std::error_code> decode(BytesMut& buf) {
    if (buf.is_empty()) return std::optional<BytesMut>();
    return std::optional<BytesMut>(buf.split());
  }
  Result<void, std::error_code> encode(std::span<const std::byte> data, BytesMut& dst) {
    dst.extend_from_slice(data);
    return {};
  }
  Result<void, std::error_code> encode(const Bytes& data, BytesMut& dst) {
    return encode(data.as_span(), dst);
  }
  Result<void, std::error_code> encode(const BytesMut& data, BytesMut& dst) {
    return encode(data.as_span(), dst);
  }
  Result<void, std::error_code> encode(std::string_view data, BytesMut& dst) {
    dst.put(data);
    return {};
  }
};

}  // namespace tokio::codec
