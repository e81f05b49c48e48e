#pragma once
// Shared by the stress suites (tests/stress_*_test.cpp): the adversarial categories of
// issue 11 (connection scale, task/timer scale with shutdown, fault injection, cancellation
// storms with value accounting, runtime drop with work in flight, a timed soak).
//
// One code path, two sizes. The normal suite runs every case scaled down (a few seconds
// per configuration, shrunk further under TSan through test::scaled); `make stress` runs
// the same cases at full size by setting TOKIO_STRESS=1 in the environment (or build with
// -DTOKIO_STRESS_FULL). TOKIO_STRESS_SECONDS sets the soak's length.
//
// Full-size figures (and every "scaled down because..." message) are printed to stderr
// with a "[stress]" prefix, so `make stress` leaves a record of what it measured.

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "net_test_util.hpp"

namespace stress {

using test::Rng;

// True when the full-size workloads are selected.
inline bool full() {
#if defined(TOKIO_STRESS_FULL)
  return true;
#else
  static const bool on = [] {
    const char* v = std::getenv("TOKIO_STRESS");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
#endif
}

// `full_n` under `make stress`, otherwise `ci_n` (shrunk under TSan like every workload).
inline std::size_t size(std::size_t full_n, std::size_t ci_n) {
  return full() ? full_n : test::scaled(ci_n);
}

// The soak's length: TOKIO_STRESS_SECONDS, else 60 s at full size and 2 s in the suite.
inline std::chrono::milliseconds soak_length() {
  if (const char* v = std::getenv("TOKIO_STRESS_SECONDS"); v && *v) {
    return std::chrono::milliseconds(static_cast<long>(std::atof(v) * 1000));
  }
  return full() ? std::chrono::milliseconds(60000) : std::chrono::milliseconds(2000);
}

// A line on stderr, always (use it for "scaled down because..." messages).
inline void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline void note(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "[stress] %s\n", buf);
}
// A figure: printed at full size (or with TOKIO_STRESS_VERBOSE), silent in the suite.
inline void figure(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline void figure(const char* fmt, ...) {
  static const bool verbose = full() || std::getenv("TOKIO_STRESS_VERBOSE") != nullptr;
  if (!verbose) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "[stress] %s\n", buf);
}

// --- process figures ------------------------------------------------------------------------
// Resident set size now, in KiB (/proc/self/statm).
inline long rss_kib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return -1;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}
// A "Key:   123 kB" field of /proc/self/status (VmHWM = peak RSS, Threads = thread count).
inline long status_field(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  std::size_t klen = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, klen) == 0 && line[klen] == ':') {
      v = std::atol(line + klen + 1);
      break;
    }
  }
  std::fclose(f);
  return v;
}
inline long threads() { return status_field("Threads"); }

// Open file descriptors (entries of /proc/self/fd, minus the one reading it).
inline int open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;
}

// Waits (bounded) until the fd count is back to `baseline`: sockets closed by a runtime's
// shutdown are closed synchronously, but a helper thread may still be finishing.
// The open descriptors and what they are (for a failure message).
inline std::string describe_fds() {
  std::string out;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char buf[256];
    std::string p = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    out += std::string(" ") + e->d_name + "=" + buf;
  }
  ::closedir(d);
  return out;
}

inline bool fds_back_to(int baseline,
                        std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  bool ok = test::eventually([&] { return open_fds() <= baseline; }, limit);
  if (!ok) MESSAGE("descriptors still open (baseline " << baseline << "):" << describe_fds());
  return ok;
}

// Raises the soft RLIMIT_NOFILE as far as the hard limit allows; returns how many more
// descriptors this process may open now (the new limit minus those already open). Restores
// the previous limit when destroyed.
class NofileRaise {
 public:
  NofileRaise() : prev_(nt::set_nofile(nt::nofile_hard())) {}
  ~NofileRaise() { nt::set_nofile(prev_); }
  NofileRaise(const NofileRaise&) = delete;
  NofileRaise& operator=(const NofileRaise&) = delete;
  long headroom() const {
    rlimit rl;
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur) - open_fds();
  }

 private:
  rlim_t prev_;
};

// --- EINTR storm ----------------------------------------------------------------------------
// A thread that sends `signo` to every other thread of the process (tgkill) in a tight
// loop, with a handler installed without SA_RESTART: every blocking or interruptible
// syscall of the runtime (epoll_wait, futex waits, accept, connect, read, write,
// nanosleep...) sees EINTR over and over while the storm lasts.
class SignalStorm {
 public:
  explicit SignalStorm(int signo = SIGUSR2,
                       std::chrono::microseconds gap = std::chrono::microseconds(50))
      : signo_(signo) {
    struct sigaction sa {};
    sa.sa_handler = &SignalStorm::on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: interrupted syscalls fail with EINTR
    ::sigaction(signo_, &sa, &old_);
    self_ = static_cast<pid_t>(::syscall(SYS_gettid));
    thread_ = std::thread([this, gap] { run(gap); });
  }
  ~SignalStorm() { stop(); }
  SignalStorm(const SignalStorm&) = delete;
  SignalStorm& operator=(const SignalStorm&) = delete;

  // Stops sending; returns how many signals were sent.
  long stop() {
    if (thread_.joinable()) {
      stop_.store(true);
      thread_.join();
      // Signals still pending are delivered to the (still installed) no-op handler; let
      // them land before the previous disposition comes back.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ::sigaction(signo_, &old_, nullptr);
    }
    return sent_.load();
  }
  long sent() const { return sent_.load(); }
  static long handled() { return handled_.load(); }

 private:
  static void on_signal(int) { handled_.fetch_add(1, std::memory_order_relaxed); }

  void run(std::chrono::microseconds gap) {
    pid_t pid = ::getpid();
    pid_t me = static_cast<pid_t>(::syscall(SYS_gettid));
    std::vector<pid_t> tids;
    while (!stop_.load(std::memory_order_relaxed)) {
      tids.clear();
      if (DIR* d = ::opendir("/proc/self/task")) {
        while (dirent* e = ::readdir(d)) {
          if (e->d_name[0] == '.') continue;
          pid_t t = static_cast<pid_t>(std::atoi(e->d_name));
          if (t != me) tids.push_back(t);
        }
        ::closedir(d);
      }
      for (pid_t t : tids) {
        if (::syscall(SYS_tgkill, pid, t, signo_) == 0)
          sent_.fetch_add(1, std::memory_order_relaxed);
      }
      std::this_thread::sleep_for(gap);
    }
  }

  int signo_;
  struct sigaction old_ {};
  pid_t self_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<long> sent_{0};
  static inline std::atomic<long> handled_{0};
  std::thread thread_;
};

// --- value accounting -------------------------------------------------------------------------
// Counts how often each of n values was seen; check() says whether every value was seen
// exactly once (or is still in flight: `pending` lists those found left in a channel).
class Ledger {
 public:
  explicit Ledger(std::size_t n) : seen_(n) {}
  void saw(std::size_t v) {
    if (v >= seen_.size()) {
      ++out_of_range_;
      return;
    }
    seen_[v].fetch_add(1, std::memory_order_relaxed);
  }
  std::size_t total() const {
    std::size_t t = 0;
    for (auto& s : seen_) t += s.load(std::memory_order_relaxed);
    return t;
  }
  // Values seen more than once, values never seen, values out of range.
  std::size_t duplicates() const {
    std::size_t d = 0;
    for (auto& s : seen_) d += s.load(std::memory_order_relaxed) > 1 ? 1 : 0;
    return d;
  }
  std::size_t missing() const {
    std::size_t m = 0;
    for (auto& s : seen_) m += s.load(std::memory_order_relaxed) == 0 ? 1 : 0;
    return m;
  }
  std::size_t out_of_range() const { return out_of_range_.load(); }
  bool exact() const { return duplicates() == 0 && missing() == 0 && out_of_range() == 0; }

 private:
  std::vector<std::atomic<uint32_t>> seen_;
  std::atomic<std::size_t> out_of_range_{0};
};

// A small per-task random source (seeded, so a failure can be reproduced with the seed the
// test prints).
inline uint64_t seed() {
  static const uint64_t s = [] {
    if (const char* v = std::getenv("TOKIO_STRESS_SEED"); v && *v)
      return static_cast<uint64_t>(std::strtoull(v, nullptr, 0));
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  return s;
}

// --- cancellation ----------------------------------------------------------------------------
// Runtimes with every driver (the cancellers below need timers): 0 = current-thread,
// 1 = multi-thread with two workers.
inline tokio::runtime::Runtime runtime(int flavour) {
  if (flavour == 0) return tokio::runtime::Builder::new_current_thread().enable_all().build();
  return tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
}
inline const char* flavour_name(int flavour) {
  return flavour == 0 ? "current-thread" : "multi-thread";
}

// Awaits `t` under the canceller `mode` picks, and returns its value, or nullopt when the
// canceller won and `t` was destroyed (cancelled) before it completed:
//   0  timeout(0): polled once, cancelled unless ready at once
//   1  select_biased(t, yield_now()): polled twice, then it loses
//   2  select(t, yield_now()): random branch order, so sometimes cancelled before its
//      first poll
//   3  timeout of up to 1 ms (a real timer races the operation)
//   4+ awaited to completion (so every storm makes progress)
template <class T>
tokio::Task<std::optional<T>> attempt_task(tokio::Task<T> t, uint32_t mode) {
  switch (mode % 6) {
    case 0: {
      auto r = co_await tokio::time::timeout(std::chrono::milliseconds(0), std::move(t));
      if (r) co_return std::optional<T>(std::move(*r));
      co_return std::nullopt;
    }
    case 1: {
      auto r = co_await tokio::select_biased(std::move(t), tokio::task::yield_now());
      if (r.index() == 0) co_return std::optional<T>(std::move(std::get<0>(r)));
      co_return std::nullopt;
    }
    case 2: {
      auto r = co_await tokio::select(std::move(t), tokio::task::yield_now());
      if (r.index() == 0) co_return std::optional<T>(std::move(std::get<0>(r)));
      co_return std::nullopt;
    }
    case 3: {
      auto r = co_await tokio::time::timeout(std::chrono::microseconds((mode >> 3) % 1000),
                                             std::move(t));
      if (r) co_return std::optional<T>(std::move(*r));
      co_return std::nullopt;
    }
    default: co_return std::optional<T>(co_await std::move(t));
  }
}
template <class A>
auto attempt(A&& op, uint32_t mode) {
  return attempt_task(tokio::detail::to_task(std::forward<A>(op)), mode);
}

// Elapsed wall time of a scope, in milliseconds.
class Stopwatch {
 public:
  Stopwatch() : t0_(std::chrono::steady_clock::now()) {}
  double ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace stress
