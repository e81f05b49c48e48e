#pragma once
// io::SeekFrom and io::AsyncSeek (Tokio's AsyncSeek + AsyncSeekExt::seek in one call):
//
//   AsyncSeek  `co_await s.seek(io::SeekFrom::start(0))` -> io::Result<uint64_t>
//              (the new position from the start of the stream)
//
//   co_await io::stream_position(s)   -> io::Result<uint64_t>   (seek(current(0)))
//   co_await io::rewind(s)            -> io::Result<uint64_t>   (seek(start(0)))
//
// fs::File is the seekable stream of the library; any type with such a seek() works with
// these helpers.

#include <cstdint>
#include <type_traits>

#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"

namespace tokio::io {

// Where a seek is measured from (Rust's std::io::SeekFrom).
struct SeekFrom {
  enum class Whence : uint8_t { Start, End, Current };

  static constexpr SeekFrom start(uint64_t offset) noexcept {
    return {Whence::Start, static_cast<int64_t>(offset), offset};
  }
  static constexpr SeekFrom end(int64_t offset) noexcept { return {Whence::End, offset, 0}; }
  static constexpr SeekFrom current(int64_t offset) noexcept {
    return {Whence::Current, offset, 0};
  }

  Whence whence = Whence::Start;
  int64_t offset = 0;     // End / Current: relative offset (Start: the same as `position`)
  uint64_t position = 0;  // Start: absolute position
};

template <class S>
concept AsyncSeek = requires(S& s, SeekFrom pos) {
  requires std::is_same_v<detail::await_result_t<decltype(s.seek(pos))>, Result<uint64_t>>;
};

template <AsyncSeek S>
auto stream_position(S& s) {
  return s.seek(SeekFrom::current(0));
}

template <AsyncSeek S>
auto rewind(S& s) {
  return s.seek(SeekFrom::start(0));
}

}  // namespace tokio::io
