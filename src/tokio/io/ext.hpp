#pragma once
// io::Ext<Self>: Tokio's AsyncReadExt / AsyncWriteExt / AsyncBufReadExt methods as members
// of every reader and writer tokio.hpp defines.
//
// The rule: every extension method has both spellings, with the same semantics, cancel
// safety and result: the member `co_await s.read_exact(buf)` (as in Tokio) and the free
// function `co_await io::read_exact(s, buf)`, which also works for any user type that
// models io::AsyncRead / AsyncWrite / AsyncBufRead (a user type gets the members by deriving
// from io::Ext<Self>). The I/O primitives (read, write, write_vectored, flush, shutdown,
// fill_buf, consume) are members of each type. The methods that consume the reader (lines,
// split, take, chain) are rvalue members: `std::move(r).lines()` or
// `io::lines(std::move(r))`. Not a member: write_vectored (a primitive: only the types with
// a real gathering write have it; io::write_vectored(w, bufs) works on every writer).
//
// A member of a method the type cannot support (read_line on an unbuffered stream) fails
// to compile naming the missing concept, as the free function does.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_read_ext.hpp"
#include "tokio/io/int_io.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/seek.hpp"
#include "tokio/io/write_ext.hpp"

namespace tokio::io {

// take.hpp and chain.hpp (their types derive from Ext, so they come after it).
template <class R>
class Take;
template <class R>
Take<R> take(R&& r, uint64_t limit);
template <class A, class B>
class Chain;
template <class A, class B>
Chain<A, B> chain(A&& a, B&& b);

#define TOKIO_IO_EXT_INT(name, T)                                  \
  auto read_##name() { return io::read_##name(self()); }           \
  auto read_##name##_le() { return io::read_##name##_le(self()); } \
  auto write_##name(T v) { return io::write_##name(self(), v); }   \
  auto write_##name##_le(T v) { return io::write_##name##_le(self(), v); }

template <class Self>
class Ext {
 public:
  // AsyncReadExt
  auto read_exact(io::MutableBuffer buf) { return io::read_exact(self(), buf); }
  template <ByteContainer C>
  auto read_to_end(C& c) {
    return io::read_to_end(self(), c);
  }
  auto read_to_string(std::string& s) { return io::read_to_string(self(), s); }
  auto read_buf(ReadBuf& b) { return io::read_buf(self(), b); }
  template <ByteContainer C>
  auto read_buf(C& c) {
    return io::read_buf(self(), c);
  }
  auto read_u8() { return io::read_u8(self()); }
  auto read_i8() { return io::read_i8(self()); }

  // AsyncBufReadExt
  auto read_line(std::string& s) { return io::read_line(self(), s); }
  template <ByteContainer C>
  auto read_until(char delim, C& c) {
    return io::read_until(self(), delim, c);
  }
  template <ByteContainer C>
  auto read_until(std::byte delim, C& c) {
    return io::read_until(self(), delim, c);
  }
  // lines / split consume the reader, as in Tokio: `io::BufReader(s).lines()` on a temporary,
  // `std::move(r).lines()` on a variable. (io::lines(r) borrows an lvalue instead.)
  auto lines() && { return io::lines(std::move(self())); }
  auto split(char delim) && { return io::split(std::move(self()), delim); }
  auto split(std::byte delim) && { return io::split(std::move(self()), delim); }
  TOKIO_DETAIL_CONSUMES_SELF(lines, (),
                             "lines() takes the reader over, as in Tokio: write "
                             "std::move(reader).lines(), or io::lines(reader) to borrow it")
  TOKIO_DETAIL_CONSUMES_SELF(split, (char),
                             "split() takes the reader over, as in Tokio: write "
                             "std::move(reader).split(delim), or io::split(reader, delim) to "
                             "borrow it")
  TOKIO_DETAIL_CONSUMES_SELF(split, (std::byte),
                             "split() takes the reader over, as in Tokio: write "
                             "std::move(reader).split(delim), or io::split(reader, delim) to "
                             "borrow it")
  // take / chain consume the reader too (Tokio's AsyncReadExt::take / chain):
  // `std::move(r).take(n)`; io::take(r, n) borrows an lvalue instead.
  auto take(uint64_t limit) && { return io::take(std::move(self()), limit); }
  template <class Next>
  auto chain(Next&& next) && {
    return io::chain(std::move(self()), std::forward<Next>(next));
  }
  TOKIO_DETAIL_CONSUMES_SELF(take, (uint64_t),
                             "take() takes the reader over, as in Tokio: write "
                             "std::move(reader).take(n), or io::take(reader, n) to borrow it")

  // AsyncSeekExt (types with seek(): fs::File...)
  auto rewind() { return io::rewind(self()); }
  auto stream_position() { return io::stream_position(self()); }

  // AsyncWriteExt (a type with a faster write_all of its own, the sockets, hides this one)
  auto write_all(io::ConstBuffer buf) { return io::write_all(self(), buf); }
  auto write_all_vectored(std::span<IoSlice> bufs) { return io::write_all_vectored(self(), bufs); }
  template <io::Buf B>
  auto write_buf(B& b) {
    return io::write_buf(self(), b);
  }
  template <io::Buf B>
  auto write_all_buf(B& b) {
    return io::write_all_buf(self(), b);
  }
  auto write_u8(uint8_t v) { return io::write_u8(self(), v); }
  auto write_i8(int8_t v) { return io::write_i8(self(), v); }

  TOKIO_IO_EXT_INT(u16, uint16_t)
  TOKIO_IO_EXT_INT(i16, int16_t)
  TOKIO_IO_EXT_INT(u32, uint32_t)
  TOKIO_IO_EXT_INT(i32, int32_t)
  TOKIO_IO_EXT_INT(u64, uint64_t)
  TOKIO_IO_EXT_INT(i64, int64_t)
  TOKIO_IO_EXT_INT(u128, u128)
  TOKIO_IO_EXT_INT(i128, i128)
  TOKIO_IO_EXT_INT(f32, float)
  TOKIO_IO_EXT_INT(f64, double)

 private:
  Self& self() noexcept { return static_cast<Self&>(*this); }
};

#undef TOKIO_IO_EXT_INT

}  // namespace tokio::io
