#pragma once
// codec::BytesMut and codec::Bytes: the byte buffers of the codecs (the `bytes` crate's
// roles).
//
//   BytesMut buf = BytesMut::with_capacity(8192);
//   buf.put("PING\r\n");                   // append (grows as needed)
//   BytesMut frame = buf.split_to(4);      // O(1): the frame shares buf's storage
//   buf.advance(2);                        // O(1): drop the "\r\n"
//   Bytes shared = std::move(frame).freeze();   // immutable, cheap to copy
//
// Storage is one reference-counted block; a BytesMut is a window on it with exclusive
// rights over its own bytes and spare capacity. split_to / split_off / split hand a part
// of the window to a new BytesMut sharing the block (a reference count, no copy), and
// advance just moves the start. The space consumed at the front is reclaimed by reserve:
// when this BytesMut is the block's only user and the bytes it still holds are no more
// than the bytes consumed in front of them, they are moved to the start of the block
// (each byte consumed pays for at most one byte moved: amortised O(1), never a memmove
// of the whole buffer per frame); otherwise a new block (at least twice the old size) is
// allocated. A decoder can therefore cut frame after frame off the front of a read buffer
// without copying the rest.
//
// Bytes is an immutable view of a block (or of static data: from_static); copying it adds
// a reference. A BytesMut copy is a deep copy (as in Rust). The reference count is
// atomic: Bytes and BytesMut may move to and be dropped on other threads.
//
// Indexing out of range and advancing past the end throw std::out_of_range.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokio/codec/detail/buf_get.hpp"
#include "tokio/core/config.hpp"
#include "tokio/io/async_io.hpp"

namespace tokio::detail {

// A block of bytes shared by the Bytes/BytesMut windows on it. `refs` counts them: an
// increment (a new window) needs no ordering (the new window is made from an existing
// one); a decrement is release, and the one that drops it to zero acquires before
// freeing, so every window's writes happen before the block is freed. `cap` bytes follow
// the header.
struct BytesBlock {
  std::atomic<std::size_t> refs;
  std::size_t cap;
  std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
};
static_assert(sizeof(BytesBlock) % 16 == 0);

BytesBlock* bytes_block_alloc(std::size_t cap);
void bytes_block_free(BytesBlock* b) noexcept;
[[noreturn]] void throw_bytes_range(const char* what);

inline void bytes_block_ref(BytesBlock* b) noexcept {
  if (b) b->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void bytes_block_unref(BytesBlock* b) noexcept {
  if (!b) return;
  // Sole owner: no other window exists, so none can be made concurrently (acquire: their
  // writes, before they were dropped, happen before the free).
  // Otherwise the last release frees: acq_rel, so the other owners' releases (their
  // decrements) happen before the free. (No fence: ThreadSanitizer does not model them.)
  if (b->refs.load(std::memory_order_acquire) == 1 ||
      b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    bytes_block_free(b);
  }
}
inline bool bytes_block_unique(const BytesBlock* b) noexcept {
  return b && b->refs.load(std::memory_order_acquire) == 1;
}

}  // namespace tokio::detail

namespace tokio::codec {

class BytesMut;

// An immutable, cheaply copyable byte string. The get_ readers (Buf's: get_u32,
// get_i64_le, copy_to_bytes, ...) consume from the front: see detail/buf_get.hpp.
class Bytes : public detail::BufGet<Bytes> {
 public:
  Bytes() noexcept = default;
  // A copy of `s` in a new block.
  explicit Bytes(std::string_view s);
  // `s`: any contiguous bytes (a span, std::vector<uint8_t>, std::string, a literal's text;
  // io::ConstBuffer), as Rust's &[u8].
  static Bytes copy_from_slice(io::ConstBuffer s);
  // Rust's Bytes::from(String / Vec<u8>): a copy here (the block layout is the library's
  // own). For a string literal, from_static does not copy.
  static Bytes from(std::string_view s) { return Bytes(s); }
  // Any other contiguous bytes: std::vector<uint8_t>, std::span<const std::byte>, ...
  template <detail::const_byte_container C>
    requires(!std::is_convertible_v<const C&, std::string_view>)
  static Bytes from(const C& c) { return copy_from_slice(c); }
  // Refers to `s` without copying: it must outlive every copy (a string literal).
  static Bytes from_static(std::string_view s) noexcept {
    Bytes b;
    b.ptr_ = reinterpret_cast<const std::byte*>(s.data());
    b.len_ = s.size();
    return b;
  }

  Bytes(const Bytes& o) noexcept : blk_(o.blk_), ptr_(o.ptr_), len_(o.len_) {
    detail::bytes_block_ref(blk_);
  }
  Bytes(Bytes&& o) noexcept
      : blk_(detail::exchange(o.blk_, nullptr)),
        ptr_(detail::exchange(o.ptr_, nullptr)),
        len_(detail::exchange(o.len_, 0)) {}
  Bytes& operator=(Bytes o) noexcept {
    detail::swap_values(blk_, o.blk_);
    detail::swap_values(ptr_, o.ptr_);
    detail::swap_values(len_, o.len_);
    return *this;
  }
  ~Bytes() { detail::bytes_block_unref(blk_); }
  // Rust's clone(): the same as a copy (another handle on the same bytes: no copy of the data).
  Bytes clone() const noexcept { return *this; }

  std::size_t len() const noexcept { return len_; }
  std::size_t size() const noexcept { return len_; }
  bool is_empty() const noexcept { return len_ == 0; }
  bool empty() const noexcept { return len_ == 0; }
  const std::byte* data() const noexcept { return ptr_; }
  const std::byte* begin() const noexcept { return ptr_; }
  const std::byte* end() const noexcept { return ptr_ + len_; }
  std::byte operator[](std::size_t i) const {
    if (i >= len_) detail::throw_bytes_range("Bytes::operator[]");
    return ptr_[i];
  }
  std::span<const std::byte> as_span() const noexcept { return {ptr_, len_}; }
  operator std::span<const std::byte>() const noexcept { return {ptr_, len_}; }  // NOLINT
  std::string_view as_string_view() const noexcept {
    return {reinterpret_cast<const char*>(ptr_), len_};
  }
  explicit operator std::string_view() const noexcept { return as_string_view(); }
  std::string to_string() const;
  // A copy of the bytes (Rust's to_vec(); the library's byte type is std::byte).
  std::vector<std::byte> to_vec() const;
  // Whether this is the only handle on its storage (false for from_static).
  bool is_unique() const noexcept { return detail::bytes_block_unique(blk_); }

  // The bytes [begin, end) as a Bytes sharing this one's storage.
  Bytes slice(std::size_t begin, std::size_t end) const {
    if (begin > end || end > len_) detail::throw_bytes_range("Bytes::slice");
    Bytes b(*this);
    b.ptr_ += begin;
    b.len_ = end - begin;
    return b;
  }
  // The part of this Bytes that `subset` views (a span into its bytes, e.g. from a parser
  // that returned string_views), sharing the storage; std::out_of_range when it is not
  // inside. An empty subset gives an empty Bytes.
  Bytes slice_ref(std::span<const std::byte> subset) const {
    if (subset.empty()) return Bytes();
    if (subset.data() < ptr_ || subset.data() + subset.size() > ptr_ + len_) {
      detail::throw_bytes_range("Bytes::slice_ref (the subset is not inside this Bytes)");
    }
    const auto begin = static_cast<std::size_t>(subset.data() - ptr_);
    return slice(begin, begin + subset.size());
  }
  Bytes slice_ref(std::string_view subset) const {
    return slice_ref(std::as_bytes(std::span(subset.data(), subset.size())));
  }
  // Splits off and returns the first `at` bytes; this keeps the rest.
  Bytes split_to(std::size_t at) {
    if (at > len_) detail::throw_bytes_range("Bytes::split_to");
    Bytes b = slice(0, at);
    ptr_ += at;
    len_ -= at;
    return b;
  }
  // Splits off and returns the bytes from `at`; this keeps the first `at`.
  Bytes split_off(std::size_t at) {
    if (at > len_) detail::throw_bytes_range("Bytes::split_off");
    Bytes b = slice(at, len_);
    len_ = at;
    return b;
  }
  void advance(std::size_t n) {
    if (n > len_) detail::throw_bytes_range("Bytes::advance");
    ptr_ += n;
    len_ -= n;
  }
  void truncate(std::size_t n) noexcept {
    if (n < len_) len_ = n;
  }
  void clear() noexcept { len_ = 0; }

  friend bool operator==(const Bytes& a, const Bytes& b) noexcept {
    return a.len_ == b.len_ && (a.len_ == 0 || std::memcmp(a.ptr_, b.ptr_, a.len_) == 0);
  }
  friend bool operator==(const Bytes& a, std::string_view b) noexcept {
    return a.as_string_view() == b;
  }

 private:
  friend class BytesMut;
  detail::BytesBlock* blk_ = nullptr;  // null: static data or empty
  const std::byte* ptr_ = nullptr;
  std::size_t len_ = 0;
};

// A growable byte buffer with O(1) splits (see the top of this file). Reads with the
// get_ methods of Buf (detail/buf_get.hpp), writes with the put_ methods of BufMut.
class BytesMut : public detail::BufGet<BytesMut> {
 public:
  BytesMut() noexcept = default;
  static BytesMut with_capacity(std::size_t n) {
    BytesMut b;
    if (n > 0) b.reserve(n);
    return b;
  }
  // `n` zero bytes.
  static BytesMut zeroed(std::size_t n) {
    BytesMut b = with_capacity(n);
    b.resize(n);
    return b;
  }
  explicit BytesMut(std::string_view s) { put(s); }
  // Rust's BytesMut::from(&str / &[u8]): a copy.
  static BytesMut from(std::string_view s) { return BytesMut(s); }
  // Any other contiguous bytes: std::vector<uint8_t>, std::span<const std::byte>, ...
  template <detail::const_byte_container C>
    requires(!std::is_convertible_v<const C&, std::string_view>)
  static BytesMut from(const C& c) {
    BytesMut b;
    b.extend_from_slice(c);
    return b;
  }
  BytesMut(const BytesMut& o) { extend_from_slice(o.as_span()); }
  BytesMut& operator=(const BytesMut& o) {
    if (this != &o) {
      clear();
      extend_from_slice(o.as_span());
    }
    return *this;
  }
  BytesMut(BytesMut&& o) noexcept
      : blk_(detail::exchange(o.blk_, nullptr)),
        ptr_(detail::exchange(o.ptr_, nullptr)),
        len_(detail::exchange(o.len_, 0)),
        cap_(detail::exchange(o.cap_, 0)) {}
  BytesMut& operator=(BytesMut&& o) noexcept {
    if (this != &o) {
      detail::bytes_block_unref(blk_);
      blk_ = detail::exchange(o.blk_, nullptr);
      ptr_ = detail::exchange(o.ptr_, nullptr);
      len_ = detail::exchange(o.len_, 0);
      cap_ = detail::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~BytesMut() { detail::bytes_block_unref(blk_); }

  std::size_t len() const noexcept { return len_; }
  std::size_t size() const noexcept { return len_; }
  bool is_empty() const noexcept { return len_ == 0; }
  bool empty() const noexcept { return len_ == 0; }
  // Bytes this BytesMut can hold without reallocating (from its current start).
  std::size_t capacity() const noexcept { return cap_; }
  // How many more bytes the put_ methods accept (they grow the buffer): BufMut's.
  std::size_t remaining_mut() const noexcept { return SIZE_MAX - len_; }
  // A copy of the bytes (Rust's to_vec()).
  std::vector<std::byte> to_vec() const;
  std::byte* data() noexcept { return ptr_; }
  const std::byte* data() const noexcept { return ptr_; }
  std::byte* begin() noexcept { return ptr_; }
  std::byte* end() noexcept { return ptr_ + len_; }
  const std::byte* begin() const noexcept { return ptr_; }
  const std::byte* end() const noexcept { return ptr_ + len_; }
  std::byte& operator[](std::size_t i) {
    if (i >= len_) detail::throw_bytes_range("BytesMut::operator[]");
    return ptr_[i];
  }
  std::byte operator[](std::size_t i) const {
    if (i >= len_) detail::throw_bytes_range("BytesMut::operator[]");
    return ptr_[i];
  }
  std::span<std::byte> as_span() noexcept { return {ptr_, len_}; }
  std::span<const std::byte> as_span() const noexcept { return {ptr_, len_}; }
  operator std::span<const std::byte>() const noexcept { return {ptr_, len_}; }  // NOLINT
  std::string_view as_string_view() const noexcept {
    return {reinterpret_cast<const char*>(ptr_), len_};
  }
  explicit operator std::string_view() const noexcept { return as_string_view(); }
  std::string to_string() const;

  // Makes room for at least `additional` more bytes (see the top of this file).
  void reserve(std::size_t additional) {
    if (cap_ - len_ < additional) reserve_slow(additional);
  }

  // --- appending
  // `s`: any contiguous bytes, as Rust's &[u8] (io::ConstBuffer: a span, std::vector<uint8_t>,
  // std::string, std::string_view, another BytesMut; a literal or char array is its text up
  // to the NUL, as b"..." is).
  // `s` may be this buffer's own bytes (`b.extend_from_slice(b.as_span())`, as
  // std::string::append(s) allows): growing then copies them before the old block goes.
  void extend_from_slice(io::ConstBuffer s) {
    if (cap_ - len_ < s.size()) {
      if (TOKIO_UNLIKELY(in_block(s.data()))) {
        extend_from_own(s);
        return;
      }
      reserve_slow(s.size());
    }
    if (!s.empty()) std::memcpy(ptr_ + len_, s.data(), s.size());
    len_ += s.size();
  }
  void put_slice(io::ConstBuffer s) { extend_from_slice(s); }
  void put(io::ConstBuffer s) { extend_from_slice(s); }
  void put_u8(uint8_t v) {
    reserve(1);
    ptr_[len_++] = std::byte{v};
  }
  // An unsigned integer in its low `nbytes` bytes (0..8; 0 writes nothing), big- or
  // little-endian.
  void put_uint(uint64_t v, std::size_t nbytes) { put_int_bytes(v, nbytes, true); }
  void put_uint_le(uint64_t v, std::size_t nbytes) { put_int_bytes(v, nbytes, false); }
  void put_u16(uint16_t v) { put_int_bytes(v, 2, true); }
  void put_u16_le(uint16_t v) { put_int_bytes(v, 2, false); }
  void put_u32(uint32_t v) { put_int_bytes(v, 4, true); }
  void put_u32_le(uint32_t v) { put_int_bytes(v, 4, false); }
  void put_u64(uint64_t v) { put_int_bytes(v, 8, true); }
  void put_u64_le(uint64_t v) { put_int_bytes(v, 8, false); }
  // Signed and floating-point forms: the same bytes as the unsigned of that width (two's
  // complement; IEEE 754 bits).
  void put_i8(int8_t v) { put_u8(static_cast<uint8_t>(v)); }
  void put_i16(int16_t v) { put_u16(static_cast<uint16_t>(v)); }
  void put_i16_le(int16_t v) { put_u16_le(static_cast<uint16_t>(v)); }
  void put_i32(int32_t v) { put_u32(static_cast<uint32_t>(v)); }
  void put_i32_le(int32_t v) { put_u32_le(static_cast<uint32_t>(v)); }
  void put_i64(int64_t v) { put_u64(static_cast<uint64_t>(v)); }
  void put_i64_le(int64_t v) { put_u64_le(static_cast<uint64_t>(v)); }
  void put_int(int64_t v, std::size_t nbytes) { put_uint(static_cast<uint64_t>(v), nbytes); }
  void put_int_le(int64_t v, std::size_t nbytes) { put_uint_le(static_cast<uint64_t>(v), nbytes); }
  void put_f32(float v) { put_u32(std::bit_cast<uint32_t>(v)); }
  void put_f32_le(float v) { put_u32_le(std::bit_cast<uint32_t>(v)); }
  void put_f64(double v) { put_u64(std::bit_cast<uint64_t>(v)); }
  void put_f64_le(double v) { put_u64_le(std::bit_cast<uint64_t>(v)); }
  // `count` copies of the byte `v` (BufMut::put_bytes).
  void put_bytes(uint8_t v, std::size_t count) { resize(len_ + count, std::byte{v}); }

  // --- writing into the spare capacity (reads land here)
  // The bytes after the data that this BytesMut may fill (capacity() - len()).
  std::span<std::byte> spare_capacity_mut() noexcept { return {ptr_ + len_, cap_ - len_}; }
  // Marks `n` bytes of spare_capacity_mut() as data.
  void advance_mut(std::size_t n) {
    if (n > cap_ - len_) detail::throw_bytes_range("BytesMut::advance_mut");
    len_ += n;
  }

  // --- taking bytes off
  // Returns the first `at` bytes (sharing the storage); this keeps the rest.
  BytesMut split_to(std::size_t at) {
    if (at > len_) detail::throw_bytes_range("BytesMut::split_to");
    BytesMut head = share(ptr_, at, at);
    ptr_ += at;
    len_ -= at;
    cap_ -= at;
    return head;
  }
  // Returns the bytes from `at` on (and the spare capacity); this keeps the first `at`
  // bytes of the window. As bytes' split_off, `at` may reach into the spare capacity (up
  // to capacity()): this keeps its bytes and room up to `at`, the result is empty.
  BytesMut split_off(std::size_t at) {
    if (at > cap_) detail::throw_bytes_range("BytesMut::split_off");
    BytesMut tail = share(ptr_ + at, len_ > at ? len_ - at : 0, cap_ - at);
    if (len_ > at) len_ = at;
    cap_ = at;
    return tail;
  }
  // Returns all the bytes; this keeps the spare capacity.
  BytesMut split() {
    BytesMut all = share(ptr_, len_, len_);
    ptr_ += len_;
    cap_ -= len_;
    len_ = 0;
    return all;
  }
  // Takes back bytes split off this buffer: O(1) when `other` begins where this buffer's
  // window ends in the same storage (split_off, or split_to seen from the front part), else
  // its bytes are appended (a copy). An empty buffer simply becomes `other`.
  void unsplit(BytesMut other) {
    if (len_ == 0) {
      *this = std::move(other);
      return;
    }
    if (blk_ != nullptr && blk_ == other.blk_ && cap_ == len_ && ptr_ + len_ == other.ptr_) {
      len_ += other.len_;
      cap_ += other.cap_;  // `other` keeps only its block reference, dropped when it goes
      return;
    }
    extend_from_slice(other.as_span());
  }
  // Drops the first `n` bytes (O(1)).
  void advance(std::size_t n) {
    if (n > len_) detail::throw_bytes_range("BytesMut::advance");
    ptr_ += n;
    len_ -= n;
    cap_ -= n;
  }
  void truncate(std::size_t n) noexcept {
    if (n < len_) len_ = n;
  }
  void clear() noexcept { len_ = 0; }
  void resize(std::size_t n, std::byte fill = std::byte{0}) {
    if (n > len_) {
      reserve(n - len_);
      std::memset(ptr_ + len_, std::to_integer<int>(fill), n - len_);
    }
    len_ = n;
  }
  // Rust's `b.resize(n, 0)` / `b.resize(n, b'x')`: the fill as a number or a char.
  void resize(std::size_t n, uint8_t fill) { resize(n, std::byte{fill}); }

  // An immutable Bytes of the same bytes (no copy).
  template <class Self = BytesMut>
  Bytes freeze() const& {
    static_assert(detail::consumes_self<Self>,
                  "BytesMut::freeze() consumes the buffer: write std::move(buf).freeze(), or "
                  "buf.split().freeze() to keep using buf (Rust moves it implicitly)");
    __builtin_unreachable();  // never instantiated without failing above
  }
  Bytes freeze() && noexcept {
    Bytes b;
    b.blk_ = detail::exchange(blk_, nullptr);
    b.ptr_ = detail::exchange(ptr_, nullptr);
    b.len_ = detail::exchange(len_, 0);
    cap_ = 0;
    return b;
  }

  friend bool operator==(const BytesMut& a, const BytesMut& b) noexcept {
    return a.len_ == b.len_ && (a.len_ == 0 || std::memcmp(a.ptr_, b.ptr_, a.len_) == 0);
  }
  friend bool operator==(const BytesMut& a, std::string_view b) noexcept {
    return a.as_string_view() == b;
  }

 private:
  BytesMut share(std::byte* p, std::size_t len, std::size_t cap) const noexcept {
    BytesMut b;
    if (!blk_) return b;
    detail::bytes_block_ref(blk_);
    b.blk_ = blk_;
    b.ptr_ = p;
    b.len_ = len;
    b.cap_ = cap;
    return b;
  }
  void put_int_bytes(uint64_t v, std::size_t nbytes, bool big_endian) {
    if (nbytes > 8) detail::throw_bytes_range("BytesMut::put_uint width");
    reserve(nbytes);
    for (std::size_t i = 0; i < nbytes; ++i) {
      std::size_t shift = 8 * (big_endian ? nbytes - 1 - i : i);
      ptr_[len_ + i] = std::byte(static_cast<uint8_t>(v >> shift));
    }
    len_ += nbytes;
  }
  void reserve_slow(std::size_t additional);
  // Whether `p` points into this buffer's block (its consumed front included).
  bool in_block(const std::byte* p) const noexcept;
  // extend_from_slice of bytes in this buffer's own block, which growing may move or free.
  void extend_from_own(io::ConstBuffer s);

  detail::BytesBlock* blk_ = nullptr;
  std::byte* ptr_ = nullptr;  // start of this window's data
  std::size_t len_ = 0;       // data bytes
  std::size_t cap_ = 0;       // bytes of the block this window owns from ptr_ (>= len_)
};

// Reads an unsigned integer of `nbytes` bytes (1..8) at p, big- or little-endian.
inline uint64_t get_uint(const std::byte* p, std::size_t nbytes, bool big_endian) noexcept {
  return detail::load_uint(p, nbytes, big_endian);
}

}  // namespace tokio::codec
