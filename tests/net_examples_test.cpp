// The example programs, driven by real tools (netcat-openbsd, socat) and by each other:
// echo_server / echo_client, udp_echo, unix_echo, and the echo server recovering from
// EMFILE without spinning.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <string>
#include <vector>

#include "net_test_util.hpp"

namespace {

struct Server {
  nt::Child child;
  std::string port;
  explicit Server(const std::string& cmd) : child(cmd) {
    std::string line = child.read_line();
    REQUIRE_MESSAGE(line.rfind("listening on ", 0) == 0, "server said: '" << line << "'");
    port = nt::port_of(line);
  }
};

}  // namespace

TEST_CASE("examples: echo_server answers nc and socat, and echo_client") {
  nt::Watchdog wd("echo_server + tools", std::chrono::seconds(120));
  Server srv("exec " + nt::example("echo_server") + " 127.0.0.1:0");
  // netcat-openbsd: -N shuts the socket down after stdin's end, so the server's echo
  // ends the session.
  CHECK(nt::sh("printf \"hello\\nworld\\n\" | nc -N 127.0.0.1 " + srv.port) == "hello\nworld\n");
  CHECK(nt::sh("printf \"via socat\" | socat -t 5 - TCP:127.0.0.1:" + srv.port) == "via socat");
  // 4 MiB of binary data through socat, compared byte for byte.
  std::string file = "/tmp/tokio-echo-" + std::to_string(::getpid()) + ".bin";
  std::string digest_in =
      nt::sh("head -c 4194304 /dev/urandom > " + file + " && sha256sum < " + file);
  std::string digest_out = nt::sh("socat -t 10 - TCP:127.0.0.1:" + srv.port + " < " + file +
                                  " | sha256sum; rm -f " + file);
  CHECK(digest_in.size() > 64);
  CHECK(digest_in == digest_out);
  // The interactive client, line by line.
  CHECK(nt::sh("printf \"one\\ntwo\\n\" | " + nt::example("echo_client") +
               " 127.0.0.1:" + srv.port) == "one\ntwo\n");
  // The load mode: 100 connections open at once, 20 round trips each.
  CHECK(nt::sh(nt::example("echo_client") + " 127.0.0.1:" + srv.port + " 100 20", 60) ==
        "100 connections x 20 round trips ok\n");
  // A bad address is reported, not crashed on.
  nt::Child bad("exec " + nt::example("echo_server") + " 127.0.0.1:notaport 2>/dev/null");
  CHECK(bad.wait() == 1);
}

TEST_CASE("examples: udp_echo answers socat and nc -u") {
  nt::Watchdog wd("udp_echo", std::chrono::seconds(60));
  Server srv("exec " + nt::example("udp_echo") + " 127.0.0.1:0");
  CHECK(nt::sh("printf \"datagram\" | socat -t 1 - UDP:127.0.0.1:" + srv.port) == "datagram");
  CHECK(nt::sh("printf \"again\" | nc -u -w 1 127.0.0.1 " + srv.port) == "again");
}

TEST_CASE("examples: unix_echo answers socat and nc -U with the peer's pid") {
  nt::Watchdog wd("unix_echo", std::chrono::seconds(60));
  char tmpl[] = "/tmp/tokio-uecho-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/echo.sock";
  {
    nt::Child srv("exec " + nt::example("unix_echo") + " " + path);
    REQUIRE(srv.read_line() == "listening on " + path);
    std::string out = nt::sh("printf \"over a unix socket\" | socat -t 5 - UNIX-CONNECT:" + path);
    CHECK(out.rfind("hello pid ", 0) == 0);
    CHECK(out.find("\nover a unix socket") != std::string::npos);
    std::string out2 = nt::sh("printf \"via nc\" | nc -N -U " + path);
    CHECK(out2.find("\nvia nc") != std::string::npos);
  }
  (void)!std::system(("rm -rf " + std::string(tmpl)).c_str());
}

TEST_CASE("examples: echo_server out of file descriptors pauses, does not spin, and recovers") {
  nt::Watchdog wd("emfile example", std::chrono::seconds(60));
  // 32 descriptors: stdio, epoll, eventfd, the listener... about two dozen connections.
  Server srv("ulimit -n 32; exec " + nt::example("echo_server") + " 127.0.0.1:0 2>/dev/null");
  std::vector<int> clients;
  for (int i = 0; i < 40; ++i)
    clients.push_back(nt::blocking_client(srv.port));  // queued in the backlog
  // The first connections are served...
  CHECK(nt::echoes(clients[0], "first"));
  // ...the later ones wait in the backlog while accept() fails with EMFILE. The server
  // must not burn a core meanwhile.
  std::this_thread::sleep_for(300ms);
  long t0 = srv.child.cpu_ticks();
  std::this_thread::sleep_for(1000ms);
  long t1 = srv.child.cpu_ticks();
  REQUIRE(t0 >= 0);
  CHECK_MESSAGE(t1 - t0 < 25, "the server used " << (t1 - t0) << " ticks of CPU in 1 s at EMFILE");
  // Connections end: descriptors free up and every queued connection gets served.
  for (int i = 0; i < 20; ++i) ::close(clients[i]);
  for (int i = 20; i < 40; ++i)
    CHECK_MESSAGE(nt::echoes(clients[i], "late " + std::to_string(i)), i);
  for (int i = 20; i < 40; ++i) ::close(clients[i]);
  int fresh = nt::blocking_client(srv.port);
  CHECK(nt::echoes(fresh, "fresh"));
  ::close(fresh);
}
