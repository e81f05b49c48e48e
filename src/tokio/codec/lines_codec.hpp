#pragma once
// codec::LinesCodec: lines of text, tokio-util's LinesCodec.
//
//   Framed conn(std::move(sock), LinesCodec::new_with_max_length(8 * 1024));
//
// Decoding yields each line as a std::string without its "\n" (and a "\r" before it);
// encoding appends the string and "\n". A line must be UTF-8 (else
// std::errc::illegal_byte_sequence, that line dropped, decoding goes on). At the end of
// the input, bytes after the last "\n" are one more line (as in tokio-util).
//
// Maximum length: with new_with_max_length(n), a line longer than n bytes is the error
// codec::Errc::max_line_length_exceeded, reported as soon as n + 1 bytes without a newline
// have arrived; the line's bytes are discarded up to and including its newline, then
// decoding goes on with the next line. Memory stays bounded by about n plus one read,
// whatever the peer sends. A FramedRead yields the error, then pauses as tokio-util's does
// (one nullopt: a loop that stops at nullopt closes the connection there); calling next()
// again after that nullopt carries on with the next line (see codec/decoder.hpp).
// LinesCodec() has no limit (as in tokio-util): use it only with trusted input.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/error.hpp"
#include "tokio/core/result.hpp"

namespace tokio::codec {

class LinesCodec {
 public:
  LinesCodec() noexcept = default;
  static LinesCodec new_() noexcept { return LinesCodec(); }  // Rust's LinesCodec::new()
  static LinesCodec new_with_max_length(std::size_t max_length) noexcept {
    LinesCodec c;
    c.max_length_ = max_length;
    return c;
  }
  std::size_t max_length() const noexcept { return max_length_; }

  Result<std::optional<std::string>, std::error_code> decode(BytesMut& buf);
  Result<std::optional<std::string>, std::error_code> decode_eof(BytesMut& buf);
  Result<void, std::error_code> encode(std::string_view line, BytesMut& dst);

 private:
  std::size_t max_length_ = std::numeric_limits<std::size_t>::max();
  std::size_t next_index_ = 0;  // bytes already searched for a newline
  bool discarding_ = false;     // inside an overlong line: drop through its newline
};

}  // namespace tokio::codec
