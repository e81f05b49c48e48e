#pragma once
// Helpers shared by the C++ benchmark programs. Every program takes
//   <case> <workers> <iters>
// runs `iters` iterations of the named workload on one runtime (built once, as criterion
// does), and exits 0. Each program mirrors a file of Tokio's benches/ with its constants.

#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "tokio.hpp"

namespace bench {

struct Args {
  std::string name;
  std::size_t workers = 2;
  std::size_t iters = 1;
};

inline Args parse(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s <case> <workers> <iters>\n", argv[0]);
    std::exit(2);
  }
  Args a;
  a.name = argv[1];
  a.workers = std::strtoul(argv[2], nullptr, 10);
  a.iters = std::strtoul(argv[3], nullptr, 10);
  return a;
}

[[noreturn]] inline void unknown(const Args& a) {
  std::fprintf(stderr, "unknown case: %s\n", a.name.c_str());
  std::exit(2);
}

// std::sync::mpsc::sync_channel stand-in: a blocking queue for plain threads.
template <class T>
class SyncChannel {
 public:
  void send(T v) {
    {
      std::lock_guard<std::mutex> g(mu_);
      q_.push_back(std::move(v));
    }
    cv_.notify_one();
  }
  T recv() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !q_.empty(); });
    T v = std::move(q_.front());
    q_.pop_front();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> q_;
};

// Tokio's stall(): spin for 10 µs, yielding the thread between checks.
inline void stall() {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::microseconds(10)) {
    std::this_thread::yield();
  }
}

inline long max_rss_kb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

template <class T>
inline void black_box(T&& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

}  // namespace bench
