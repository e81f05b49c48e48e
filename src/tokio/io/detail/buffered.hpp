#pragma once
// BufferedIo<S>: what io::BufReader and io::BufWriter share: the wrapped stream (owned, or
// borrowed when S is a reference), one buffer of a fixed capacity allocated at
// construction (left uninitialised: only the bytes a read or write put there are read),
// and the accessors over them.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace tokio::detail {

template <class S>
class BufferedIo {
  using Inner = std::remove_reference_t<S>;

 public:
  Inner& get_ref() noexcept { return inner_; }
  const Inner& get_ref() const noexcept { return inner_; }
  Inner& get_mut() noexcept { return inner_; }
  std::size_t capacity() const noexcept { return cap_; }

 protected:
  // `type_name` ("io::BufReader") names the type in the error for a zero capacity.
  BufferedIo(S inner, std::size_t capacity, const char* type_name)
      : inner_(std::forward<S>(inner)), cap_(capacity) {
    if (capacity == 0)
      throw std::invalid_argument(std::string(type_name) + " capacity must be > 0");
    buf_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
  }

  S inner_;
  std::unique_ptr<std::byte[]> buf_;
  std::size_t cap_;
};

}  // namespace tokio::detail
