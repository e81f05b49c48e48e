// Checks TOKIO_CONFIG_STD_FORMAT's std::formatter (core/display.hpp) against a real <format>,
// which libstdc++ 12 lacks. Not part of `make check`. Run by hand with libc++ 14, whose
// <format> is built but flagged incomplete (so its __config_site is copied without the flag,
// and format_error's key function is defined below):
//   apt-get install libc++-14-dev libc++abi-14-dev
//   mkdir -p /tmp/lcxx && grep -v NO_INCOMPLETE_FORMAT \
//     /usr/lib/llvm-14/include/c++/v1/__config_site > /tmp/lcxx/__config_site
//   clang++ -std=c++20 -stdlib=libc++ -isystem /tmp/lcxx -Isrc tests/probe/std_format_probe.cpp \
//     -o /tmp/std_format_probe && /tmp/std_format_probe
#define TOKIO_CONFIG_STD_FORMAT
#include "tokio/core/display.hpp"
#include <cstdio>
#include <sstream>
#include <string>
namespace tokio::net {
struct Fake {
  std::string to_string() const { return "127.0.0.1:80"; }
};
using detail::operator<<;
}  // namespace tokio::net
namespace tokio::detail {
template <>
struct enable_display<net::Fake> : std::true_type {};
}  // namespace tokio::detail
int main() {
  std::string s = std::format("[{}] [{:>14}]", tokio::net::Fake{}, tokio::net::Fake{});
  std::ostringstream os;
  os << tokio::net::Fake{};
  std::printf("%s %s\n", s.c_str(), os.str().c_str());
  return s == "[127.0.0.1:80] [  127.0.0.1:80]" && os.str() == "127.0.0.1:80" ? 0 : 1;
}

#include <format>
std::format_error::~format_error() noexcept {}
