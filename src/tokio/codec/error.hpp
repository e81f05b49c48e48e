#pragma once
// codec::Errc: the errors the codecs report, as std::error_code values ("tokio.codec").
//
//   auto item = co_await framed.next();            // std::optional<io::Result<Frame>>
//   if (item && !*item && item->error() == codec::Errc::max_line_length_exceeded) ...
//
// I/O errors of the underlying stream come through unchanged (errno codes, io::Errc).
// Invalid UTF-8 in a LinesCodec line is std::errc::illegal_byte_sequence, as for
// io::lines.

#include <system_error>
#include <type_traits>

namespace tokio::codec {

enum class Errc {
  // LinesCodec: a line longer than max_length (the rest of it is discarded).
  max_line_length_exceeded = 1,
  // AnyDelimiterCodec: a chunk longer than max_length (the rest of it is discarded).
  max_chunk_length_exceeded = 2,
  // LengthDelimitedCodec: a frame longer than max_frame_length (decoding skips it;
  // encoding refuses it), or a length that does not fit the length field.
  frame_too_large = 3,
  // LengthDelimitedCodec: the length and the length adjustment give a negative or
  // overflowing frame length.
  invalid_frame_length = 4,
  // The stream ended in the middle of a frame (the default decode_eof).
  bytes_remaining_on_stream = 5,
  // LengthDelimitedCodec: a frame length of 0 with num_skip 0, which would consume no
  // input and repeat for ever (Rust's codec yields it for ever).
  empty_frame_consumes_nothing = 6,
};

const std::error_category& codec_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

}  // namespace tokio::codec

template <>
struct std::is_error_code_enum<tokio::codec::Errc> : std::true_type {};
