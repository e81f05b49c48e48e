#pragma once
// detail::utf8_valid: the UTF-8 check read_to_string and read_line apply to what they read
// (Rust's str rules: no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequence at the end), and the error they fail with. In core so report quoting
// (quote.cpp) uses the same rules.

#include <cstddef>
#include <system_error>

namespace tokio::detail {

bool utf8_valid(const unsigned char* p, std::size_t n) noexcept;

// Where the check of bytes appended to p[0, start) begins: `start`, or the lead byte of an
// unfinished character the text ends with (a cancelled read_line / read_to_string keeps
// what it read, which may stop inside a character), so a call that goes on checks that
// character whole instead of failing on its continuation bytes.
std::size_t utf8_resume_point(const unsigned char* p, std::size_t start) noexcept;

// The error for bytes that are not UTF-8: value EILSEQ, equal to
// std::errc::illegal_byte_sequence (its category maps to the generic one), with the message
// "stream did not contain valid UTF-8" (Rust's words) instead of the errno's text about
// "multibyte or wide characters".
std::error_code invalid_utf8() noexcept;

}  // namespace tokio::detail
