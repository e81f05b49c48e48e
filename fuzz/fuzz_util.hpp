#pragma once
// Shared by the libFuzzer targets (fuzz/*.cpp). Each target is one .cpp defining
// LLVMFuzzerTestOneInput; `make fuzz` builds every fuzz/*.cpp against the implementation
// compiled once (build/fuzz/tokio.o) and runs it on its seed corpus fuzz/corpus/<name>/
// (fuzz/<name>.dict is passed as a dictionary when present). Adding a target = dropping
// fuzz/<name>.cpp and a few seeds in fuzz/corpus/<name>/.
//
// FUZZ_CHECK(cond, ...) reports the input as a crash (abort) when cond is false, printing
// what was expected: properties, not just "does not crash", are what the targets check.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokio.hpp"

namespace fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* cond,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", file, line, cond, detail.c_str());
  std::abort();
}

// A printable rendering of arbitrary bytes (for failure messages).
inline std::string show(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    }
  }
  return out + "\"";
}

// Reference UTF-8 validation by decoding (Rust's str rules: shortest form only, no
// surrogates, nothing above U+10FFFF, no truncated sequence), written independently of
// the library's table-driven check.
inline bool utf8_reference(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}
inline bool utf8_reference(std::string_view s) {
  return utf8_reference(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// One current-thread runtime per fuzzing process (building one per input would dominate).
inline tokio::runtime::Runtime& runtime() {
  static tokio::runtime::Runtime rt =
      tokio::runtime::Builder::new_current_thread().enable_all().build();
  return rt;
}

// The pieces a fuzz input cut a byte stream into, as a reader would receive them: the
// chosen sizes in order (0: an empty piece, a decode with nothing new), then the rest in one
// piece. Remembers the largest, which bounds what a decoder may buffer beyond its limit.
class Pieces {
 public:
  Pieces(std::string_view data, const std::vector<std::size_t>& sizes) noexcept
      : data_(data), sizes_(sizes) {}
  bool done() const noexcept { return pos_ >= data_.size(); }
  std::string_view next() noexcept {
    std::size_t k = data_.size() - pos_;
    if (next_ < sizes_.size()) k = std::min(k, sizes_[next_++]);
    max_ = std::max(max_, k);
    std::string_view piece = data_.substr(pos_, k);
    pos_ += k;
    return piece;
  }
  std::size_t max_piece() const noexcept { return max_; }

 private:
  std::string_view data_;
  const std::vector<std::size_t>& sizes_;
  std::size_t pos_ = 0, next_ = 0, max_ = 0;
};

}  // namespace fuzz

#define FUZZ_CHECK(cond, detail)                             \
  do {                                                       \
    if (!(cond)) {                                           \
      std::string fuzz_detail_;                              \
      { fuzz_detail_ = (detail); }                           \
      ::fuzz::fail(__FILE__, __LINE__, #cond, fuzz_detail_); \
    }                                                        \
  } while (0)
