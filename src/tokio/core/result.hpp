#pragma once
// tokio::Result<T, E>: an expected-like value-or-error type with std::expected's member
// names, and tokio::io::Result<T> = Result<T, std::error_code> for every fallible I/O call.

#include <cerrno>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"

// std::expected conversions when the standard library has it (C++23). <version> is tiny;
// <expected> is only included when it would define something.
#if __has_include(<version>)
#include <version>
#endif
#if defined(__cpp_lib_expected)
#include <expected>
#endif

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

template <class T, class E>
class Result;

namespace detail {
template <class R>
struct is_tokio_result : std::false_type {};
template <class T, class E>
struct is_tokio_result<Result<T, E>> : std::true_type {};

// The monadic operations of std::expected (and_then, transform, or_else, transform_error),
// written once for Result<T, E> and Result<void, E>. Self is `Result&`, `const Result&` or
// `Result&&`; for a void Result the value-side callables take no argument.
struct ResultOps {
  template <class Self>
  using value_ref_t = decltype(*std::declval<Self>());

  template <class Self, class F>
  static decltype(auto) call_value(Self&& self, F&& f) {
    if constexpr (std::is_void_v<typename std::remove_cvref_t<Self>::value_type>) {
      return std::invoke(std::forward<F>(f));
    } else {
      return std::invoke(std::forward<F>(f), *std::forward<Self>(self));
    }
  }

  template <class Self, class F>
  static auto and_then(Self&& self, F&& f) {
    using R =
        std::remove_cvref_t<decltype(call_value(std::forward<Self>(self), std::forward<F>(f)))>;
    using E = typename std::remove_cvref_t<Self>::error_type;
    static_assert(is_tokio_result<R>::value, "and_then: f must return a tokio::Result");
    static_assert(std::is_same_v<typename R::error_type, E>,
                  "and_then: f must return a Result with the same error type");
    if (self.has_value()) return call_value(std::forward<Self>(self), std::forward<F>(f));
    return R(unexpected<E>(std::forward<Self>(self).error()));
  }

  template <class Self, class F>
  static auto transform(Self&& self, F&& f) {
    using U = std::remove_cv_t<decltype(call_value(std::forward<Self>(self), std::forward<F>(f)))>;
    using E = typename std::remove_cvref_t<Self>::error_type;
    using R = Result<U, E>;
    if (!self.has_value()) return R(unexpected<E>(std::forward<Self>(self).error()));
    if constexpr (std::is_void_v<U>) {
      call_value(std::forward<Self>(self), std::forward<F>(f));
      return R();
    } else {
      return R(call_value(std::forward<Self>(self), std::forward<F>(f)));
    }
  }

  template <class Self, class F>
  static auto or_else(Self&& self, F&& f) {
    using T = typename std::remove_cvref_t<Self>::value_type;
    using R =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    static_assert(is_tokio_result<R>::value, "or_else: f must return a tokio::Result");
    static_assert(std::is_same_v<typename R::value_type, T>,
                  "or_else: f must return a Result with the same value type");
    if (!self.has_value()) return std::invoke(std::forward<F>(f), std::forward<Self>(self).error());
    if constexpr (std::is_void_v<T>) {
      return R();
    } else {
      return R(*std::forward<Self>(self));
    }
  }

  template <class Self, class F>
  static auto transform_error(Self&& self, F&& f) {
    using T = typename std::remove_cvref_t<Self>::value_type;
    using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    using R = Result<T, G>;
    if (!self.has_value()) {
      return R(unexpected<G>(std::invoke(std::forward<F>(f), std::forward<Self>(self).error())));
    }
    if constexpr (std::is_void_v<T>) {
      return R();
    } else {
      return R(*std::forward<Self>(self));
    }
  }
};

// Adds the four operations as members, for each value category of the Result.
#define TOKIO_RESULT_MONADIC_OPS(op)                                    \
  template <class F>                                                    \
  auto op(F&& f)& {                                                     \
    return detail::ResultOps::op(*this, std::forward<F>(f));            \
  }                                                                     \
  template <class F>                                                    \
  auto op(F&& f) const& {                                               \
    return detail::ResultOps::op(*this, std::forward<F>(f));            \
  }                                                                     \
  template <class F>                                                    \
  auto op(F&& f)&& {                                                    \
    return detail::ResultOps::op(std::move(*this), std::forward<F>(f)); \
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
  Result(const T& v) : has_(true) { new (&val_) T(v); }        // NOLINT
  Result(T&& v) : has_(true) { new (&val_) T(std::move(v)); }  // NOLINT
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

  // std::expected's monadic operations: and_then(f) (f(value) -> Result<U, E>),
  // transform(f) (f(value) -> U), or_else(f) (f(error) -> Result<T, G>), transform_error(f)
  // (f(error) -> G). The callable runs only on the matching side.
  TOKIO_RESULT_MONADIC_OPS(and_then)
  TOKIO_RESULT_MONADIC_OPS(transform)
  TOKIO_RESULT_MONADIC_OPS(or_else)
  TOKIO_RESULT_MONADIC_OPS(transform_error)

#if defined(__cpp_lib_expected)
  // To and from std::expected (C++23 standard libraries).
  template <class U, class G>
    requires(
        std::conjunction_v<std::is_constructible<T, const U&>, std::is_constructible<E, const G&>>)
  Result(const std::expected<U, G>& x) : has_(x.has_value()) {  // NOLINT
    if (has_) new (&val_) T(*x);
    else new (&err_) E(x.error());
  }
  template <class U, class G>
    requires(std::conjunction_v<std::is_constructible<T, U&&>, std::is_constructible<E, G&&>>)
  Result(std::expected<U, G>&& x) : has_(x.has_value()) {  // NOLINT
    if (has_) new (&val_) T(std::move(*x));
    else new (&err_) E(std::move(x).error());
  }
  operator std::expected<T, E>() const& {  // NOLINT
    if (has_) return std::expected<T, E>(val_);
    return std::expected<T, E>(std::unexpect, err_);
  }
  operator std::expected<T, E>() && {  // NOLINT
    if (has_) return std::expected<T, E>(std::move(val_));
    return std::expected<T, E>(std::unexpect, std::move(err_));
  }
#endif

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

  // As for Result<T, E>; the value-side callables take no argument.
  TOKIO_RESULT_MONADIC_OPS(and_then)
  TOKIO_RESULT_MONADIC_OPS(transform)
  TOKIO_RESULT_MONADIC_OPS(or_else)
  TOKIO_RESULT_MONADIC_OPS(transform_error)

#if defined(__cpp_lib_expected)
  template <class G>
    requires(std::is_constructible_v<E, const G&>)
  Result(const std::expected<void, G>& x) : has_(x.has_value()) {  // NOLINT
    if (!has_) new (&err_) E(x.error());
  }
  template <class G>
    requires(std::is_constructible_v<E, G&&>)
  Result(std::expected<void, G>&& x) : has_(x.has_value()) {  // NOLINT
    if (!has_) new (&err_) E(std::move(x).error());
  }
  operator std::expected<void, E>() const& {  // NOLINT
    if (has_) return {};
    return std::expected<void, E>(std::unexpect, err_);
  }
  operator std::expected<void, E>() && {  // NOLINT
    if (has_) return {};
    return std::expected<void, E>(std::unexpect, std::move(err_));
  }
#endif

 private:
  void destroy() noexcept {
    if (!has_) err_.~E();
  }
  union {
    E err_;
  };
  bool has_;
};

#undef TOKIO_RESULT_MONADIC_OPS

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
