#pragma once
// io::AsyncRead / io::AsyncWrite / io::AsyncBufRead: the byte-stream concepts every I/O
// utility is written against (TcpStream, UnixStream, DuplexStream, BufReader, stdin/stdout...).
//
//   AsyncRead     `co_await r.read(std::span<std::byte>)`        -> io::Result<std::size_t>
//                 (the library's own readers take any byte buffer: io::MutableBuffer below)
//                 (0 bytes = end of stream, or an empty buffer; cancel-safe: no data is lost
//                 when the await is destroyed before it completes)
//   AsyncWrite    `co_await w.write(std::span<const std::byte>)` -> io::Result<std::size_t>
//                 (the library's writers take any byte buffer or text: io::ConstBuffer)
//                 `co_await w.flush()`                           -> io::Result<void>
//                 `co_await w.shutdown()`                        -> io::Result<void>
//                 (write is cancel-safe: a destroyed write wrote nothing)
//   AsyncBufRead  an AsyncRead with an internal buffer:
//                 `co_await r.fill_buf()` -> io::Result<std::span<const std::byte>> (the
//                 buffered bytes, filling the buffer first when it is empty; empty = EOF),
//                 `r.consume(n)` marks n of them as used. fill_buf is cancel-safe.
//   optional      `co_await w.write_vectored(std::span<const IoSlice>)` -> io::Result<size_t>
//                 (gathers several buffers in one write; io::write_vectored falls back to
//                 writing the first non-empty buffer when a writer lacks it)
//
// A stream may have one read and one write in flight at the same time (copy_bidirectional
// and split rely on it): the two operations must not share mutable state unguarded. Their
// polls never run concurrently unless the stream is shared across tasks (io::split guards
// that case with a lock).
//
// The operations return awaitables. Leaves (classes deriving from detail::Leaf) are polled
// in place by adaptors; any other tokio awaitable (e.g. a Task) works too, at the price of a
// coroutine frame per operation when an adaptor wraps it.

#include <sys/uio.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/error.hpp"
#include "tokio/core/task.hpp"

namespace tokio::detail {

template <class C>
inline constexpr bool is_std_span_v = false;
template <class T, std::size_t N>
inline constexpr bool is_std_span_v<std::span<T, N>> = true;

// The element types a byte buffer may have: what Rust spells u8.
template <class T>
inline constexpr bool is_byte_like_v =
    std::is_same_v<T, std::byte> || std::is_same_v<T, char> || std::is_same_v<T, unsigned char> ||
    std::is_same_v<T, signed char> || std::is_same_v<T, char8_t>;

template <class C>
concept contiguous_sized = requires(C& c) {
  std::data(c);
  std::size(c);
};
template <class C>
using buffer_element_t = std::remove_pointer_t<decltype(std::data(std::declval<C&>()))>;

// A contiguous, sized range of bytes: std::vector<uint8_t>, std::string, std::array<char, N>,
// unsigned char[N], std::span<std::byte>, codec::BytesMut...
template <class C>
concept byte_buffer = contiguous_sized<C> && is_byte_like_v<std::remove_cv_t<buffer_element_t<C>>>;

template <class C>
inline constexpr bool is_char_array_v = false;
template <class T, std::size_t N>
inline constexpr bool is_char_array_v<T[N]> =
    std::is_same_v<std::remove_cv_t<T>, char> || std::is_same_v<std::remove_cv_t<T>, char8_t>;

template <class T>
concept byte_like = is_byte_like_v<T>;

// A byte range a read may fill in place: not const, and not a span (spans, views, are
// taken by value).
template <class C>
concept mutable_byte_container = byte_buffer<C> && !std::is_const_v<buffer_element_t<C>> &&
                                 !is_std_span_v<std::remove_cv_t<C>> &&
                                 !std::is_base_of_v<std::span<std::byte>, std::remove_cv_t<C>>;
// The same as a temporary (C deduced from an rvalue): refused, with a message.
template <class C>
concept temporary_byte_container = !std::is_lvalue_reference_v<C> && mutable_byte_container<C>;
// A byte range a write may send; a char array is a C string instead (see ConstBuffer).
template <class C>
concept const_byte_container = byte_buffer<const C> && !is_char_array_v<C>;

}  // namespace tokio::detail

namespace tokio::io {

template <class R>
concept AsyncRead = requires(R& r, std::span<std::byte> buf) {
  requires std::is_same_v<detail::await_result_t<decltype(r.read(buf))>, Result<std::size_t>>;
};

template <class W>
concept AsyncWrite = requires(W& w, std::span<const std::byte> buf) {
  requires std::is_same_v<detail::await_result_t<decltype(w.write(buf))>, Result<std::size_t>>;
  requires std::is_same_v<detail::await_result_t<decltype(w.flush())>, Result<void>>;
  requires std::is_same_v<detail::await_result_t<decltype(w.shutdown())>, Result<void>>;
};

// What a reader knows of how many more bytes it will yield (the shape of Rust's
// Iterator::size_hint): at least `lower`, at most `upper` (none: unbounded or unknown).
// Readers that know offer `SizeHint size_hint() const`; io::copy uses it to reserve room in a
// writer that can grow (VecWriter::reserve) once, instead of growing it a doubling at a time.
struct SizeHint {
  uint64_t lower = 0;
  std::optional<uint64_t> upper;
};
template <class R>
concept HasSizeHint = requires(const R& r) {
  { r.size_hint() } -> std::same_as<SizeHint>;
};

template <class R>
concept AsyncBufRead = AsyncRead<R> && requires(R& r, std::size_t n) {
  requires std::is_same_v<detail::await_result_t<decltype(r.fill_buf())>,
                          Result<std::span<const std::byte>>>;
  r.consume(n);
};

// One buffer of a vectored write. Layout-identical to struct iovec (it holds one), so a
// std::span<const IoSlice> can be handed to writev/sendmsg unchanged (as_iovecs).
class IoSlice {
 public:
  constexpr IoSlice() noexcept : v_{nullptr, 0} {}
  IoSlice(std::span<const std::byte> s) noexcept  // NOLINT: implicit, like Rust's IoSlice::new
      : v_{const_cast<std::byte*>(s.data()), s.size()} {}
  IoSlice(std::string_view s) noexcept  // NOLINT
      : v_{const_cast<char*>(s.data()), s.size()} {}
  // Any contiguous bytes the caller holds (std::string, std::vector<uint8_t>,
  // std::array<char, N>, BytesMut...), as io::ConstBuffer takes them: `IoSlice s[] = {a, b}`.
  template <detail::const_byte_container C>
  IoSlice(const C& c) noexcept  // NOLINT: implicit, as Rust's IoSlice::new(&buf)
      : v_{const_cast<void*>(static_cast<const void*>(std::data(c))), std::size(c)} {}

  const std::byte* data() const noexcept { return static_cast<const std::byte*>(v_.iov_base); }
  std::size_t size() const noexcept { return v_.iov_len; }
  bool empty() const noexcept { return v_.iov_len == 0; }
  std::span<const std::byte> bytes() const noexcept { return {data(), size()}; }
  // Drops the first n bytes (n <= size()).
  void advance(std::size_t n) noexcept {
    v_.iov_base = static_cast<char*>(v_.iov_base) + n;
    v_.iov_len -= n;
  }

 private:
  struct iovec v_;
};
static_assert(sizeof(IoSlice) == sizeof(struct iovec) && std::is_standard_layout_v<IoSlice>);

// The slices as the iovec array writev(2) takes (IoSlice and iovec are
// pointer-interconvertible: a standard-layout class and its only member).
inline const struct iovec* as_iovecs(std::span<const IoSlice> s) noexcept {
  return reinterpret_cast<const struct iovec*>(s.data());
}

template <class W>
concept AsyncWriteVectored = AsyncWrite<W> && requires(W& w, std::span<const IoSlice> bufs) {
  requires std::is_same_v<detail::await_result_t<decltype(w.write_vectored(bufs))>,
                          Result<std::size_t>>;
};
// Rust's `w.is_write_vectored()`: whether w gathers every slice in one write (the
// AsyncWriteVectored concept; io::write_vectored writes only the first non-empty slice of
// a writer without it).
template <class W>
constexpr bool is_write_vectored(const W&) noexcept {
  return AsyncWriteVectored<W>;
}

}  // namespace tokio::io

namespace tokio::io {

// The buffer parameter of every read (Rust's &mut [u8]): any contiguous range of bytes the
// caller holds, `std::vector<uint8_t>`, `std::string`, `std::array<char, N>`,
// `unsigned char[N]`, `std::span<std::byte>` (a span may be a temporary: it is a view; a
// temporary container may not, the bytes read into it would be lost). It is a
// std::span<std::byte> over the range's bytes.
class MutableBuffer : public std::span<std::byte> {
 public:
  MutableBuffer() noexcept = default;
  // {pointer, length}, as `s.read({buf, n})`.
  template <detail::byte_like T>
  MutableBuffer(T* p, std::size_t n) noexcept
      : std::span<std::byte>(reinterpret_cast<std::byte*>(p), n) {}
  template <detail::mutable_byte_container C>
  MutableBuffer(C& c) noexcept  // NOLINT: implicit, as &mut vec coerces to &mut [u8]
      : std::span<std::byte>(reinterpret_cast<std::byte*>(std::data(c)), std::size(c)) {}
  template <detail::byte_like T, std::size_t N>
  MutableBuffer(std::span<T, N> s) noexcept  // NOLINT: implicit
      : std::span<std::byte>(reinterpret_cast<std::byte*>(s.data()), s.size()) {}
  // A temporary container: what a read put in it would be destroyed with it.
  template <detail::temporary_byte_container C>
  MutableBuffer(C&&) noexcept {  // NOLINT: implicit, only to name the mistake
    static_assert(sizeof(C) == 0,
                  "tokio: reading into a temporary container loses the bytes read: declare the "
                  "buffer first (std::vector<uint8_t> buf(n); co_await s.read(buf))");
  }
};

// The buffer parameter of every write (Rust's &[u8]): any contiguous range of bytes,
// temporaries included (the write is awaited within the same statement), and C strings: a
// string literal or a `const char*` is its characters up to the NUL (`write_all("PING\r\n")`
// writes 6 bytes), and so is a char array, which decays to one; pass
// `std::span(array, n)` for binary data held in a char array. A std::span<const std::byte>.
class ConstBuffer : public std::span<const std::byte> {
 public:
  ConstBuffer() noexcept = default;
  // {pointer, length}, as `s.write_all({buf, n})`.
  template <detail::byte_like T>
  ConstBuffer(const T* p, std::size_t n) noexcept
      : std::span<const std::byte>(reinterpret_cast<const std::byte*>(p), n) {}
  ConstBuffer(const char* s) noexcept  // NOLINT: implicit (a C string)
      : ConstBuffer(s ? std::string_view(s) : std::string_view()) {}
  ConstBuffer(const char8_t* s) noexcept  // NOLINT: implicit (a UTF-8 C string)
      : ConstBuffer(s ? std::u8string_view(s) : std::u8string_view()) {}
  template <detail::const_byte_container C>
  ConstBuffer(const C& c) noexcept  // NOLINT: implicit, as &vec coerces to &[u8]
      : std::span<const std::byte>(reinterpret_cast<const std::byte*>(std::data(c)), std::size(c)) {
  }
};

}  // namespace tokio::io

namespace tokio::detail {

// The awaitable types a stream's operations return.
template <class R>
using read_op_t = decltype(std::declval<R&>().read(std::declval<std::span<std::byte>>()));
template <class W>
using write_op_t = decltype(std::declval<W&>().write(std::declval<std::span<const std::byte>>()));
template <class W>
using write_vectored_op_t =
    decltype(std::declval<W&>().write_vectored(std::declval<std::span<const io::IoSlice>>()));
template <class W>
using flush_op_t = decltype(std::declval<W&>().flush());
template <class W>
using shutdown_op_t = decltype(std::declval<W&>().shutdown());
template <class R>
using fill_buf_op_t = decltype(std::declval<R&>().fill_buf());

}  // namespace tokio::detail
