#pragma once
// codec::AnyDelimiterCodec: chunks separated by any of a set of delimiter bytes
// (tokio-util's AnyDelimiterCodec).
//
//   AnyDelimiterCodec c(",;\n", ";");   // split on ',' ';' or '\n'; write ';' after chunks
//
// Decoding yields each chunk (a Bytes, without its delimiter); at the end of the input the
// bytes after the last delimiter are one more chunk. Encoding writes the chunk followed by
// the sequence_writer bytes. With a maximum length, a longer chunk is the error
// codec::Errc::max_chunk_length_exceeded and is discarded up to its delimiter; decoding
// goes on after it (memory stays bounded), exactly as LinesCodec does with long lines.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/error.hpp"
#include "tokio/core/result.hpp"

namespace tokio::codec {

class AnyDelimiterCodec {
 public:
  AnyDelimiterCodec(std::string_view seek_delimiters, std::string_view sequence_writer,
                    std::size_t max_length = std::numeric_limits<std::size_t>::max());
  // Rust's AnyDelimiterCodec::new(seek, sequence).
  static AnyDelimiterCodec new_(std::string_view seek_delimiters,
                                std::string_view sequence_writer) {
    return AnyDelimiterCodec(seek_delimiters, sequence_writer);
  }
  static AnyDelimiterCodec new_with_max_length(std::string_view seek_delimiters,
                                               std::string_view sequence_writer,
                                               std::size_t max_length) {
    return AnyDelimiterCodec(seek_delimiters, sequence_writer, max_length);
  }
  std::size_t max_length() const noexcept { return max_length_; }

  Result<std::optional<Bytes>, std::error_code> decode(BytesMut& buf);
  Result<std::optional<Bytes>, std::error_code> decode_eof(BytesMut& buf);
  Result<void, std::error_code> encode(std::span<const std::byte> chunk, BytesMut& dst);
  Result<void, std::error_code> encode(std::string_view chunk, BytesMut& dst) {
    return encode(std::as_bytes(std::span(chunk.data(), chunk.size())), dst);
  }
  Result<void, std::error_code> encode(const Bytes& chunk, BytesMut& dst) {
    return encode(chunk.as_span(), dst);
  }

 private:
  // Index of the first delimiter in p[from, to), or `to`.
  std::size_t find(const std::byte* p, std::size_t from, std::size_t to) const noexcept;

  std::array<uint64_t, 4> is_delim_{};  // 256-bit set
  std::string writer_;
  std::size_t max_length_;
  std::size_t next_index_ = 0;
  bool discarding_ = false;
};

}  // namespace tokio::codec
