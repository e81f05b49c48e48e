#pragma once
// The reading half of the `bytes` crate's Buf trait, shared by Bytes and BytesMut: a
// decoder takes a frame's header off the front of its buffer the way Rust code does,
//
//   if (src.len() < 4) co_return std::nullopt;      // (in a Decoder: wait for more)
//   uint32_t n = src.get_u32();                     // big-endian, consumes 4 bytes
//
// Every get_ consumes what it reads (as Buf::get_* does). Where Rust panics for lack of
// bytes, these throw std::out_of_range naming the call and what was missing, and consume
// nothing. The window type B supplies data(), len() and advance(n); split_to(n) for
// copy_to_bytes.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "tokio/io/async_io.hpp"

namespace tokio::detail {

[[noreturn]] void throw_buf_short(const char* call, std::size_t need, std::size_t have);
[[noreturn]] void throw_buf_width(const char* call, std::size_t nbytes);

// Reads an unsigned integer of `nbytes` bytes (0..8) at p, big- or little-endian.
inline uint64_t load_uint(const std::byte* p, std::size_t nbytes, bool big_endian) noexcept {
  uint64_t v = 0;
  for (std::size_t i = 0; i < nbytes; ++i) {
    uint64_t b = std::to_integer<uint64_t>(p[i]);
    v |= b << (8 * (big_endian ? nbytes - 1 - i : i));
  }
  return v;
}

template <class B>
class BufGet {
 public:
  // Buf::remaining / has_remaining / chunk: the unread bytes.
  std::size_t remaining() const noexcept { return self().len(); }
  bool has_remaining() const noexcept { return self().len() != 0; }
  std::span<const std::byte> chunk() const noexcept { return {self().data(), self().len()}; }

  uint8_t get_u8() { return static_cast<uint8_t>(take("get_u8", 1, true)); }
  int8_t get_i8() { return static_cast<int8_t>(get_u8()); }
  uint16_t get_u16() { return static_cast<uint16_t>(take("get_u16", 2, true)); }
  uint16_t get_u16_le() { return static_cast<uint16_t>(take("get_u16_le", 2, false)); }
  int16_t get_i16() { return static_cast<int16_t>(get_u16()); }
  int16_t get_i16_le() { return static_cast<int16_t>(get_u16_le()); }
  uint32_t get_u32() { return static_cast<uint32_t>(take("get_u32", 4, true)); }
  uint32_t get_u32_le() { return static_cast<uint32_t>(take("get_u32_le", 4, false)); }
  int32_t get_i32() { return static_cast<int32_t>(get_u32()); }
  int32_t get_i32_le() { return static_cast<int32_t>(get_u32_le()); }
  uint64_t get_u64() { return take("get_u64", 8, true); }
  uint64_t get_u64_le() { return take("get_u64_le", 8, false); }
  int64_t get_i64() { return static_cast<int64_t>(get_u64()); }
  int64_t get_i64_le() { return static_cast<int64_t>(get_u64_le()); }
  float get_f32() { return std::bit_cast<float>(get_u32()); }
  float get_f32_le() { return std::bit_cast<float>(get_u32_le()); }
  double get_f64() { return std::bit_cast<double>(get_u64()); }
  double get_f64_le() { return std::bit_cast<double>(get_u64_le()); }
  // An integer of `nbytes` bytes (0..8, 0 reading nothing and giving 0; else
  // std::out_of_range); get_int sign-extends.
  uint64_t get_uint(std::size_t nbytes) {
    return take("get_uint", width("get_uint", nbytes), true);
  }
  uint64_t get_uint_le(std::size_t nbytes) {
    return take("get_uint_le", width("get_uint_le", nbytes), false);
  }
  int64_t get_int(std::size_t nbytes) { return extend(get_uint(nbytes), nbytes); }
  int64_t get_int_le(std::size_t nbytes) { return extend(get_uint_le(nbytes), nbytes); }

  // Fills `dst` (any contiguous bytes the caller holds: io::MutableBuffer) from the front
  // and consumes that many bytes.
  void copy_to_slice(io::MutableBuffer dst) {
    need("copy_to_slice", dst.size());
    if (!dst.empty()) std::memcpy(dst.data(), self().data(), dst.size());
    self().advance(dst.size());
  }
  // The first `n` bytes as a Bytes (no copy: it shares the storage), consumed here.
  auto copy_to_bytes(std::size_t n) {
    need("copy_to_bytes", n);
    if constexpr (requires(B & b) { std::move(b.split_to(n)).freeze(); }) {
      return std::move(self().split_to(n)).freeze();
    } else {
      return self().split_to(n);
    }
  }

 private:
  const B& self() const noexcept { return static_cast<const B&>(*this); }
  B& self() noexcept { return static_cast<B&>(*this); }
  void need(const char* call, std::size_t n) const {
    if (self().len() < n) throw_buf_short(call, n, self().len());
  }
  static std::size_t width(const char* call, std::size_t nbytes) {
    if (nbytes > 8) throw_buf_width(call, nbytes);
    return nbytes;
  }
  static int64_t extend(uint64_t v, std::size_t nbytes) noexcept {
    if (nbytes == 0) return 0;  // (a shift by 64 would be undefined)
    const unsigned shift = static_cast<unsigned>(64 - 8 * nbytes);
    return static_cast<int64_t>(v << shift) >> shift;
  }
  uint64_t take(const char* call, std::size_t n, bool big_endian) {
    need(call, n);
    const uint64_t v = load_uint(self().data(), n, big_endian);
    self().advance(n);
    return v;
  }
};

}  // namespace tokio::detail
