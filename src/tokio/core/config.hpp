#pragma once
// Build configuration: version, platform checks, the TOKIO_ macros used across the library.

#include <cstddef>
#include <cstdint>

#define TOKIO_VERSION_MAJOR 0
#define TOKIO_VERSION_MINOR 1
#define TOKIO_VERSION_PATCH 0
// One number for comparisons (#if TOKIO_VERSION >= 100 means 0.1.0 or later) and a string.
#define TOKIO_VERSION \
  (TOKIO_VERSION_MAJOR * 10000 + TOKIO_VERSION_MINOR * 100 + TOKIO_VERSION_PATCH)
#define TOKIO_VERSION_STRING "0.1.0"
// Standalone builds of src/ (make check-headers, lint) have no inline ABI namespace:
// amalgamate.py writes `namespace tokio::inline TOKIO_ABI_NAMESPACE...` into tokio.hpp only.

#if !defined(__linux__)
#error "tokio.hpp currently supports Linux only (epoll, eventfd, futex)."
#endif

#if __cplusplus < 202002L
#error \
    "tokio.hpp needs C++20 or later: add -std=c++20 (or a newer standard) to the compile command."
#endif

// Errors travel as exceptions inside the runtime (a task's failure, misuse reports), and
// std::exception_ptr carries them between threads: there is no -fno-exceptions mode.
#if !defined(__cpp_exceptions) && !defined(__EXCEPTIONS)
#error \
    "tokio.hpp needs C++ exceptions: remove -fno-exceptions (tasks report failures as exceptions)."
#endif

// Sanitizer detection: under ASan the frame cache is bypassed so every frame allocation
// reaches the sanitizer's allocator and use-after-free is caught.
#if defined(__SANITIZE_ADDRESS__)
#define TOKIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOKIO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TOKIO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOKIO_TSAN 1
#endif
#endif

// Coroutine frames and small runtime objects come from per-thread slabs (frame_alloc.hpp)
// unless TOKIO_CONFIG_SYSTEM_ALLOCATOR asks for operator new (a heap profiler, a custom
// malloc) or AddressSanitizer is on (every allocation reaches its allocator).
#if defined(TOKIO_ASAN) || defined(TOKIO_CONFIG_SYSTEM_ALLOCATOR)
#define TOKIO_FRAME_PLAIN 1
#endif

#define TOKIO_LIKELY(x) __builtin_expect(!!(x), 1)
#define TOKIO_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TOKIO_NOINLINE __attribute__((noinline))
#define TOKIO_ALWAYS_INLINE inline __attribute__((always_inline))
// On every awaitable the library returns (the leaves, Notified, Sleep, Timeout...): a
// call whose result is dropped does nothing, as a Rust future that is never awaited, so
// the compiler says so (-Wunused-result, on by default) instead of the program silently
// skipping a write, a sleep or a send.
#define TOKIO_MUST_AWAIT [[nodiscard("an awaitable does nothing unless it is co_awaited")]]
// A hint to start loading the cache line at p (for writing when rw is 1). Never faults, so
// a stale or dangling p costs nothing but the hint.
#define TOKIO_PREFETCH(p, rw) __builtin_prefetch(static_cast<const void*>(p), rw, 3)

namespace tokio::detail {

// Two cache lines: x86's adjacent-line prefetcher pulls pairs, so 128 bytes keeps
// independently written words from sharing a prefetch unit (Tokio pads the same way).
inline constexpr std::size_t kCacheLine = 128;

// False, but only once a template is instantiated: the body of an lvalue overload of a
// member that consumes its object (Rust's `self`), so that `s.into_split()` fails with a
// static_assert saying "write std::move(s).into_split()" instead of g++'s "discards
// qualifiers" (see net/split.hpp, IntoSplit).
template <class...>
inline constexpr bool consumes_self = false;

// Declares that lvalue overload for a member `name params` (its parameter types, in
// parentheses) whose && form consumes the object: called on an lvalue it fails to compile
// with `message` (say what to write instead). Never instantiated otherwise.
#define TOKIO_DETAIL_CONSUMES_SELF(name, params, message)               \
  template <class TokioSelf_ = void>                                    \
  void name params const& {                                             \
    static_assert(::tokio::detail::consumes_self<TokioSelf_>, message); \
  }

// T, spelled so that it depends on D: a template that names std::optional<X> or Result<X>
// for a fixed X (a member, a return type) makes every TU that parses its definition
// instantiate that class (about 5 ms of g++ for a std::optional) even when the template is
// never used; written as dependent_t<Param, std::optional<X>> it waits for a use.
template <class D, class T>
struct dependent {
  using type = T;
};
template <class D, class T>
using dependent_t = typename dependent<D, T>::type;

// std::exchange without its conditional noexcept, for the move members of the user part:
// each distinct std::exchange<T, U> instantiates the nothrow-move and nothrow-assign traits
// of T (about 0.5 ms of g++ apiece, measured on 200 pointer types), and the headers every
// user TU parses name some thirty pairs. The move members state their own noexcept.
// The new value converts to T at the call (dependent_t<T, T> is not deduced), so `0` for a
// std::size_t member is the constant it is, not an int converted inside this function.
template <class T>
constexpr T exchange(T& obj, dependent_t<T, T> value) {
  T old = static_cast<T&&>(obj);
  obj = static_cast<T&&>(value);
  return old;
}

// std::swap for the pointers and counts the move members trade, for the same reason: each
// std::swap<T> instantiates T's tuple-likeness and nothrow-move traits.
template <class T>
constexpr void swap_values(T& a, T& b) noexcept {
  T t = a;
  a = b;
  b = t;
}

}  // namespace tokio::detail
