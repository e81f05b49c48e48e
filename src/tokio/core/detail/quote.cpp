// Quoting for reports: see quote.hpp.
#include "tokio/core/detail/quote.hpp"

namespace tokio::detail {

void append_debug_quoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
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
