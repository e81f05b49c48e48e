// TCP under cancellation and faults: every suspended operation destroyed (select, abort),
// cancel-safety of read / write / accept, pending connects, tiny socket buffers (partial
// reads and writes), accept under EMFILE.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::io::Result;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpSocket;
using tokio::net::TcpStream;
namespace oneshot = tokio::sync::oneshot;

namespace {

// A oneshot that is already complete: select(op, fired()) cancels `op` once it suspends.
oneshot::Receiver<int> fired() {
  auto [tx, rx] = oneshot::channel<int>();
  (void)tx.send(1);
  return std::move(rx);
}

char pattern(std::size_t i) { return char('a' + (i * 7 + i / 251) % 26); }

// Fills the client's send path until a write would block; returns the bytes written.
std::size_t fill(TcpStream& s) {
  std::string chunk(65536, 'f');
  std::size_t total = 0;
  for (;;) {
    auto n = s.try_write(chunk);
    if (!n) {
      REQUIRE(tokio::io::is_would_block(n.error()));
      return total;
    }
    total += *n;
  }
}

}  // namespace

TEST_CASE("tcp cancel: a destroyed read consumed nothing (cancel-safe)") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("cancel read");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto p = co_await nt::tcp_pair();
      char buf[64];
      auto v = co_await tokio::select_biased(fired(), p.server.read(buf));
      CHECK(v.index() == 0);
      // Abort a task suspended in read.
      std::atomic<int> drops{0};
      auto h = tokio::spawn(
          [](TcpStream* s, test::DropCounter) -> Task<> {
            char b[64];
            (void)co_await s->read(b);
            FAIL("read completed");
          },
          &p.server, test::DropCounter(drops));
      co_await nt::settle();
      h.abort();
      CHECK_FALSE((co_await h.result()).has_value());
      CHECK(drops.load() == 1);
      // Data sent afterwards is all there for the next read.
      REQUIRE((co_await p.client.write_all("intact")).has_value());
      CHECK(co_await nt::read_n(p.server, 6) == "intact");
      // Same with peek and readable.
      auto v2 = co_await tokio::select_biased(fired(), p.server.peek(buf));
      CHECK(v2.index() == 0);
      auto v3 = co_await tokio::select_biased(fired(), p.server.readable());
      CHECK(v3.index() == 0);
      REQUIRE((co_await p.client.write_all("again")).has_value());
      CHECK(co_await nt::read_n(p.server, 5) == "again");
    }());
  }
}

TEST_CASE("tcp cancel: a destroyed write wrote nothing; write_all may have written a prefix") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("cancel write");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto p = co_await nt::tcp_pair();
      REQUIRE((co_await p.client.writable()).has_value());
      std::size_t sent = fill(p.client);
      CHECK(sent > 0);
      // The buffers are full: write() suspends, then is destroyed.
      std::string more(1000, 'm');
      auto v = co_await tokio::select_biased(fired(), p.client.write(more));
      CHECK(v.index() == 0);
      auto w = co_await tokio::select_biased(fired(), p.client.writable());
      CHECK(w.index() == 0);
      // write_all of a large buffer, destroyed after the reader made some room.
      // Far more than the kernel buffers hold (they autotune up to a few MiB).
      std::string big(64 << 20, 'b');
      auto h = tokio::spawn(
          [](TcpStream* s, std::string* big) -> Task<> { (void)co_await s->write_all(*big); },
          &p.client, &big);
      std::string got = co_await nt::read_n(p.server, sent);
      CHECK(got.size() == sent);
      CHECK(got == std::string(sent, 'f'));  // the cancelled write() added nothing
      co_await nt::settle();
      CHECK_FALSE(h.is_finished());
      h.abort();
      (void)co_await h.result();
      // The kernel buffers may still be full of 'b's: read while writing the end mark.
      auto reader = tokio::spawn([](TcpStream* s) { return nt::read_to_eof(*s); }, &p.server);
      REQUIRE((co_await p.client.write_all("END")).has_value());
      REQUIRE((co_await p.client.shutdown()).has_value());
      std::string rest = co_await reader;
      REQUIRE(rest.size() >= 3);
      CHECK(rest.substr(rest.size() - 3) == "END");
      // Whatever write_all sent before it was destroyed is a prefix of its buffer.
      CHECK(rest.size() - 3 <= big.size());
      CHECK(rest.find_first_not_of('b') == rest.size() - 3);
    }());
  }
}

TEST_CASE("tcp cancel: accept is cancel-safe; a pending connect can be destroyed") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("cancel accept/connect");
    int fds_before = nt::open_fds();
    {
      auto rt = nt::io_runtime(flavour);
      rt.block_on([]() -> Task<> {
        auto l = co_await TcpListener::bind("127.0.0.1:0");
        REQUIRE(l.has_value());
        auto v = co_await tokio::select_biased(fired(), l->accept());
        CHECK(v.index() == 0);
        auto h = tokio::spawn(
            [](TcpListener* l) -> Task<> {
              (void)co_await l->accept();
              FAIL("accept completed");
            },
            &*l);
        co_await nt::settle();
        h.abort();
        (void)co_await h.result();
        auto c = co_await TcpStream::connect(l->local_addr().value());
        REQUIRE(c.has_value());
        auto a = co_await l->accept();  // the connection was not lost to the cancelled ones
        REQUIRE(a.has_value());
        CHECK(a->second == c->local_addr().value());

        // A listener with a full backlog (listen(0), never accepting): connects stay
        // pending while the kernel drops their SYNs.
        auto ls = TcpSocket::new_v4().value();
        REQUIRE(ls.bind("127.0.0.1:0").has_value());
        SocketAddr full = ls.local_addr().value();
        auto tiny = std::move(ls).listen(0);
        REQUIRE(tiny.has_value());
        auto first = co_await TcpStream::connect(full);  // takes the one queue slot
        REQUIRE(first.has_value());
        auto pend = co_await tokio::select_biased(fired(), TcpStream::connect(full));
        CHECK(pend.index() == 0);
        auto hc = tokio::spawn([](SocketAddr a) -> Task<> { (void)co_await TcpStream::connect(a); },
                               full);
        co_await nt::settle();
        CHECK_FALSE(hc.is_finished());
        hc.abort();
        CHECK_FALSE((co_await hc.result()).has_value());
      }());
    }
    CHECK(nt::open_fds() == fds_before);  // nothing leaked by the destroyed operations
  }
}

TEST_CASE("tcp: partial reads and writes under tiny socket buffers keep every byte in order") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("tiny buffers");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto ls = TcpSocket::new_v4().value();
      REQUIRE(ls.set_recv_buffer_size(2048).has_value());  // inherited by accepted sockets
      REQUIRE(ls.bind("127.0.0.1:0").has_value());
      SocketAddr addr = ls.local_addr().value();
      auto l = std::move(ls).listen(16);
      REQUIRE(l.has_value());
      auto cs = TcpSocket::new_v4().value();
      REQUIRE(cs.set_send_buffer_size(2048).has_value());
      auto c = co_await std::move(cs).connect(addr);
      REQUIRE(c.has_value());
      auto a = co_await l->accept();
      REQUIRE(a.has_value());

      const std::size_t total = 1 << 20;
      auto writer = tokio::spawn(
          [](TcpStream* s, std::size_t total) -> Task<std::size_t> {
            std::string chunk(32768, 0);
            std::size_t off = 0, partial = 0;
            while (off < total) {
              std::size_t len = std::min(chunk.size(), total - off);
              for (std::size_t i = 0; i < len; ++i) chunk[i] = pattern(off + i);
              auto n = co_await s->write(std::string_view(chunk.data(), len));
              REQUIRE(n.has_value());
              REQUIRE(*n > 0);
              if (*n < len) ++partial;
              off += *n;
            }
            REQUIRE((co_await s->shutdown()).has_value());
            co_return partial;
          },
          &*c, total);
      std::size_t got = 0, reads = 0;
      bool in_order = true;
      char buf[777];
      for (;;) {
        auto n = co_await a->first.read(buf);
        REQUIRE(n.has_value());
        if (*n == 0) break;
        ++reads;
        for (std::size_t i = 0; i < *n; ++i) in_order &= buf[i] == pattern(got + i);
        got += *n;
      }
      std::size_t partial = co_await writer;
      CHECK(got == total);
      CHECK(in_order);
      CHECK(partial > 0);          // the kernel took less than asked, many times
      CHECK(reads > total / 777);  // and reads came back short too
    }());
  }
}

TEST_CASE("tcp: accept under EMFILE returns the error at once, and recovers") {
  nt::Watchdog wd("emfile");
  auto rt = nt::io_current();
  rt.block_on([]() -> Task<> {
    auto l = co_await TcpListener::bind("127.0.0.1:0");
    REQUIRE(l.has_value());
    SocketAddr addr = l->local_addr().value();
    // Clients connected with plain blocking sockets (the kernel completes them in the
    // backlog) before the limit is lowered.
    std::vector<int> clients;
    for (int i = 0; i < 4; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      REQUIRE(fd >= 0);
      sockaddr_storage ss;
      socklen_t len = addr.to_sockaddr(ss);
      REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
      clients.push_back(fd);
    }
    // The two lowest free descriptors (the kernel hands out the lowest): a limit just
    // above the second leaves exactly those two, even when an earlier test left a hole
    // in the table below them (a limit of lowest + 2 would then leave only one).
    int lowest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int second = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(lowest >= 0);
    REQUIRE(second > lowest);
    ::close(lowest);
    ::close(second);
    rlim_t prev = nt::set_nofile(static_cast<rlim_t>(second) + 1);  // room for two fds
    auto a1 = co_await l->accept();
    auto a2 = co_await l->accept();
    auto a3 = co_await l->accept();  // no fd left: the error, not a hang or a spin
    auto a4 = co_await l->accept();  // and again (the connection is still queued)
    CHECK(a1.has_value());
    CHECK(a2.has_value());
    REQUIRE_FALSE(a3.has_value());
    CHECK(a3.error() == std::errc::too_many_files_open);
    CHECK(a4.error() == std::errc::too_many_files_open);
    { TcpStream gone = std::move(a1->first); }  // a connection ends: a descriptor is free
    auto a5 = co_await l->accept();
    CHECK(a5.has_value());
    nt::set_nofile(prev);
    auto a6 = co_await l->accept();
    CHECK(a6.has_value());
    for (int fd : clients) ::close(fd);
  }());
}
