// The schedule explorer (see explorer.hpp): a baton passed between real threads so exactly
// one runs, and the strategies that decide where the baton goes at each preemption point.
#include "explorer.hpp"

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "tokio/core/detail/atomic.hpp"

namespace explore {
namespace {

constexpr int kController = -1;
constexpr int kMaxThreads = 3;
constexpr int kIdleRounds = 8;

// splitmix64: small, and the same sequence on every platform and standard library (unlike
// std::uniform_int_distribution), so a seed means the same schedules everywhere.
struct Rng {
  uint64_t s;
  uint64_t next() noexcept {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) noexcept { return next() % n; }
};

// A choice the search made: `index` of `count` candidates at one point with several.
struct Choice {
  int count;
  int index;
};

// Everything below is touched only by the thread holding the baton (or by the controller
// while no explored thread runs), except `active`, `epoch` and `quit`, which are guarded
// by `m`. Handing the baton over under `m` orders every thread's work before the next
// thread's, so the threads' plain memory needs no further synchronisation.
struct Sched {
  const Config* cfg = nullptr;
  std::mutex m;
  std::condition_variable cv[kMaxThreads + 1];  // per thread; the last is the controller's
  int active = kController;
  uint64_t epoch = 0;
  bool quit = false;
  bool abandoned = false;  // a thread gave up (step limit): the pool is left blocked

  // The current execution.
  const std::vector<std::function<void()>>* bodies = nullptr;
  int nthreads = 0;
  bool finished[kMaxThreads] = {};
  // A thread that spun (waits for another) is not run again until another thread writes
  // an atomic (or calls progress(), or ends): rerunning it earlier would only spin again.
  bool blocked[kMaxThreads] = {};
  // Times every thread left was blocked with no write in between. A spin point is not
  // always a wait (mpsc's grow() backs off after losing a CAS and then goes on by itself),
  // so the first time this happens the threads are unblocked and tried again; only when
  // it keeps happening without anyone writing is it reported as a lost wakeup.
  int idle_rounds = 0;
  long steps = 0;
  int preemptions = 0;
  int preempt_cap = 0;
  std::string failure;
  // The thread chosen at every decision (each point, each start and end of a thread), so
  // a replay, which allows any number of preemptions, consumes one entry per decision.
  std::vector<int> trace;

  // Strategy state.
  std::vector<Choice> stack;  // exhaustive: the choices of the current branch
  std::size_t depth = 0;
  Rng rng{1};
  uint64_t switch_odds = 2;  // random: preempt with probability 1/switch_odds
  std::vector<int> replay;   // replay: the schedule to follow
  std::size_t replay_pos = 0;
  bool replaying = false;

  std::condition_variable& cv_of(int tid) { return cv[tid == kController ? kMaxThreads : tid]; }

  // Picks among `cand` (cand[0] is the thread that would run without a switch, when that
  // is allowed). Called only with the baton.
  int choose(const std::vector<int>& cand) {
    if (cand.size() == 1) {
      trace.push_back(cand[0]);
      return cand[0];
    }
    int pick = 0;
    if (replaying) {
      if (replay_pos < replay.size()) {
        int want = replay[replay_pos++];
        for (std::size_t i = 0; i < cand.size(); ++i) {
          if (cand[i] == want) pick = static_cast<int>(i);
        }
      }
    } else if (cfg->mode == Mode::Exhaustive) {
      if (depth < stack.size()) {
        if (stack[depth].count != static_cast<int>(cand.size())) {
          fail(
              "explorer: the scenario is not deterministic (replayed a prefix, got "
              "different choices)");
        }
        pick = stack[depth].index < static_cast<int>(cand.size()) ? stack[depth].index : 0;
      } else {
        stack.push_back({static_cast<int>(cand.size()), 0});
      }
      ++depth;
    } else {
      pick = static_cast<int>(rng.below(cand.size()));
    }
    trace.push_back(cand[static_cast<std::size_t>(pick)]);
    return cand[static_cast<std::size_t>(pick)];
  }

  void fail(const std::string& what) {
    if (failure.empty()) failure = what;
  }

  // Hands the baton to `next` and, unless the caller is ending, waits to get it back.
  void hand_to(int me, int next, bool ending) {
    std::unique_lock<std::mutex> lk(m);
    active = next;
    cv_of(next).notify_one();
    if (ending) return;
    cv_of(me).wait(lk, [&] { return active == me; });
  }

  // A thread that must stop (step limit): wake the controller and block for good. The
  // scenario's state stays alive with it; the controller leaves this pool behind.
  [[noreturn]] void abandon(int me) {
    std::unique_lock<std::mutex> lk(m);
    abandoned = true;
    active = kController;
    cv_of(kController).notify_one();
    for (;;) cv_of(me).wait(lk);
  }

  void wrote(int me) {
    idle_rounds = 0;
    for (int t = 0; t < nthreads; ++t) {
      if (t != me) blocked[t] = false;
    }
  }

  void point(int me, bool spinning) {
    if (++steps > cfg->max_steps) {
      fail("explorer: step limit reached (a thread never gets anywhere: livelock)");
      abandon(me);
    }
    std::vector<int> cand;
    bool can_preempt = preemptions < preempt_cap;
    if (spinning) blocked[me] = true;
    else cand.push_back(me);
    if (spinning || can_preempt) {
      for (int t = 0; t < nthreads; ++t) {
        if (t != me && !finished[t] && !blocked[t]) cand.push_back(t);
      }
    }
    if (cand.empty()) {
      // Every thread left waits for another. Retry them all a few times; if none of
      // them ever writes, the wakeup they wait for was lost (or they deadlock).
      if (++idle_rounds > kIdleRounds) {
        fail("explorer: every thread is waiting for another (lost wakeup or deadlock)");
        abandon(me);
      }
      for (int t = 0; t < nthreads; ++t) {
        if (!finished[t]) {
          blocked[t] = false;
          if (t != me) cand.push_back(t);
        }
      }
      cand.push_back(me);
    }
    int next;
    if (!replaying && cfg->mode == Mode::Random && !spinning && cand.size() > 1) {
      // Random mode: stay with probability 1 - 1/switch_odds, else switch to another.
      next = rng.below(switch_odds) == 0 ? cand[1 + rng.below(cand.size() - 1)] : me;
      trace.push_back(next);  // recorded like any choice, so the schedule replays
    } else {
      next = choose(cand);
    }
    if (next == me) return;
    if (!spinning) ++preemptions;
    hand_to(me, next, false);
  }

  void thread_end(int me) {
    finished[me] = true;
    wrote(me);  // what the thread did last may be what a spinner waits for
    std::vector<int> cand;
    for (int t = 0; t < nthreads; ++t) {
      if (!finished[t]) cand.push_back(t);
    }
    hand_to(me, cand.empty() ? kController : choose(cand), true);
  }
};

thread_local Sched* tls_sched = nullptr;
thread_local int tls_tid = kController;
// The scheduler whose execution is running, for check() from the controller (finally).
Sched* g_current = nullptr;

void worker(Sched* s, int tid) {
  tls_sched = s;
  tls_tid = tid;
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(s->m);
      s->cv_of(tid).wait(lk, [&] { return s->quit || (s->epoch != seen && s->active == tid); });
      if (s->quit) return;
      seen = s->epoch;
    }
    try {
      (*s->bodies)[static_cast<std::size_t>(tid)]();
    } catch (const std::exception& e) {
      s->fail(std::string("exception in a thread: ") + e.what());
    } catch (...) {
      s->fail("exception in a thread");
    }
    s->thread_end(tid);
  }
}

std::string encode(const std::vector<int>& trace) {
  // Run-length: "0x12.1x3" = thread 0 for 12 choices, then thread 1 for 3.
  std::ostringstream o;
  for (std::size_t i = 0; i < trace.size();) {
    std::size_t j = i;
    while (j < trace.size() && trace[j] == trace[i]) ++j;
    if (i) o << '.';
    o << trace[i] << 'x' << (j - i);
    i = j;
  }
  return o.str();
}

std::vector<int> decode(const std::string& s) {
  std::vector<int> out;
  std::istringstream in(s);
  std::string part;
  while (std::getline(in, part, '.')) {
    auto x = part.find('x');
    if (x == std::string::npos) continue;
    int tid = std::atoi(part.substr(0, x).c_str());
    long n = std::atol(part.substr(x + 1).c_str());
    for (long k = 0; k < n; ++k) out.push_back(tid);
  }
  return out;
}

}  // namespace

void check(bool ok, const char* what) {
  if (ok) return;
  Sched* s = tls_sched ? tls_sched : g_current;
  if (s) s->fail(what);
}

void spin() { tokio::detail::explore_spin_point(); }

void progress() { tokio::detail::explore_wrote(); }

Quiet::Quiet() noexcept : saved_(tls_sched) { tls_sched = nullptr; }
Quiet::~Quiet() { tls_sched = static_cast<Sched*>(saved_); }

Result run(const Config& cfg, const std::function<Execution()>& make) {
  // Leaked when a thread had to be abandoned (it is blocked on it forever).
  auto* s = new Sched;
  s->cfg = &cfg;
  s->rng.s = cfg.seed;
  if (const char* r = std::getenv("TOKIO_EXPLORE_REPLAY"); r && *r) {
    s->replaying = true;
    s->replay = decode(r);
  }
  std::vector<std::thread> pool;
  Result res;
  for (;;) {
    // On the heap: if a thread has to be abandoned it stays blocked inside one of these
    // functions, which must then outlive it (leaked on purpose).
    auto exp = std::make_unique<Execution>(make());
    Execution& ex = *exp;
    int n = static_cast<int>(ex.threads.size());
    if (n < 1 || n > kMaxThreads) {
      res.failed = true;
      res.message = "explorer: a scenario has 1 to 3 threads";
      break;
    }
    while (static_cast<int>(pool.size()) < n) {
      pool.emplace_back(worker, s, static_cast<int>(pool.size()));
    }
    s->bodies = &ex.threads;
    s->nthreads = n;
    for (bool& f : s->finished) f = false;
    for (bool& b : s->blocked) b = false;
    s->idle_rounds = 0;
    s->steps = 0;
    s->preemptions = 0;
    s->failure.clear();
    s->trace.clear();
    s->depth = 0;
    s->replay_pos = 0;
    if (cfg.mode == Mode::Random && !s->replaying) {
      s->preempt_cap = 1 << 20;
      s->switch_odds = uint64_t{2} << s->rng.below(6);  // 1/2 .. 1/64 per schedule
    } else {
      s->preempt_cap = s->replaying ? (1 << 20) : cfg.preemption_bound;
    }
    g_current = s;
    std::vector<int> all;
    for (int t = 0; t < n; ++t) all.push_back(t);
    int first = s->choose(all);
    {
      std::unique_lock<std::mutex> lk(s->m);
      ++s->epoch;
      s->active = first;
      s->cv_of(first).notify_one();
      s->cv_of(kController).wait(lk, [&] { return s->active == kController; });
    }
    ++res.executions;
    if (s->abandoned) (void)exp.release();
    if (!s->abandoned && ex.finally) ex.finally();
    g_current = nullptr;
    if (!s->failure.empty()) {
      res.failed = true;
      res.message = s->failure;
      res.schedule = encode(s->trace);
      break;
    }
    if (s->replaying) break;
    if (cfg.mode == Mode::Random) {
      if (res.executions >= cfg.iterations) break;
      continue;
    }
    // Exhaustive: next branch = advance the deepest choice that has another candidate.
    while (!s->stack.empty() && s->stack.back().index + 1 >= s->stack.back().count) {
      s->stack.pop_back();
    }
    if (s->stack.empty()) break;
    ++s->stack.back().index;
    if (res.executions >= cfg.max_executions) {
      res.complete = false;
      break;
    }
  }
  if (s->abandoned) {
    // Threads of the pool are blocked for good inside the scenario: leave them (and `s`).
    for (auto& t : pool) t.detach();
    return res;
  }
  {
    std::lock_guard<std::mutex> lk(s->m);
    s->quit = true;
    for (auto& c : s->cv) c.notify_all();
  }
  for (auto& t : pool) t.join();
  delete s;
  return res;
}

std::string describe(const Config& cfg, const Result& r) {
  std::ostringstream o;
  if (cfg.mode == Mode::Exhaustive) {
    o << "exhaustive, preemption bound " << cfg.preemption_bound;
  } else {
    o << "random, seed " << cfg.seed << ", " << cfg.iterations << " iterations";
  }
  if (std::getenv("TOKIO_EXPLORE_REPLAY")) o << " (replaying TOKIO_EXPLORE_REPLAY)";
  o << ": " << r.executions << " executions" << (r.complete ? "" : " (incomplete)");
  if (r.failed) {
    o << "\n  FAILED: " << r.message << "\n  replay: TOKIO_EXPLORE_REPLAY=" << r.schedule;
  }
  return o.str();
}

}  // namespace explore

// The hooks detail::Atomic calls (declared in src/tokio/core/detail/atomic.hpp). Threads
// the explorer does not run (the controller, doctest) pass straight through.
namespace tokio::detail {

void explore_preemption_point() noexcept {
  if (explore::tls_sched) explore::tls_sched->point(explore::tls_tid, false);
}

void explore_spin_point() noexcept {
  if (explore::tls_sched) explore::tls_sched->point(explore::tls_tid, true);
}

void explore_wrote() noexcept {
  if (explore::tls_sched) explore::tls_sched->wrote(explore::tls_tid);
}

}  // namespace tokio::detail
