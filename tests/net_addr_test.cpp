// Addresses: IpAddr / SocketAddr parsing and formatting, ToSocketAddrs forms, lookup_host,
// and the errors malformed or unresolvable addresses give.
#include <netdb.h>

#include <set>
#include <string>
#include <unordered_set>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::net::AddrErrc;
using tokio::net::IpAddr;
using tokio::net::Ipv4Addr;
using tokio::net::Ipv6Addr;
using tokio::net::SocketAddr;

TEST_CASE("net addr: IPv4 and IPv6 parse and format") {
  auto a = Ipv4Addr::parse("192.168.1.20");
  REQUIRE(a.has_value());
  CHECK(a->to_string() == "192.168.1.20");
  CHECK(a->to_bits() == 0xC0A80114u);
  CHECK(a->is_private());
  CHECK(Ipv4Addr::localhost().is_loopback());
  CHECK(Ipv4Addr(224, 0, 0, 1).is_multicast());
  CHECK(Ipv4Addr::broadcast().is_broadcast());
  CHECK(Ipv4Addr::from_bits(0x7f000001) == Ipv4Addr::localhost());
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
                          "01.2.3.4", "1..2.3"}) {
    auto r = Ipv4Addr::parse(bad);
    CHECK_MESSAGE(!r.has_value(), bad);
    if (!r) CHECK(r.error() == std::errc::invalid_argument);
  }
  auto v6 = Ipv6Addr::parse("2001:DB8:0:0:0:0:0:1");
  REQUIRE(v6.has_value());
  CHECK(v6->to_string() == "2001:db8::1");  // RFC 5952 canonical form
  CHECK(Ipv6Addr::localhost().to_string() == "::1");
  CHECK(Ipv6Addr::unspecified().to_string() == "::");
  CHECK(Ipv6Addr::parse("ff02::1")->is_multicast());
  auto mapped = Ipv6Addr::parse("::ffff:10.0.0.1");
  REQUIRE(mapped.has_value());
  CHECK(mapped->is_ipv4_mapped());
  CHECK(mapped->to_ipv4_mapped() == Ipv4Addr(10, 0, 0, 1));
  CHECK(Ipv6Addr(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1) == *v6);
  // RFC 5952 as Rust's std prints it: a dotted tail only for an IPv4-mapped address (glibc's
  // inet_ntop, used before, printed ::7f00:1 as ::127.0.0.1); "::" for the first longest
  // run of two or more zero words, never for a single one.
  CHECK(mapped->to_string() == "::ffff:10.0.0.1");
  CHECK(Ipv6Addr(0, 0, 0, 0, 0, 0, 2, 3).to_string() == "::2:3");
  CHECK(Ipv6Addr(0, 0, 0, 0, 0, 0, 0x7f00, 1).to_string() == "::7f00:1");
  CHECK(Ipv6Addr(0, 0, 0, 0, 0, 0, 0xffff, 0).to_string() == "::ffff:0");
  CHECK(Ipv6Addr(0, 0, 0, 0, 0, 0xffff, 0, 0).to_string() == "::ffff:0.0.0.0");
  CHECK(Ipv6Addr(1, 0, 2, 3, 4, 5, 6, 7).to_string() == "1:0:2:3:4:5:6:7");
  CHECK(Ipv6Addr(1, 0, 0, 2, 0, 0, 3, 4).to_string() == "1::2:0:0:3:4");
  CHECK(Ipv6Addr(1, 0, 0, 2, 0, 0, 0, 4).to_string() == "1:0:0:2::4");
  CHECK(Ipv6Addr(0xabcd, 0, 0, 0, 0, 0, 0, 0).to_string() == "abcd::");
  CHECK(Ipv6Addr(0xfe80, 0, 0, 0, 0x0a0b, 0xc, 0xd00, 0xf).to_string() == "fe80::a0b:c:d00:f");
  CHECK(SocketAddr::parse("[::2:3]:80")->to_string() == "[::2:3]:80");
  CHECK_FALSE(Ipv6Addr::parse("1::2::3").has_value());
  CHECK_FALSE(Ipv6Addr::parse("12345::").has_value());
  CHECK(IpAddr::parse("::1")->is_ipv6());
  CHECK(IpAddr::parse("127.0.0.1")->is_ipv4());
  CHECK(IpAddr(Ipv4Addr(1, 2, 3, 4)) < IpAddr(Ipv6Addr::unspecified()));
}

TEST_CASE("net addr: SocketAddr parse, format and round trips") {
  struct Case {
    const char* text;
    const char* formatted;
    uint16_t port;
  };
  for (Case c :
       {Case{"1.2.3.4:80", "1.2.3.4:80", 80}, Case{"0.0.0.0:0", "0.0.0.0:0", 0},
        Case{"127.0.0.1:65535", "127.0.0.1:65535", 65535}, Case{"[::1]:80", "[::1]:80", 80},
        Case{"[2001:DB8::1]:443", "[2001:db8::1]:443", 443},
        Case{"[fe80::1%3]:22", "[fe80::1%3]:22", 22},
        // Leading zeros, as many as Rust's parser takes.
        Case{"1.2.3.4:080", "1.2.3.4:80", 80}, Case{"1.2.3.4:0000000000080", "1.2.3.4:80", 80},
        Case{"[::1]:00000000443", "[::1]:443", 443}}) {
    auto a = SocketAddr::parse(c.text);
    REQUIRE_MESSAGE(a.has_value(), c.text);
    CHECK(a->to_string() == c.formatted);
    CHECK(a->port() == c.port);
    CHECK(SocketAddr::parse(a->to_string()).value() == *a);
    sockaddr_storage ss;
    socklen_t len = a->to_sockaddr(ss);
    CHECK(SocketAddr::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).value() == *a);
  }
  CHECK(SocketAddr::parse("[fe80::1%3]:22")->scope_id() == 3);
  struct Bad {
    const char* text;
    AddrErrc why;
  };
  for (Bad b :
       {Bad{"1.2.3.4", AddrErrc::invalid_socket_address}, Bad{"1.2.3.4:", AddrErrc::invalid_port},
        Bad{"1.2.3.4:65536", AddrErrc::invalid_port}, Bad{"1.2.3.4:-1", AddrErrc::invalid_port},
        Bad{"1.2.3.4:0000065536", AddrErrc::invalid_port},
        Bad{"1.2.3.4:99999999999999999999", AddrErrc::invalid_port},
        Bad{"1.2.3.4:8o", AddrErrc::invalid_port}, Bad{"::1:80", AddrErrc::invalid_socket_address},
        Bad{"[::1]", AddrErrc::invalid_socket_address},
        Bad{"[::1]80", AddrErrc::invalid_socket_address},
        Bad{"[::1:80", AddrErrc::invalid_socket_address},
        Bad{"localhost:80", AddrErrc::invalid_ip_address},
        Bad{"", AddrErrc::invalid_socket_address}}) {
    auto r = SocketAddr::parse(b.text);
    REQUIRE_MESSAGE(!r.has_value(), b.text);
    CHECK_MESSAGE(r.error() == b.why, b.text);
    CHECK(r.error() == std::errc::invalid_argument);
    CHECK_FALSE(r.error().message().empty());
  }
  std::unordered_set<SocketAddr> set{SocketAddr::parse("1.2.3.4:1").value(),
                                     SocketAddr::parse("1.2.3.4:1").value(),
                                     SocketAddr::parse("[::1]:1").value()};
  CHECK(set.size() == 2);
  CHECK(SocketAddr(Ipv4Addr::localhost(), 9).to_string() == "127.0.0.1:9");
  CHECK(SocketAddr(Ipv6Addr::localhost(), 9).to_string() == "[::1]:9");
}

TEST_CASE("net addr: lookup_host resolves literals, host names and reports bad input") {
  nt::Watchdog wd("lookup_host");
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    auto lit = co_await tokio::net::lookup_host("127.0.0.1:8080");
    REQUIRE(lit.has_value());
    REQUIRE(lit->size() == 1);
    CHECK((*lit)[0].to_string() == "127.0.0.1:8080");

    auto v6 = co_await tokio::net::lookup_host("::1", 53);
    REQUIRE(v6.has_value());
    CHECK((*v6)[0].to_string() == "[::1]:53");

    auto local = co_await tokio::net::lookup_host("localhost:8080");  // /etc/hosts
    REQUIRE(local.has_value());
    REQUIRE_FALSE(local->empty());
    for (const SocketAddr& a : *local) {
      CHECK(a.ip().is_loopback());
      CHECK(a.port() == 8080);
    }
    auto hp = co_await tokio::net::lookup_host("localhost", 9);
    REQUIRE(hp.has_value());
    CHECK(hp->front().port() == 9);

    auto unknown = co_await tokio::net::lookup_host("no-such-host.invalid:80");
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().category() == tokio::net::gai_category());
    CHECK_FALSE(unknown.error().message().empty());

    for (const char* bad :
         {"localhost", "localhost:", "localhost:99999", ":80", "::1:80", "[::1]"}) {
      auto r = co_await tokio::net::lookup_host(bad);
      REQUIRE_MESSAGE(!r.has_value(), bad);
      CHECK_MESSAGE(r.error() == std::errc::invalid_argument, bad);
    }
    auto empty_host = co_await tokio::net::lookup_host("", 80);
    CHECK(empty_host.error() == std::errc::invalid_argument);

    std::vector<SocketAddr> two{SocketAddr::parse("127.0.0.1:1").value(),
                                SocketAddr::parse("[::1]:2").value()};
    auto list = co_await tokio::net::lookup_host(two);
    CHECK(list.value() == two);
  }());
}

TEST_CASE("net addr: (host, port) takes a scoped IPv6 host; a host with another ':' says so") {
  nt::Watchdog wd("host-port scope");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    // As Rust's ("fe80::1%1", 5).to_socket_addrs(): bare or bracketed, the scope id is kept,
    // with the grammar of the "[v6%scope]:port" string form.
    for (const char* host : {"fe80::1%1", "[fe80::1%1]"}) {
      auto r = co_await tokio::net::lookup_host(host, 5);
      REQUIRE_MESSAGE(r.has_value(), host);
      REQUIRE(r->size() == 1);
      CHECK((*r)[0] == SocketAddr::parse("[fe80::1%1]:5").value());
      CHECK((*r)[0].scope_id() == 1);
    }
    auto max_scope = co_await tokio::net::lookup_host("fe80::1%4294967295", 7);
    REQUIRE(max_scope.has_value());
    CHECK(max_scope->front().scope_id() == 4294967295u);
    auto plain = co_await tokio::net::lookup_host("[::1]", 80);
    REQUIRE(plain.has_value());
    CHECK(plain->front().to_string() == "[::1]:80");
    // A port inside the host, or a malformed IPv6 (scope included): an error that names
    // the ':', not the IP grammar.
    for (const char* bad : {"localhost:80", "127.0.0.1:80", "[::1]:80", "fe80::1%", "fe80::1%x",
                            "fe80::1%4294967296", "[fe80::g%1]", "::g"}) {
      auto r = co_await tokio::net::lookup_host(bad, 80);
      REQUIRE_MESSAGE(!r.has_value(), bad);
      CHECK_MESSAGE(r.error() == AddrErrc::host_has_colon, bad);
      CHECK(r.error() == std::errc::invalid_argument);
      CHECK(r.error().message().find("contains a ':'") != std::string::npos);
    }
  }());
}

TEST_CASE("net addr: a NUL or any byte outside the grammar is refused, never cut short") {
  using namespace std::string_view_literals;
  // Parsers: the bytes after a NUL must not be ignored.
  for (std::string_view bad : {"127.0.0.1\0"sv, "127.0.0.1\0.5"sv, "::1\0"sv, "1.2.3.4 "sv}) {
    CHECK_FALSE(tokio::net::IpAddr::parse(bad).has_value());
  }
  for (std::string_view bad :
       {"127.0.0.1\0:80"sv, "127.0.0.1:8\0"sv, "[::1\0]:80"sv, "[::1]:80\0"sv}) {
    auto r = SocketAddr::parse(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == std::errc::invalid_argument);
  }
  // Host names: refused before the resolver sees them.
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    std::string nul_host("localhost\0.evil.example:80", 26);
    auto a = co_await tokio::net::lookup_host(nul_host);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error() == tokio::net::AddrErrc::invalid_host_name);
    CHECK(a.error() == std::errc::invalid_argument);
    std::string nul_name("localhost\0x", 11);
    auto b = co_await tokio::net::lookup_host(nul_name, 80);
    REQUIRE_FALSE(b.has_value());
    CHECK(b.error() == tokio::net::AddrErrc::invalid_host_name);
    for (const char* bad : {"local host:80", "a/b:80", "x;rm:80", "h\tx:80"}) {
      auto r = co_await tokio::net::lookup_host(bad);
      REQUIRE_MESSAGE(!r.has_value(), bad);
      CHECK_MESSAGE(r.error() == std::errc::invalid_argument, bad);
    }
    auto connect = co_await tokio::net::TcpStream::connect(std::string_view(nul_host));
    REQUIRE_FALSE(connect.has_value());
    CHECK(connect.error() == tokio::net::AddrErrc::invalid_host_name);
    auto ok = co_await tokio::net::lookup_host("local_host-1.localdomain.invalid:80");
    CHECK((ok.has_value() ||
           ok.error().category() == tokio::net::gai_category()));  // reached the resolver
  }());
  // Unix socket paths: a NUL inside a pathname is refused; an abstract name may have NULs.
  auto p = tokio::net::UnixSocketAddr::from_pathname(std::string_view("/tmp/a\0b", 8));
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error() == tokio::net::AddrErrc::invalid_path);
  CHECK(
      tokio::net::UnixSocketAddr::from_pathname(std::string_view("\0abs\0tract", 10)).has_value());
  // An empty path says so (not the IP address grammar).
  auto empty = tokio::net::UnixSocketAddr::from_pathname("");
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error() == tokio::net::AddrErrc::empty_path);
  CHECK(empty.error() == std::errc::invalid_argument);
  CHECK(empty.error().message().find("Unix socket path: it is empty") != std::string::npos);
}

TEST_CASE("net addr: every address-taking API accepts host:port, a SocketAddr, or host and port") {
  nt::Watchdog wd("address forms");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    using tokio::net::TcpListener;
    using tokio::net::TcpStream;
    auto l1 = co_await TcpListener::bind("127.0.0.1:0");
    REQUIRE(l1.has_value());
    auto l2 = co_await TcpListener::bind(SocketAddr(Ipv4Addr::localhost(), 0));
    REQUIRE(l2.has_value());
    auto l3 = co_await TcpListener::bind("localhost", 0);
    REQUIRE(l3.has_value());
    auto l4 = co_await TcpListener::bind(std::string("127.0.0.1:0"));
    REQUIRE(l4.has_value());
    uint16_t port = l1->local_addr()->port();
    auto c1 = co_await TcpStream::connect("127.0.0.1:" + std::to_string(port));
    CHECK(c1.has_value());
    auto c2 = co_await TcpStream::connect(l1->local_addr().value());
    CHECK(c2.has_value());
    auto c3 = co_await TcpStream::connect("127.0.0.1", port);
    CHECK(c3.has_value());
    auto c4 = co_await TcpStream::connect("localhost:" + std::to_string(l3->local_addr()->port()));
    CHECK(c4.has_value());
    // Malformed / unresolvable targets are errors, not exceptions or hangs.
    auto bad = co_await TcpStream::connect("127.0.0.1");
    CHECK(bad.error() == AddrErrc::invalid_socket_address);
    auto bad2 = co_await TcpListener::bind("127.0.0.1:http");
    CHECK(bad2.error() == AddrErrc::invalid_port);
    auto unknown = co_await TcpStream::connect("no-such-host.invalid", 80);
    CHECK(unknown.error().category() == tokio::net::gai_category());
    auto nobind = co_await TcpListener::bind("203.0.113.1:0");  // not a local address
    CHECK(nobind.error() == std::errc::address_not_available);
  }());
}
