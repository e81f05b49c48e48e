#include "tokio/codec/length_delimited.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>

namespace tokio::codec {

namespace length_delimited_impl {
// How far ahead of the bytes received decode() reserves room for a frame (see Data).
constexpr std::size_t kReserveAhead = std::size_t{1} << 20;
}  // namespace length_delimited_impl

bool LengthDelimitedCodec::Builder::is_big_endian_host() noexcept {
  return std::endian::native == std::endian::big;
}

LengthDelimitedCodec LengthDelimitedCodec::Builder::new_codec() const {
  if (width_ < 1 || width_ > 8) {
    throw std::invalid_argument(
        "tokio::codec::LengthDelimitedCodec: length_field_length must be 1..8");
  }
  // The header's bytes must be addressable: an offset near SIZE_MAX wrapped around in
  // offset + length and read the bytes in front of the buffer (tokio-util panics).
  if (offset_ > std::numeric_limits<std::size_t>::max() - width_) {
    throw std::invalid_argument(
        "tokio::codec::LengthDelimitedCodec: length_field_offset + length_field_length "
        "overflows size_t");
  }
  LengthDelimitedCodec c;
  c.b_ = *this;
  c.set_max_frame_length(max_);
  return c;
}

void LengthDelimitedCodec::set_max_frame_length(std::size_t n) noexcept {
  // The decoder bounds the length field as sent by n, as tokio-util 0.7.3 does. The
  // encoder's bound is n clipped, as current tokio-util clips it, to the largest payload
  // the field can announce (its largest value + length_adjustment, saturating at 0 and
  // SIZE_MAX). Bounding the decoder by the clipped value too (as current tokio-util does)
  // refused frames its own encoder wrote: 1-byte field, adjustment -1, a 254-byte payload
  // is written with field 255, above the clipped 254.
  field_max_ = n;
  const std::size_t w = b_.width_;
  const uint64_t field_max = w >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * w)) - 1;
  uint64_t allowed;
  if (b_.adjust_ < 0) {
    const uint64_t sub = uint64_t(0) - static_cast<uint64_t>(b_.adjust_);
    allowed = field_max > sub ? field_max - sub : 0;
  } else {
    const uint64_t add = static_cast<uint64_t>(b_.adjust_);
    allowed = field_max > ~uint64_t{0} - add ? ~uint64_t{0} : field_max + add;
  }
  b_.max_ = allowed < n ? static_cast<std::size_t>(allowed) : n;
}

uint64_t LengthDelimitedCodec::field_at(const std::byte* head) const noexcept {
  return get_uint(head + b_.offset_, b_.width_, b_.big_);
}

std::optional<uint64_t> LengthDelimitedCodec::frame_len(uint64_t field) const noexcept {
  // frame length = field + adjustment, in range [0, SIZE_MAX].
  uint64_t len;
  if (b_.adjust_ < 0) {
    const uint64_t sub = uint64_t(0) - static_cast<uint64_t>(b_.adjust_);
    if (field < sub) return std::nullopt;
    len = field - sub;
  } else {
    const uint64_t add = static_cast<uint64_t>(b_.adjust_);
    if (field > std::numeric_limits<uint64_t>::max() - add) return std::nullopt;
    len = field + add;
  }
  if constexpr (sizeof(std::size_t) < sizeof(uint64_t)) {
    if (len > std::numeric_limits<std::size_t>::max()) return std::nullopt;
  }
  // With num_skip 0 an empty frame would consume nothing: the same header would give
  // empty frames for ever (a peer could spin the reader). Nothing after it can be trusted
  // either, so it ends the stream like a negative length.
  if (len == 0 && num_skip() == 0) return std::nullopt;
  return len;
}

Errc LengthDelimitedCodec::head_error(uint64_t field) const noexcept {
  if (field > field_max_) return Errc::frame_too_large;  // tokio-util checks this first
  const bool empty = b_.adjust_ < 0 ? field == uint64_t(0) - static_cast<uint64_t>(b_.adjust_)
                                    : field == 0 && b_.adjust_ == 0;
  return empty && num_skip() == 0 ? Errc::empty_frame_consumes_nothing : Errc::invalid_frame_length;
}

Result<std::optional<BytesMut>, std::error_code> LengthDelimitedCodec::decode(BytesMut& buf) {
  for (;;) {
    switch (state_) {
      case State::Skip: {
        if (n_ < buf.len() && buf.len() - n_ >= head_len()) {
          const uint64_t next = field_at(buf.data() + n_);
          // The oversized frame ends here and an invalid header follows: report it before
          // consuming anything, so that a FramedRead (which resumes after an error that
          // consumed input) reports it once and ends for good.
          if (!frame_len(next)) return unexpected(make_error_code(head_error(next)));
        }
        std::size_t k = n_ < buf.len() ? n_ : buf.len();
        buf.advance(k);
        n_ -= k;
        if (n_ > 0) return std::optional<BytesMut>();
        state_ = State::Head;
        continue;
      }
      case State::Head: {
        const std::size_t head = head_len();
        if (buf.len() < head) {
          // At most kReserveAhead too: num_skip may be set past any memory (then the
          // header never completes, as in tokio-util, and no reserve throws).
          buf.reserve(std::min(head - buf.len(), length_delimited_impl::kReserveAhead));
          return std::optional<BytesMut>();
        }
        const uint64_t field = field_at(buf.data());
        const std::optional<uint64_t> len = frame_len(field);
        if (!len) return unexpected(make_error_code(head_error(field)));
        buf.advance(num_skip());
        n_ = static_cast<std::size_t>(*len);
        // As tokio-util: max_frame_length bounds the field as sent, before the adjustment
        // (so with a positive adjustment a frame may hold up to max + adjustment bytes).
        if (field > field_max_) {
          // Too large: drop its bytes as they come, never buffer them.
          state_ = State::Skip;
          std::size_t k = n_ < buf.len() ? n_ : buf.len();
          buf.advance(k);
          n_ -= k;
          if (n_ == 0) state_ = State::Head;
          return unexpected(make_error_code(Errc::frame_too_large));
        }
        state_ = State::Data;
        continue;
      }
      case State::Data: {
        if (buf.len() < n_) {
          // Room for the rest of the frame, but at most kReserveAhead at a time: the
          // header alone (4 bytes, from anyone) must not make the connection allocate the
          // whole announced length (8 MiB by default, or more than memory holds with a
          // raised max_frame_length, where reserve would throw). The buffer grows by
          // doubling as the bytes come.
          buf.reserve(std::min(n_ - buf.len(), length_delimited_impl::kReserveAhead));
          return std::optional<BytesMut>();
        }
        BytesMut frame = buf.split_to(n_);
        state_ = State::Head;
        n_ = 0;
        return std::optional<BytesMut>(std::move(frame));
      }
    }
  }
}

Result<std::optional<BytesMut>, std::error_code> LengthDelimitedCodec::decode_eof(BytesMut& buf) {
  auto r = decode(buf);
  if (!r || *r) return r;
  // Data: the frame is incomplete (decode took what there was). Skip: the rest of an
  // oversized frame, already reported, just never came.
  if (state_ == State::Data || !buf.is_empty()) {
    // The partial frame is what the error reports: dropped with it (a header this call
    // consumed, or an earlier one), so the input after the error is "nothing", as when the
    // header had been consumed before the end was seen. Kept, a FramedRead resuming after
    // the error would report the same frame again, or not, depending on where the reads
    // had split the input.
    buf.clear();
    state_ = State::Head;
    n_ = 0;
    return unexpected(make_error_code(Errc::bytes_remaining_on_stream));
  }
  return r;
}

Result<void, std::error_code> LengthDelimitedCodec::encode(std::span<const std::byte> payload,
                                                           BytesMut& dst) {
  const std::size_t n = payload.size();
  if (n > b_.max_) return unexpected(make_error_code(Errc::frame_too_large));
  // field = n - adjustment
  uint64_t field;
  if (b_.adjust_ < 0) {
    const uint64_t add = uint64_t(0) - static_cast<uint64_t>(b_.adjust_);
    if (n > std::numeric_limits<uint64_t>::max() - add)
      return unexpected(make_error_code(Errc::invalid_frame_length));
    field = n + add;
  } else {
    const uint64_t sub = static_cast<uint64_t>(b_.adjust_);
    if (n < sub) return unexpected(make_error_code(Errc::invalid_frame_length));
    field = n - sub;
  }
  if (b_.width_ < 8 && field >> (8 * b_.width_) != 0)
    return unexpected(make_error_code(Errc::frame_too_large));
  dst.reserve(b_.width_ + n);
  if (b_.big_) {
    dst.put_uint(field, b_.width_);
  } else {
    dst.put_uint_le(field, b_.width_);
  }
  dst.extend_from_slice(payload);
  return {};
}

}  // namespace tokio::codec
