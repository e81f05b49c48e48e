// A timed soak (issue 11 §2): N seconds of mixed load on a multi-thread runtime (TCP and
// Unix connection churn, timers and timeouts, channels, spawn/abort churn, JoinSets,
// blocking jobs, select losers), sampling RSS, open descriptors, alive tasks and threads.
// Once warmed up the figures must plateau: the last half of the run may not climb above
// the second quarter's peak (plus a small allowance), and after the load stops every
// task, descriptor and thread is gone.
// Length: TOKIO_STRESS_SECONDS, else 60 s under `make stress` and 2 s in the suite.
#include <algorithm>
#include <memory>
#include <vector>

#include "stress_util.hpp"

using tokio::Task;
using tokio::net::SocketAddr;
using tokio::net::TcpListener;
using tokio::net::TcpStream;
using tokio::net::UnixStream;
namespace ts = tokio::sync;

namespace {

struct SoakCounts {
  std::atomic<long> connections{0};
  std::atomic<long> echo_bytes{0};
  std::atomic<long> timers{0};
  std::atomic<long> messages{0};
  std::atomic<long> aborted{0};
  std::atomic<long> blocking{0};
  std::atomic<long> selects{0};
  std::atomic<long> errors{0};
};

Task<> soak_echo(TcpStream s) {
  char buf[4096];
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n || *n == 0) co_return;
    if (!co_await s.write_all({buf, *n})) co_return;
  }
}

Task<> soak_acceptor(TcpListener l) {
  for (;;) {
    auto c = co_await l.accept();
    if (c) tokio::spawn(soak_echo, std::move(c->first));
  }
}

// Connect, a few echoes of random sizes, close; again and again.
Task<> tcp_churn(SocketAddr addr, ts::CancellationToken stop, SoakCounts* c, uint64_t seed) {
  stress::Rng rng(seed);
  while (!stop.is_cancelled()) {
    auto s = co_await TcpStream::connect(addr);
    if (!s) {
      c->errors.fetch_add(1);
      co_return;
    }
    c->connections.fetch_add(1, std::memory_order_relaxed);
    for (int r = 0, rounds = 1 + static_cast<int>(rng() % 4); r < rounds; ++r) {
      std::string msg(1 + rng() % 8192, static_cast<char>('a' + r));
      if (!co_await s->write_all(msg)) {
        c->errors.fetch_add(1);
        break;
      }
      std::string back = co_await nt::read_n(*s, msg.size());
      if (back != msg) {
        c->errors.fetch_add(1);
        break;
      }
      c->echo_bytes.fetch_add(static_cast<long>(msg.size()), std::memory_order_relaxed);
    }
  }
}

Task<> unix_churn(ts::CancellationToken stop, SoakCounts* c) {
  while (!stop.is_cancelled()) {
    auto p = UnixStream::pair();
    if (!p) {
      c->errors.fetch_add(1);
      co_return;
    }
    auto& [a, b] = *p;
    std::string msg(1000, 'u');
    auto w = co_await a.write_all(msg);
    std::string back = co_await nt::read_n(b, msg.size());
    if (!w || back != msg) c->errors.fetch_add(1);
    c->echo_bytes.fetch_add(static_cast<long>(back.size()), std::memory_order_relaxed);
  }
}

// Sleeps and timeouts: some expire, some win.
Task<> timer_churn(ts::CancellationToken stop, SoakCounts* c, uint64_t seed) {
  stress::Rng rng(seed);
  ts::Notify n;
  while (!stop.is_cancelled()) {
    co_await tokio::time::sleep(std::chrono::milliseconds(rng() % 5));
    if (rng() % 2) n.notify_one();
    auto r = co_await tokio::time::timeout(std::chrono::milliseconds(rng() % 3), n.notified());
    (void)r;
    c->timers.fetch_add(1, std::memory_order_relaxed);
  }
}

// A bounded mpsc pipeline and a broadcast/watch fan-out.
Task<> channel_churn(ts::CancellationToken stop, SoakCounts* c) {
  while (!stop.is_cancelled()) {
    auto [tx, rx] = ts::mpsc::channel<std::string>(8);
    auto producer = tokio::spawn(
        [](ts::mpsc::Sender<std::string> tx) -> Task<> {
          for (int i = 0; i < 200; ++i) {
            if (!co_await tx.send(std::string(64, 'x'))) co_return;
          }
        },
        std::move(tx));
    for (;;) {
      auto v = co_await rx.recv();
      if (!v) break;
      c->messages.fetch_add(1, std::memory_order_relaxed);
    }
    co_await producer;
    auto [btx, brx] = ts::broadcast::channel<int>(16);
    auto [wtx, wrx] = ts::watch::channel<int>(0);
    auto sub = tokio::spawn(
        [](ts::broadcast::Receiver<int> rx, ts::watch::Receiver<int> w) -> Task<long> {
          long got = 0;
          for (;;) {
            auto r = co_await rx.recv();
            if (!r && r.error().is_closed()) break;
            ++got;
          }
          while ((co_await w.changed()).has_value()) ++got;
          co_return got;
        },
        btx.subscribe(), wtx.subscribe());
    { auto drop = std::move(brx); }
    { auto drop = std::move(wrx); }
    for (int i = 0; i < 100; ++i) {
      (void)btx.send(i);
      (void)wtx.send(i);
      if (i % 10 == 0) co_await tokio::task::yield_now();
    }
    { auto drop = std::move(btx); }
    { auto drop = std::move(wtx); }
    c->messages.fetch_add(co_await sub, std::memory_order_relaxed);
  }
}

// Tasks spawned and aborted, a JoinSet filled and shut down, blocking jobs, select losers.
Task<> task_churn(ts::CancellationToken stop, SoakCounts* c, uint64_t seed) {
  stress::Rng rng(seed);
  ts::Notify never;
  while (!stop.is_cancelled()) {
    std::vector<tokio::task::JoinHandle<void>> hs;
    for (int i = 0; i < 32; ++i) {
      hs.push_back(tokio::spawn([](ts::Notify* n) -> Task<> { co_await n->notified(); }, &never));
    }
    co_await tokio::task::yield_now();
    for (auto& h : hs) h.abort();
    for (auto& h : hs) {
      if (!(co_await h.result()).has_value()) c->aborted.fetch_add(1, std::memory_order_relaxed);
    }
    tokio::task::JoinSet<int> set;
    for (int i = 0; i < 16; ++i) {
      set.spawn(
          [](int i) -> Task<int> {
            co_await tokio::time::sleep(std::chrono::milliseconds(i % 3));
            co_return i;
          },
          i);
    }
    (void)co_await set.join_next();
    co_await set.shutdown();
    auto job = [](uint32_t us) {
      std::this_thread::sleep_for(std::chrono::microseconds(us));
      return us;
    };
    auto bh = tokio::task::spawn_blocking(job, rng() % 500);
    (void)co_await bh;
    c->blocking.fetch_add(1, std::memory_order_relaxed);
    auto r =
        co_await tokio::select(never.notified(), tokio::time::sleep(std::chrono::milliseconds(1)));
    (void)r;
    c->selects.fetch_add(1, std::memory_order_relaxed);
  }
}

struct Sample {
  double t;
  long rss;
  int fds;
  std::size_t tasks;
  long threads;
};

}  // namespace

namespace {

template <class F>
auto max_of(const std::vector<Sample>& v, std::size_t from, std::size_t to, F f) {
  decltype(f(v[0])) m = f(v[from]);
  for (std::size_t i = from; i < to; ++i) m = std::max(m, f(v[i]));
  return m;
}

}  // namespace

TEST_CASE(
    "stress: timed soak of mixed load: RSS, descriptors, tasks and threads plateau, then return") {
  const auto length = stress::soak_length();
  const auto period = std::max(std::chrono::milliseconds(50), length / 60);
  nt::Watchdog wd(
      "soak", std::chrono::duration_cast<std::chrono::seconds>(length) + std::chrono::seconds(180));
  stress::NofileRaise nofile;
  const int fds0 = stress::open_fds();
  const long threads0 = stress::threads();
  std::vector<Sample> samples;
  SoakCounts c;
  stress::Stopwatch sw;
  std::size_t tasks_after = 0;
  {
    auto rt = stress::runtime(1);
    ts::CancellationToken stop;
    SocketAddr addr = rt.block_on([]() -> Task<SocketAddr> {
      auto l = co_await TcpListener::bind("127.0.0.1:0");
      REQUIRE(l.has_value());
      SocketAddr a = l->local_addr().value();
      tokio::spawn(soak_acceptor, std::move(*l));
      co_return a;
    }());
    std::vector<tokio::task::JoinHandle<void>> gens;
    for (uint64_t i = 0; i < 8; ++i)
      gens.push_back(rt.spawn(tcp_churn, addr, stop, &c, stress::seed() + i));
    for (int i = 0; i < 2; ++i) gens.push_back(rt.spawn(unix_churn, stop, &c));
    for (uint64_t i = 0; i < 8; ++i)
      gens.push_back(rt.spawn(timer_churn, stop, &c, stress::seed() + 100 + i));
    for (int i = 0; i < 2; ++i) gens.push_back(rt.spawn(channel_churn, stop, &c));
    for (uint64_t i = 0; i < 4; ++i)
      gens.push_back(rt.spawn(task_churn, stop, &c, stress::seed() + 200 + i));
    // This thread only samples; the two workers carry the load.
    while (sw.ms() < static_cast<double>(length.count())) {
      std::this_thread::sleep_for(period);
      samples.push_back(Sample{sw.ms(), stress::rss_kib(), stress::open_fds(),
                               rt.metrics().num_alive_tasks(), stress::threads()});
    }
    stop.cancel();
    rt.block_on([](std::vector<tokio::task::JoinHandle<void>>* gens) -> Task<> {
      for (auto& h : *gens) co_await h;
    }(&gens));
    // Only the acceptor is left once the last echo task has seen its client close.
    CHECK(test::eventually([&] { return rt.metrics().num_alive_tasks() <= 1; },
                           std::chrono::milliseconds(10000)));
    tasks_after = rt.metrics().num_alive_tasks();
  }
  CHECK(tasks_after <= 1);
  CHECK(stress::fds_back_to(fds0));
  CHECK(test::eventually([&] { return stress::threads() <= threads0; },
                         std::chrono::milliseconds(10000)));
  CHECK(c.errors.load() == 0);
  REQUIRE(samples.size() >= 8);
  const std::size_t n = samples.size(), q1 = n / 4, half = n / 2;
  auto rss = [](const Sample& s) { return s.rss; };
  auto fds = [](const Sample& s) { return s.fds; };
  auto tasks = [](const Sample& s) { return s.tasks; };
  auto thr = [](const Sample& s) { return s.threads; };
  const long rss_mid = max_of(samples, q1, half, rss), rss_last = max_of(samples, half, n, rss);
  const int fds_mid = max_of(samples, q1, half, fds), fds_last = max_of(samples, half, n, fds);
  const std::size_t tasks_mid = max_of(samples, q1, half, tasks),
                    tasks_last = max_of(samples, half, n, tasks);
  const long thr_last = max_of(samples, half, n, thr);
  INFO("RSS KiB: second quarter peak " << rss_mid << ", last half peak " << rss_last << "; fds "
                                       << fds_mid << " / " << fds_last << "; tasks " << tasks_mid
                                       << " / " << tasks_last);
  // The load holds a bounded set of resources at any moment.
  CHECK(fds_last <= fds0 + 96);
  CHECK(tasks_last <= 2000);
  CHECK(thr_last <= threads0 + 2 + 64);
  CHECK(fds_last <= fds_mid + 48);
  CHECK(tasks_last <= tasks_mid * 2 + 256);
  // RSS: no climb once warmed up. Sanitizer builds keep freed memory in quarantine and
  // short runs warm up late, so those only get a loose bound.
  const bool loose = test::kSanitized || length < std::chrono::seconds(20);
  if (loose) {
    CHECK(rss_last <= rss_mid * 2 + 128 * 1024);
  } else {
    CHECK(rss_last <= rss_mid + rss_mid / 10 + 16 * 1024);
  }
  stress::figure(
      "soak: %.0f s, %zu samples; RSS %ld -> %ld KiB (peak %ld KiB, VmHWM %ld KiB); fds <= %d "
      "(baseline %d); "
      "alive tasks <= %zu; threads <= %ld; %ld connections, %ld MiB echoed, %ld timers, %ld "
      "messages, "
      "%ld aborts, %ld blocking jobs, %ld selects",
      sw.ms() / 1000, n, samples.front().rss, samples.back().rss, max_of(samples, 0, n, rss),
      stress::status_field("VmHWM"), max_of(samples, 0, n, fds), fds0, max_of(samples, 0, n, tasks),
      max_of(samples, 0, n, thr), c.connections.load(), c.echo_bytes.load() >> 20, c.timers.load(),
      c.messages.load(), c.aborted.load(), c.blocking.load(), c.selects.load());
}
