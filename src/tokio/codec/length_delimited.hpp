#pragma once
// codec::LengthDelimitedCodec: frames prefixed by their length (tokio-util's
// LengthDelimitedCodec and its Builder).
//
//   auto c = LengthDelimitedCodec();                       // 4-byte big-endian length, max 8 MiB
//   auto c2 = LengthDelimitedCodec::builder()
//                 .length_field_offset(1)                  // a type byte comes first
//                 .length_field_length(2)                  // 1, 2, 3, 4 or 8 bytes (any of 1..8)
//                 .length_adjustment(-3)                   // the length counts those 3 header bytes
//                 .num_skip(3)                             // the frame is what follows them
//                 .little_endian()
//                 .max_frame_length(64 * 1024)
//                 .new_codec();                          // or .new_framed(std::move(sock))
//
// Decoding: once length_field_offset + length_field_length bytes (or num_skip, if more)
// have arrived, the length field is read; frame length = field + length_adjustment;
// num_skip bytes (by default the offset and the field) are dropped from the front and the
// next frame-length bytes are the frame (a BytesMut, cut off the read buffer without a
// copy). A length field above max_frame_length (the field as sent, before the
// adjustment, as tokio-util checks it, and first) is the error
// codec::Errc::frame_too_large: the frame's bytes are skipped as they arrive (never
// buffered) and decoding goes on with the next frame (in a FramedRead, after the pause
// that follows every decode error). So with a positive adjustment a frame may hold up to
// max + adjustment bytes, and with a negative one an encoded payload of up to max bytes
// can exceed it. As in current tokio-util, new_codec clips max_frame_length to what the
// field can announce (its largest value + length_adjustment) for the encoder; the decoder
// keeps the value as set (as tokio-util 0.7.3), so it takes every frame the encoder
// writes. An offset + field length past SIZE_MAX is std::invalid_argument. A field +
// adjustment below zero or past SIZE_MAX is codec::Errc::invalid_frame_length, and a
// frame length of 0 with num_skip 0 (it would consume nothing and repeat for ever; Rust
// yields it for ever) is codec::Errc::empty_frame_consumes_nothing. Both are reported
// without consuming anything, so a FramedRead reports them and then ends for good (the
// input cannot be resynchronised); so is a too-large field whose length is also invalid.
// A partial frame at the end of the input is codec::Errc::bytes_remaining_on_stream, also
// when only its header had arrived.
//
// Encoding writes the length field (payload length - length_adjustment, in the field's
// width and byte order: frame_too_large when it does not fit or the payload is longer
// than max_frame_length, which here, as in tokio-util, bounds the payload, not the field)
// and the payload. As in tokio-util, it writes neither the bytes before the field
// (length_field_offset) nor anything num_skip would drop.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/error.hpp"
#include "tokio/codec/framed.hpp"
#include "tokio/codec/framed_read.hpp"
#include "tokio/codec/framed_write.hpp"
#include "tokio/core/result.hpp"

namespace tokio::codec {

class LengthDelimitedCodec {
 public:
  class Builder {
   public:
    Builder& length_field_offset(std::size_t n) noexcept {
      offset_ = n;
      return *this;
    }
    // Width of the length field in bytes, 1..8 (std::invalid_argument otherwise, from
    // new_codec).
    Builder& length_field_length(std::size_t n) noexcept {
      width_ = n;
      return *this;
    }
    // The field's width as an unsigned integer type's (Rust: length_field_type::<u16>()).
    template <class T>
    Builder& length_field_type() noexcept {
      static_assert(std::is_unsigned_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8,
                    "length_field_type<T>: T is an unsigned integer type (uint8_t ... uint64_t)");
      width_ = sizeof(T);
      return *this;
    }
    Builder& length_adjustment(std::ptrdiff_t n) noexcept {
      adjust_ = n;
      return *this;
    }
    // Header bytes dropped before the frame (default: offset + field width).
    Builder& num_skip(std::size_t n) noexcept {
      skip_ = n;
      return *this;
    }
    Builder& max_frame_length(std::size_t n) noexcept {
      max_ = n;
      return *this;
    }
    Builder& big_endian() noexcept {
      big_ = true;
      return *this;
    }
    Builder& little_endian() noexcept {
      big_ = false;
      return *this;
    }
    Builder& native_endian() noexcept {
      big_ = is_big_endian_host();
      return *this;
    }
    LengthDelimitedCodec new_codec() const;
    // tokio-util's shortcuts: new_codec() over `io` in a FramedRead, FramedWrite or Framed
    // (an rvalue is owned, an lvalue borrowed, as those types' own constructors do).
    template <class R>
    auto new_read(R&& io) const;
    template <class W>
    auto new_write(W&& io) const;
    template <class T>
    auto new_framed(T&& io) const;

   private:
    friend class LengthDelimitedCodec;
    static bool is_big_endian_host() noexcept;
    std::size_t offset_ = 0;
    std::size_t width_ = 4;
    std::ptrdiff_t adjust_ = 0;
    std::optional<std::size_t> skip_;
    std::size_t max_ = 8 * 1024 * 1024;
    bool big_ = true;
  };

  LengthDelimitedCodec() = default;
  static LengthDelimitedCodec new_() { return LengthDelimitedCodec(); }  // Rust's ::new()
  static Builder builder() noexcept { return {}; }

  // The encoder's bound (clipped to what the field can announce, see the top).
  std::size_t max_frame_length() const noexcept { return b_.max_; }
  void set_max_frame_length(std::size_t n) noexcept;

  Result<std::optional<BytesMut>, std::error_code> decode(BytesMut& buf);
  // At the end of the input. Not the default decode_eof (leftover bytes are an error): the
  // header of a frame is consumed before its bytes arrive, so a frame cut short right
  // after its header leaves the buffer empty and would vanish silently. The partial frame
  // it reports (bytes_remaining_on_stream) is dropped with the error: the next call finds
  // nothing.
  Result<std::optional<BytesMut>, std::error_code> decode_eof(BytesMut& buf);
  Result<void, std::error_code> encode(std::span<const std::byte> payload, BytesMut& dst);
  Result<void, std::error_code> encode(std::string_view payload, BytesMut& dst) {
    return encode(std::as_bytes(std::span(payload.data(), payload.size())), dst);
  }
  Result<void, std::error_code> encode(const Bytes& payload, BytesMut& dst) {
    return encode(payload.as_span(), dst);
  }
  Result<void, std::error_code> encode(const BytesMut& payload, BytesMut& dst) {
    return encode(payload.as_span(), dst);
  }

 private:
  std::size_t head_len() const noexcept {
    std::size_t h = b_.offset_ + b_.width_;
    return b_.skip_ && *b_.skip_ > h ? *b_.skip_ : h;
  }
  std::size_t num_skip() const noexcept { return b_.skip_ ? *b_.skip_ : b_.offset_ + b_.width_; }
  // The length field of the header at `head` (head_len() bytes).
  uint64_t field_at(const std::byte* head) const noexcept;
  // The frame length a length field announces; nullopt when it is invalid (head_error
  // says why).
  std::optional<uint64_t> frame_len(uint64_t field) const noexcept;
  // The error of a header whose frame_len is nullopt.
  Errc head_error(uint64_t field) const noexcept;

  enum class State { Head, Data, Skip };
  Builder b_;
  State state_ = State::Head;
  std::size_t n_ = 0;  // Data: frame bytes expected; Skip: bytes left to drop
  // The decoder's bound on the length field as sent: max_frame_length as set, unclipped.
  std::size_t field_max_ = 8 * 1024 * 1024;
};

template <class R>
auto LengthDelimitedCodec::Builder::new_read(R&& io) const {
  return FramedRead(std::forward<R>(io), new_codec());
}
template <class W>
auto LengthDelimitedCodec::Builder::new_write(W&& io) const {
  return FramedWrite(std::forward<W>(io), new_codec());
}
template <class T>
auto LengthDelimitedCodec::Builder::new_framed(T&& io) const {
  return Framed(std::forward<T>(io), new_codec());
}

}  // namespace tokio::codec
