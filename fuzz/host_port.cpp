// Fuzzes ToSocketAddrs (what lookup_host and every connect/bind take): "host:port" text
// and (host, port) pairs, through try_resolve() and resolve_blocking(), without DNS.
//
// getaddrinfo and freeaddrinfo are replaced in this program (a definition in the
// executable takes precedence over libc's): the stub records the name it was asked for,
// checks it, and answers either "unknown host" or one made-up address. Properties:
//   - nothing reaches the resolver that holds a NUL or any byte outside the host-name
//     grammar (letters, digits, '-', '_', '.'), or is empty or longer than 253 bytes;
//   - a literal (SocketAddr::parse accepts the text; the host is an IP address) never
//     reaches the resolver, and try_resolve() answers it without one;
//   - try_resolve() == nullopt exactly when resolve_blocking() calls the resolver;
//   - the name resolved is the text's host part exactly, and every address returned
//     carries the text's port;
//   - a literal resolves to the address parse gives.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>

#include "fuzz_util.hpp"

using tokio::net::IpAddr;
using tokio::net::SocketAddr;
using tokio::net::ToSocketAddrs;

namespace {

struct Stub {
  int calls = 0;
  std::string last_name;  // what the library passed (as a C string)
  bool answer = false;    // reply with one address instead of EAI_NONAME
};
Stub g_stub;

bool host_name_grammar(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (unsigned char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

struct FakeAnswer {
  addrinfo ai;
  sockaddr_in sin;
};

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
  (void)service;
  (void)hints;
  ++g_stub.calls;
  g_stub.last_name = node ? node : "";
  FUZZ_CHECK(node != nullptr, "getaddrinfo without a host name");
  FUZZ_CHECK(host_name_grammar(g_stub.last_name),
             "the resolver was asked for " + fuzz::show(g_stub.last_name));
  if (!g_stub.answer) return EAI_NONAME;
  auto* a = new FakeAnswer{};
  a->sin.sin_family = AF_INET;
  a->sin.sin_addr.s_addr = htonl(0x0a000001);  // 10.0.0.1
  a->ai.ai_family = AF_INET;
  a->ai.ai_socktype = SOCK_STREAM;
  a->ai.ai_addrlen = sizeof(sockaddr_in);
  a->ai.ai_addr = reinterpret_cast<sockaddr*>(&a->sin);
  *res = &a->ai;
  return 0;
}

extern "C" void freeaddrinfo(addrinfo* ai) { delete reinterpret_cast<FakeAnswer*>(ai); }

namespace {

void check(const ToSocketAddrs& t, std::string_view host_text, std::optional<uint16_t> port,
           bool answer) {
  g_stub = Stub{};
  g_stub.answer = answer;
  auto quick = t.try_resolve();
  FUZZ_CHECK(g_stub.calls == 0, "try_resolve() called the resolver for " + fuzz::show(host_text));
  auto full = t.resolve_blocking();
  if (quick) {
    FUZZ_CHECK(g_stub.calls == 0,
               "resolve_blocking() resolved what try_resolve() answered: " + fuzz::show(host_text));
    FUZZ_CHECK(quick->has_value() == full.has_value(),
               "try_resolve and resolve_blocking disagree on " + fuzz::show(host_text));
    if (full)
      FUZZ_CHECK(quick->value() == *full, "different addresses for " + fuzz::show(host_text));
  } else {
    FUZZ_CHECK(g_stub.calls == 1,
               "try_resolve() said a lookup is needed, but resolve_blocking() made " +
                   std::to_string(g_stub.calls) + " for " + fuzz::show(host_text));
  }
  if (g_stub.calls > 0) {
    // The host part, exactly (a literal would have been answered without the resolver).
    FUZZ_CHECK(!IpAddr::parse(g_stub.last_name),
               "an IP literal reached the resolver: " + fuzz::show(g_stub.last_name));
    FUZZ_CHECK(g_stub.last_name == host_text,
               "resolved " + fuzz::show(g_stub.last_name) + " for host " + fuzz::show(host_text));
    FUZZ_CHECK(full.has_value() == answer,
               "the resolver's answer was not passed on for " + fuzz::show(host_text));
  }
  if (full && port) {
    for (const SocketAddr& a : *full)
      FUZZ_CHECK(a.port() == *port, "port lost for " + fuzz::show(host_text));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool answer = data[0] & 1;
  const bool pair_form = data[0] & 2;
  std::string_view s(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!pair_form) {
    // "host:port" text.
    ToSocketAddrs t(s);
    auto lit = SocketAddr::parse(s);
    auto colon = s.rfind(':');
    std::string_view host = colon == std::string_view::npos ? s : s.substr(0, colon);
    std::optional<uint16_t> port;
    if (lit) port = lit->port();
    check(t, host, port, answer);
    if (lit) {
      auto r = t.try_resolve();
      FUZZ_CHECK(r && r->has_value() && r->value().size() == 1 && r->value()[0] == *lit,
                 "a literal did not resolve to itself: " + fuzz::show(s));
    }
    if (s.find('\0') != std::string_view::npos) {
      auto r = t.resolve_blocking();
      FUZZ_CHECK(!r, "text with a NUL resolved: " + fuzz::show(s));
    }
  } else {
    // (host, port): the port from the first two bytes after the flags.
    if (s.size() < 2) return 0;
    uint16_t port = static_cast<uint16_t>((static_cast<unsigned char>(s[0]) << 8) |
                                          static_cast<unsigned char>(s[1]));
    std::string_view host = s.substr(2);
    ToSocketAddrs t(host, port);
    check(t, host, port, answer);
    if (auto ip = IpAddr::parse(host)) {
      auto r = t.try_resolve();
      FUZZ_CHECK(
          r && r->has_value() && r->value().size() == 1 && r->value()[0] == SocketAddr(*ip, port),
          "an IP host did not resolve to itself: " + fuzz::show(host));
    }
  }
  return 0;
}
