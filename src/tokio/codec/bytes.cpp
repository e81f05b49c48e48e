#include "tokio/codec/bytes.hpp"

#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace tokio::detail {

BytesBlock* bytes_block_alloc(std::size_t cap) {
  if (cap > std::numeric_limits<std::size_t>::max() - sizeof(BytesBlock)) throw std::bad_alloc();
  void* p = ::operator new(sizeof(BytesBlock) + cap);
  auto* b = static_cast<BytesBlock*>(p);
  new (&b->refs) std::atomic<std::size_t>(1);
  b->cap = cap;
  return b;
}

void bytes_block_free(BytesBlock* b) noexcept {
  b->refs.~atomic();
  ::operator delete(static_cast<void*>(b));
}

void throw_bytes_range(const char* what) {
  throw std::out_of_range(std::string("tokio::codec: ") + what + ": out of range");
}

void throw_buf_short(const char* call, std::size_t need, std::size_t have) {
  throw std::out_of_range("tokio::codec: " + std::string(call) + " needs " + std::to_string(need) +
                          " bytes but the buffer holds " + std::to_string(have) +
                          " (check len() first; a Decoder returns nullopt to wait for more)");
}

void throw_buf_width(const char* call, std::size_t nbytes) {
  throw std::out_of_range("tokio::codec: " + std::string(call) + "(" + std::to_string(nbytes) +
                          "): an integer is at most 8 bytes wide");
}

}  // namespace tokio::detail

namespace tokio::codec {

Bytes::Bytes(std::string_view s)
    : Bytes(copy_from_slice(std::as_bytes(std::span(s.data(), s.size())))) {}
std::string Bytes::to_string() const { return std::string(as_string_view()); }
std::vector<std::byte> Bytes::to_vec() const { return {ptr_, ptr_ + len_}; }

Bytes Bytes::copy_from_slice(io::ConstBuffer s) {
  Bytes b;
  if (s.empty()) return b;
  b.blk_ = detail::bytes_block_alloc(s.size());
  std::memcpy(b.blk_->data(), s.data(), s.size());
  b.ptr_ = b.blk_->data();
  b.len_ = s.size();
  return b;
}

std::vector<std::byte> BytesMut::to_vec() const { return {ptr_, ptr_ + len_}; }
std::string BytesMut::to_string() const { return std::string(as_string_view()); }

bool BytesMut::in_block(const std::byte* p) const noexcept {
  if (blk_ == nullptr || p == nullptr) return false;
  auto at = reinterpret_cast<uintptr_t>(p);
  auto base = reinterpret_cast<uintptr_t>(blk_->data());
  return at >= base && at < base + blk_->cap;
}

void BytesMut::extend_from_own(io::ConstBuffer s) {
  // Copied first: reserve_slow may move the bytes down the block or into a new one.
  std::vector<std::byte> copy(s.data(), s.data() + s.size());
  reserve_slow(copy.size());
  std::memcpy(ptr_ + len_, copy.data(), copy.size());
  len_ += copy.size();
}

void BytesMut::reserve_slow(std::size_t additional) {
  if (additional > std::numeric_limits<std::size_t>::max() / 2 - len_) {
    throw std::length_error("tokio::codec::BytesMut::reserve: capacity overflow");
  }
  const std::size_t need = len_ + additional;
  if (detail::bytes_block_unique(blk_)) {
    std::byte* base = blk_->data();
    const std::size_t front = static_cast<std::size_t>(ptr_ - base);
    // Reclaim the consumed front of the block when the data to move is no larger than
    // it: the move is paid for by the bytes consumed since the last one (amortised O(1)).
    if (blk_->cap >= need && front >= len_) {
      if (len_ > 0) std::memmove(base, ptr_, len_);
      ptr_ = base;
      cap_ = blk_->cap;
      return;
    }
  }
  // A new block. Growing our own block doubles it (amortised O(1) appends); leaving a
  // block still shared with split-off frames takes one of the same size, so a buffer that
  // hands out every byte it reads (BytesCodec) does not grow for ever.
  const std::size_t old = blk_ ? blk_->cap : 0;
  const std::size_t grown = detail::bytes_block_unique(blk_) ? 2 * old : old;
  std::size_t cap = need > grown ? need : grown;
  if (cap < 64) cap = 64;
  detail::BytesBlock* nb = detail::bytes_block_alloc(cap);
  if (len_ > 0) std::memcpy(nb->data(), ptr_, len_);
  detail::bytes_block_unref(blk_);
  blk_ = nb;
  ptr_ = nb->data();
  cap_ = cap;
}

}  // namespace tokio::codec
