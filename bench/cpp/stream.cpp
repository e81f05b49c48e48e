// Streams and codecs as a user writes them (issue 14's tokio::stream and tokio::codec,
// measured as issue 10 asks: the way the README shows, against tokio-stream and
// tokio-util). Twin: bench/tokio-rs/src/bin/stream.rs. Each case is one block_on of an
// async main on a multi-thread runtime built with enable_all; iters = rounds.
//
//   then           iter(0..100,000) | then(async fn: x * 3), summed with a next() loop:
//                  one Task frame per item here, an inlined state machine in Rust.
//   pipeline       iter(0..1,000,000) | map(x * 3) | filter(even) | fold(0, +).
//   next_loop      the same pipeline summed with a next() loop (`while (auto v = co_await
//                  s.next())`), the form most consumers take.
//   merge          two mpsc channels (capacity 128), a producer task on each sending
//                  50,000 numbers (spawned as tokio::spawn(lambda, Sender)); the two
//                  ReceiverStreams merged and summed with a next() loop.
//   stream_map     64 mpsc channels (capacity 32), a producer task on each sending 2,000
//                  numbers; the ReceiverStreams in one StreamMap<int, ...> keyed by channel,
//                  (key, item) pairs summed with a next() loop until the map is empty.
//   lines_codec    a FramedRead with LinesCodec over one end of an io::duplex (64 KiB); a
//                  task writes 100,000 lines of 32 bytes into the other end in 8 KiB
//                  write_all calls, then shuts it down; the lines are counted.
#define TOKIO_IMPLEMENTATION
#include <cstdint>
#include <ranges>
#include <string>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
namespace st = tokio::stream;
namespace codec = tokio::codec;
namespace io = tokio::io;
namespace mpsc = tokio::sync::mpsc;

namespace {

constexpr uint64_t kThenItems = 100000;
constexpr uint64_t kPipelineItems = 1000000;
constexpr uint64_t kMergeItems = 50000;  // per producer
constexpr int kMapStreams = 64;
constexpr uint64_t kMapItems = 2000;  // per stream
constexpr std::size_t kLines = 100000;
constexpr std::size_t kLineLen = 32;  // with the '\n'

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "stream: %s\n", what);
  std::exit(1);
}

tokio::runtime::Runtime runtime(std::size_t workers) {
  return tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
}

Task<uint64_t> triple(uint64_t x) { co_return x * 3; }

Task<> then_rounds(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    auto s = st::iter(std::views::iota(uint64_t{0}, kThenItems)) |
             st::then([](uint64_t x) { return triple(x); });
    uint64_t sum = 0;
    while (auto v = co_await s.next()) sum += *v;
    if (sum != 3 * (kThenItems * (kThenItems - 1) / 2)) fail("then: wrong sum");
  }
}

Task<> next_loop_rounds(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    auto s = st::iter(std::views::iota(uint64_t{0}, kPipelineItems)) |
             st::map([](uint64_t x) { return x * 3; }) |
             st::filter([](const uint64_t& x) { return x % 2 == 0; });
    uint64_t sum = 0;
    while (auto v = co_await s.next()) sum += *v;
    if (sum == 0) fail("next_loop: wrong sum");
  }
}

Task<> pipeline_rounds(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    auto s = st::iter(std::views::iota(uint64_t{0}, kPipelineItems)) |
             st::map([](uint64_t x) { return x * 3; }) |
             st::filter([](const uint64_t& x) { return x % 2 == 0; });
    uint64_t sum = co_await st::fold(std::move(s), uint64_t{0},
                                     [](uint64_t acc, uint64_t x) { return acc + x; });
    if (sum == 0) fail("pipeline: wrong sum");
  }
}

Task<> merge_rounds(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    auto [tx1, rx1] = mpsc::channel<uint64_t>(128);
    auto [tx2, rx2] = mpsc::channel<uint64_t>(128);
    auto produce = [](mpsc::Sender<uint64_t> tx) -> Task<> {
      for (uint64_t i = 0; i < kMergeItems; ++i) {
        if (!co_await tx.send(i)) fail("merge: receiver gone");
      }
    };
    tokio::spawn(produce, std::move(tx1));
    tokio::spawn(produce, std::move(tx2));
    auto s = st::merge(st::wrappers::ReceiverStream(std::move(rx1)),
                       st::wrappers::ReceiverStream(std::move(rx2)));
    uint64_t sum = 0;
    while (auto v = co_await s.next()) sum += *v;
    if (sum != kMergeItems * (kMergeItems - 1)) fail("merge: wrong sum");
  }
}

Task<> stream_map_rounds(std::size_t rounds) {
  for (std::size_t r = 0; r < rounds; ++r) {
    st::StreamMap<int, st::wrappers::ReceiverStream<uint64_t>> map;
    auto produce = [](mpsc::Sender<uint64_t> tx) -> Task<> {
      for (uint64_t i = 0; i < kMapItems; ++i) {
        if (!co_await tx.send(i)) fail("stream_map: receiver gone");
      }
    };
    for (int k = 0; k < kMapStreams; ++k) {
      auto [tx, rx] = mpsc::channel<uint64_t>(32);
      tokio::spawn(produce, std::move(tx));
      map.insert(k, st::wrappers::ReceiverStream(std::move(rx)));
    }
    uint64_t sum = 0, keys = 0;
    while (auto kv = co_await map.next()) {
      sum += kv->second;
      keys += static_cast<uint64_t>(kv->first);
    }
    if (sum != kMapStreams * (kMapItems * (kMapItems - 1) / 2)) fail("stream_map: wrong sum");
    if (keys != kMapItems * (kMapStreams * (kMapStreams - 1) / 2)) fail("stream_map: wrong keys");
  }
}

Task<> lines_rounds(std::size_t rounds) {
  // The text every round writes: kLines lines of kLineLen bytes, "line 0000000042 ...\n".
  std::string text;
  text.reserve(kLines * kLineLen);
  for (std::size_t i = 0; i < kLines; ++i) {
    std::string line = "line " + std::to_string(1000000000 + i);
    line.resize(kLineLen - 1, '.');
    text += line;
    text += '\n';
  }
  auto shared = std::make_shared<const std::string>(std::move(text));
  for (std::size_t r = 0; r < rounds; ++r) {
    auto [a, b] = io::duplex(64 * 1024);
    tokio::spawn(
        [](io::DuplexStream w, std::shared_ptr<const std::string> text) -> Task<> {
          for (std::size_t off = 0; off < text->size(); off += 8192) {
            std::size_t n = std::min<std::size_t>(8192, text->size() - off);
            if (!co_await io::write_all(w, std::span(text->data() + off, n))) {
              fail("lines_codec: write failed");
            }
          }
          (void)co_await w.shutdown();
        },
        std::move(a), shared);
    codec::FramedRead lines(std::move(b), codec::LinesCodec());
    std::size_t count = 0;
    while (auto line = co_await lines.next()) {
      if (!*line || (*line)->size() != kLineLen - 1) fail("lines_codec: bad line");
      ++count;
    }
    if (count != kLines) fail("lines_codec: lines lost");
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  const std::string& n = a.name;
  if (n == "then") runtime(a.workers).block_on(then_rounds(a.iters));
  else if (n == "pipeline") runtime(a.workers).block_on(pipeline_rounds(a.iters));
  else if (n == "next_loop") runtime(a.workers).block_on(next_loop_rounds(a.iters));
  else if (n == "merge") runtime(a.workers).block_on(merge_rounds(a.iters));
  else if (n == "stream_map") runtime(a.workers).block_on(stream_map_rounds(a.iters));
  else if (n == "lines_codec") runtime(a.workers).block_on(lines_rounds(a.iters));
  else bench::unknown(a);
  return 0;
}
