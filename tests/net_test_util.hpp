#pragma once
// Helpers shared by the reactor and networking suites (tests/reactor_*_test.cpp,
// tests/net_*_test.cpp).

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "test_util.hpp"

namespace nt {

inline tokio::runtime::Runtime io_current() {
  return tokio::runtime::Builder::new_current_thread().enable_io().build();
}
inline tokio::runtime::Runtime io_multi(std::size_t workers = 2) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_io().build();
}
// Both flavours, for tests that run on each: flavour 0 = current-thread, 1 = multi-thread.
inline tokio::runtime::Runtime io_runtime(int flavour) {
  return flavour == 0 ? io_current() : io_multi(2);
}

// Aborts the process (naming the test) if the scope lasts longer than `limit`: a hung
// I/O test fails fast instead of stalling CI.
class Watchdog {
 public:
  explicit Watchdog(const char* what, std::chrono::seconds limit = std::chrono::seconds(60))
      : what_(what), t_([this, limit] {
          std::unique_lock<std::mutex> lk(mu_);
          if (!cv_.wait_for(lk, limit, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: '%s' still running after %llds, aborting\n", what_,
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_all();
    t_.join();
  }

 private:
  const char* what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread t_;
};

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Reads until `n` bytes arrived or the stream ends/fails; returns what was read.
template <class S>
tokio::Task<std::string> read_n(S& s, std::size_t n) {
  std::string out;
  char buf[8192];
  while (out.size() < n) {
    std::size_t want = std::min(sizeof buf, n - out.size());
    auto r = co_await s.read(std::span<char>(buf, want));
    if (!r || *r == 0) break;
    out.append(buf, *r);
  }
  co_return out;
}

// Reads to end of stream (or error).
template <class S>
tokio::Task<std::string> read_to_eof(S& s) {
  std::string out;
  char buf[8192];
  for (;;) {
    auto r = co_await s.read(std::span<char>(buf, sizeof buf));
    if (!r || *r == 0) break;
    out.append(buf, *r);
  }
  co_return out;
}

// Number of open file descriptors of this process.
inline int open_fds() {
  int n = 0;
  for (int fd = 0; fd < 65536; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) ++n;
  }
  return n;
}

// Sets the soft RLIMIT_NOFILE; returns the previous one.
inline rlim_t set_nofile(rlim_t soft) {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rlim_t prev = rl.rlim_cur;
  rl.rlim_cur = soft > rl.rlim_max ? rl.rlim_max : soft;
  setrlimit(RLIMIT_NOFILE, &rl);
  return prev;
}
inline rlim_t nofile_hard() {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_max;
}

// Yields `n` times: lets other tasks (and, on a current-thread runtime, the driver) run,
// so an operation started in another task reaches its suspension point.
inline tokio::Task<> settle(int n = 20) {
  for (int i = 0; i < n; ++i) co_await tokio::task::yield_now();
}

// A listener on an ephemeral loopback port plus a connected pair (client, server side).
struct TcpPair {
  tokio::net::TcpListener listener;
  tokio::net::TcpStream client;
  tokio::net::TcpStream server;
};

inline tokio::Task<TcpPair> tcp_pair() {
  auto l = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
  REQUIRE(l.has_value());
  auto c = co_await tokio::net::TcpStream::connect(l->local_addr().value());
  REQUIRE(c.has_value());
  auto a = co_await l->accept();
  REQUIRE(a.has_value());
  CHECK(a->second == c->local_addr().value());
  co_return TcpPair{std::move(*l), std::move(*c), std::move(a->first)};
}

}  // namespace nt

// --- child processes (the example programs and real tools: nc, socat) -------------------
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <vector>

extern char** environ;

namespace nt {

// Where `make` put the example binaries: $(BUILD)/examples, next to $(BUILD)/tests.
inline std::string examples_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  std::string exe(buf, static_cast<std::size_t>(n));
  std::string dir = exe.substr(0, exe.rfind('/'));
  return dir.substr(0, dir.rfind('/')) + "/examples";
}
inline std::string example(const char* name) {
  std::string p = examples_dir() + "/" + name;
  REQUIRE_MESSAGE(::access(p.c_str(), X_OK) == 0,
                  p << " is missing: `make test` builds the examples (or run `make examples`)");
  return p;
}

// A child process started with /bin/sh -c `cmd`, stdout captured through a pipe.
class Child {
 public:
  explicit Child(const std::string& cmd) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    // Its own process group, so stop() reaches everything the shell started.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    // (Commands start the program with `exec`, so pid() is the program itself.)
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    int rc = ::posix_spawn(&pid_, "/bin/sh", &fa, &attr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(p[1]);
    out_ = p[0];
    REQUIRE(rc == 0);
  }
  ~Child() {
    stop();
    ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout (without '\n'), or "" after `limit`.
  std::string read_line(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      pollfd pf{out_, POLLIN, 0};
      if (::poll(&pf, 1, static_cast<int>(left.count())) <= 0) continue;
      char tmp[4096];
      ssize_t n = ::read(out_, tmp, sizeof tmp);
      if (n <= 0) return "";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }
  // Waits for the child to exit by itself; returns its exit status (-1 on timeout).
  int wait(std::chrono::milliseconds limit = std::chrono::milliseconds(60000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int st;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  // User + system CPU time of the child so far, in clock ticks (/proc/PID/stat).
  long cpu_ticks() const {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid_) + "/stat").c_str(), "r");
    if (!f) return -1;
    char line[2048];
    std::size_t n = std::fread(line, 1, sizeof line - 1, f);
    std::fclose(f);
    line[n] = 0;
    const char* p = std::strrchr(line, ')');  // fields after the command name
    if (!p) return -1;
    long utime = 0, stime = 0;
    // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime);
    return utime + stime;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

// Runs a shell command to completion (bounded by `timeout` seconds); returns its stdout.
inline std::string sh(const std::string& cmd, int timeout_s = 20) {
  std::string full = "timeout " + std::to_string(timeout_s) + " sh -c '" + cmd + "'";
  FILE* p = ::popen(full.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Parses the port from a "listening on 127.0.0.1:PORT" line.
inline std::string port_of(const std::string& line) {
  auto c = line.rfind(':');
  REQUIRE_MESSAGE(c != std::string::npos, "unexpected line: '" << line << "'");
  return line.substr(c + 1);
}

// A blocking client socket on 127.0.0.1:`port` with receive/send timeouts (so a broken server fails the test
// instead of hanging it).
inline int blocking_client(const std::string& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto a = tokio::net::SocketAddr::parse("127.0.0.1:" + port).value();
  sockaddr_storage ss;
  socklen_t len = a.to_sockaddr(ss);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
  return fd;
}

inline bool echoes(int fd, const std::string& msg) {
  if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) != ssize_t(msg.size())) return false;
  std::string got;
  char buf[256];
  while (got.size() < msg.size()) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got == msg;
}

}  // namespace nt
