// examples/echo_server's graceful shutdown, driven with real signals sent to the real
// process: SIGTERM and SIGINT stop the accepting, open connections finish within the grace
// period (or are closed when it ends, or at a second signal), and the server exits 0.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "net_test_util.hpp"

namespace {

struct Server {
  nt::Child child;
  std::string port;
  explicit Server(const std::string& grace_ms)
      : child("exec " + nt::example("echo_server") + " 127.0.0.1:0 " + grace_ms) {
    std::string line = child.read_line();
    REQUIRE_MESSAGE(line.rfind("listening on ", 0) == 0, "server said: '" << line << "'");
    port = nt::port_of(line);
  }
};

// True when a connection to 127.0.0.1:port is refused (nobody listens any more).
bool refused(const std::string& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  auto a = tokio::net::SocketAddr::parse("127.0.0.1:" + port).value();
  sockaddr_storage ss;
  socklen_t len = a.to_sockaddr(ss);
  int r = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  int e = errno;
  ::close(fd);
  return r < 0 && e == ECONNREFUSED;
}

// Reads until end of stream (true) or an error/timeout (false).
bool sees_eof(int fd) {
  char buf[256];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

double secs_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE(
    "examples: echo_server on SIGTERM stops accepting, lets open connections finish, exits 0") {
  nt::Watchdog wd("echo_server SIGTERM", std::chrono::seconds(60));
  Server srv("5000");
  int fd = nt::blocking_client(srv.port);
  CHECK(nt::echoes(fd, "before"));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(::kill(srv.child.pid(), SIGTERM) == 0);
  CHECK(srv.child.read_line() == "shutting down (SIGTERM): 1 connection(s) open");
  CHECK(refused(srv.port));                          // no longer accepting...
  CHECK(nt::echoes(fd, "during the grace period"));  // ...but the open connection is served
  ::close(fd);                                       // it ends: nothing is left to wait for
  CHECK(srv.child.read_line() == "bye");
  CHECK(srv.child.wait() == 0);
  CHECK(secs_since(t0) < 4.0);  // did not sit out the 5 s grace period
}

TEST_CASE("examples: echo_server on SIGINT closes idle connections when the grace period ends") {
  nt::Watchdog wd("echo_server SIGINT", std::chrono::seconds(60));
  Server srv("300");
  int a = nt::blocking_client(srv.port);
  int b = nt::blocking_client(srv.port);
  CHECK(nt::echoes(a, "a"));
  CHECK(nt::echoes(b, "b"));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(::kill(srv.child.pid(), SIGINT) == 0);
  CHECK(srv.child.read_line() == "shutting down (SIGINT): 2 connection(s) open");
  CHECK(srv.child.read_line() == "closing 2 connection(s) still open");
  CHECK(secs_since(t0) >= 0.25);
  CHECK(sees_eof(a));  // the server closed them
  CHECK(sees_eof(b));
  CHECK(srv.child.read_line() == "bye");
  CHECK(srv.child.wait() == 0);
  ::close(a);
  ::close(b);
}

TEST_CASE("examples: echo_server: a second signal ends the grace period at once") {
  nt::Watchdog wd("echo_server second signal", std::chrono::seconds(60));
  Server srv("30000");
  int fd = nt::blocking_client(srv.port);
  CHECK(nt::echoes(fd, "idle next"));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(::kill(srv.child.pid(), SIGTERM) == 0);
  CHECK(srv.child.read_line() == "shutting down (SIGTERM): 1 connection(s) open");
  REQUIRE(::kill(srv.child.pid(), SIGINT) == 0);
  CHECK(srv.child.read_line() == "closing 1 connection(s) still open");
  CHECK(sees_eof(fd));
  CHECK(srv.child.read_line() == "bye");
  CHECK(srv.child.wait() == 0);
  CHECK(secs_since(t0) < 5.0);
  ::close(fd);
}

TEST_CASE("examples: echo_server with no connection exits 0 at once on SIGTERM") {
  nt::Watchdog wd("echo_server idle", std::chrono::seconds(60));
  Server srv("5000");
  REQUIRE(::kill(srv.child.pid(), SIGTERM) == 0);
  CHECK(srv.child.read_line() == "shutting down (SIGTERM): 0 connection(s) open");
  CHECK(srv.child.read_line() == "bye");
  CHECK(srv.child.wait(std::chrono::milliseconds(3000)) == 0);
}

TEST_CASE("examples: echo_server prints a task dump on SIGQUIT, naming each connection") {
  nt::Watchdog wd("echo_server SIGQUIT", std::chrono::seconds(60));
  std::string err = "/tmp/tokio-echo-dump-" + std::to_string(::getpid()) + ".txt";
  nt::Child child("exec " + nt::example("echo_server") + " 127.0.0.1:0 1000 2>" + err);
  std::string line = child.read_line();
  REQUIRE_MESSAGE(line.rfind("listening on ", 0) == 0, "server said: '" << line << "'");
  std::string port = nt::port_of(line);
  int fd = nt::blocking_client(port);
  CHECK(nt::echoes(fd, "hello"));
  // The echo reaches us as soon as the server's send returns, a moment before its task
  // suspends on the next read: a dump in that moment rightly shows the task "running", with
  // no await point. Each SIGQUIT appends a dump, so ask again until one shows it waiting.
  std::string text;
  auto idle_conn_seen = [&] {
    return text.find("conn 127.0.0.1:") != std::string::npos &&
           text.find(", waiting on ") != std::string::npos;
  };
  for (int i = 0; i < 200 && !idle_conn_seen(); ++i) {
    if (i % 25 == 0) ::kill(child.pid(), SIGQUIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    text = nt::sh("cat " + err);
  }
  INFO(text);
  CHECK(text.find("\"conn 127.0.0.1:") != std::string::npos);
  CHECK(text.find(" idle for ") != std::string::npos);
  CHECK(text.find(", waiting on ") != std::string::npos);
  CHECK(text.find("echo_server.cpp:") != std::string::npos);  // the connection's co_await
  CHECK(text.find("\"dump on SIGQUIT\"") != std::string::npos);
  // Still serving after the dump.
  CHECK(nt::echoes(fd, "still there"));
  ::close(fd);
  ::kill(child.pid(), SIGTERM);
  ::unlink(err.c_str());
}
