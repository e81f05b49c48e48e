// latency_loadgen: the one load generator both echo servers face (issue 10's tail-latency
// benchmark). Plain C++: blocking connects, then threads each running an epoll loop over
// their share of the connections; no async runtime, so tokio.hpp and Tokio meet the
// identical client.
//
//   latency_loadgen ADDR CONNECTIONS RATE SECONDS [WARMUP_S] [THREADS]
//
// RATE > 0: open loop at RATE requests/s in total. Connection g (of N) is scheduled to send
//   its k-th 64-byte request at start + g*I/N + k*I, with I = N/RATE, and has at most one
//   request in flight (as an HTTP/1.1 client without pipelining; wrk2's model). A request
//   whose slot comes while the previous one is unanswered goes out as soon as the answer
//   arrives, and its latency is still measured from its *scheduled* time (coordinated
//   omission corrected): a server that stalls is charged for every request it delayed.
//   After the measured window every request scheduled inside it is still sent and awaited
//   (for at most max(SECONDS, 2) s more); one still unanswered then is recorded with the
//   time it has waited so far (a lower bound) and counted as `unfinished`.
// RATE = 0: closed loop, each connection sends its next request as soon as the previous
//   answer arrives: measures the maximum rate at this concurrency (latency = round trip).
//
// Requests scheduled in the first WARMUP_S seconds (default 1) are sent but not recorded.
// Prints one line of key=value: offered and achieved rate, latency percentiles in
// microseconds, the p99 round trip measured from the actual send (rtt: what a closed-loop
// client would report, blind to queueing before the send), and the client's own lateness
// (lag: how late the client itself sent requests that were not waiting for an answer; a
// busy machine shows up there first).
// Exits 1 on any connection error, 2 on bad arguments.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <queue>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace loadgen {

constexpr std::size_t kMsg = 64;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "latency_loadgen: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

struct Config {
  sockaddr_in addr{};
  std::size_t conns = 50;
  double rate = 0;  // requests/s in total; 0 = closed loop
  double seconds = 5;
  double warmup = 1;
  std::size_t threads = 1;
};

// The time plan every thread shares (ns on CLOCK_MONOTONIC).
struct Plan {
  std::uint64_t start;      // first scheduled send
  std::uint64_t warm_end;   // requests scheduled from here on are recorded
  std::uint64_t end;        // no request is scheduled at or after this
  std::uint64_t drain_end;  // hard stop
  std::uint64_t interval;   // per connection, open loop; 0 = closed loop
  std::size_t total_conns;
};

struct Conn {
  int fd = -1;
  std::size_t global = 0;   // index among all connections (sets its phase)
  std::uint64_t sched = 0;  // scheduled send time of the next/outstanding request
  std::uint64_t sent = 0;   // when the outstanding request actually went out
  std::size_t got = 0;      // bytes of the answer received so far
  bool in_flight = false;
  bool done = false;  // no more requests to send inside the window
};

struct Stats {
  std::vector<std::uint64_t> latency;   // ns, recorded requests
  std::vector<std::uint64_t> rtt;       // ns, recorded requests, from the actual send
  std::vector<std::uint64_t> lag;       // ns, client lateness on timer-driven sends
  std::uint64_t answers_in_window = 0;  // answers that arrived in [warm_end, end)
  std::uint64_t answers = 0;            // all answers, warm-up and drain included
  std::uint64_t unfinished = 0;
};

class Worker {
 public:
  Worker(const Plan& plan, std::vector<Conn> conns) : plan_(plan), conns_(std::move(conns)) {}

  void run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) die("epoll_create1");
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) die("epoll_ctl");
      Conn& c = conns_[i];
      c.sched = plan_.start + (plan_.interval ? c.global * plan_.interval / plan_.total_conns : 0);
      timers_.push({c.sched, i});
    }
    stats_.latency.reserve(expected_requests());
    stats_.rtt.reserve(expected_requests());
    epoll_event events[256];
    for (;;) {
      std::uint64_t now = now_ns();
      while (!timers_.empty() && timers_.top().first <= now) {
        std::size_t i = timers_.top().second;
        timers_.pop();
        if (conns_[i].sched >= plan_.warm_end) stats_.lag.push_back(now - conns_[i].sched);
        send_request(conns_[i]);
      }
      if (timers_.empty() && in_flight_ == 0) break;
      if (now >= plan_.drain_end) break;
      std::uint64_t until = plan_.drain_end;
      if (!timers_.empty()) until = std::min(until, timers_.top().first);
      std::uint64_t wait = until > now ? until - now : 0;
      timespec ts{static_cast<time_t>(wait / 1000000000u), static_cast<long>(wait % 1000000000u)};
      int n = epoll_pwait2(ep_, events, 256, &ts, nullptr);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_pwait2");
      }
      for (int e = 0; e < n; ++e) on_readable(events[e].data.u64);
    }
    account_unfinished();
    close(ep_);
  }

  Stats& stats() { return stats_; }

 private:
  std::size_t expected_requests() const {
    if (!plan_.interval) return 1 << 16;
    return conns_.size() * ((plan_.end - plan_.warm_end) / plan_.interval + 2);
  }

  void send_request(Conn& c) {
    static const char msg[kMsg] = {'p'};
    ssize_t n = send(c.fd, msg, kMsg, MSG_NOSIGNAL | MSG_DONTWAIT);
    // One 64-byte request in flight per connection: the send buffer cannot be full.
    if (n != static_cast<ssize_t>(kMsg)) die("send");
    c.in_flight = true;
    c.sent = now_ns();
    c.got = 0;
    ++in_flight_;
  }

  void on_readable(std::size_t i) {
    Conn& c = conns_[i];
    char buf[kMsg];
    ssize_t n = recv(c.fd, buf, kMsg - c.got, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      die("recv");
    }
    if (n == 0) {
      errno = ECONNRESET;
      die("recv: server closed the connection");
    }
    if (!c.in_flight) {
      errno = EPROTO;
      die("recv: unsolicited bytes");
    }
    c.got += static_cast<std::size_t>(n);
    if (c.got < kMsg) return;
    std::uint64_t now = now_ns();
    c.in_flight = false;
    --in_flight_;
    ++stats_.answers;
    if (c.sched >= plan_.warm_end && c.sched < plan_.end) {
      stats_.latency.push_back(now - c.sched);
      stats_.rtt.push_back(now - c.sent);
    }
    if (now >= plan_.warm_end && now < plan_.end) ++stats_.answers_in_window;
    // Next request: the next slot (open loop) or right away (closed loop).
    c.sched = plan_.interval ? c.sched + plan_.interval : now;
    if (c.sched >= plan_.end) {
      c.done = true;
      return;
    }
    if (c.sched <= now) {
      send_request(c);  // late: the server held this connection past its slot
    } else {
      timers_.push({c.sched, i});
    }
  }

  // Hard stop: every request scheduled inside the window and not answered is charged the
  // time it has waited so far.
  void account_unfinished() {
    std::uint64_t stop = now_ns();
    for (Conn& c : conns_) {
      if (c.done || (!c.in_flight && c.sched >= plan_.end)) continue;
      for (std::uint64_t s = c.sched; s < plan_.end;
           s = plan_.interval ? s + plan_.interval : plan_.end) {
        if (s >= plan_.warm_end) {
          stats_.latency.push_back(stop > s ? stop - s : 0);
          ++stats_.unfinished;
        }
      }
    }
  }

  using Timer = std::pair<std::uint64_t, std::size_t>;
  const Plan& plan_;
  std::vector<Conn> conns_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::size_t in_flight_ = 0;
  int ep_ = -1;
  Stats stats_;
};

int connect_one(const sockaddr_in& addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  timeval tv{5, 0};  // a connect that takes 5 s fails the run
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

double percentile(const std::vector<std::uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  std::size_t rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size()));
  if (rank > 0 && static_cast<double>(rank) == p * static_cast<double>(sorted.size())) --rank;
  return static_cast<double>(sorted[std::min(rank, sorted.size() - 1)]) / 1000.0;
}

Config parse(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s ADDR CONNECTIONS RATE SECONDS [WARMUP_S] [THREADS]\n", argv[0]);
    std::exit(2);
  }
  Config c;
  std::string addr = argv[1];
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) std::exit(2);
  c.addr.sin_family = AF_INET;
  c.addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(addr.c_str() + colon + 1)));
  if (inet_pton(AF_INET, addr.substr(0, colon).c_str(), &c.addr.sin_addr) != 1) {
    std::fprintf(stderr, "latency_loadgen: bad IPv4 address %s\n", addr.c_str());
    std::exit(2);
  }
  c.conns = std::strtoul(argv[2], nullptr, 10);
  c.rate = std::strtod(argv[3], nullptr);
  c.seconds = std::strtod(argv[4], nullptr);
  if (argc > 5) c.warmup = std::strtod(argv[5], nullptr);
  if (argc > 6) c.threads = std::strtoul(argv[6], nullptr, 10);
  if (c.conns == 0 || c.threads == 0 || c.seconds <= 0 || c.seconds > 600 || c.rate < 0 ||
      c.warmup < 0) {
    std::fprintf(stderr, "latency_loadgen: bad arguments\n");
    std::exit(2);
  }
  c.threads = std::min(c.threads, c.conns);
  return c;
}

}  // namespace loadgen

int main(int argc, char** argv) {
  using namespace loadgen;
  Config cfg = parse(argc, argv);
  prctl(PR_SET_TIMERSLACK, 1UL);  // wake at the scheduled send time, not up to 50 µs later
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::vector<std::vector<Conn>> shares(cfg.threads);
  for (std::size_t g = 0; g < cfg.conns; ++g) {
    Conn c;
    c.fd = connect_one(cfg.addr);
    c.global = g;
    shares[g % cfg.threads].push_back(c);
  }
  Plan plan;
  plan.total_conns = cfg.conns;
  plan.interval = cfg.rate > 0
                      ? static_cast<std::uint64_t>(1e9 * static_cast<double>(cfg.conns) / cfg.rate)
                      : 0;
  if (cfg.rate > 0 && plan.interval == 0) plan.interval = 1;
  plan.start = now_ns() + 20000000u;  // 20 ms for the threads to start
  plan.warm_end = plan.start + static_cast<std::uint64_t>(cfg.warmup * 1e9);
  plan.end = plan.warm_end + static_cast<std::uint64_t>(cfg.seconds * 1e9);
  plan.drain_end = plan.end + static_cast<std::uint64_t>(std::max(cfg.seconds, 2.0) * 1e9);

  std::vector<Worker> workers;
  workers.reserve(cfg.threads);
  for (auto& s : shares) workers.emplace_back(plan, std::move(s));
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w.run(); });
  for (auto& t : threads) t.join();

  std::vector<std::uint64_t> lat, rtt, lag;
  std::uint64_t answers = 0, all_answers = 0, unfinished = 0;
  for (auto& w : workers) {
    Stats& s = w.stats();
    lat.insert(lat.end(), s.latency.begin(), s.latency.end());
    rtt.insert(rtt.end(), s.rtt.begin(), s.rtt.end());
    lag.insert(lag.end(), s.lag.begin(), s.lag.end());
    answers += s.answers_in_window;
    all_answers += s.answers;
    unfinished += s.unfinished;
  }
  std::sort(lat.begin(), lat.end());
  std::sort(rtt.begin(), rtt.end());
  std::sort(lag.begin(), lag.end());
  std::printf(
      "conns=%zu offered=%.0f achieved=%.0f answers=%llu requests=%zu unfinished=%llu p50_us=%.1f "
      "p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f rtt_p99_us=%.1f timer_sends=%zu "
      "lag_p99_us=%.1f lag_max_us=%.1f\n",
      cfg.conns, cfg.rate, static_cast<double>(answers) / cfg.seconds,
      static_cast<unsigned long long>(all_answers), lat.size(),
      static_cast<unsigned long long>(unfinished), percentile(lat, 0.50), percentile(lat, 0.90),
      percentile(lat, 0.99), percentile(lat, 0.999), lat.empty() ? 0.0 : lat.back() / 1000.0,
      percentile(rtt, 0.99), lag.size(), percentile(lag, 0.99),
      lag.empty() ? 0.0 : lag.back() / 1000.0);
  return 0;  // the connections close with the process
}
