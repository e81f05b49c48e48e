// Fuzzes UnixSocketAddr::from_pathname and UnixSocketAddr::from_raw.
//
// Properties of from_pathname(p):
//   - it fails for an empty p, for a path (not starting with NUL) holding a NUL anywhere
//     (bind/connect would stop there: "/tmp/a\0b" must not mean "/tmp/a"), and for a p
//     longer than sun_path allows (a path needs room for its terminating NUL);
//   - otherwise a path reads back as itself through as_pathname() and to_string(), an
//     abstract name ("\0name") as the bytes after the NUL through as_abstract_name() and
//     "@name" through to_string(), and raw()/raw_len() describe exactly those bytes;
//   - from_raw(raw(), raw_len()) gives an equal address.
// from_raw accepts any bytes and any length without reading past them.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "fuzz_util.hpp"

using tokio::net::UnixSocketAddr;

namespace {

constexpr std::size_t kPathMax = sizeof(sockaddr_un{}.sun_path);
constexpr std::size_t kOffset = offsetof(sockaddr_un, sun_path);

void check_pathname(std::string_view p) {
  auto a = UnixSocketAddr::from_pathname(p);
  const bool abstract = !p.empty() && p[0] == '\0';
  const bool ok_expected =
      !p.empty() && (abstract ? p.size() <= kPathMax
                              : p.size() < kPathMax && p.find('\0') == std::string_view::npos);
  FUZZ_CHECK(a.has_value() == ok_expected,
             "from_pathname(" + fuzz::show(p) + ") " + (a ? "accepted" : "refused"));
  if (!a) return;
  FUZZ_CHECK(!a->is_unnamed(), "named address reads as unnamed: " + fuzz::show(p));
  if (abstract) {
    FUZZ_CHECK(!a->as_pathname(), "abstract name reads as a path: " + fuzz::show(p));
    FUZZ_CHECK(a->as_abstract_name() == std::string(p.substr(1)),
               "abstract name of " + fuzz::show(p));
    FUZZ_CHECK(a->to_string() == "@" + std::string(p.substr(1)), "to_string of " + fuzz::show(p));
    FUZZ_CHECK(a->raw_len() == kOffset + p.size(), "raw_len of " + fuzz::show(p));
  } else {
    FUZZ_CHECK(a->as_pathname() == std::string(p), "as_pathname of " + fuzz::show(p));
    FUZZ_CHECK(!a->as_abstract_name(), "path reads as abstract: " + fuzz::show(p));
    FUZZ_CHECK(a->to_string() == std::string(p), "to_string of " + fuzz::show(p));
    FUZZ_CHECK(a->raw_len() == kOffset + p.size() + 1, "raw_len of " + fuzz::show(p));
  }
  const auto* sun = reinterpret_cast<const sockaddr_un*>(a->raw());
  FUZZ_CHECK(sun->sun_family == AF_UNIX, "family");
  FUZZ_CHECK(std::memcmp(sun->sun_path, p.data(), p.size()) == 0, "raw bytes of " + fuzz::show(p));
  auto b = UnixSocketAddr::from_raw(*sun, a->raw_len());
  FUZZ_CHECK(b == *a, "from_raw round trip of " + fuzz::show(p));
}

void check_raw(std::string_view bytes, socklen_t len) {
  // from_raw takes a whole sockaddr_un by reference; the length says how much is valid.
  sockaddr_un sun;
  std::memset(&sun, 0xAB, sizeof sun);
  std::memcpy(&sun, bytes.data(), std::min(bytes.size(), sizeof sun));
  auto a = UnixSocketAddr::from_raw(sun, len);
  FUZZ_CHECK(a.raw_len() <= sizeof(sockaddr_un), "raw_len past the structure");
  std::string s = a.to_string();
  auto path = a.as_pathname();
  auto abs = a.as_abstract_name();
  FUZZ_CHECK(!(path && abs), "both a path and an abstract name");
  if (a.is_unnamed()) FUZZ_CHECK(!path && !abs && s == "(unnamed)", "unnamed address with a name");
  if (path) {
    FUZZ_CHECK(path->find('\0') == std::string::npos, "a path with a NUL: " + fuzz::show(*path));
    FUZZ_CHECK(path->size() <= kPathMax, "path longer than sun_path");
  }
  if (abs) FUZZ_CHECK(abs->size() < kPathMax, "abstract name longer than sun_path");
  FUZZ_CHECK(a == a, "not equal to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) {
    check_pathname({});
    return 0;
  }
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 1) {
    check_pathname(rest);
  } else {
    check_raw(rest,
              static_cast<socklen_t>(data[0] >> 1) * 2 + static_cast<socklen_t>(rest.size() % 2));
  }
  return 0;
}
