#pragma once
// Printing tokio's value types: `std::cout << addr` and, with TOKIO_CONFIG_STD_FORMAT,
// `std::format("{}", addr)`, for the types that opt in with detail::enable_display (the
// addresses, Interest, Ready, Instant, JoinError, the sync and stream errors). Each prints
// its to_string() (member, or found by ADL). Durations are std::chrono types:
// tokio::time::format_duration(d) prints them as Tokio's Debug does ("1.5s", "250ms").
//
// Weight: <iosfwd> only; the stream operator is a template over the stream, instantiated
// by the user TU that has <ostream>. <format> is heavy (and missing from libstdc++ 12), so
// the std::formatter specialisation exists only when TOKIO_CONFIG_STD_FORMAT is defined.

#include <iosfwd>
#include <string>
#include <type_traits>

#include "tokio/core/config.hpp"

#if defined(TOKIO_CONFIG_STD_FORMAT)
#if !__has_include(<format>)
// (A missing <format> would otherwise be the only error, with no word about the macro.)
#error \
    "TOKIO_CONFIG_STD_FORMAT needs <format>, which this standard library lacks \
(libstdc++ has it from GCC 13): leave the macro undefined; print with os << x or to_string()"
#else
#include <format>
#include <string_view>
#endif
#endif

namespace tokio::detail {

// Specialised to std::true_type next to each printable type.
template <class T>
struct enable_display : std::false_type {};

template <class T>
std::string display_string(const T& v) {
  if constexpr (requires { v.to_string(); }) {
    return v.to_string();
  } else {
    return to_string(v);  // ADL: the to_string declared beside T
  }
}

// Brought into each namespace holding printable types with `using detail::operator<<;`,
// so argument-dependent lookup finds it for `os << value`.
template <class Traits, class T>
  requires enable_display<T>::value std::basic_ostream<char, Traits>
&operator<<(std::basic_ostream<char, Traits>& os, const T& v) {
  const std::string s = display_string(v);
  return os << s;
}

}  // namespace tokio::detail

#if defined(TOKIO_CONFIG_STD_FORMAT)
// Every format spec of std::string_view works: std::format("{:>22}", addr). The base is
// copied in format() so this compiles whether or not the library's format() is const.
template <class T>
requires tokio::detail::enable_display<T>::value struct std::formatter<T, char>
    : std::formatter<std::string_view, char> {
  template <class Ctx>
  auto format(const T& v, Ctx& ctx) const {
    std::formatter<std::string_view, char> base = *this;
    const std::string s = tokio::detail::display_string(v);
    return base.format(std::string_view(s), ctx);
  }
};
#endif
