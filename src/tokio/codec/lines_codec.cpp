#include "tokio/codec/lines_codec.hpp"

#include <cstring>

#include "tokio/core/detail/utf8.hpp"

namespace tokio::detail::lines_codec_impl {

// The line in p[0, n) (its newline excluded) with a trailing '\r' removed, checked UTF-8.
inline Result<std::optional<std::string>, std::error_code> make_line(const std::byte* p,
                                                                     std::size_t n) {
  if (n > 0 && p[n - 1] == std::byte{'\r'}) --n;
  if (!utf8_valid(reinterpret_cast<const unsigned char*>(p), n)) {
    return unexpected(detail::invalid_utf8());
  }
  return std::optional<std::string>(std::string(reinterpret_cast<const char*>(p), n));
}

}  // namespace tokio::detail::lines_codec_impl

namespace tokio::codec {

Result<std::optional<std::string>, std::error_code> LinesCodec::decode(BytesMut& buf) {
  for (;;) {
    const std::byte* p = buf.data();
    const std::size_t len = buf.len();
    if (discarding_) {
      const void* nl = len ? std::memchr(p, '\n', len) : nullptr;
      if (!nl) {
        buf.advance(len);
        return std::optional<std::string>();
      }
      buf.advance(static_cast<std::size_t>(static_cast<const std::byte*>(nl) - p) + 1);
      discarding_ = false;
      continue;
    }
    // A newline further than max_length bytes in would end a line that is too long: the
    // search never looks past max_length + 1 bytes.
    const std::size_t limit = max_length_ >= len ? len : max_length_ + 1;
    const void* nl =
        next_index_ < limit ? std::memchr(p + next_index_, '\n', limit - next_index_) : nullptr;
    if (nl) {
      std::size_t i = static_cast<std::size_t>(static_cast<const std::byte*>(nl) - p);
      auto line = detail::lines_codec_impl::make_line(p, i);
      next_index_ = 0;
      buf.advance(i + 1);
      return line;
    }
    if (len > max_length_) {
      // Too long: drop what was searched, and the rest of the line as it arrives.
      buf.advance(limit);
      next_index_ = 0;
      discarding_ = true;
      return unexpected(make_error_code(Errc::max_line_length_exceeded));
    }
    next_index_ = len;
    return std::optional<std::string>();
  }
}

Result<std::optional<std::string>, std::error_code> LinesCodec::decode_eof(BytesMut& buf) {
  auto r = decode(buf);
  if (!r || *r) return r;
  next_index_ = 0;
  if (discarding_) {
    discarding_ = false;
    buf.clear();
    return std::optional<std::string>();
  }
  if (buf.is_empty() || (buf.len() == 1 && buf[0] == std::byte{'\r'})) {
    buf.clear();
    return std::optional<std::string>();
  }
  auto line = detail::lines_codec_impl::make_line(buf.data(), buf.len());
  buf.clear();
  return line;
}

Result<void, std::error_code> LinesCodec::encode(std::string_view line, BytesMut& dst) {
  dst.reserve(line.size() + 1);
  dst.put(line);
  dst.put_u8('\n');
  return {};
}

}  // namespace tokio::codec
