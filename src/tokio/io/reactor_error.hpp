#pragma once
// Errors the reactor itself reports (besides the OS's errno values).
//
//   io::ReactorErrc::shutdown   the runtime's I/O driver shut down, or the I/O object was
//                               deregistered while an operation on it was still waiting.
// It compares equal to std::errc::operation_canceled.

#include <system_error>
#include <type_traits>

namespace tokio::io {

enum class ReactorErrc { shutdown = 1 };

const std::error_category& reactor_category() noexcept;

inline std::error_code make_error_code(ReactorErrc e) noexcept {
  return {static_cast<int>(e), reactor_category()};
}

}  // namespace tokio::io

template <>
struct std::is_error_code_enum<tokio::io::ReactorErrc> : std::true_type {};
