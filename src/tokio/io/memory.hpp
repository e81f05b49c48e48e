#pragma once
// In-memory streams: io::SliceReader reads from a byte span (Rust's `&[u8]` as AsyncRead
// and AsyncBufRead), io::VecWriter appends to a container (Rust's `Vec<u8>` as AsyncWrite).
// Both complete every operation at once.
//
//   io::SliceReader in(std::string_view("hello\nworld\n"));
//   std::vector<std::byte> out;
//   io::VecWriter w(out);
//   co_await io::copy(in, w);

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/read_ext.hpp"
#include "tokio/io/detail/ready_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

// Reads from borrowed memory, advancing through it. The memory must outlive the reader.
class SliceReader : public Ext<SliceReader> {
 public:
  SliceReader() noexcept = default;
  explicit SliceReader(io::ConstBuffer data) noexcept : data_(data) {}

  // The bytes not read yet.
  std::span<const std::byte> remaining() const noexcept { return data_; }
  SizeHint size_hint() const noexcept { return {data_.size(), data_.size()}; }

  auto read(io::MutableBuffer buf) {
    return detail::instant_op<false>([this, buf]() -> Result<std::size_t> {
      std::size_t n = buf.size() < data_.size() ? buf.size() : data_.size();
      if (n) std::memcpy(buf.data(), data_.data(), n);
      data_ = data_.subspan(n);
      return n;
    });
  }
  auto fill_buf() {
    return detail::instant_op<false>(
        [this]() -> Result<std::span<const std::byte>> { return data_; });
  }
  void consume(std::size_t n) noexcept {
    data_ = data_.subspan(n < data_.size() ? n : data_.size());
  }

 private:
  std::span<const std::byte> data_;
};

// Appends everything written to a borrowed container (std::vector<std::byte>,
// std::string, ...). flush and shutdown do nothing.
template <ByteContainer C>
class VecWriter : public Ext<VecWriter<C>> {
 public:
  explicit VecWriter(C& c) noexcept : c_(&c) {}

  C& get() const noexcept { return *c_; }
  // Room for `additional` more bytes (io::copy calls it with its reader's size hint).
  void reserve(std::size_t additional) { c_->reserve(c_->size() + additional); }

  auto write(io::ConstBuffer buf) {
    return detail::instant_op<false>([this, buf]() -> Result<std::size_t> {
      detail::append_bytes(*c_, buf);
      return buf.size();
    });
  }
  auto write_vectored(std::span<const IoSlice> bufs) {
    return detail::instant_op<false>([this, bufs]() -> Result<std::size_t> {
      std::size_t total = 0;
      for (const IoSlice& b : bufs) total += b.size();
      for (const IoSlice& b : bufs) detail::append_bytes(*c_, b.bytes());
      return total;
    });
  }
  detail::NothingToDoOp flush() noexcept { return detail::NothingToDoOp({}); }
  detail::NothingToDoOp shutdown() noexcept { return detail::NothingToDoOp({}); }

 private:
  C* c_;
};

}  // namespace tokio::io
