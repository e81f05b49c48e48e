// codec::BytesCodec's decoding (bytes_codec.hpp).
#include "tokio/codec/bytes_codec.hpp"

namespace tokio::codec {

Result<std::optional<BytesMut>, std::error_code> BytesCodec::decode(BytesMut& buf) {
  if (buf.is_empty()) return std::optional<BytesMut>();
  return std::optional<BytesMut>(buf.split());
}

Result<std::optional<BytesMut>, std::error_code> BytesCodec::decode_eof(BytesMut& buf) {
  return decode(buf);
}

}  // namespace tokio::codec
