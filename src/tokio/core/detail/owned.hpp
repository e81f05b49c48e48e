#pragma once
// detail::Owned<T>: the owning pointer of a non-template public class whose state is
// defined in the implementation section (runtime::Builder's Config, process::Command's
// spec, io::Stdin's blocking fd...). A std::unique_ptr member would instantiate
// unique_ptr's class (its tuple storage and deleter machinery) in every user TU that
// includes the header, 10-15 ms each; this one is a pointer and declarations. Its move
// operations and destructor delete T, so the owning class defines its own out of line (in
// its .cpp, where T is complete): `Builder::~Builder() = default;` there.

#include <utility>

namespace tokio::detail {

template <class T>
class Owned {
 public:
  Owned() noexcept = default;
  explicit Owned(T* p) noexcept : p_(p) {}
  Owned(Owned&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      delete p_;
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { delete p_; }

  // Null once moved from.
  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Deletes the object now (the pointer is null after).
  void reset() noexcept {
    delete p_;
    p_ = nullptr;
  }

 private:
  T* p_ = nullptr;
};

}  // namespace tokio::detail
