// Quoting for reports: see quote.hpp.
#include "tokio/core/detail/quote.hpp"

#include <cstddef>

namespace tokio::detail {

namespace quote_impl {

// The length of the well-formed UTF-8 sequence starting at text[i] (a byte >= 0x80), or 0
// when it does not start one (a stray continuation byte, an overlong form, a surrogate, a
// code point past U+10FFFF, a truncated sequence).
std::size_t utf8_sequence(std::string_view text, std::size_t i) noexcept {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char c = at(0);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - i < n) return 0;
  if (at(1) < lo || at(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (at(k) < 0x80 || at(k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace quote_impl

void append_debug_quoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      // Well-formed UTF-8 passes as it is; any other byte is shown as \xNN (as Rust's
      // Debug output of a Unix path does), so the message stays valid UTF-8.
      if (std::size_t n = quote_impl::utf8_sequence(text, i)) {
        out.append(text.substr(i, n));
        i += n - 1;
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\0': out += "\\0"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u{";
          out += kHex[c >> 4];
          out += kHex[c & 15];
          out += '}';
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string debug_quoted(std::string_view text) {
  std::string out;
  append_debug_quoted(out, text);
  return out;
}

}  // namespace tokio::detail
