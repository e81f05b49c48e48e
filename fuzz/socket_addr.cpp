// Fuzzes SocketAddr::parse, IpAddr::parse, Ipv4Addr::parse, Ipv6Addr::parse and
// SocketAddr::from_sockaddr.
//
// Properties, for any input text s:
//   - a successful parse never came from text holding a NUL byte (the C parsers under it
//     would have stopped there: "127.0.0.1\0:80" is not an address);
//   - parse(to_string(x)) == x, and to_string is a fixed point (canonical form);
//   - the three IP parsers agree: Ipv4Addr::parse(s) ok => IpAddr::parse(s) is that v4
//     address; Ipv6Addr::parse(s) ok => IpAddr::parse(s) is that v6 address; IpAddr ok =>
//     one of them was;
//   - SocketAddr::parse(s) ok => s is "host:port" with the port's decimal digits exactly
//     and the host parsing on its own (bracketed for IPv6, with an optional %scope).
// And for structured values built from the input: every Ipv4/Ipv6/SocketAddr formats to
// text that parses back to it; from_sockaddr accepts any bytes without reading past them
// and round-trips through to_sockaddr.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "fuzz_util.hpp"

using tokio::net::IpAddr;
using tokio::net::Ipv4Addr;
using tokio::net::Ipv6Addr;
using tokio::net::SocketAddr;

namespace {

void check_text(std::string_view s) {
  const bool has_nul = s.find('\0') != std::string_view::npos;

  auto v4 = Ipv4Addr::parse(s);
  auto v6 = Ipv6Addr::parse(s);
  auto ip = IpAddr::parse(s);
  if (v4) {
    FUZZ_CHECK(!has_nul, "Ipv4Addr::parse accepted a NUL: " + fuzz::show(s));
    FUZZ_CHECK(ip && ip->is_ipv4() && ip->v4() == *v4,
               "IpAddr::parse disagrees with Ipv4Addr::parse on " + fuzz::show(s));
    FUZZ_CHECK(Ipv4Addr::parse(v4->to_string()).value() == *v4,
               "Ipv4 round trip of " + fuzz::show(s));
  }
  if (v6) {
    FUZZ_CHECK(!has_nul, "Ipv6Addr::parse accepted a NUL: " + fuzz::show(s));
    FUZZ_CHECK(ip && ip->is_ipv6() && ip->v6() == *v6,
               "IpAddr::parse disagrees with Ipv6Addr::parse on " + fuzz::show(s));
    std::string t = v6->to_string();
    FUZZ_CHECK(Ipv6Addr::parse(t).value() == *v6,
               "Ipv6 round trip of " + fuzz::show(s) + " via " + t);
  }
  FUZZ_CHECK(!(v4 && v6), "both an IPv4 and an IPv6 address: " + fuzz::show(s));
  if (ip) {
    FUZZ_CHECK(v4 || v6,
               "IpAddr::parse accepted what neither family parser does: " + fuzz::show(s));
    std::string t = ip->to_string();
    FUZZ_CHECK(IpAddr::parse(t).value() == *ip, "IpAddr round trip of " + fuzz::show(s));
    FUZZ_CHECK(IpAddr::parse(t)->to_string() == t, "IpAddr::to_string not canonical: " + t);
  }

  auto sa = SocketAddr::parse(s);
  if (!sa) return;
  FUZZ_CHECK(!has_nul, "SocketAddr::parse accepted a NUL: " + fuzz::show(s));
  std::string t = sa->to_string();
  auto back = SocketAddr::parse(t);
  FUZZ_CHECK(back && *back == *sa, "SocketAddr round trip of " + fuzz::show(s) + " via " + t);
  FUZZ_CHECK(back->to_string() == t, "SocketAddr::to_string not canonical: " + t);
  // The shape: "host:port" with the port's digits exactly.
  auto colon = s.rfind(':');
  FUZZ_CHECK(colon != std::string_view::npos, "no ':' in " + fuzz::show(s));
  std::string_view port = s.substr(colon + 1);
  FUZZ_CHECK(!port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos,
             "port text " + fuzz::show(port));
  FUZZ_CHECK(std::stoul(std::string(port)) == sa->port(), "port value of " + fuzz::show(s));
  std::string_view host = s.substr(0, colon);
  if (sa->is_ipv4()) {
    FUZZ_CHECK(Ipv4Addr::parse(host).value() == sa->ip().v4(), "host of " + fuzz::show(s));
  } else {
    FUZZ_CHECK(host.size() >= 2 && host.front() == '[' && host.back() == ']',
               "unbracketed IPv6 " + fuzz::show(s));
    std::string_view inner = host.substr(1, host.size() - 2);
    if (auto pct = inner.find('%'); pct != std::string_view::npos) inner = inner.substr(0, pct);
    FUZZ_CHECK(Ipv6Addr::parse(inner).value() == sa->ip().v6(), "host of " + fuzz::show(s));
  }
}

void check_structured(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: {
      Ipv4Addr a = Ipv4Addr::from_bits(in.ConsumeIntegral<uint32_t>());
      SocketAddr s(a, in.ConsumeIntegral<uint16_t>());
      FUZZ_CHECK(Ipv4Addr::parse(a.to_string()).value() == a, a.to_string());
      FUZZ_CHECK(SocketAddr::parse(s.to_string()).value() == s, s.to_string());
      break;
    }
    case 1: {
      std::array<uint8_t, 16> o{};
      for (auto& b : o) b = in.ConsumeIntegral<uint8_t>();
      Ipv6Addr a(o);
      uint16_t port = in.ConsumeIntegral<uint16_t>();
      uint32_t scope = in.ConsumeBool() ? in.ConsumeIntegral<uint32_t>() : 0;
      SocketAddr s(a, port, 0, scope);  // flowinfo has no text form
      FUZZ_CHECK(Ipv6Addr::parse(a.to_string()).value() == a, a.to_string());
      auto back = SocketAddr::parse(s.to_string());
      FUZZ_CHECK(back && *back == s, s.to_string());
      break;
    }
    default: {
      // Raw sockaddr bytes of any length: accepted only for a complete sockaddr_in/in6.
      std::string raw = in.ConsumeRandomLengthString(sizeof(sockaddr_storage));
      uint16_t family = in.ConsumeBool()   ? AF_INET
                        : in.ConsumeBool() ? AF_INET6
                                           : in.ConsumeIntegral<uint16_t>();
      if (raw.size() >= sizeof(sa_family_t)) std::memcpy(raw.data(), &family, sizeof(sa_family_t));
      // An exact-size heap copy, so ASan catches a read past the length given.
      auto* buf = static_cast<unsigned char*>(std::malloc(raw.size() ? raw.size() : 1));
      std::memcpy(buf, raw.data(), raw.size());
      auto r = SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(buf),
                                         static_cast<socklen_t>(raw.size()));
      if (r) {
        sockaddr_storage ss;
        socklen_t len = r->to_sockaddr(ss);
        FUZZ_CHECK(len <= raw.size(), "from_sockaddr accepted a short address");
        auto again = SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
        FUZZ_CHECK(again && *again == *r, "sockaddr round trip");
      }
      std::free(buf);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  check_text(s);
  FuzzedDataProvider in(data, size);
  check_structured(in);
  return 0;
}
