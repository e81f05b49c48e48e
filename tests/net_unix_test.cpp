// Unix domain sockets: streams (listener, connect, pair, halves, peer credentials),
// datagrams (bind, pair, send_to / recv_from), abstract names, path errors, cancellation.
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "net_test_util.hpp"

using tokio::Task;
using tokio::net::UnixDatagram;
using tokio::net::UnixListener;
using tokio::net::UnixSocketAddr;
using tokio::net::UnixStream;
namespace oneshot = tokio::sync::oneshot;

static_assert(tokio::io::AsyncRead<UnixStream> && tokio::io::AsyncWrite<UnixStream>);
static_assert(tokio::io::AsyncRead<tokio::net::unix::OwnedReadHalf>);
static_assert(tokio::io::AsyncWrite<tokio::net::unix::OwnedWriteHalf>);

namespace {
// A fresh path in a private temporary directory.
struct TempDir {
  std::string dir;
  TempDir() {
    char tmpl[] = "/tmp/tokio-unix-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~TempDir() { (void)!std::system(("rm -rf " + dir).c_str()); }
  std::string path(const char* name) const { return dir + "/" + name; }
};
}  // namespace

TEST_CASE("unix: listener, connect, echo, addresses and peer credentials") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("unix stream");
    auto rt = nt::io_runtime(flavour);
    TempDir tmp;
    std::string path = tmp.path("s.sock");
    rt.block_on([](std::string path) -> Task<> {
      auto l = UnixListener::bind(path);
      REQUIRE(l.has_value());
      CHECK(l->local_addr().value().as_pathname() == path);
      CHECK(UnixListener::bind(path).error() == std::errc::address_in_use);
      auto server = tokio::spawn(
          [](UnixListener* l) -> Task<> {
            auto c = co_await l->accept();
            REQUIRE(c.has_value());
            CHECK(c->second.is_unnamed());  // the client did not bind
            auto cred = c->first.peer_cred();
            REQUIRE(cred.has_value());
            CHECK(cred->pid() == ::getpid());
            CHECK(cred->uid() == ::getuid());
            CHECK(cred->gid() == ::getgid());
            std::string got = co_await nt::read_to_eof(c->first);
            REQUIRE((co_await c->first.write_all(got)).has_value());
          },
          &*l);
      auto s = co_await UnixStream::connect(path);
      REQUIRE(s.has_value());
      CHECK(s->peer_addr().value().as_pathname() == path);
      REQUIRE((co_await s->write_all("over unix")).has_value());
      REQUIRE((co_await s->shutdown()).has_value());
      CHECK(co_await nt::read_to_eof(*s) == "over unix");
      co_await server;
    }(path));
  }
}

TEST_CASE("unix: connect errors, path errors, abstract names") {
  nt::Watchdog wd("unix errors");
  auto rt = nt::io_current();
  TempDir tmp;
  rt.block_on([](std::string missing) -> Task<> {
    auto none = co_await UnixStream::connect(missing);
    CHECK(none.error() == std::errc::no_such_file_or_directory);
    std::string long_path(200, 'x');
    auto too_long = co_await UnixStream::connect(long_path);
    CHECK(too_long.error() == tokio::net::AddrErrc::path_too_long);
    CHECK(UnixListener::bind("").error() == std::errc::invalid_argument);
    // Abstract namespace: a leading NUL, no file is created.
    std::string name = std::string("\0tokio-test-", 12) + std::to_string(::getpid());
    auto l = UnixListener::bind(name);
    REQUIRE(l.has_value());
    CHECK(l->local_addr().value().as_abstract_name() == name.substr(1));
    CHECK(l->local_addr().value().to_string() == "@" + name.substr(1));
    std::ostringstream printed;  // `os << addr` prints to_string()
    printed << l->local_addr().value();
    CHECK(printed.str() == "@" + name.substr(1));
    auto c = co_await UnixStream::connect(name);
    REQUIRE(c.has_value());
    auto a = co_await l->accept();
    REQUIRE(a.has_value());
    REQUIRE((co_await c->write_all("abstract")).has_value());
    CHECK(co_await nt::read_n(a->first, 8) == "abstract");
  }(tmp.path("missing.sock")));
}

TEST_CASE("unix: stream pair, owned halves across tasks, cancel-safe read") {
  for (int flavour = 0; flavour < 2; ++flavour) {
    nt::Watchdog wd("unix pair");
    auto rt = nt::io_runtime(flavour);
    rt.block_on([]() -> Task<> {
      auto p = UnixStream::pair();
      REQUIRE(p.has_value());
      auto& [a, b] = *p;
      char buf[16];
      auto [tx, rx] = oneshot::channel<int>();
      (void)tx.send(1);
      auto v = co_await tokio::select_biased(std::move(rx), b.read(buf));
      CHECK(v.index() == 0);
      auto [ar, aw] = std::move(a).into_split();
      auto [br, bw] = std::move(b).into_split();
      auto t1 = tokio::spawn(
          [](tokio::net::unix::OwnedWriteHalf w) -> Task<> {
            for (int i = 0; i < 100; ++i) REQUIRE((co_await w.write_all("0123456789")).has_value());
          },
          std::move(aw));
      auto t2 = tokio::spawn(
          [](tokio::net::unix::OwnedReadHalf r) -> Task<std::size_t> {
            co_return (co_await nt::read_to_eof(r)).size();
          },
          std::move(br));
      co_await t1;
      CHECK(co_await t2 == 1000);
      std::move(bw).forget();
      (void)ar;
    }());
  }
}

TEST_CASE("unix: datagrams — bind, pair, send_to / recv_from, try_ forms, connect, unbound") {
  nt::Watchdog wd("unix dgram");
  auto rt = nt::io_multi(2);
  TempDir tmp;
  rt.block_on([](std::string pa, std::string pb) -> Task<> {
    auto a = UnixDatagram::bind(pa);
    auto b = UnixDatagram::bind(pb);
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK((co_await a->send_to("to b", pb)).value() == 4);
    char buf[32];
    auto r = co_await b->recv_from(buf);
    REQUIRE(r.has_value());
    CHECK(std::string(buf, r->first) == "to b");
    CHECK(r->second.as_pathname() == pa);
    auto bad = co_await a->send_to("x", std::string(300, 'p'));
    CHECK(bad.error() == tokio::net::AddrErrc::path_too_long);
    auto nobody = co_await a->send_to("x", pa + ".none");
    CHECK(nobody.error() == std::errc::no_such_file_or_directory);
    REQUIRE(a->connect(pb).has_value());
    CHECK((co_await a->send("connected")).value() == 9);
    CHECK(std::string(buf, (co_await b->recv(buf)).value()) == "connected");
    CHECK(a->peer_addr().value().as_pathname() == pb);

    // The try_ forms (Tokio's try_send_to / try_recv_from / try_recv_buf_from).
    auto c = UnixDatagram::unbound();
    REQUIRE(c.has_value());
    std::byte tb[8];
    CHECK(tokio::io::is_would_block(b->try_recv_from(tb).error()));
    CHECK(c->try_send_to("try", pb).value() == 3);
    CHECK(c->try_send_to("x", std::string(300, 'p')).error() ==
          tokio::net::AddrErrc::path_too_long);
    CHECK(c->try_send_to("x", pa + ".none").error() == std::errc::no_such_file_or_directory);
    REQUIRE((co_await b->readable()).has_value());
    auto tf = b->try_recv_from(tb);
    REQUIRE(tf.has_value());
    CHECK(tf->first == 3);
    CHECK(tf->second.is_unnamed());
    CHECK(c->try_send_to("grow", pb).value() == 4);
    REQUIRE((co_await b->readable()).has_value());
    std::vector<char> grown{'>'};
    auto tg = b->try_recv_buf_from(grown);
    REQUIRE(tg.has_value());
    CHECK(tg->first == 4);
    CHECK(std::string(grown.begin(), grown.end()) == ">grow");
    CHECK(tokio::io::is_would_block(b->try_recv_buf_from(grown).error()));
    CHECK(grown.size() == 5);

    auto u = UnixDatagram::unbound();
    REQUIRE(u.has_value());
    CHECK((co_await u->send_to("anon", pb)).value() == 4);
    auto from = co_await b->recv_from(buf);
    CHECK(from.value().second.is_unnamed());

    auto pr = UnixDatagram::pair();
    REQUIRE(pr.has_value());
    CHECK((co_await pr->first.send("p")).value() == 1);
    CHECK((co_await pr->second.recv(buf)).value() == 1);
    std::byte bb[4];
    CHECK(tokio::io::is_would_block(pr->second.try_recv(bb).error()));
    REQUIRE(pr->first.shutdown(tokio::net::Shutdown::Write).has_value());
  }(tmp.path("a.sock"), tmp.path("b.sock")));
}

// Destroying an I/O object while another task's operation waits on it is a misuse (the
// operation must not outlive its object), but it must end in the documented error: never
// a hang, and never the bytes of the connection that reuses the registration or the fd
// number (the entry is reset for reuse by a later driver turn, on any worker).
TEST_CASE("unix: a read left waiting on a stream another task destroys fails, every time") {
  nt::Watchdog wd("orphaned read", std::chrono::seconds(120));
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  rt.block_on([]() -> Task<> {
    using Holder = std::shared_ptr<std::optional<UnixStream>>;
    int failed = 0;
    for (int i = 0; i < 100; ++i) {
      auto [a, b] = UnixStream::pair().value();
      auto holder = std::make_shared<std::optional<UnixStream>>(std::move(b));
      auto [made_tx, made_rx] = oneshot::channel<bool>();
      auto reader = tokio::spawn(
          [](Holder s, oneshot::Sender<bool> made) -> Task<tokio::io::Result<std::size_t>> {
            char buf[64];
            // The operation is made (it reads the stream) before the stream is destroyed;
            // it may be polled first before or after that.
            auto op = (*s)->read(buf);  // nobody writes to the peer
            (void)made.send(true);
            co_return co_await op;
          },
          holder, std::move(made_tx));
      REQUIRE(co_await std::move(made_rx));
      co_await tokio::time::sleep(std::chrono::milliseconds(i % 2 * 2));
      holder->reset();
      // A new connection, likely on the same entry and fd number, with bytes both ways.
      auto [c, d] = UnixStream::pair().value();
      REQUIRE(co_await c.write_all("for d"));
      REQUIRE(co_await d.write_all("for c"));
      auto r = co_await tokio::time::timeout(std::chrono::seconds(2), std::move(reader));
      REQUIRE_MESSAGE(r.has_value(), "round " << i << ": the orphaned read hung");
      auto got = std::move(*r);
      REQUIRE_MESSAGE(!got.has_value(),
                      "round " << i << ": the orphaned read returned " << got.value() << " bytes");
      CHECK(got.error() == tokio::io::ReactorErrc::shutdown);
      ++failed;
      // The new connection got its own bytes.
      char buf[8] = {};
      REQUIRE(co_await c.read_exact(std::span(buf, 5)));
      CHECK(std::string(buf, 5) == "for c");
      REQUIRE(co_await d.read_exact(std::span(buf, 5)));
      CHECK(std::string(buf, 5) == "for d");
    }
    CHECK(failed == 100);
  }());
}

TEST_CASE("unix: an accept left waiting on a listener another task destroys fails") {
  nt::Watchdog wd("orphaned accept", std::chrono::seconds(120));
  TempDir dir;
  auto rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
  rt.block_on([](std::string base) -> Task<> {
    using Holder = std::shared_ptr<std::optional<UnixListener>>;
    for (int i = 0; i < 50; ++i) {
      std::string path = base + "/l" + std::to_string(i);
      auto holder = std::make_shared<std::optional<UnixListener>>(UnixListener::bind(path).value());
      auto [made_tx, made_rx] = oneshot::channel<bool>();
      auto acceptor = tokio::spawn(
          [](Holder l, oneshot::Sender<bool> made) -> Task<bool> {
            auto op = (*l)->accept();
            (void)made.send(true);
            co_return (co_await op).has_value();
          },
          holder, std::move(made_tx));
      REQUIRE(co_await std::move(made_rx));
      co_await tokio::time::sleep(std::chrono::milliseconds(i % 2 * 2));
      holder->reset();
      // A new listener with a waiting client: the orphan must not take its connection.
      std::string path2 = path + "b";
      auto l2 = UnixListener::bind(path2).value();
      auto client = co_await UnixStream::connect(path2);
      REQUIRE(client);
      auto r = co_await tokio::time::timeout(std::chrono::seconds(2), std::move(acceptor));
      REQUIRE_MESSAGE(r.has_value(), "round " << i << ": the orphaned accept hung");
      CHECK_FALSE(*r);
      auto accepted = co_await tokio::time::timeout(std::chrono::seconds(2), l2.accept());
      REQUIRE(accepted.has_value());
      CHECK(accepted->has_value());
    }
  }(dir.dir));
}

TEST_CASE(
    "unix: UnixDatagram::shutdown(Read) refuses the peer's datagrams; the socket still sends") {
  nt::Watchdog wd("unix datagram shutdown read");
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto pr = UnixDatagram::pair();
    REQUIRE(pr.has_value());
    auto& a = pr->first;
    auto& b = pr->second;
    REQUIRE(a.shutdown(tokio::net::Shutdown::Read).has_value());
    auto sent = co_await a.send("still");
    REQUIRE(sent.has_value());
    CHECK(*sent == 5);
    char buf[16];
    auto got = co_await b.recv(buf);
    REQUIRE(got.has_value());
    CHECK(std::string(buf, *got) == "still");
    // The peer's sends to the shut reading side fail (a recv there is not checked: Linux
    // returns 0, some sandboxes EAGAIN).
    auto refused = co_await tokio::time::timeout(std::chrono::seconds(5), b.send("x"));
    REQUIRE(refused.has_value());  // not timed out
    REQUIRE_FALSE(refused->has_value());
    CHECK(refused->error() == std::errc::broken_pipe);
    REQUIRE(b.shutdown(tokio::net::Shutdown::Write).has_value());
    CHECK((co_await b.send("y")).error() == std::errc::broken_pipe);
    CHECK((co_await a.send("z")).value() == 1);
  }());
}

TEST_CASE("unix: a pathname of sizeof(sun_path) bytes is path_too_long; one less binds") {
  // No room for the NUL: as Rust's std, an error of our own, not the kernel's EINVAL.
  nt::Watchdog wd("unix path length");
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  char tmpl[] = "/tmp/tokio-unix-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  rt.block_on([](std::string dir) -> Task<> {
    const std::size_t max = sizeof(sockaddr_un{}.sun_path);  // 108 on Linux
    std::string fits = dir + "/" + std::string(max - 1 - dir.size() - 1, 'f');
    std::string full = dir + "/" + std::string(max - dir.size() - 1, 'g');
    REQUIRE(fits.size() == max - 1);
    REQUIRE(full.size() == max);
    auto l = UnixListener::bind(fits);
    REQUIRE(l.has_value());
    CHECK(l->local_addr().value().as_pathname() == fits);
    auto c = co_await tokio::time::timeout(std::chrono::seconds(5), UnixStream::connect(fits));
    REQUIRE(c.has_value());
    CHECK(c->has_value());
    CHECK(UnixListener::bind(full).error() == tokio::net::AddrErrc::path_too_long);
    CHECK((co_await UnixStream::connect(full)).error() == tokio::net::AddrErrc::path_too_long);
    CHECK(UnixDatagram::bind(full).error() == tokio::net::AddrErrc::path_too_long);
  }(dir));
  (void)!std::system(("rm -rf " + dir).c_str());
}
