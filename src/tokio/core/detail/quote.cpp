// Quoting for reports: see quote.hpp.
#include "tokio/core/detail/quote.hpp"

#include <cstddef>

#include "tokio/core/detail/utf8.hpp"

namespace tokio::detail {

void append_debug_quoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      // Well-formed UTF-8 passes as it is; any other byte is shown as \xNN (as Rust's
      // Debug output of a Unix path does), so the message stays valid UTF-8.
      // The length the lead byte announces; utf8_valid judges the rest (a continuation or
      // otherwise invalid lead byte, a truncated or malformed sequence fail it).
      const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (n <= text.size() - i &&
          utf8_valid(reinterpret_cast<const unsigned char*>(text.data()) + i, n)) {
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
