#pragma once
// Helpers for the server_* suites: start an example server and read its port; drive an
// interactive tool (nc, redis-cli) whose stdin is a FIFO the test writes to.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "net_test_util.hpp"

namespace srv {

// An example server started with `args`; its "listening on ADDR" line gives the port.
struct Server {
  nt::Child child;
  std::string port;
  explicit Server(const std::string& cmd) : child(cmd) {
    std::string line = child.read_line();
    REQUIRE_MESSAGE(line.rfind("listening on ", 0) == 0, "server said: '" << line << "'");
    port = nt::port_of(line);
  }
};

// Reads a blocking socket (nt::blocking_client: 5 s receive timeout) into `seen` until
// `done(seen)` holds; false when the connection ends or stays silent first.
template <class Done>
bool recv_until(int fd, std::string& seen, Done done) {
  char buf[65536];
  while (!done(seen)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    seen.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

// A temporary directory removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tokio-srv-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
};

// A child process reading its stdin from a FIFO the test writes lines into.
class Interactive {
 public:
  Interactive(const TempDir& dir, const std::string& name, const std::string& cmd)
      : fifo_(dir.path + "/" + name + ".in") {
    REQUIRE(::mkfifo(fifo_.c_str(), 0600) == 0);
    child_ = std::make_unique<nt::Child>("exec " + cmd + " < " + fifo_);
    // Opening the write end succeeds once the child's shell has opened the read end.
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      fd_ = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd_ >= 0) break;
      REQUIRE(errno == ENXIO);
      REQUIRE(std::chrono::steady_clock::now() < end);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  }
  ~Interactive() {
    close_input();
    child_.reset();
  }
  void send(const std::string& line) {
    std::string l = line + "\n";
    REQUIRE(::write(fd_, l.data(), l.size()) == ssize_t(l.size()));
  }
  std::string line(std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    return child_->read_line(limit);
  }
  // Ends the child's input (nc -N then shuts its socket's write side).
  void close_input() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  nt::Child& child() { return *child_; }

 private:
  std::string fifo_;
  int fd_ = -1;
  std::unique_ptr<nt::Child> child_;
};

}  // namespace srv
