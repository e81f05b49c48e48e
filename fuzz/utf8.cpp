// Fuzzes the UTF-8 validator behind read_to_string / read_line / lines (detail::utf8_valid)
// against an independent decoding reference (fuzz::utf8_reference), at every alignment of
// the input (its ASCII fast path reads 8 bytes at a time), and through the public API:
// read_to_string over an in-memory reader succeeds exactly when the bytes are valid, and
// on failure leaves the string as it was.
#include <string>

#include "fuzz_util.hpp"

namespace io = tokio::io;

namespace {

tokio::Task<tokio::io::Result<std::size_t>> read_all(std::string_view bytes, std::string* out) {
  io::SliceReader r(bytes);
  co_return co_await io::read_to_string(r, *out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const bool expected = fuzz::utf8_reference(data, size);
  std::string_view s(reinterpret_cast<const char*>(data), size);
  FUZZ_CHECK(tokio::detail::utf8_valid(data, size) == expected,
             "utf8_valid(" + fuzz::show(s) + ") should be " + (expected ? "true" : "false"));
  // Every alignment of the 8-byte ASCII loop, and every truncation near the end.
  for (std::size_t k = 1; k < 9 && k <= size; ++k) {
    FUZZ_CHECK(
        tokio::detail::utf8_valid(data + k, size - k) == fuzz::utf8_reference(data + k, size - k),
        "utf8_valid at offset " + std::to_string(k) + " of " + fuzz::show(s));
    FUZZ_CHECK(
        tokio::detail::utf8_valid(data, size - k) == fuzz::utf8_reference(data, size - k),
        "utf8_valid of the first " + std::to_string(size - k) + " bytes of " + fuzz::show(s));
  }
  // Through read_to_string, appending to a string that already holds a prefix.
  std::string out = "prefix:";
  auto r = fuzz::runtime().block_on(read_all(s, &out));
  if (expected) {
    FUZZ_CHECK(r && *r == size && out == "prefix:" + std::string(s),
               "read_to_string of valid " + fuzz::show(s));
  } else {
    FUZZ_CHECK(!r && r.error() == std::errc::illegal_byte_sequence,
               "read_to_string accepted " + fuzz::show(s));
    FUZZ_CHECK(out == "prefix:", "read_to_string changed the string on failure");
  }
  return 0;
}
