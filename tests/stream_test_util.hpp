#pragma once
// Helpers for the stream_* suites: scripted sources (a poll-level one that answers
// "not ready" on demand, and a user stream whose next() is a Task, which the combinators
// drive through a ChildOp), runtimes, and a reproducible random generator.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "test_util.hpp"

namespace stest {

using tokio::Task;
namespace st = tokio::stream;
using test::Rng;

inline tokio::runtime::Runtime paused_rt() {
  return tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
}
inline tokio::runtime::Runtime io_rt() {
  return tokio::runtime::Builder::new_current_thread().enable_all().build();
}
inline tokio::runtime::Runtime mt_rt(std::size_t workers = 2) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
}

// A poll-level stream of ints: before each item it may answer "not ready" a few times
// (waking its task at once, like a spurious wake-up), as scripted.
class Scripted : public st::PollStream<Scripted, int> {
 public:
  // pendings[i]: how many "not ready" answers come before item i (and before the end).
  Scripted(std::vector<int> items, std::vector<int> pendings = {})
      : items_(items.begin(), items.end()), pend_(pendings.begin(), pendings.end()) {}
  static Scripted random(std::vector<int> items, Rng& rng, int percent = 30) {
    std::vector<int> p(items.size() + 1);
    for (auto& x : p) x = rng.chance(percent) ? static_cast<int>(1 + rng.below(2)) : 0;
    return Scripted(std::move(items), std::move(p));
  }

  bool poll_next(tokio::task::Context& cx, std::optional<int>& out) {
    ++polls;
    if (!pend_.empty() && pend_.front() > 0) {
      --pend_.front();
      cx.wake_by_ref();
      return false;
    }
    if (!pend_.empty()) pend_.pop_front();
    if (items_.empty()) {
      ++end_polls;
      return true;
    }
    out = items_.front();
    items_.pop_front();
    return true;
  }

  int polls = 0;
  int end_polls = 0;

 private:
  std::deque<int> items_;
  std::deque<int> pend_;
};

// A user stream whose next() is a coroutine (not poll-level): the library drives it
// through a ChildOp kept in the combinator. It yields its items, sometimes after a
// yield_now. `taken` counts the items that left it.
class TaskStream {
 public:
  TaskStream(std::vector<int> items, uint64_t seed)
      : items_(items.begin(), items.end()), rng_(seed) {}
  TaskStream(TaskStream&&) = default;

  Task<std::optional<int>> next() {
    if (rng_.chance(40)) co_await tokio::task::yield_now();
    if (items_.empty()) co_return std::nullopt;
    int v = items_.front();
    items_.pop_front();
    ++taken;
    co_return v;
  }
  int taken = 0;

 private:
  std::deque<int> items_;
  Rng rng_;
};
static_assert(st::Stream<TaskStream>);
static_assert(!tokio::detail::PollNextStream<TaskStream>);

// Everything a stream yields, in order.
template <class S>
Task<std::vector<st::item_t<S>>> drain(S& s) {
  std::vector<st::item_t<S>> out;
  for (;;) {
    auto v = co_await s.next();
    if (!v) break;
    out.push_back(std::move(*v));
  }
  co_return out;
}

// True when awaiting `a` throws an E (doctest's CHECK_THROWS cannot hold a co_await).
template <class E, class A>
tokio::Task<bool> await_throws(A a) {
  try {
    (void)co_await std::move(a);
  } catch (const E&) {
    co_return true;
  }
  co_return false;
}

}  // namespace stest
