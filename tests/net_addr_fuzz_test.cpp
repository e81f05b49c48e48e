// Regressions found by the fuzz targets (fuzz/socket_addr.cpp, fuzz/host_port.cpp); the
// inputs that found them are also kept in fuzz/corpus/ so `make fuzz-smoke` replays them.
#include <cstdlib>
#include <sys/socket.h>

#include "test_util.hpp"

using tokio::net::SocketAddr;
using tokio::net::ToSocketAddrs;

TEST_CASE("SocketAddr::from_sockaddr reads no byte past the length it is given") {
  // sa_family itself lies past a 1-byte buffer (ASan: heap-buffer-overflow before the fix).
  for (socklen_t len = 0; len < 2; ++len) {
    auto* p = static_cast<unsigned char*>(std::malloc(1));
    p[0] = AF_INET;
    auto r = SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(p), len);
    CHECK_FALSE(r.has_value());
    std::free(p);
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  CHECK_FALSE(SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin - 1)
                  .has_value());
  CHECK(SocketAddr::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin).has_value());
}

TEST_CASE("a bracketed host that is not an IP literal never reaches the resolver") {
  for (const char* host : {"[foo]", "[localhost]", "[a.b]", "[]"}) {
    INFO(host);
    auto r = ToSocketAddrs(host, 80).try_resolve();
    REQUIRE(r.has_value());  // answered without a lookup
    REQUIRE_FALSE(r->has_value());
    CHECK(r->error() == std::errc::invalid_argument);
    auto b = ToSocketAddrs(host, 80).resolve_blocking();
    CHECK_FALSE(b.has_value());
  }
  auto ok = ToSocketAddrs("[::1]", 80).try_resolve();
  REQUIRE(ok.has_value());
  REQUIRE(ok->has_value());
  CHECK((*ok)->at(0) == SocketAddr::parse("[::1]:80").value());
}
