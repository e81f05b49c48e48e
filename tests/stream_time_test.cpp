// timeout, throttle and chunks_timeout on the paused clock (deterministic instants), and
// StreamMap: keyed merge, removal, replacement, ended streams leaving, fairness, and a
// randomized model of insert/remove/next.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "stream_test_util.hpp"

using stest::Rng;
using stest::Scripted;
using stest::Task;
using stest::TaskStream;
namespace st = tokio::stream;
namespace tsync = tokio::sync;
namespace ttime = tokio::time;
using ttime::Instant;

namespace {

// Yields each (delay, value) after sleeping `delay` ms.
st::Generator<int> delayed(std::vector<std::pair<int, int>> script) {
  for (auto [d, v] : script) {
    co_await ttime::sleep(std::chrono::milliseconds(d));
    co_yield v;
  }
}

long ms_since(Instant t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Instant::now() - t0).count());
}

// Drains a stream of Result<int, Elapsed> as "item@ms" / "elapsed@ms" since t0.
template <class S>
Task<std::vector<std::string>> timed_log(S& s, Instant t0) {
  std::vector<std::string> log;
  for (;;) {
    auto v = co_await s.next();
    if (!v) break;
    log.push_back((*v ? std::to_string(**v) : std::string("elapsed")) + "@" +
                  std::to_string(ms_since(t0)));
  }
  co_return log;
}

}  // namespace

TEST_CASE(
    "stream::timeout: one Elapsed per silence longer than d, items pass through, the stream goes "
    "on") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Instant t0 = Instant::now();
    auto s =
        st::timeout(delayed({{5, 1}, {30, 2}, {5, 3}, {100, 4}}), std::chrono::milliseconds(20));
    auto log = co_await timed_log(s, t0);
    // 1 at 5; silence -> elapsed at 25; 2 at 35; 3 at 40; elapsed at 60 (only one per silence); 4 at 140.
    std::vector<std::string> want{"1@5", "elapsed@25", "2@35", "3@40", "elapsed@60", "4@140"};
    CHECK(log == want);
    // The first deadline counts from the timeout's creation (tokio-stream's), not from its
    // first poll: built, first polled `wait` ms later, it elapses at max(d, wait).
    std::optional<decltype(st::timeout(st::pending<int>(), std::chrono::milliseconds(1)))> p;
    for (auto dw : {std::pair{7, 5}, std::pair{3, 10}}) {
      const int d = dw.first, wait = dw.second;  // (clang 14: no structured binding in CAPTURE)
      CAPTURE(d);
      p.emplace(st::timeout(st::pending<int>(), std::chrono::milliseconds(d)));
      Instant t1 = Instant::now();
      co_await ttime::sleep(std::chrono::milliseconds(wait));
      auto e = co_await p->next();
      REQUIRE(e.has_value());
      CHECK(!e->has_value());
      CHECK(ms_since(t1) == std::max(d, wait));
    }
    // After that Elapsed, nothing more until an item arrives: pending for good here.
    auto again = co_await ttime::timeout(std::chrono::milliseconds(500), p->next());
    CHECK(!again.has_value());
  }());
}

TEST_CASE(
    "stream::timeout_repeating: one Elapsed per tick of silence; an item resets the interval") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Instant t0 = Instant::now();
    auto iv = ttime::interval_at(t0 + std::chrono::milliseconds(10), std::chrono::milliseconds(10));
    auto s = st::timeout_repeating(delayed({{25, 1}, {25, 2}}), std::move(iv));
    auto log = co_await timed_log(s, t0);
    // Ticks at 10 and 20 (silence), 1 at 25 resets: ticks at 35 and 45, 2 at 50, the end.
    std::vector<std::string> want{"elapsed@10", "elapsed@20", "1@25",
                                  "elapsed@35", "elapsed@45", "2@50"};
    CHECK(log == want);
  }());
}

TEST_CASE("stream::throttle: at most one item per period, the first one at once") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Instant t0 = Instant::now();
    auto s = st::throttle(st::iter(std::vector<int>{1, 2, 3, 4}), std::chrono::milliseconds(10));
    std::vector<long> at;
    for (;;) {
      auto v = co_await s.next();
      if (!v) break;
      at.push_back(ms_since(t0));
    }
    std::vector<long> want{0, 10, 20, 30};
    CHECK(at == want);
    // The inner stream is not polled while the throttle waits: a lazy source (this
    // generator sleeps only once polled) starts its own wait after the throttle's.
    Instant t1 = Instant::now();
    auto slow = st::throttle(delayed({{15, 1}, {15, 2}, {2, 3}}), std::chrono::milliseconds(10));
    std::vector<long> at2;
    for (;;) {
      auto v = co_await slow.next();
      if (!v) break;
      at2.push_back(ms_since(t1));
    }
    std::vector<long> want2{15, 40, 52};  // 15; (15 + 10) + 15; (40 + 10) + 2
    CHECK(at2 == want2);
    // Zero period: no delay at all.
    auto z = st::throttle(st::iter(std::vector<int>{1, 2}), std::chrono::milliseconds(0));
    Instant t2 = Instant::now();
    auto zz = co_await stest::drain(z);
    CHECK(zz.size() == 2);
    CHECK(ms_since(t2) == 0);
  }());
  // On a runtime without timers: a clear error before any item is taken, so the stream
  // still holds every item (one used to be taken and lost with the exception).
  auto no_timers = tokio::runtime::Builder::new_current_thread().build();
  no_timers.block_on([]() -> Task<> {
    std::vector<int> items{1, 2};
    auto inner = st::iter(items);
    auto s = st::throttle(st::by_ref(inner), std::chrono::milliseconds(10));
    bool threw = false;
    try {
      (void)co_await s.next();
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("enable_time") != std::string::npos;
    }
    CHECK(threw);
    const std::vector<int> all{1, 2};
    auto left = co_await stest::drain(inner);
    CHECK(left == all);
  }());
}

TEST_CASE(
    "stream::chunks_timeout: full chunks at once, partial ones d after their first item, the rest "
    "at the end") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Instant t0 = Instant::now();
    // 1,2,3 quickly (a full chunk of 3), 4 then silence (chunk of 1 after 20 ms), 5, 6 then end.
    auto s = st::chunks_timeout(delayed({{1, 1}, {1, 2}, {1, 3}, {1, 4}, {50, 5}, {1, 6}}), 3,
                                std::chrono::milliseconds(20));
    std::vector<std::string> log;
    for (;;) {
      auto v = co_await s.next();
      if (!v) break;
      std::string c;
      for (int x : *v) c += std::to_string(x);
      log.push_back(c + "@" + std::to_string(ms_since(t0)));
    }
    std::vector<std::string> want{"123@3", "4@24", "56@55"};
    CHECK(log == want);
    CHECK_THROWS_AS((void)st::chunks_timeout(st::empty<int>(), 0, std::chrono::milliseconds(1)),
                    std::invalid_argument);
    // An empty source yields no empty chunk.
    auto e = st::chunks_timeout(st::empty<int>(), 4, std::chrono::milliseconds(1));
    CHECK(!(co_await e.next()).has_value());
    // Random sizes: the chunks concatenate back to the input, none larger than the max.
    Rng rng(11);
    for (int round = 0; round < 20; ++round) {
      std::vector<int> items = rng.ints(rng.below(50));
      std::size_t max = 1 + rng.below(6);
      auto c = st::chunks_timeout(Scripted::random(items, rng), max, std::chrono::milliseconds(3));
      std::vector<int> flat;
      for (;;) {
        auto v = co_await c.next();
        if (!v) break;
        CHECK(!v->empty());
        CHECK(v->size() <= max);
        flat.insert(flat.end(), v->begin(), v->end());
      }
      CHECK(flat == items);
    }
  }());
}

TEST_CASE("StreamMap: keyed items, removal, replacement, ended streams leave the map") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    st::StreamMap<std::string, Scripted> m;
    CHECK(m.is_empty());
    CHECK(!(co_await m.next()).has_value());  // empty: the end
    CHECK(!m.insert("a", Scripted({1, 2})).has_value());
    CHECK(!m.insert("b", Scripted({10, 20, 30})).has_value());
    CHECK(m.len() == 2);
    CHECK(m.contains_key(std::string("a")));
    // values / values_mut / iter_mut see the streams in the map's order, as keys() does.
    {
      auto ks = m.keys();
      auto vs = m.values_mut();
      REQUIRE(vs.size() == 2);
      for (std::size_t i = 0; i < ks.size(); ++i) CHECK(&vs[i].get() == m.get(ks[i]));
      const auto& cm = m;
      CHECK(cm.values().size() == 2);
      std::size_t seen = 0;
      for (auto& [k, st] : m.iter_mut()) {
        CHECK(&st == m.get(k));
        ++seen;
      }
      CHECK(seen == 2);
    }
    std::map<std::string, std::vector<int>> got;
    for (int i = 0; i < 3; ++i) {
      auto kv = co_await m.next();
      REQUIRE(kv.has_value());
      got[kv->first].push_back(kv->second);
    }
    // Replace "b" (the old stream comes back with what it had left), remove "a".
    auto old = m.insert("b", Scripted({7}));
    REQUIRE(old.has_value());
    // With a random start the three items may have been a's two and b's first, and a's
    // end already seen: then a has left the map and there is nothing to remove.
    auto a_back = m.remove(std::string("a"));
    if (got["a"].size() < 2) REQUIRE(a_back.has_value());
    CHECK(!m.remove(std::string("zzz")).has_value());
    std::vector<int> left_a;
    if (a_back) left_a = co_await stest::drain(*a_back);
    auto left_b = co_await stest::drain(*old);
    CHECK(got["a"].size() + left_a.size() == 2);
    CHECK(got["b"].size() + left_b.size() == 3);
    auto last = co_await m.next();
    REQUIRE(last.has_value());
    CHECK(*last == std::make_pair(std::string("b"), 7));
    CHECK(m.len() == 1);
    CHECK(!(co_await m.next()).has_value());  // "b" ended and left
    CHECK(m.is_empty());
  }());
}

namespace {
// A poll-level stream over a Sleep's poll form (which takes a budget unit): one item when
// the sleep elapses, then the end.
struct SleepStream : st::PollStream<SleepStream, int> {
  explicit SleepStream(std::chrono::milliseconds d) : sleep(ttime::sleep(d)) {}
  ttime::Sleep sleep;
  bool fired = false;
  bool poll_next(tokio::task::Context& cx, std::optional<int>& out) {
    if (fired) return true;
    if (!sleep.poll(cx)) return false;
    fired = true;
    out.emplace(1);
    return true;
  }
};
}  // namespace

// Each idle inner stream gives back the budget unit its poll took (Tokio's
// RestoreOnPending, per stream): a map over more idle streams than the budget's 128 used
// to run its task out of budget on every poll, so the one ready stream, and everything
// after it in that poll, was never served (mini_redis with 128 subscriptions hung).
TEST_CASE("StreamMap: hundreds of idle streams cost no budget; the ready one is served") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    auto out = rt.block_on(rt.spawn([]() -> Task<std::vector<int>> {
      st::StreamMap<int, st::wrappers::BroadcastStream<int>> m;
      std::vector<tsync::broadcast::Sender<int>> txs;
      for (int k = 0; k < 300; ++k) {
        auto [tx, rx] = tsync::broadcast::channel<int>(4);
        m.insert(k, st::wrappers::BroadcastStream<int>(std::move(rx)));
        txs.push_back(std::move(tx));
      }
      std::vector<int> got;
      // A ready resource polled after the map in the same poll must still be served.
      auto [tx, rx] = tsync::mpsc::channel<int>(1);
      (void)tx.try_send(7);
      auto first = co_await ttime::timeout(std::chrono::seconds(5),
                                           tokio::select_biased(m.next(), rx.recv()));
      if (!first || first->index() != 1) co_return got;
      got.push_back(std::get<1>(*first).value_or(-1));
      // Poll-level inner streams (polled through their poll_next, not a receive kept in
      // flight) settle their units the same way.
      st::StreamMap<int, SleepStream> sleeps;
      for (int k = 0; k < 300; ++k) sleeps.insert(k, SleepStream(std::chrono::hours(1)));
      (void)tx.try_send(8);
      auto second = co_await ttime::timeout(std::chrono::seconds(5),
                                            tokio::select_biased(sleeps.next(), rx.recv()));
      if (!second || second->index() != 1) co_return got;
      got.push_back(std::get<1>(*second).value_or(-1));
      for (int round = 0; round < 5; ++round) {
        (void)txs[299 - round * 50].send(round);
        auto kv = co_await ttime::timeout(std::chrono::seconds(5), m.next());
        if (!kv || !kv->has_value() || !(*kv)->second) co_return got;
        got.push_back((*kv)->first * 10 + *(*kv)->second);
        if (!tokio::task::has_budget_remaining()) co_return got;
      }
      co_return got;
    }()));
    CHECK(out == std::vector<int>{7, 8, 2990, 2491, 1992, 1493, 994});
  }
}

// A user stream that is either never ready (registering nothing: only a wake from
// elsewhere brings its task back) or always ready without taking budget.
class Fixed : public st::PollStream<Fixed, int> {
 public:
  explicit Fixed(bool ready) : ready_(ready) {}
  bool poll_next(tokio::task::Context&, std::optional<int>& out) {
    if (ready_) out = 5;
    return ready_;
  }

 private:
  bool ready_;
};

// Once the task's budget is spent, every inner stream still to be polled would refuse:
// the map stops at the first refusal instead of polling (and waking the task from) all
// of them (Tokio's StreamMap polls all 64 here), and arranges the forced yield's wake
// itself, so a stream it skipped is polled again after the yield.
TEST_CASE(
    "StreamMap: a spent budget stops the scan at one refusal; the skipped streams are "
    "served after the yield") {
  for (bool multi : {false, true}) {
    CAPTURE(multi);
    auto rt = test::either_flavour_all(multi);
    auto metrics = rt.metrics();
    auto got = rt.block_on(rt.spawn(
        [](tokio::runtime::RuntimeMetrics metrics) -> Task<std::vector<uint64_t>> {
          st::StreamMap<int, st::wrappers::ReceiverStream<int>> m;
          std::vector<tsync::mpsc::Sender<int>> txs;
          for (int k = 0; k < 64; ++k) {
            auto [tx, rx] = tsync::mpsc::channel<int>(8);
            for (int i = 0; i < 8; ++i) (void)tx.try_send(i);
            m.insert(k, st::wrappers::ReceiverStream<int>(std::move(rx)));
            txs.push_back(std::move(tx));
          }
          co_await tokio::task::yield_now();  // a fresh budget
          std::vector<uint64_t> out;
          const uint64_t before = metrics.budget_forced_yield_count();
          uint64_t items = 0;
          for (int i = 0; i < 300; ++i) {
            if (!co_await m.next()) break;
            ++items;
          }
          // 300 items from a fresh budget of 128: two forced yields, each counted twice (the
          // refused stream and the map); polling every stream counted 64 each.
          out.push_back(metrics.budget_forced_yield_count() - before);
          out.push_back(items);

          // With the budget spent before each next(), the never-ready stream is polled
          // first about half the time; the always-ready one is still served after the yield.
          st::StreamMap<int, Fixed> mixed;
          mixed.insert(0, Fixed(false));
          mixed.insert(1, Fixed(true));
          auto [utx, urx] = tsync::mpsc::unbounded_channel<int>();
          for (int i = 0; i < 20 * 130; ++i) (void)utx.send(i);
          uint64_t served = 0;
          for (int i = 0; i < 20; ++i) {
            while (tokio::task::has_budget_remaining()) (void)co_await urx.recv();
            auto kv = co_await ttime::timeout(std::chrono::seconds(5), mixed.next());
            if (!kv || !kv->has_value()) break;
            served += static_cast<uint64_t>((*kv)->first);
          }
          out.push_back(served);
          co_return out;
        },
        metrics));
    CHECK(got == std::vector<uint64_t>{4, 300, 20});
  }
}

TEST_CASE(
    "StreamMap: always-ready streams are served fairly (random start), pending ones wake the "
    "task") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    st::StreamMap<int, st::Iter<std::vector<int>>> m;
    for (int k = 0; k < 4; ++k) m.insert(k, st::iter(std::vector<int>(1000, k)));
    std::vector<int> counts(4);
    for (int i = 0; i < 2000; ++i) {
      auto kv = co_await m.next();
      REQUIRE(kv.has_value());
      ++counts[static_cast<std::size_t>(kv->first)];
    }
    for (int c : counts) {
      CHECK(c > 350);  // ~500 each; without a random start key 0 would take them all
      CHECK(c < 650);
    }

    // Channels: a value sent to one of several waiting streams wakes the map.
    st::StreamMap<int, st::wrappers::ReceiverStream<int>> rm;
    std::vector<tsync::mpsc::Sender<int>> txs;
    for (int k = 0; k < 3; ++k) {
      auto [tx, rx] = tsync::mpsc::channel<int>(4);
      txs.push_back(std::move(tx));
      rm.insert(k, st::wrappers::ReceiverStream<int>(std::move(rx)));
    }
    auto sender = tokio::spawn(
        [](tsync::mpsc::Sender<int> tx) -> Task<> {
          co_await ttime::sleep(std::chrono::milliseconds(10));
          (void)co_await tx.send(42);
        },
        txs[2]);
    auto kv = co_await rm.next();
    REQUIRE(kv.has_value());
    CHECK(*kv == std::make_pair(2, 42));
    co_await sender;
    // Dropping every sender ends each stream; the map then ends.
    txs.clear();
    CHECK(!(co_await rm.next()).has_value());
  }());
}

TEST_CASE("StreamMap: Tokio's constructors (new_, with_capacity) and iter() over the entries") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    auto m = st::StreamMap<int, st::Iter<std::vector<int>>>::with_capacity(4);
    CHECK(m.is_empty());
    m.insert(1, st::iter(std::vector<int>{10, 11}));
    m.insert(2, st::iter(std::vector<int>{20}));
    std::map<int, int> firsts;
    for (auto& [k, s] : m.iter()) firsts[k] = *co_await s.next();  // advances each stream
    CHECK(firsts == std::map<int, int>{{1, 10}, {2, 20}});
    auto kv = co_await m.next();  // only key 1 has an item left; key 2 ends and leaves
    REQUIRE(kv.has_value());
    CHECK(*kv == std::pair<int, int>(1, 11));
    CHECK_FALSE((co_await m.next()).has_value());
    CHECK(m.is_empty());
    auto n = st::StreamMap<std::string, st::Iter<std::vector<int>>>::new_();
    CHECK(n.len() == 0);
    // Replacing a key removes the old entry as remove() does (the last takes its place)
    // and puts the new one last, as tokio-stream: a b c d, insert b -> a d c b (the
    // order is arbitrary, but a port that prints it sees the same).
    for (int k : {1, 2, 3, 4}) n.insert(std::to_string(k), st::iter(std::vector<int>{k}));
    REQUIRE(n.insert("2", st::iter(std::vector<int>{5})).has_value());
    CHECK(n.keys() == std::vector<std::string>{"1", "4", "3", "2"});
  }());
}

TEST_CASE("StreamMap matches a model under random inserts, removes and nexts") {
  auto rt = stest::paused_rt();
  rt.block_on([]() -> Task<> {
    Rng rng(21);
    const std::size_t rounds = test::scaled(40);
    for (std::size_t round = 0; round < rounds; ++round) {
      st::StreamMap<int, Scripted> m;
      std::map<int, std::deque<int>> model;  // what each key has left
      int next_value = 0;
      for (int step = 0; step < 60; ++step) {
        std::size_t op = rng.below(10);
        if (op < 3) {
          int k = static_cast<int>(rng.below(6));
          std::vector<int> items;
          for (std::size_t i = rng.below(5); i > 0; --i) items.push_back(next_value++);
          bool live = model.count(k) > 0 && !model[k].empty();
          auto old = m.insert(k, Scripted::random(items, rng));
          if (live) CHECK(old.has_value());              // a stream with items left is still there
          if (!model.count(k)) CHECK(!old.has_value());  // (an ended one may have left already)
          model[k] = std::deque<int>(items.begin(), items.end());
        } else if (op < 4) {
          int k = static_cast<int>(rng.below(6));
          bool live = model.count(k) > 0 && !model[k].empty();
          auto old = m.remove(k);
          if (live) CHECK(old.has_value());
          if (!model.count(k)) CHECK(!old.has_value());
          model.erase(k);
        } else {
          auto kv = co_await m.next();
          // Ended streams leave the map, so once every key is drained next() ends.
          bool any_left = false;
          for (auto& [k, q] : model) any_left = any_left || !q.empty();
          if (!kv) {
            CHECK(!any_left);
            model.clear();
          } else {
            REQUIRE(model.count(kv->first) == 1);
            auto& q = model[kv->first];
            REQUIRE(!q.empty());
            CHECK(q.front() == kv->second);
            q.pop_front();
          }
        }
        // Keys in the map: every key not yet seen ending.
        std::set<int> keys;
        for (int k : m.keys()) keys.insert(k);
        for (int k : keys) CHECK(model.count(k) == 1);
      }
    }
  }());
}
