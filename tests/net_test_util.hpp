#pragma once
// Helpers shared by the reactor and networking suites (tests/reactor_*_test.cpp,
// tests/net_*_test.cpp).

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
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

}  // namespace nt
