#pragma once
// tokio::Result<T, E>: an expected-like value-or-error type with std::expected's member
// names, and tokio::io::Result<T> = Result<T, std::error_code> for every fallible I/O call.

#include <cerrno>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"

namespace tokio {

// The error alternative, spelled like std::unexpected: `return tokio::unexpected(ec);`.
template <class E>
class unexpected {
 public:
  constexpr explicit unexpected(E e) : error_(std::move(e)) {}
  constexpr const E& error() const& noexcept { return error_; }
  constexpr E& error() & noexcept { return error_; }
  constexpr E&& error() && noexcept { return std::move(error_); }

 private:
  E error_;
};
template <class E>
unexpected(E) -> unexpected<E>;

// Thrown by Result::value() when the Result holds an error that is neither a
// std::error_code nor itself an exception type.
template <class E>
class bad_result_access : public std::exception {
 public:
  explicit bad_result_access(E e) : error_(std::move(e)) {}
  const char* what() const noexcept override {
    return "tokio::Result::value() called on a Result holding an error; check has_value() "
           "or use error() first";
  }
  const E& error() const noexcept { return error_; }

 private:
  E error_;
};

namespace detail {
template <class E>
[[noreturn]] void throw_result_error(const E& e) {
  if constexpr (std::is_same_v<E, std::error_code>) {
    throw std::system_error(e);
  } else if constexpr (requires { e.rethrow(); }) {
    e.rethrow();  // JoinError: rethrows the task's own exception, or itself
    std::terminate();
  } else if constexpr (std::is_base_of_v<std::exception, E>) {
    throw e;
  } else {
    throw bad_result_access<E>(e);
  }
}
}  // namespace detail

// Result<T, E> holds either a T (has_value()) or an E. It is [[nodiscard]]: dropping an
// I/O result silently is the bug it exists to prevent.
template <class T, class E>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&, E> is not supported; use a pointer");

 public:
  using value_type = T;
  using error_type = E;

  Result() requires std::is_default_constructible_v<T> : has_(true) { new (&val_) T(); }
  Result(const T& v) : has_(true) { new (&val_) T(v); }                 // NOLINT
  Result(T&& v) : has_(true) { new (&val_) T(std::move(v)); }           // NOLINT
  template <class U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, Result> &&
             !std::is_same_v<std::remove_cvref_t<U>, unexpected<E>> &&
             !std::is_convertible_v<U&&, E>)
  Result(U&& v) : has_(true) {  // NOLINT
    new (&val_) T(std::forward<U>(v));
  }
  template <class G>
  Result(const unexpected<G>& e) : has_(false) {  // NOLINT
    new (&err_) E(e.error());
  }
  template <class G>
  Result(unexpected<G>&& e) : has_(false) {  // NOLINT
    new (&err_) E(std::move(e).error());
  }

  Result(const Result& o) : has_(o.has_) {
    if (has_) new (&val_) T(o.val_);
    else new (&err_) E(o.err_);
  }
  Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : has_(o.has_) {
    if (has_) new (&val_) T(std::move(o.val_));
    else new (&err_) E(std::move(o.err_));
  }
  Result& operator=(const Result& o) {
    if (this != &o) {
      destroy();
      has_ = o.has_;
      if (has_) new (&val_) T(o.val_);
      else new (&err_) E(o.err_);
    }
    return *this;
  }
  Result& operator=(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) {
      destroy();
      has_ = o.has_;
      if (has_) new (&val_) T(std::move(o.val_));
      else new (&err_) E(std::move(o.err_));
    }
    return *this;
  }
  ~Result() { destroy(); }

  constexpr bool has_value() const noexcept { return has_; }
  constexpr explicit operator bool() const noexcept { return has_; }

  T& value() & {
    if (!has_) detail::throw_result_error(err_);
    return val_;
  }
  const T& value() const& {
    if (!has_) detail::throw_result_error(err_);
    return val_;
  }
  T&& value() && {
    if (!has_) detail::throw_result_error(err_);
    return std::move(val_);
  }
  E& error() & noexcept { return err_; }
  const E& error() const& noexcept { return err_; }
  E&& error() && noexcept { return std::move(err_); }

  T& operator*() & noexcept { return val_; }
  const T& operator*() const& noexcept { return val_; }
  T&& operator*() && noexcept { return std::move(val_); }
  T* operator->() noexcept { return &val_; }
  const T* operator->() const noexcept { return &val_; }

  template <class U>
  T value_or(U&& dflt) const& {
    return has_ ? val_ : static_cast<T>(std::forward<U>(dflt));
  }
  template <class U>
  T value_or(U&& dflt) && {
    return has_ ? std::move(val_) : static_cast<T>(std::forward<U>(dflt));
  }

 private:
  void destroy() noexcept {
    if (has_) val_.~T();
    else err_.~E();
  }
  union {
    T val_;
    E err_;
  };
  bool has_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() noexcept : has_(true) {}
  template <class G>
  Result(const unexpected<G>& e) : has_(false) {  // NOLINT
    new (&err_) E(e.error());
  }
  template <class G>
  Result(unexpected<G>&& e) : has_(false) {  // NOLINT
    new (&err_) E(std::move(e).error());
  }
  Result(const Result& o) : has_(o.has_) {
    if (!has_) new (&err_) E(o.err_);
  }
  Result(Result&& o) noexcept : has_(o.has_) {
    if (!has_) new (&err_) E(std::move(o.err_));
  }
  Result& operator=(const Result& o) {
    if (this != &o) {
      destroy();
      has_ = o.has_;
      if (!has_) new (&err_) E(o.err_);
    }
    return *this;
  }
  Result& operator=(Result&& o) noexcept {
    if (this != &o) {
      destroy();
      has_ = o.has_;
      if (!has_) new (&err_) E(std::move(o.err_));
    }
    return *this;
  }
  ~Result() { destroy(); }

  constexpr bool has_value() const noexcept { return has_; }
  constexpr explicit operator bool() const noexcept { return has_; }
  void value() const {
    if (!has_) detail::throw_result_error(err_);
  }
  void operator*() const noexcept {}
  E& error() & noexcept { return err_; }
  const E& error() const& noexcept { return err_; }
  E&& error() && noexcept { return std::move(err_); }

 private:
  void destroy() noexcept {
    if (!has_) err_.~E();
  }
  union {
    E err_;
  };
  bool has_;
};

template <class T, class E>
bool operator==(const Result<T, E>& r, const T& v) {
  return r.has_value() && *r == v;
}

namespace io {
// Every fallible I/O operation returns io::Result<T>; errors compare with std::errc:
// `if (r.error() == std::errc::connection_reset)`.
template <class T = void>
using Result = tokio::Result<T, std::error_code>;

// The error of the last failed system call, as an io::Result error.
inline tokio::unexpected<std::error_code> last_os_error() {
  return tokio::unexpected(std::error_code(errno, std::system_category()));
}
inline tokio::unexpected<std::error_code> os_error(int code) {
  return tokio::unexpected(std::error_code(code, std::system_category()));
}
}  // namespace io

}  // namespace tokio
