#pragma once
// detail::utf8_valid: the UTF-8 check read_to_string and read_line apply to what they read
// (Rust's str rules: no overlong forms, no surrogates, nothing above U+10FFFF, no
// truncated sequence at the end).

#include <cstddef>

namespace tokio::detail {

bool utf8_valid(const unsigned char* p, std::size_t n) noexcept;

}  // namespace tokio::detail
