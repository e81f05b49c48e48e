// UTF-8 validation (see utf8.hpp).
#include "tokio/core/detail/utf8.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace tokio::detail {

namespace utf8_impl {

class Utf8Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tokio.io"; }
  std::string message(int ev) const override {
    if (ev == EILSEQ) return "stream did not contain valid UTF-8";
    return std::generic_category().message(ev);
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return {ev, std::generic_category()};
  }
};

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

inline uint64_t load8(const unsigned char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// True when p[i, n) (under 8 bytes) is all ASCII, given that p[0, i) was checked already
// (ASCII or whole valid sequences): first one word ending at n, which re-reads up to 7
// checked bytes (a multi-byte sequence among them fails it), then byte by byte. Lines of
// text end this way: without it, their last 1-7 bytes cost a loop iteration each. (With
// the 16-byte steps: 87 -> 37 instructions per 30-byte line in io lines, callgrind.)
inline bool ascii_rest(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
  if (n >= 8 && (load8(p + n - 8) & kHighBits) == 0) return true;
  unsigned acc = 0;
  for (; i < n; ++i) acc |= p[i];
  return (acc & 0x80) == 0;
}

}  // namespace utf8_impl

std::size_t utf8_resume_point(const unsigned char* p, std::size_t start) noexcept {
  // Up to 3 continuation bytes (10xxxxxx) back, then the byte before them: a lead byte
  // whose character needs more bytes than follow it makes the text end unfinished.
  std::size_t k = 0;
  while (k < 3 && k < start && (p[start - 1 - k] & 0xC0) == 0x80) ++k;
  if (k == start) return start;
  const unsigned char lead = p[start - 1 - k];
  const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  return need > k + 1 ? start - 1 - k : start;
}

bool utf8_valid(const unsigned char* p, std::size_t n) noexcept {
  using utf8_impl::kHighBits;
  using utf8_impl::load8;
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path: 16, then 8 bytes at a time while none has the high bit, then the
    // rest (under 8 bytes) in one go.
    while (i + 16 <= n && ((load8(p + i) | load8(p + i + 8)) & kHighBits) == 0) i += 16;
    while (i + 8 <= n && (load8(p + i) & kHighBits) == 0) i += 8;
    if (i + 8 > n && utf8_impl::ascii_rest(p, i, n)) return true;
    // Here p[i, n) holds a byte with the high bit set, so i < n.
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;       // overlong
      else if (c == 0xED) hi = 0x9F;  // surrogates U+D800..DFFF
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;       // overlong
      else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;  // continuation byte, C0/C1 (overlong), F5..FF
    }
    if (n - i < len) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
    }
    i += len;
  }
  return true;
}

std::error_code invalid_utf8() noexcept {
  static const utf8_impl::Utf8Category cat;
  return {EILSEQ, cat};
}

}  // namespace tokio::detail
