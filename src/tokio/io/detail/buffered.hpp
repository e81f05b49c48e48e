#pragma once
// BufferedIo<S, Self>: what io::BufReader and io::BufWriter share: the wrapped stream
// (owned, or borrowed when S is a reference), one buffer of a fixed capacity allocated at
// construction (left uninitialised: only the bytes a read or write put there are read), the
// constructor the two inherit, and the accessors over them. Self names itself in errors
// (Self::kTypeName).

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/owned.hpp"

namespace tokio::io {
inline constexpr std::size_t kDefaultBufSize = 8 * 1024;
}  // namespace tokio::io

namespace tokio::detail {

template <class S, class Self>
class BufferedIo {
 protected:
  using Inner = std::remove_reference_t<S>;

 public:
  explicit BufferedIo(S inner, std::size_t capacity = io::kDefaultBufSize)
      : inner_(std::forward<S>(inner)), cap_(capacity) {
    if (capacity == 0)
      throw std::invalid_argument(std::string(Self::kTypeName) +
                                  ": capacity must be > 0 (leave it out for 8 KiB)");
    buf_ = Owned<std::byte[]>(new std::byte[capacity]);
  }

  // Tokio's spelling of the two-argument constructor (capacity first):
  // io::BufReader<File>::with_capacity(64 * 1024, std::move(f)).
  static Self with_capacity(std::size_t capacity, S inner) {
    return Self(std::forward<S>(inner), capacity);
  }

  Inner& get_ref() noexcept { return inner_; }
  const Inner& get_ref() const noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  std::size_t capacity() const noexcept { return cap_; }
  // The bytes buffered: a reader's not consumed yet, a writer's not written to the inner
  // writer yet.
  std::span<const std::byte> buffer() const noexcept { return {buf_.get() + head_, buffered()}; }
  // The wrapped stream; whatever is still buffered is lost (a reader's unread bytes, a
  // writer's unflushed ones: flush first).
  Inner into_inner() && { return std::move(inner_); }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the BufReader / BufWriter over: write "
                             "std::move(reader).into_inner() or std::move(writer).into_inner() "
                             "(Rust moves it implicitly)")

 protected:
  std::size_t buffered() const noexcept { return tail_ - head_; }

 public:
  // True for an object whose buffer went with a move: its operations throw (ClaimedStep).
  bool moved_from() const noexcept { return !buf_; }

 protected:
  S inner_;
  Owned<std::byte[]> buf_;
  std::size_t cap_;
  std::size_t head_ = 0;  // buf_[head_, tail_) holds the buffered bytes
  std::size_t tail_ = 0;
};

}  // namespace tokio::detail
