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
  // (decode and decode_eof are out of line, in bytes_codec.cpp: inline, they would
  // instantiate their Result<std::optional<BytesMut>> in every TU that includes tokio.hpp.)
  Result<std::optional<BytesMut>, std::error_code> decode(BytesMut& buf);
  // At the end of the input: the same (decode takes whatever is buffered). A member, as in
  // tokio-util every Decoder has it; codec::decode_eof(d, buf) works on any decoder.
  Result<std::optional<BytesMut>, std::error_code> decode_eof(BytesMut& buf);
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
