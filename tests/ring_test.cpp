// detail::PtrRing, the growable FIFO behind the inject queue, the current-thread run queue
// and LocalSet's local queue: order across growth and wrap-around, and the shrink that
// gives a burst's growth back once the ring is drained, checked against a std::deque.
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "internals.hpp"
#include "test_util.hpp"

namespace {

// Distinct fake pointers (never dereferenced by the ring).
int* ring_item(std::uintptr_t i) { return reinterpret_cast<int*>((i + 1) * 16); }

}  // namespace

TEST_CASE("PtrRing: FIFO through growth, wrap-around and the shrink after a drained burst") {
  tokio::detail::PtrRing<int> ring(4);
  std::deque<int*> model;
  std::mt19937 rng(12345);
  std::uintptr_t next = 0;
  for (int round = 0; round < 200; ++round) {
    // Bursts past the shrink threshold (4096) every few rounds, small traffic otherwise.
    std::size_t burst = round % 7 == 0 ? 5000 + rng() % 3000 : rng() % 40;
    for (std::size_t i = 0; i < burst; ++i) {
      ring.push_back(ring_item(next));
      model.push_back(ring_item(next));
      ++next;
    }
    std::size_t pops = rng() % (model.size() + 2);
    for (std::size_t i = 0; i < pops; ++i) {
      int* got = ring.pop_front();
      if (model.empty()) {
        REQUIRE(got == nullptr);
        REQUIRE(ring.empty());
        continue;
      }
      REQUIRE(got == model.front());
      model.pop_front();
    }
    REQUIRE(ring.size() == model.size());
    if (model.empty()) CHECK(ring.capacity() <= 4096);  // a drained ring never stays large
  }
  // Drain: everything comes out in order, then the ring is empty and usable again.
  while (!model.empty()) {
    REQUIRE(ring.pop_front() == model.front());
    model.pop_front();
  }
  CHECK(ring.pop_front() == nullptr);
  CHECK(ring.capacity() == 4);  // the burst's growth was given back
  ring.push_back(ring_item(7));
  CHECK(ring.size() == 1);
  CHECK(ring.pop_front() == ring_item(7));
}
