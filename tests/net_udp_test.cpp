// UDP: send_to / recv_from / peek_from, connected sockets, one socket shared by several
// tasks, ICMP errors surfacing as ECONNREFUSED, options, broadcast and IPv4 multicast
// delivery and IPv6 membership (on the loopback interface only), cancellation.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::net::Ipv4Addr;
using tokio::net::Ipv6Addr;
using tokio::net::SocketAddr;
using tokio::net::UdpSocket;
namespace oneshot = tokio::sync::oneshot;

namespace {
Task<UdpSocket> bound(const char* addr = "127.0.0.1:0") {
  auto s = co_await UdpSocket::bind(addr);
  REQUIRE(s.has_value());
  co_return std::move(*s);
}
// A loopback UDP address nobody listens on (a socket bound there, then closed).
Task<SocketAddr> dead_addr() {
  auto gone = co_await bound();
  co_return gone.local_addr().value();
}
}  // namespace

TEST_CASE("udp: send_to, peek_from, recv_from, truncation, ping-pong") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("udp basic");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto a = co_await bound();
      auto b = co_await bound();
      SocketAddr aa = a.local_addr().value(), ba = b.local_addr().value();
      CHECK((co_await a.send_to("datagram", ba)).value() == 8);
      char buf[64];
      auto pk = co_await b.peek_from(buf);
      REQUIRE(pk.has_value());
      CHECK(pk->first == 8);
      CHECK(pk->second == aa);
      auto r = co_await b.recv_from(buf);  // the peeked datagram is still there
      REQUIRE(r.has_value());
      CHECK(std::string(buf, r->first) == "datagram");
      CHECK(r->second == aa);
      // A datagram larger than the buffer is truncated to it.
      CHECK((co_await a.send_to("0123456789", ba)).value() == 10);
      char small[4];
      auto t = co_await b.recv_from(small);
      CHECK(t.value().first == 4);
      CHECK(std::string(small, 4) == "0123");
      // Ping-pong.
      for (int i = 0; i < 200; ++i) {
        std::string msg = "ping " + std::to_string(i);
        REQUIRE((co_await a.send_to(msg, ba)).has_value());
        auto got = co_await b.recv_from(buf);
        REQUIRE(got.has_value());
        REQUIRE((co_await b.send_to(std::string_view(buf, got->first), got->second)).has_value());
        auto back = co_await a.recv(buf);
        REQUIRE(back.has_value());
        CHECK(std::string(buf, *back) == msg);
      }
      // send_to with a host name to resolve.
      auto h = co_await a.send_to("by name", "localhost:" + std::to_string(ba.port()));
      REQUIRE(h.has_value());  // the IPv4 address of localhost is picked for an IPv4 socket
      auto got = co_await b.recv(buf);
      CHECK(std::string(buf, got.value()) == "by name");
    }());
  }
}

TEST_CASE("udp: connect filters peers; ICMP port unreachable surfaces as ECONNREFUSED") {
  nt::Watchdog wd("udp connect");
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    auto a = co_await bound();
    auto b = co_await bound();
    auto other = co_await bound();
    REQUIRE((co_await a.connect(b.local_addr().value())).has_value());
    CHECK(a.peer_addr().value() == b.local_addr().value());
    REQUIRE((co_await other.send_to("stranger", a.local_addr().value())).has_value());
    REQUIRE((co_await b.send_to("friend", a.local_addr().value())).has_value());
    char buf[32];
    auto r = co_await a.recv(buf);  // the stranger's datagram was filtered out
    CHECK(std::string(buf, r.value()) == "friend");
    CHECK((co_await a.send("hi")).value() == 2);
    CHECK(std::string(buf, (co_await b.recv(buf)).value()) == "hi");

    // Connected to a port nobody listens on: the send succeeds, the ICMP error arrives
    // as an error event and the next receive reports it.
    SocketAddr dead = co_await dead_addr();
    auto c = co_await bound();
    REQUIRE((co_await c.connect(dead)).has_value());
    REQUIRE((co_await c.send("anyone?")).has_value());
    auto e = co_await c.recv(buf);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == std::errc::connection_refused);
  }());
}

// The readiness loop Tokio documents, on a UDP socket connected to a port nobody listens
// on: ready(READABLE) reported the ICMP error event as ERROR alone (neither readable nor
// writable), so the loop never called try_recv and ready() returned at once for ever, a
// spin on a whole core (helper-90: 300 million returns in 2 s). Now it reads as readable,
// try_recv surfaces the error, and the next ready() waits.
TEST_CASE("udp: ready() on an error event reads as the direction asked for; no spin") {
  nt::Watchdog wd("udp ready error");
  for (int flavour : {0, 1}) {
    CAPTURE(flavour);
    auto rt = test::either_flavour_all(flavour == 1);
    rt.block_on([]() -> Task<> {
      SocketAddr dead = co_await dead_addr();
      auto d = co_await bound();
      REQUIRE((co_await d.connect(dead)).has_value());
      REQUIRE((co_await d.send("anyone?")).has_value());
      char buf[32];
      int returns = 0;
      int refused = 0;
      for (int i = 0; i < 1000; ++i) {
        auto rd = co_await tokio::time::timeout(100ms, d.ready(tokio::io::Interest::READABLE));
        if (!rd) break;  // waiting, as it should once the error was taken
        ++returns;
        REQUIRE(rd->has_value());
        if (!(*rd)->is_readable()) continue;
        auto got = d.try_recv(buf);
        if (!got && got.error() == std::errc::connection_refused) ++refused;
      }
      CHECK(refused == 1);
      CHECK(returns <= 3);
    }());
  }
}

TEST_CASE("udp: one socket shared by several receiving tasks; try_ forms") {
  nt::Watchdog wd("udp shared");
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    auto server = co_await bound();
    auto client = co_await bound();
    SocketAddr sa = server.local_addr().value();
    std::vector<tokio::JoinHandle<std::string>> rx;
    for (int i = 0; i < 4; ++i) {
      rx.push_back(tokio::spawn(
          [](UdpSocket* s) -> Task<std::string> {
            char buf[32];
            auto r = co_await s->recv_from(buf);
            co_return std::string(buf, r.value().first);
          },
          &server));
    }
    co_await nt::settle();
    for (int i = 0; i < 4; ++i) {
      REQUIRE((co_await client.send_to("d" + std::to_string(i), sa)).has_value());
    }
    std::set<std::string> got;
    for (auto& h : rx) got.insert(co_await h);
    CHECK(got == std::set<std::string>{"d0", "d1", "d2", "d3"});

    // try_recv_from with nothing queued: would-block.
    std::byte buf[32];
    auto t = server.try_recv_from(buf);
    CHECK(tokio::io::is_would_block(t.error()));
    REQUIRE((co_await client.writable()).has_value());
    CHECK(client.try_send_to(nt::bytes("try"), sa).value() == 3);
    REQUIRE((co_await server.readable()).has_value());
    auto tr = server.try_recv_from(buf);
    REQUIRE(tr.has_value());
    CHECK(tr->first == 3);
    CHECK(tr->second == client.local_addr().value());
    REQUIRE((co_await client.connect(sa)).has_value());
    CHECK(client.try_send(nt::bytes("c")).value() == 1);
    REQUIRE((co_await server.readable()).has_value());
    CHECK(server.try_recv(buf).value() == 1);
  }());
}

TEST_CASE("udp: peek_sender, try_peek_from, try_peek_sender leave the datagram queued") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("udp peek_sender");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto a = co_await bound();
      auto b = co_await bound();
      std::byte buf[16];
      CHECK(tokio::io::is_would_block(b.try_peek_sender().error()));
      CHECK(tokio::io::is_would_block(b.try_peek_from(buf).error()));
      REQUIRE((co_await a.send_to("hello", b.local_addr().value())).has_value());
      auto who = co_await b.peek_sender();
      REQUIRE(who.has_value());
      CHECK(*who == a.local_addr().value());
      CHECK(b.try_peek_sender().value() == a.local_addr().value());
      auto pk = b.try_peek_from(buf);
      REQUIRE(pk.has_value());
      CHECK(pk->first == 5);
      auto r = co_await b.recv_from(buf);  // still there after three peeks
      REQUIRE(r.has_value());
      CHECK(r->first == 5);
      CHECK(r->second == a.local_addr().value());
      CHECK(tokio::io::is_would_block(b.try_peek_sender().error()));
    }());
  }
}

TEST_CASE("try_read_buf / try_recv_buf / try_recv_buf_from append to growable containers") {
  nt::Watchdog wd("try_*_buf");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    // UDP: nothing queued is would-block and leaves the container as it was.
    auto a = co_await bound();
    auto b = co_await bound();
    std::vector<uint8_t> v{'>'};
    CHECK(tokio::io::is_would_block(b.try_recv_buf(v).error()));
    CHECK(v == std::vector<uint8_t>{'>'});
    REQUIRE((co_await a.send_to("one", b.local_addr().value())).has_value());
    REQUIRE((co_await a.send_to("two", b.local_addr().value())).has_value());
    REQUIRE((co_await b.readable()).has_value());
    CHECK(b.try_recv_buf(v).value() == 3);
    CHECK(std::string(v.begin(), v.end()) == ">one");
    tokio::codec::BytesMut m;
    auto from = b.try_recv_buf_from(m);
    REQUIRE(from.has_value());
    CHECK(from->first == 3);
    CHECK(from->second == a.local_addr().value());
    CHECK(std::string_view(m) == "two");
    // A datagram longer than the room (64 bytes when the container has none; a string's
    // inline 15 bytes count as room) is cut there, as try_recv cuts it; reserving first
    // keeps it whole.
    std::string big(100, 'x');
    for (int i = 0; i < 3; ++i) {
      REQUIRE((co_await a.send_to(big, b.local_addr().value())).has_value());
    }
    REQUIRE((co_await b.readable()).has_value());
    std::vector<char> s;
    const std::size_t cut = b.try_recv_buf(s).value();
    CHECK(cut == s.size());
    CHECK(cut == 64);
    std::string inline_room;
    REQUIRE((co_await b.readable()).has_value());
    CHECK(b.try_recv_buf(inline_room).value() == inline_room.capacity());
    std::string whole;
    whole.reserve(200);
    REQUIRE((co_await b.readable()).has_value());
    CHECK(b.try_recv_buf(whole).value() == 100);
    CHECK(whole == big);

    // TCP and its halves: bytes appended after what the container held.
    auto pair = co_await nt::tcp_pair();
    REQUIRE((co_await pair.client.write_all("stream bytes")).has_value());
    REQUIRE((co_await pair.server.readable()).has_value());
    std::string got = "<";
    CHECK(pair.server.try_read_buf(got).value() == 12);
    CHECK(got == "<stream bytes");
    auto [rd, wr] = std::move(pair.server).into_split();
    REQUIRE((co_await pair.client.write_all("half")).has_value());
    REQUIRE((co_await rd.readable()).has_value());
    std::vector<char> h;
    CHECK(rd.try_read_buf(h).value() == 4);
    CHECK(std::string(h.begin(), h.end()) == "half");
    pair.client = {};
    REQUIRE((co_await rd.readable()).has_value());
    CHECK(rd.try_read_buf(h).value() == 0);  // end of stream: nothing appended
    CHECK(h.size() == 4);

    // UnixDatagram.
    auto up = tokio::net::UnixDatagram::pair();
    REQUIRE(up.has_value());
    auto& [u1, u2] = *up;
    REQUIRE((co_await u1.send("unix")).has_value());
    REQUIRE((co_await u2.readable()).has_value());
    std::vector<std::byte> ub;
    CHECK(u2.try_recv_buf(ub).value() == 4);
    CHECK(ub.size() == 4);
  }());
}

TEST_CASE("udp: try_io / async_io run the caller's own system call with readiness handled") {
  nt::Watchdog wd("udp try_io");
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  rt.block_on([]() -> Task<> {
    auto a = co_await bound();
    auto b = co_await bound();
    auto recv_raw = [&b](char* p, std::size_t n) {
      return [&b, p, n]() -> tokio::io::Result<std::size_t> {
        long r = ::recv(b.as_raw_fd(), p, n, 0);
        if (r < 0) return tokio::io::last_os_error();
        return std::size_t(r);
      };
    };
    char buf[16];
    // Nothing queued: the closure's EAGAIN comes back as would-block.
    auto none = b.try_io(tokio::io::Interest::READABLE, recv_raw(buf, sizeof buf));
    CHECK(tokio::io::is_would_block(none.error()));
    // async_io waits for readiness, then runs the closure until it stops blocking.
    auto h = tokio::spawn(
        [](UdpSocket* a, SocketAddr to) -> Task<> {
          co_await tokio::time::sleep(std::chrono::milliseconds(20));
          (void)co_await a->send_to("late", to);
        },
        &a, b.local_addr().value());
    auto got = co_await b.async_io(tokio::io::Interest::READABLE, recv_raw(buf, sizeof buf));
    REQUIRE(got.has_value());
    CHECK(std::string(buf, *got) == "late");
    co_await h;
    // A closure's own error other than would-block is returned as is.
    auto bad = b.try_io(tokio::io::Interest::WRITABLE,
                        []() -> tokio::io::Result<int> { return tokio::io::os_error(EPERM); });
    CHECK(bad.error() == std::errc::operation_not_permitted);
  }());
}

TEST_CASE("udp: a destroyed recv consumed no datagram") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("udp cancel");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto a = co_await bound();
      auto b = co_await bound();
      char buf[32];
      auto [tx, rx] = oneshot::channel<int>();
      (void)tx.send(1);
      auto v = co_await tokio::select_biased(std::move(rx), b.recv_from(buf));
      CHECK(v.index() == 0);
      auto h = tokio::spawn(
          [](UdpSocket* s) -> Task<> {
            char b2[32];
            (void)co_await s->recv(b2);
            FAIL("recv completed");
          },
          &b);
      co_await nt::settle();
      h.abort();
      (void)co_await h.result();
      REQUIRE((co_await a.send_to("kept", b.local_addr().value())).has_value());
      auto r = co_await b.recv_from(buf);
      CHECK(std::string(buf, r.value().first) == "kept");
    }());
  }
}

TEST_CASE("udp: options and multicast membership on the loopback interface") {
  nt::Watchdog wd("udp options");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    auto s = co_await bound("0.0.0.0:0");
    REQUIRE(s.set_broadcast(true).has_value());
    CHECK(s.broadcast().value());
    REQUIRE(s.set_ttl(9).has_value());
    CHECK(s.ttl().value() == 9);
    REQUIRE(s.set_multicast_loop_v4(false).has_value());
    CHECK_FALSE(s.multicast_loop_v4().value());
    REQUIRE(s.set_multicast_ttl_v4(3).has_value());
    CHECK(s.multicast_ttl_v4().value() == 3);
    // Membership only (no multicast traffic is sent): joined on lo, by its address.
    Ipv4Addr group(239, 255, 0, 77);
    REQUIRE(s.join_multicast_v4(group, Ipv4Addr::localhost()).has_value());
    CHECK(s.join_multicast_v4(group, Ipv4Addr::localhost()).error() == std::errc::address_in_use);
    REQUIRE(s.leave_multicast_v4(group, Ipv4Addr::localhost()).has_value());
    CHECK_FALSE(s.leave_multicast_v4(group, Ipv4Addr::localhost()).has_value());
    auto bad = s.join_multicast_v4(Ipv4Addr(10, 0, 0, 1), Ipv4Addr::localhost());  // not a group
    CHECK_FALSE(bad.has_value());
    // SO_BINDTODEVICE, as on TcpSocket (root in CI; EPERM would show here).
    CHECK_FALSE(s.device().value().has_value());
    REQUIRE(s.bind_device("lo").has_value());
    CHECK(s.device().value().value() == "lo");
    REQUIRE(s.bind_device(std::nullopt).has_value());
    CHECK_FALSE(s.device().value().has_value());
    CHECK(s.bind_device("nosuchif0").error() == std::errc::no_such_device);

    auto s6 = co_await UdpSocket::bind("[::1]:0");
    if (!s6) {
      MESSAGE("no IPv6 loopback: " << s6.error().message());
      co_return;
    }
    REQUIRE(s6->set_multicast_loop_v6(true).has_value());
    CHECK(s6->multicast_loop_v6().value());
    unsigned lo = ::if_nametoindex("lo");
    REQUIRE(lo != 0);
    auto g6 = Ipv6Addr::parse("ff02::1:77").value();
    REQUIRE(s6->join_multicast_v6(g6, lo).has_value());
    REQUIRE(s6->leave_multicast_v6(g6, lo).has_value());
    // IPv6 datagrams over ::1.
    auto t6 = co_await UdpSocket::bind("[::1]:0");
    REQUIRE(t6.has_value());
    REQUIRE((co_await t6->send_to("v6", s6->local_addr().value())).has_value());
    char buf[8];
    auto r = co_await s6->recv_from(buf);
    CHECK(std::string(buf, r.value().first) == "v6");
    CHECK(r->second == t6->local_addr().value());
  }());
}

TEST_CASE("udp: broadcast needs set_broadcast; multicast datagrams reach joined sockets") {
  nt::Watchdog wd("udp broadcast multicast");
  auto rt = nt::io_multi(2);
  rt.block_on([]() -> Task<> {
    // Broadcast on the loopback network (127.255.255.255): refused with EACCES until
    // SO_BROADCAST is on, then delivered to a socket bound to the wildcard address.
    auto rx = co_await bound("0.0.0.0:0");
    uint16_t port = rx.local_addr().value().port();
    SocketAddr bcast(Ipv4Addr(127, 255, 255, 255), port);
    auto tx = co_await bound();
    CHECK_FALSE(tx.broadcast().value());
    auto denied = co_await tx.send_to("nope", bcast);
    REQUIRE_FALSE(denied.has_value());
    CHECK(denied.error() == std::errc::permission_denied);
    REQUIRE(tx.set_broadcast(true).has_value());
    REQUIRE((co_await tx.send_to("to all", bcast)).has_value());
    char buf[32];
    auto r = co_await rx.recv_from(buf);
    REQUIRE(r.has_value());
    CHECK(std::string(buf, r->first) == "to all");
    CHECK(r->second == tx.local_addr().value());

    // IPv4 multicast over lo: a socket that joined the group receives what is sent to it.
    // (The sender picks lo with IP_MULTICAST_IF, which the API leaves to the raw fd, as
    // Tokio does.)
    auto member = co_await bound("0.0.0.0:0");
    Ipv4Addr group(239, 255, 0, 78);
    REQUIRE(member.join_multicast_v4(group, Ipv4Addr::localhost()).has_value());
    SocketAddr to(group, member.local_addr().value().port());
    auto sender = co_await bound();
    in_addr lo{};
    lo.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::setsockopt(sender.as_raw_fd(), IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo) == 0);
    REQUIRE(sender.set_multicast_loop_v4(true).has_value());
    auto sent = co_await sender.send_to("to the group", to);
    if (!sent) {
      MESSAGE("no IPv4 multicast over lo here: " << sent.error().message());
      co_return;
    }
    auto m = co_await member.recv_from(buf);
    REQUIRE(m.has_value());
    CHECK(std::string(buf, m->first) == "to the group");
    CHECK(m->second == sender.local_addr().value());
    REQUIRE(member.leave_multicast_v4(group, Ipv4Addr::localhost()).has_value());
  }());
}

TEST_CASE("udp: send_to a mixed IPv6/IPv4 address list uses the socket's own family") {
  // What a dual-stack name such as "localhost" resolves to on most hosts; here localhost
  // may resolve to 127.0.0.1 alone, so the list is given.
  nt::Watchdog wd("udp send_to family");
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto a = co_await UdpSocket::bind("127.0.0.1:0");
    auto b = co_await UdpSocket::bind("127.0.0.1:0");
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    const uint16_t port = b->local_addr().value().port();
    SocketAddr v4 = SocketAddr::parse("127.0.0.1:" + std::to_string(port)).value();
    SocketAddr v6 = SocketAddr::parse("[::1]:" + std::to_string(port)).value();
    char buf[32];
    for (auto list : {std::vector<SocketAddr>{v6, v4}, std::vector<SocketAddr>{v4, v6}}) {
      auto sent = co_await a->send_to("mixed", tokio::net::ToSocketAddrs(list));
      REQUIRE(sent.has_value());
      CHECK(*sent == 5);
      auto got = co_await tokio::time::timeout(std::chrono::seconds(5), b->recv_from(buf));
      REQUIRE(got.has_value());
      REQUIRE(got->has_value());
      CHECK(std::string(buf, (*got)->first) == "mixed");
    }
  }());
}
