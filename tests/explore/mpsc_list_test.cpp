// MpscList (sync/detail/mpsc_list.hpp) under the explorer: two senders push while the
// receiver pops. Values are large so a block holds two of them, and six values span three
// blocks: block growth, block_tail_ advancing and the consumer's recycling all happen.
// Invariants: every value is received exactly once, each sender's values in the order it
// sent them, and a value is never read before it was fully written.
#include <atomic>
#include <memory>

#include "cases.hpp"
#include "tokio/sync/detail/mpsc_list.hpp"

namespace {

// 8 KiB: mpsc_block_cap gives 2 slots per block.
struct Msg {
  int sender = -1;
  int seq = -1;
  char pad[8184 - 2 * sizeof(int)] = {};
};
static_assert(tokio::detail::mpsc_block_cap<Msg>() == 2);

constexpr int kPerSender = 3;

struct MpscWorld {
  tokio::detail::MpscList<Msg> list;
  std::atomic<int> senders_done{0};
  int next_seq[2] = {0, 0};  // receiver only
  int received = 0;

  void send(int sender) {
    for (int i = 0; i < kPerSender; ++i) {
      Msg m;
      m.sender = sender;
      m.seq = i;
      list.push(m);
    }
    senders_done.fetch_add(1);
    explore::progress();
  }

  void receive() {
    while (received < 2 * kPerSender) {
      Msg got;
      auto r = list.pop([&](Msg&& m) noexcept { got = m; });
      if (r == decltype(list)::Pop::Value) {
        explore::check(got.sender == 0 || got.sender == 1, "mpsc: a value that was never sent");
        if (got.sender != 0 && got.sender != 1) return;
        explore::check(got.seq == next_seq[got.sender],
                       "mpsc: a sender's values out of order, lost or received twice");
        next_seq[got.sender] = got.seq + 1;
        ++received;
        continue;
      }
      explore::check(r == decltype(list)::Pop::Empty, "mpsc: closed without a close()");
      // Empty with both senders done and values missing: they were lost.
      if (senders_done.load() == 2 && !list.has_ready()) {
        explore::check(false, "mpsc: a value was lost (empty after every push returned)");
        return;
      }
      explore::spin();
    }
  }
};

explore::Execution two_senders_one_receiver() {
  auto w = std::make_shared<MpscWorld>();
  explore::Execution ex;
  ex.threads.push_back([w] { w->receive(); });
  ex.threads.push_back([w] { w->send(0); });
  ex.threads.push_back([w] { w->send(1); });
  ex.finally = [w] {
    explore::check(w->received == 2 * kPerSender, "mpsc: not every value was received");
    // Nothing left: the next pop finds the list empty.
    auto r = w->list.pop([](Msg&&) noexcept {});
    explore::check(r == decltype(w->list)::Pop::Empty, "mpsc: a value received twice");
  };
  return ex;
}

}  // namespace

TEST_CASE("explore: mpsc block list, two senders and the receiver") {
  explore::expect_pass("mpsc 2 senders, bound 2", explore::exhaustive(2), two_senders_one_receiver);
  explore::expect_pass("mpsc 2 senders, random", explore::randomized(3000),
                       two_senders_one_receiver);
}
