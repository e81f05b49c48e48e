#pragma once
// io::Errc: the I/O error kinds that have no errno of their own (Rust's
// io::ErrorKind::UnexpectedEof and WriteZero), as a std::error_code enum.
//
//   auto r = co_await io::read_exact(stream, buf);
//   if (!r && r.error() == io::Errc::unexpected_eof) { ... }   // peer closed early
//
// Everything else the I/O utilities report is a plain errno code, compared with std::errc:
// invalid UTF-8 is std::errc::illegal_byte_sequence, a write to a closed pipe
// std::errc::broken_pipe, a blocking job lost to runtime shutdown std::errc::operation_canceled.

#include <string>
#include <system_error>
#include <type_traits>

namespace tokio::io {

enum class Errc {
  // The stream ended (read returned 0) before the requested amount of data arrived
  // (read_exact, read_u32...).
  unexpected_eof = 1,
  // A writer accepted 0 bytes of a non-empty buffer (write_all, copy, BufWriter flush):
  // it can make no progress, so retrying would spin.
  write_zero = 2,
};

// The category of io::Errc codes ("tokio.io").
const std::error_category& io_category() noexcept;

inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), io_category()};
}

}  // namespace tokio::io

template <>
struct std::is_error_code_enum<tokio::io::Errc> : std::true_type {};
