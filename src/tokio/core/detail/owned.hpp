#pragma once
// detail::Owned<T>: the owning pointer of a non-template public class whose state is
// defined in the implementation section (runtime::Builder's Config, process::Command's
// spec, io::Stdin's blocking fd...). A std::unique_ptr member would instantiate
// unique_ptr's class (its tuple storage and deleter machinery) in every user TU that
// includes the header, 10-15 ms each; this one is a pointer and declarations. Its move
// operations and destructor delete T, so the owning class defines its own out of line (in
// its .cpp, where T is complete): `Builder::~Builder() = default;` there.

#include <cstddef>
#include <new>
#include <type_traits>

namespace tokio::detail {

// Owned<T[]> owns an array (deleted with delete[]): the buffers of io::BufReader,
// io::BufWriter and io::copy are Owned<std::byte[]>(new std::byte[n]), left uninitialised
// as std::make_unique_for_overwrite would leave them. Those members sit in class templates
// and name a type that is not dependent, so a std::unique_ptr<std::byte[]> there was
// instantiated by every user TU (with make_unique_for_overwrite: 32M instructions of g++'s
// cc1plus, about 8 ms).
template <class T>
class Owned {
  using Elem = std::remove_extent_t<T>;

 public:
  Owned() noexcept = default;
  explicit Owned(Elem* p) noexcept : p_(p) {}
  Owned(Owned&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      destroy();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { destroy(); }

  // Null once moved from.
  Elem* get() const noexcept { return p_; }
  Elem* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Deletes the object now (the pointer is null after).
  void reset() noexcept {
    destroy();
    p_ = nullptr;
  }

 private:
  void destroy() noexcept {
    if constexpr (std::is_array_v<T>) {
      delete[] p_;
    } else {
      delete p_;
    }
  }

  Elem* p_ = nullptr;
};

// Room for one object whose type the user part must not instantiate (a std::optional or an
// io::Result of something only the implementation fills in): each std::optional<T> or
// Result<T, E> a header spells as a member is a class instantiation in every user TU (about
// 6 ms of g++ for a std::optional). The owning class constructs, reads and destroys the
// object out of line, in its .cpp, where the type is complete and a static_assert checks
// that Size and Align hold it. as<T>() only forms a reference, which instantiates nothing.
template <std::size_t Size, std::size_t Align = alignof(void*)>
struct Opaque {
  template <class T>
  T& as() noexcept {
    return *std::launder(reinterpret_cast<T*>(bytes));
  }
  template <class T>
  const T& as() const noexcept {
    return *std::launder(reinterpret_cast<const T*>(bytes));
  }
  template <class T>
  static constexpr bool holds = sizeof(T) <= Size && alignof(T) <= Align;

  alignas(Align) unsigned char bytes[Size];
};

}  // namespace tokio::detail
