// The timing wheel against a reference model, and time::Instant arithmetic.
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "time_mock.hpp"

using tokio::detail::TimerEntry;
using tokio::detail::Wheel;
using tokio::time::Duration;
using tokio::time::Instant;

namespace {

struct WheelHarness {
  explicit WheelHarness(std::size_t n) : entries(new TimerEntry[n]), n(n) {}
  std::unique_ptr<TimerEntry[]> entries;
  std::size_t n;
  Wheel wheel;
  std::map<std::size_t, uint64_t> model;  // registered entry -> tick

  void insert(std::size_t i, uint64_t tick) {
    entries[i].state.store(tick);
    wheel.insert(&entries[i], tick);
    model[i] = tick;
  }
  void remove(std::size_t i) {
    wheel.remove(&entries[i]);
    entries[i].state.store(TimerEntry::kUnregistered);
    model.erase(i);
  }
  // Polls at `now`; checks that exactly the model's due entries come out.
  void poll(uint64_t now) {
    std::set<std::size_t> got;
    while (TimerEntry* e = wheel.poll(now)) {
      std::size_t i = static_cast<std::size_t>(e - entries.get());
      REQUIRE(i < n);
      CHECK(e->state.load() == TimerEntry::kPending);
      e->state.store(TimerEntry::kFired);
      CHECK(got.insert(i).second);
    }
    std::set<std::size_t> want;
    for (auto it = model.begin(); it != model.end();) {
      if (it->second <= now) {
        want.insert(it->first);
        it = model.erase(it);
      } else {
        ++it;
      }
    }
    CHECK(got == want);
    CHECK(wheel.elapsed() == now);
    CHECK(wheel.size() == model.size());
    if (!model.empty()) {
      uint64_t earliest = ~uint64_t{0};
      for (auto& [i, t] : model) earliest = std::min(earliest, t);
      auto next = wheel.next_expiration_tick();
      REQUIRE(next.has_value());
      CHECK(*next > now);
      CHECK(*next <= earliest);  // never later than the earliest timer
    } else {
      CHECK_FALSE(wheel.next_expiration_tick().has_value());
    }
  }
};

}  // namespace

TEST_CASE("wheel: level_for follows the highest differing 6-bit digit and saturates") {
  CHECK(Wheel::level_for(0, 1) == 0);
  CHECK(Wheel::level_for(0, 63) == 0);
  CHECK(Wheel::level_for(0, 64) == 1);
  CHECK(Wheel::level_for(60, 70) == 1);
  CHECK(Wheel::level_for(0, 4095) == 1);
  CHECK(Wheel::level_for(0, 4096) == 2);
  CHECK(Wheel::level_for(0, (uint64_t{1} << 30)) == 5);
  CHECK(Wheel::level_for(0, (uint64_t{1} << 36) - 1) == 5);
  CHECK(Wheel::level_for(0, uint64_t{1} << 40) == 5);  // beyond the range: top level
  CHECK(Wheel::level_for(100, TimerEntry::kMaxTick) == 5);
}

TEST_CASE("wheel: every level fires exactly at its tick, never before") {
  const uint64_t ticks[] = {1,
                            2,
                            63,
                            64,
                            65,
                            4095,
                            4096,
                            4097,
                            262143,
                            262144,
                            300000,
                            (uint64_t{1} << 24) + 5,
                            (uint64_t{1} << 30) + 77,
                            (uint64_t{1} << 36) + 3,
                            (uint64_t{1} << 38) + 9};
  WheelHarness h(std::size(ticks));
  for (std::size_t i = 0; i < std::size(ticks); ++i) h.insert(i, ticks[i]);
  for (uint64_t t : ticks) {
    h.poll(t - 1);  // nothing due just before
    h.poll(t);      // exactly this one
  }
  CHECK(h.wheel.empty());
}

TEST_CASE("wheel: random inserts, removals, raised deadlines and polls match a model") {
  std::mt19937_64 rng(12345);
  const std::size_t n = 4000;
  WheelHarness h(n);
  uint64_t now = 0;
  std::vector<std::size_t> free_list;
  for (std::size_t i = 0; i < n; ++i) free_list.push_back(i);
  auto pick_delta = [&]() -> uint64_t {
    switch (rng() % 6) {
      case 0: return 1 + rng() % 64;
      case 1: return 1 + rng() % 4096;
      case 2: return 1 + rng() % (1u << 20);
      case 3: return 1 + rng() % (uint64_t{1} << 30);
      case 4: return 1 + rng() % (uint64_t{1} << 37);  // beyond the wheel's range too
      default: return 1 + rng() % 3;
    }
  };
  for (int round = 0; round < 3000; ++round) {
    // Insert a few.
    for (int k = 0; k < 4 && !free_list.empty(); ++k) {
      std::size_t idx = rng() % free_list.size();
      std::size_t i = free_list[idx];
      free_list[idx] = free_list.back();
      free_list.pop_back();
      h.insert(i, now + pick_delta());
    }
    // Remove one, and raise one deadline without re-filing (a lock-free reset).
    if (!h.model.empty() && rng() % 2) {
      auto it = h.model.begin();
      std::advance(it, static_cast<long>(rng() % h.model.size()));
      std::size_t i = it->first;
      h.remove(i);
      free_list.push_back(i);
    }
    if (!h.model.empty() && rng() % 3 == 0) {
      auto it = h.model.begin();
      std::advance(it, static_cast<long>(rng() % h.model.size()));
      uint64_t raised = it->second + pick_delta();
      h.entries[it->first].state.store(raised);
      it->second = raised;
    }
    // Advance: mostly small steps, sometimes big jumps.
    uint64_t step = rng() % 10 == 0 ? pick_delta() : rng() % 8;
    now += step;
    std::size_t before = h.model.size();
    h.poll(now);
    for (std::size_t i = 0; i < n; ++i) {
      if (h.entries[i].state.load() == TimerEntry::kFired) {
        h.entries[i].state.store(TimerEntry::kUnregistered);
        free_list.push_back(i);
      }
    }
    CHECK(free_list.size() + h.model.size() == n);
    (void)before;
  }
  // Drain everything that is left.
  while (!h.model.empty()) {
    auto next = h.wheel.next_expiration_tick();
    REQUIRE(next.has_value());
    h.poll(*next);
  }
  CHECK(h.wheel.empty());
}

// Tokio's wheel hands out timers due at the same tick in the order they were filed, at
// every level (its slots are FIFO lists). A cascade must not reverse them: before the fix
// the order flipped at each cascade (equal 100 ms sleeps fired newest first, 5 s ones
// oldest first).
TEST_CASE("wheel: timers due at the same tick come out in insertion order at every level") {
  for (uint64_t tick :
       {uint64_t{5}, uint64_t{100}, uint64_t{5000}, uint64_t{300000}, (uint64_t{1} << 38) + 9}) {
    CAPTURE(tick);
    WheelHarness h(5);
    for (std::size_t i = 0; i < 5; ++i) h.insert(i, tick);
    std::vector<std::size_t> order;
    while (TimerEntry* e = h.wheel.poll(tick)) {
      order.push_back(static_cast<std::size_t>(e - h.entries.get()));
    }
    CHECK(order == std::vector<std::size_t>{0, 1, 2, 3, 4});
  }
  // Filed at different times, so at different levels, before meeting in one slot.
  WheelHarness h(4);
  h.insert(0, 5000);  // level 2
  CHECK(h.wheel.poll(10) == nullptr);
  h.insert(1, 5000);  // level 2
  CHECK(h.wheel.poll(4100) == nullptr);
  h.insert(2, 5000);  // level 1 (after the level-2 slot cascaded)
  CHECK(h.wheel.poll(4993) == nullptr);
  h.insert(3, 5000);  // level 0 (the level-1 slot cascaded at 4992)
  std::vector<std::size_t> order;
  while (TimerEntry* e = h.wheel.poll(5000)) {
    order.push_back(static_cast<std::size_t>(e - h.entries.get()));
  }
  CHECK(order == std::vector<std::size_t>{0, 1, 2, 3});
}

TEST_CASE("wheel: removal from the pending list and pop_any") {
  WheelHarness h(3);
  h.insert(0, 5);
  h.insert(1, 5);
  h.insert(2, 900);
  TimerEntry* first = h.wheel.poll(5);
  REQUIRE(first != nullptr);
  // The other tick-5 entry now waits in the pending list: remove it from there.
  std::size_t other = first == &h.entries[0] ? 1 : 0;
  CHECK(h.entries[other].state.load() == TimerEntry::kPending);
  h.wheel.remove(&h.entries[other]);
  CHECK(h.wheel.poll(5) == nullptr);
  CHECK(h.wheel.size() == 1);
  CHECK(h.wheel.pop_any() == &h.entries[2]);
  CHECK(h.wheel.pop_any() == nullptr);
  CHECK(h.wheel.empty());
}

TEST_CASE("Instant: arithmetic, comparisons, saturation and steady_clock interop") {
  using namespace std::chrono;
  Instant a = Instant::from_ns(1000);
  Instant b = a + 500ns;
  CHECK(b.nanos() == 1500);
  CHECK(b - a == Duration(500));
  CHECK(a - b == Duration(0));  // saturates at zero like Rust
  CHECK(b.duration_since(a) == Duration(500));
  CHECK(a.duration_since(b) == Duration(0));
  CHECK_FALSE(a.checked_duration_since(b).has_value());
  CHECK(b.checked_duration_since(a) == Duration(500));
  CHECK(a < b);
  CHECK(a == Instant::from_ns(1000));
  CHECK((b - 500ns) == a);
  CHECK((2s + a).nanos() == 2000001000);

  Instant far = Instant::from_ns(std::numeric_limits<int64_t>::max() - 10);
  CHECK_FALSE(far.checked_add(1s).has_value());
  CHECK(far.saturating_add(hours::max()).nanos() == std::numeric_limits<int64_t>::max());
  CHECK_THROWS_AS(far + 1s, std::overflow_error);
  CHECK_FALSE(a.checked_add(hours::max()).has_value());  // saturated conversion
  CHECK(a.checked_add(nanoseconds(5)) == Instant::from_ns(1005));
  Instant low = Instant::from_ns(std::numeric_limits<int64_t>::min() + 10);
  CHECK_FALSE(low.checked_sub(1s).has_value());
  CHECK(low.saturating_sub(1s).nanos() == std::numeric_limits<int64_t>::min());
  CHECK_THROWS_AS(low - 1s, std::overflow_error);
  CHECK(far.saturating_duration_since(low) == Duration::max());

  // Durations of other representations convert (and saturate).
  CHECK(tokio::detail::saturating_ns(duration<double>(1.5)) == Duration(1500000000));
  CHECK(tokio::detail::saturating_ns(hours::max()) == Duration::max());
  CHECK(tokio::detail::saturating_ns(hours::min()) == Duration::min());
  CHECK(tokio::detail::non_negative_ns(-5s) == Duration(0));
  CHECK(tokio::detail::saturating_ns(duration<double>(1e300)) == Duration::max());

  // steady_clock round trip; outside any runtime now() is the real clock.
  auto tp = steady_clock::now();
  Instant i = tp;
  CHECK(i.into_std() == tp);
  CHECK(Instant::from_std(tp) == i);
  Instant n0 = Instant::now();
  std::this_thread::sleep_for(2ms);
  CHECK(n0.elapsed() >= 2ms);
  CHECK(Instant::now() >= n0);
  CHECK(Instant::far_future() > Instant::now() + hours(24 * 365 * 29));
}
