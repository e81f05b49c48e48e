#include "tokio/codec/any_delimiter_codec.hpp"

#include <stdexcept>

namespace tokio::codec {

AnyDelimiterCodec::AnyDelimiterCodec(std::string_view seek_delimiters,
                                     std::string_view sequence_writer, std::size_t max_length)
    : writer_(sequence_writer), max_length_(max_length) {
  // No delimiter would never end a chunk: decode would buffer the whole input (without
  // bound when there is no max_length). In C++ the likely cause is a NUL delimiter written
  // as "\0", a string_view that stops before it.
  if (seek_delimiters.empty()) {
    throw std::invalid_argument(
        "codec::AnyDelimiterCodec: no delimiter to seek (for a NUL byte write "
        "std::string_view(\"\\0\", 1): \"\\0\" alone is an empty string)");
  }
  for (char c : seek_delimiters) {
    auto b = static_cast<unsigned char>(c);
    is_delim_[b >> 6] |= uint64_t{1} << (b & 63);
  }
}

std::size_t AnyDelimiterCodec::find(const std::byte* p, std::size_t from,
                                    std::size_t to) const noexcept {
  for (std::size_t i = from; i < to; ++i) {
    auto b = std::to_integer<unsigned>(p[i]);
    if (is_delim_[b >> 6] & (uint64_t{1} << (b & 63))) return i;
  }
  return to;
}

Result<std::optional<Bytes>, std::error_code> AnyDelimiterCodec::decode(BytesMut& buf) {
  for (;;) {
    const std::byte* p = buf.data();
    const std::size_t len = buf.len();
    if (discarding_) {
      std::size_t i = find(p, 0, len);
      if (i == len) {
        buf.advance(len);
        return std::optional<Bytes>();
      }
      buf.advance(i + 1);
      discarding_ = false;
      continue;
    }
    const std::size_t limit = max_length_ >= len ? len : max_length_ + 1;
    std::size_t i = find(p, next_index_ < limit ? next_index_ : limit, limit);
    if (i < limit) {
      next_index_ = 0;
      Bytes chunk = buf.split_to(i).freeze();
      buf.advance(1);
      return std::optional<Bytes>(std::move(chunk));
    }
    if (len > max_length_) {
      buf.advance(limit);
      next_index_ = 0;
      discarding_ = true;
      return unexpected(make_error_code(Errc::max_chunk_length_exceeded));
    }
    next_index_ = len;
    return std::optional<Bytes>();
  }
}

Result<std::optional<Bytes>, std::error_code> AnyDelimiterCodec::decode_eof(BytesMut& buf) {
  auto r = decode(buf);
  if (!r || *r) return r;
  next_index_ = 0;
  if (discarding_) {
    discarding_ = false;
    buf.clear();
    return std::optional<Bytes>();
  }
  if (buf.is_empty()) return std::optional<Bytes>();
  return std::optional<Bytes>(buf.split().freeze());
}

Result<void, std::error_code> AnyDelimiterCodec::encode(std::span<const std::byte> chunk,
                                                        BytesMut& dst) {
  dst.reserve(chunk.size() + writer_.size());
  dst.put(chunk);
  dst.put(writer_);
  return {};
}

}  // namespace tokio::codec
