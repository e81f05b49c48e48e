// Compiled and run by `make check-strict` in C++23 mode (-std=c++2b), where <expected>
// defines __cpp_lib_expected: tokio::Result converts to and from std::expected.
#define TOKIO_IMPLEMENTATION
#include "tokio.hpp"

#include <cstdio>
#include <expected>
#include <string>

#if !defined(__cpp_lib_expected)
int main() {
  std::puts("expected_tu: this standard library has no std::expected; conversions not built");
  return 0;
}
#else
namespace {
int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("expected_tu: FAILED: %s\n", what);
    ++failures;
  }
}
std::expected<int, std::string> parse(bool ok) {
  if (ok) return 42;
  return std::unexpected(std::string("bad"));
}
}  // namespace

int main() {
  tokio::Result<int, std::string> a = parse(true);  // from std::expected
  check(a.has_value() && *a == 42, "value from std::expected");
  tokio::Result<int, std::string> b = parse(false);
  check(!b && b.error() == "bad", "error from std::expected");
  std::expected<int, std::string> c = a;  // to std::expected
  check(c.has_value() && *c == 42, "value to std::expected");
  std::expected<int, std::string> d = std::move(b);
  check(!d && d.error() == "bad", "error to std::expected");
  tokio::io::Result<void> v = tokio::io::os_error(2);
  std::expected<void, std::error_code> e = v;
  check(!e && e.error().value() == 2, "void error to std::expected");
  tokio::io::Result<void> back = std::expected<void, std::error_code>();
  check(back.has_value(), "void value from std::expected");
  if (failures == 0) std::puts("expected_tu: ok");
  return failures == 0 ? 0 : 1;
}
#endif
