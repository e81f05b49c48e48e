#pragma once
// The check every channel and lock makes of the type it holds: Rust's `()` is a type there,
// C++'s `void` is not an object type, so `oneshot::channel<void>()` fails to compile. The
// assertion names the fix before the compiler's own errors about parameters of type void.

#include <type_traits>

namespace tokio::detail {

template <class T>
struct SyncValueType {
  static_assert(!std::is_void_v<T>,
                "tokio::sync: channels and locks hold an object type; for Rust's () use "
                "std::monostate (oneshot::channel<std::monostate>(), "
                "mpsc::channel<std::monostate>(n), Mutex<std::monostate>)");
  static constexpr bool ok = true;
};

}  // namespace tokio::detail
