#pragma once
// detail::invoke: std::invoke without <functional> (a heavy header in C++20 that a user TU
// would otherwise parse only for this). Calls a callable, or a pointer to member (function
// or data) on an object, a reference to one, or a pointer (raw or smart) to one.

#include <type_traits>
#include <utility>

namespace tokio::detail {

template <class M, class C, class Obj, class... A>
constexpr decltype(auto) invoke_member(M C::*pm, Obj&& obj, A&&... a) {
  if constexpr (std::is_base_of_v<C, std::remove_cvref_t<Obj>>) {
    if constexpr (std::is_function_v<M>) {
      return (std::forward<Obj>(obj).*pm)(std::forward<A>(a)...);
    } else {
      static_assert(sizeof...(A) == 0, "a pointer to data member takes no arguments");
      return std::forward<Obj>(obj).*pm;
    }
  } else {
    return invoke_member(pm, *std::forward<Obj>(obj), std::forward<A>(a)...);
  }
}

template <class F, class... A>
constexpr decltype(auto) invoke(F&& f, A&&... a) {
  if constexpr (std::is_member_pointer_v<std::remove_cvref_t<F>>) {
    return invoke_member(f, std::forward<A>(a)...);
  } else {
    return std::forward<F>(f)(std::forward<A>(a)...);
  }
}

}  // namespace tokio::detail
