#pragma once
// tokio::run_main and TOKIO_MAIN: Tokio's #[tokio::main] for C++.
//
//     tokio::Task<int> amain(int argc, char** argv) { ...; co_return 0; }
//     int main(int argc, char** argv) { return tokio::run_main(amain, argc, argv); }
//     // or, the same:  TOKIO_MAIN(amain)
//     // or, from `int main()`, for an amain taking nothing:  return tokio::run_main(amain);
//
// run_main builds the default multi-thread runtime (or the Builder given first), runs the
// coroutine to completion with block_on, shuts the runtime down and returns the exit code.
// `amain` may take (int, char**), (std::vector<std::string>) (the arguments, as
// std::env::args()) or nothing, and return Task<int> (the exit code), Task<void> (0) or
// Task<io::Result<void>> / Task<io::Result<int>> (an error is printed to stderr, exit code
// 1, like a Rust main returning Err). An exception escaping amain is printed to stderr and
// gives exit code 1 (the runtime is shut down first, cancelling the tasks still alive).

#include <exception>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/runtime/builder.hpp"
#include "tokio/runtime/runtime.hpp"

namespace tokio {

namespace detail {
// Prints "<program>: error: <what>" for the exception being handled (out of line: <cstdio>).
int report_main_exception(const char* program) noexcept;
int report_main_error(const char* program, const std::error_code& ec) noexcept;
// The arguments as strings (std::env::args()), for an amain taking std::vector<std::string>
// (out of line: inline, the vector's iterator-range constructor would be instantiated in
// every TU, call_main's discarded branch included).
std::vector<std::string> main_args(int argc, char** argv);

template <class F>
auto call_main(F& amain, int argc, char** argv) {
  if constexpr (std::is_invocable_v<F&, int, char**>) {
    return amain(argc, argv);
  } else if constexpr (std::is_invocable_v<F&, std::vector<std::string>>) {
    return amain(main_args(argc, argv));
  } else {
    static_assert(std::is_invocable_v<F&>,
                  "run_main: amain must take (int, char**), (std::vector<std::string>) or "
                  "nothing, and return a tokio::Task");
    (void)argc;
    (void)argv;
    return amain();
  }
}
}  // namespace detail

// With a configured Builder: run_main(Builder::new_current_thread().enable_all(), amain, ...).
template <class F>
int run_main(runtime::Builder& builder, F&& amain, int argc, char** argv) {
  const char* program = argc > 0 && argv ? argv[0] : "tokio";
  try {
    runtime::Runtime rt = builder.build();
    using T = typename decltype(detail::call_main(amain, argc, argv))::value_type;
    if constexpr (std::is_void_v<T>) {
      rt.block_on(detail::call_main(amain, argc, argv));
      return 0;
    } else if constexpr (std::is_same_v<T, io::Result<void>>) {
      auto r = rt.block_on(detail::call_main(amain, argc, argv));
      return r ? 0 : detail::report_main_error(program, r.error());
    } else if constexpr (std::is_same_v<T, io::Result<int>>) {
      auto r = rt.block_on(detail::call_main(amain, argc, argv));
      return r ? *r : detail::report_main_error(program, r.error());
    } else {
      static_assert(std::is_convertible_v<T, int>,
                    "run_main: amain must return Task<int>, Task<void> or Task<io::Result<...>>");
      return static_cast<int>(rt.block_on(detail::call_main(amain, argc, argv)));
    }
  } catch (...) {
    return detail::report_main_exception(program);
  }
}

template <class F>
int run_main(runtime::Builder&& builder, F&& amain, int argc, char** argv) {
  return run_main(builder, std::forward<F>(amain), argc, argv);
}

template <class F>
int run_main(F&& amain, int argc, char** argv) {
  return run_main(runtime::Builder::new_multi_thread().enable_all(), std::forward<F>(amain), argc,
                  argv);
}

// For `int main()` (no arguments to pass on): amain takes nothing.
template <class F>
  requires std::is_invocable_v<F&>
int run_main(runtime::Builder& builder, F&& amain) {
  char* no_args[] = {nullptr};
  return run_main(builder, std::forward<F>(amain), 0, no_args);
}
template <class F>
  requires std::is_invocable_v<F&>
int run_main(runtime::Builder&& builder, F&& amain) {
  return run_main(builder, std::forward<F>(amain));
}
template <class F>
  requires std::is_invocable_v<F&>
int run_main(F&& amain) {
  return run_main(runtime::Builder::new_multi_thread().enable_all(), std::forward<F>(amain));
}

}  // namespace tokio

// Defines main() running `amain` on the default multi-thread runtime.
#define TOKIO_MAIN(amain) \
  int main(int argc, char** argv) { return ::tokio::run_main(amain, argc, argv); }
