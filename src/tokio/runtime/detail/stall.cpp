// The stall detector's watchdog (stall.hpp).
#include "tokio/runtime/detail/stall.hpp"

#include <cstdio>
#include <string>

#include "tokio/core/detail/quote.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"
#include "tokio/runtime/detail/task_names.hpp"

namespace tokio::detail {

std::string leaf_name(bool (*poll_fn)(Pollable*, task::Context&) noexcept) {
  return leaf_name(leaf_entry(poll_fn));
}

std::string leaf_name(const LeafName* e) {
  if (!e) return {};
  std::string s = e->pretty();
  // GCC: "... [with D = X]"; Clang: "... [D = X]".
  auto at = s.find("D = ");
  if (at == std::string::npos) return s;  // a name of its own (kLeafName)
  s = s.substr(at + 4);
  if (!s.empty() && s.back() == ']') s.pop_back();
  // The inline ABI namespace (tokio::v0_1::, see amalgamate.py) goes first, then the rest.
  for (auto p = s.find("tokio::v"); p != std::string::npos; p = s.find("tokio::v", p + 1)) {
    auto end = s.find("::", p + 7);
    if (end != std::string::npos &&
        s.find_first_not_of("0123456789_abcdefghijklmnopqrstuvwxyz", p + 8) == end) {
      s.erase(p + 7, end + 2 - (p + 7));
    }
  }
  for (const char* q : {"tokio::detail::", "tokio::"}) {
    std::string qs(q);
    for (auto p = s.find(qs); p != std::string::npos; p = s.find(qs, p)) s.erase(p, qs.size());
  }
  return s;
}

StallWatchdog::StallWatchdog(std::chrono::nanoseconds threshold)
    : threshold_(threshold), thread_([this] { run(); }) {}

StallWatchdog::~StallWatchdog() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // The runtime is going: stalls held back by the rate limit are still named.
  report_held_back();
}

void StallWatchdog::add(StallProbe* p) {
  std::lock_guard<std::mutex> g(mu_);
  probes_.push_back(p);
}

void StallWatchdog::remove(StallProbe* p) {
  std::lock_guard<std::mutex> g(mu_);
  for (auto& q : probes_) {
    if (q == p) {
      q = probes_.back();
      probes_.pop_back();
      return;
    }
  }
}

void StallWatchdog::run() {
  auto period = std::max<std::chrono::nanoseconds>(threshold_ / 4, std::chrono::milliseconds(1));
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, period);
    if (stop_) break;
    check(std::chrono::steady_clock::now());
  }
}

// "worker <n>" or "the block_on thread".
std::string StallWatchdog::thread_of(uint32_t worker) {
  return worker == kStallBlockOnThread ? "the block_on thread" : "worker " + std::to_string(worker);
}

// "task <id>", "task <id> (\"<name>\")" or "the block_on future".
std::string StallWatchdog::describe(uint64_t polling) {
  if (polling == kStallBlockOnRoot) return "the block_on future";
  uint64_t id = 0;
  std::string name;
  describe_task(polling, id, name);
  std::string s = "task " + std::to_string(id);
  if (!name.empty()) s += " (" + debug_quoted(name) + ")";
  return s;
}

void StallWatchdog::report_held_back() {
  if (held_back_ == 0) return;
  std::fprintf(stderr,
               "tokio: stall: %llu more stall%s held back by the one-report-a-second limit:%s%s\n",
               static_cast<unsigned long long>(held_back_), held_back_ == 1 ? " was" : "s were",
               held_back_names_.c_str(), held_back_ > kHeldBackNamed ? ", ..." : "");
  held_back_ = 0;
  held_back_names_.clear();
}

// Runs under mu_ (probes cannot be removed meanwhile).
void StallWatchdog::check(std::chrono::steady_clock::time_point now) {
  for (StallProbe* p : probes_) {
    uint64_t polls = p->polls.load(std::memory_order_relaxed);
    uint64_t task = p->polling.load(std::memory_order_relaxed);
    if (task == 0 || polls != p->seen_polls || task != p->seen_task) {
      p->seen_polls = polls;
      p->seen_task = task;
      p->since = now;
      p->reported = false;
      continue;
    }
    auto stuck = now - p->since;
    if (p->reported || stuck < threshold_) continue;
    p->reported = true;
    stalls_.fetch_add(1, std::memory_order_relaxed);
    if (now - last_report_ < std::chrono::seconds(1) &&
        last_report_.time_since_epoch().count() != 0) {
      if (++held_back_ <= kHeldBackNamed) {
        if (held_back_ > 1) held_back_names_ += ',';
        held_back_names_ += ' ' + describe(task) + " on " + thread_of(p->worker);
      }
      continue;
    }
    report_held_back();
    last_report_ = now;
    std::string who = describe(task);
    // There a LocalSet's tasks poll inside the root's poll, unnamed (no worker context).
    if (p->worker == kStallBlockOnThread) who += " (or a LocalSet task it drives)";
    std::string where = leaf_name(p->resumed.load(std::memory_order_relaxed));
    long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(stuck).count();
    long long limit = std::chrono::duration_cast<std::chrono::milliseconds>(threshold_).count();
    std::fprintf(stderr,
                 "tokio: stall: %s has been inside one poll on %s for at "
                 "least %lld ms (stall_threshold %lld ms)%s%s; a blocking call in async code? "
                 "Move blocking work to spawn_blocking or block_in_place.\n",
                 who.c_str(), thread_of(p->worker).c_str(), ms, limit,
                 where.empty() ? "" : ", resumed from ", where.c_str());
  }
  // A second after the last report, the stalls held back since are named even if no new
  // stall comes to carry them.
  if (held_back_ != 0 && now - last_report_ >= std::chrono::seconds(1)) {
    report_held_back();
    last_report_ = now;
  }
}

StallScope::StallScope(StallWatchdog* wd, StallProbe& probe, uint32_t worker)
    : w(wd), p(&probe), ctx(tls.worker) {
  p->worker = worker;
  if (w && ctx) {
    w->add(p);
    ctx->stall = p;
  }
}

StallScope::~StallScope() {
  if (w && ctx) {
    ctx->stall = nullptr;
    w->remove(p);
  }
}

}  // namespace tokio::detail
