#pragma once
// codec::Decoder: turns bytes into frames (tokio-util's Decoder trait).
//
//   struct MyDecoder {
//     // A frame from the front of `src` (consuming its bytes), std::nullopt when `src`
//     // does not hold a whole frame yet (consume nothing then, or keep your own state),
//     // or an error.
//     io::Result<std::optional<Frame>> decode(BytesMut& src);
//     // Optional: called at the end of the input instead of decode (see decode_eof).
//     io::Result<std::optional<Frame>> decode_eof(BytesMut& src);
//   };
//
// FramedRead / Framed call decode after every read, and decode_eof once the reader hit its
// end. Errors are std::error_codes (codec::Errc, errno codes, or your own category).
// After a decode error FramedRead / Framed pause, as tokio-util's: the error is an item,
// the next next() yields nullopt once (a loop that stops at nullopt stops there), and a
// next() after that resumes: it reads more input, then decodes (what was buffered, then
// what came). A decoder that can go on must consume the bad bytes while failing (or skip
// them later: LinesCodec drops an overlong line, the rest of it as it arrives). One
// difference from tokio-util: when decode consumed nothing while failing, it would fail
// on the same bytes at every resume, so the stream ends there for good.

#include <optional>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/error.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/error.hpp"

namespace tokio::detail {

template <class R>
struct decode_result : std::false_type {};
template <class T>
struct decode_result<Result<std::optional<T>, std::error_code>> : std::true_type {
  using item = T;
};

}  // namespace tokio::detail

namespace tokio::codec {

template <class D>
concept Decoder = requires(D& d, BytesMut& src) {
  requires tokio::detail::decode_result<decltype(d.decode(src))>::value;
};

// The frame type of a decoder.
template <Decoder D>
using decoder_item_t = typename tokio::detail::decode_result<decltype(std::declval<D&>().decode(
    std::declval<BytesMut&>()))>::item;

// Decodes at the end of the input: D::decode_eof when the decoder has one; otherwise
// decode, and bytes left over that make no frame are an error
// (Errc::bytes_remaining_on_stream): a partial frame at the end of a stream is never
// silently dropped.
template <Decoder D>
io::Result<std::optional<decoder_item_t<D>>> decode_eof(D& d, BytesMut& src) {
  if constexpr (requires { d.decode_eof(src); }) {
    return d.decode_eof(src);
  } else {
    auto r = d.decode(src);
    if (!r || *r || src.is_empty()) return r;
    return tokio::unexpected(make_error_code(Errc::bytes_remaining_on_stream));
  }
}

}  // namespace tokio::codec
