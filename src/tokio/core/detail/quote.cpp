// Quoting for reports: see quote.hpp.
#include "tokio/core/detail/quote.hpp"

#include <cstddef>
#include <cstdint>

#include "tokio/core/detail/utf8.hpp"

namespace tokio::detail {

namespace core_quote_impl {

// Code points shown as \u{...} although well-formed: the C1 controls, the spaces other
// than U+0020 (U+00A0, U+2000...), line and paragraph separators, the format characters
// (Unicode category Cf: invisible, or reordering the text around them, like U+202E),
// private use and the noncharacters U+FFFE/U+FFFF. Rust's Debug escapes all of these (and
// more: every code point its tables call unprintable, unassigned ones included). Sorted,
// inclusive ranges.
constexpr uint32_t kEscapedRanges[][2] = {
    {0x80, 0xA0},       {0xAD, 0xAD},        {0x600, 0x605},     {0x61C, 0x61C},
    {0x6DD, 0x6DD},     {0x70F, 0x70F},      {0x8E2, 0x8E2},     {0x1680, 0x1680},
    {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},   {0x205F, 0x2064},
    {0x2066, 0x206F},   {0x3000, 0x3000},    {0xE000, 0xF8FF},   {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},    {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},  {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

bool escaped_code_point(uint32_t cp) noexcept {
  for (const auto& r : kEscapedRanges) {
    if (cp < r[0]) return false;
    if (cp <= r[1]) return true;
  }
  return false;
}

// The code point of a well-formed sequence of n (2 to 4) bytes.
uint32_t decode(const unsigned char* p, std::size_t n) noexcept {
  uint32_t cp = p[0] & (0x7Fu >> n);
  for (std::size_t k = 1; k < n; ++k) cp = cp << 6 | (p[k] & 0x3Fu);
  return cp;
}

// \u{...} in lower-case hex without leading zeros (Rust's form: \u{1}, \u{202e}).
void append_unicode_escape(std::string& out, uint32_t cp) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u{";
  int shift = 20;
  while (shift > 0 && (cp >> shift) == 0) shift -= 4;
  for (; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 15];
  out += '}';
}

}  // namespace core_quote_impl

void append_debug_quoted(std::string& out, std::string_view text) {
  namespace impl = core_quote_impl;
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      // Well-formed UTF-8 passes as it is, but for the invisible and line-breaking code
      // points above; any other byte is shown as \xNN (as Rust's Debug output of a Unix
      // path does), so the message stays valid UTF-8. The length the lead byte announces;
      // utf8_valid judges the rest (a continuation or otherwise invalid lead byte, a
      // truncated or malformed sequence fail it).
      const std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (n <= text.size() - i && utf8_valid(bytes + i, n)) {
        const uint32_t cp = impl::decode(bytes + i, n);
        if (impl::escaped_code_point(cp)) {
          impl::append_unicode_escape(out, cp);
        } else {
          out.append(text.substr(i, n));
        }
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
          impl::append_unicode_escape(out, c);
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
