#pragma once
// Binary numbers over AsyncRead / AsyncWrite, Tokio's read_u8...read_f64 / write_u8...
// write_f64 family: big-endian (network order) by default, `_le` for little-endian.
//
//   auto len = co_await io::read_u32(r);      // Result<uint32_t>
//   co_await io::write_i64_le(w, -5);         // Result<void>
//
// 128-bit forms use io::u128 / io::i128 (the compiler's __int128).
//
// Cancel safety: every reader is read_exact underneath, so NOT cancel-safe beyond one
// byte (a cancelled read_u32 may have consumed part of the number); read_u8 / read_i8
// are cancel-safe. Every writer is write_all: NOT cancel-safe.
// A stream that ends inside a number fails with Errc::unexpected_eof.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <type_traits>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/write_ext.hpp"

namespace tokio::io {

// __extension__ (for -Wpedantic) needs the typedef form.
// NOLINTNEXTLINE(modernize-use-using)
__extension__ typedef unsigned __int128 u128;
// NOLINTNEXTLINE(modernize-use-using)
__extension__ typedef __int128 i128;

}  // namespace tokio::io

namespace tokio::detail {

// The unsigned integer of N bytes (the bit pattern of any integer or float of that size).
template <std::size_t N>
using UnsignedOfSize = std::conditional_t<
    N == 1, uint8_t,
    std::conditional_t<
        N == 2, uint16_t,
        std::conditional_t<N == 4, uint32_t, std::conditional_t<N == 8, uint64_t, io::u128>>>>;

template <class T, bool BigEndian>
T decode_int(const std::array<std::byte, sizeof(T)>& b) noexcept {
  using U = UnsignedOfSize<sizeof(T)>;
  U u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    std::size_t k = BigEndian ? i : sizeof(T) - 1 - i;
    u = static_cast<U>((u << 8) | static_cast<U>(std::to_integer<uint8_t>(b[k])));
  }
  T v;
  std::memcpy(&v, &u, sizeof(T));  // two's complement / IEEE-754 bit pattern
  return v;
}

template <class T, bool BigEndian>
std::array<std::byte, sizeof(T)> encode_int(T v) noexcept {
  using U = UnsignedOfSize<sizeof(T)>;
  U u;
  std::memcpy(&u, &v, sizeof(T));
  std::array<std::byte, sizeof(T)> b;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    std::size_t k = BigEndian ? sizeof(T) - 1 - i : i;
    b[k] = static_cast<std::byte>(static_cast<uint8_t>(u));
    u = static_cast<U>(u >> 4 >> 4);  // two shifts: no "shift >= width" for 8-bit U
  }
  return b;
}

template <class R, class T, bool BigEndian>
struct ReadInt {
  R* r;
  std::array<std::byte, sizeof(T)> buf{};
  std::size_t filled = 0;
  ChildOp<read_op_t<R>> op{};

  Poll<io::Result<T>> poll(task::Context& cx) {
    return map_ok(poll_read_exact(cx, *r, op, std::span<std::byte>(buf), filled),
                  [&] { return decode_int<T, BigEndian>(buf); });
  }
};

template <class W, std::size_t N>
struct WriteInt {
  W* w;
  std::array<std::byte, N> buf;
  std::size_t done = 0;
  ChildOp<write_op_t<W>> op{};

  Poll<io::Result<void>> poll(task::Context& cx) {
    return poll_write_all(cx, *w, op, std::span<const std::byte>(buf), done);
  }
};

}  // namespace tokio::detail

namespace tokio::io {

// Generic forms: io::read_int<uint32_t>(r), io::write_int<int16_t, false>(w, v).
template <class T, bool BigEndian = true, AsyncRead R>
detail::AdaptorOp<detail::ReadInt<R, T, BigEndian>> read_int(R& r) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 ||
                sizeof(T) == 16);
  return {{&r}};
}
template <class T, bool BigEndian = true, AsyncWrite W>
detail::AdaptorOp<detail::WriteInt<W, sizeof(T)>> write_int(W& w, T v) {
  return {{&w, detail::encode_int<T, BigEndian>(v)}};
}

#define TOKIO_IO_INT_FNS(name, T)     \
  template <AsyncRead R>              \
  auto read_##name(R& r) {            \
    return read_int<T, true>(r);      \
  }                                   \
  template <AsyncRead R>              \
  auto read_##name##_le(R& r) {       \
    return read_int<T, false>(r);     \
  }                                   \
  template <AsyncWrite W>             \
  auto write_##name(W& w, T v) {      \
    return write_int<T, true>(w, v);  \
  }                                   \
  template <AsyncWrite W>             \
  auto write_##name##_le(W& w, T v) { \
    return write_int<T, false>(w, v); \
  }

template <AsyncRead R>
auto read_u8(R& r) {
  return read_int<uint8_t>(r);
}
template <AsyncRead R>
auto read_i8(R& r) {
  return read_int<int8_t>(r);
}
template <AsyncWrite W>
auto write_u8(W& w, uint8_t v) {
  return write_int<uint8_t>(w, v);
}
template <AsyncWrite W>
auto write_i8(W& w, int8_t v) {
  return write_int<int8_t>(w, v);
}
TOKIO_IO_INT_FNS(u16, uint16_t)
TOKIO_IO_INT_FNS(i16, int16_t)
TOKIO_IO_INT_FNS(u32, uint32_t)
TOKIO_IO_INT_FNS(i32, int32_t)
TOKIO_IO_INT_FNS(u64, uint64_t)
TOKIO_IO_INT_FNS(i64, int64_t)
TOKIO_IO_INT_FNS(u128, u128)
TOKIO_IO_INT_FNS(i128, i128)
TOKIO_IO_INT_FNS(f32, float)
TOKIO_IO_INT_FNS(f64, double)

#undef TOKIO_IO_INT_FNS

static_assert(sizeof(float) == 4 && sizeof(double) == 8);

}  // namespace tokio::io
