// I/O utility benchmarks: Tokio's benches/copy.rs (copy_mem_to_mem, with its constants),
// plus duplex-pipe throughput and line splitting, which exercise the other utilities on
// the same footing as Tokio. The Rust twin is bench/tokio-rs/src/bin/io.rs.
//
// copy/copy_mem_to_mem_malloc_tuned is the same workload with glibc's heap trimming and
// mmap threshold raised to 4 MiB. Rust's Vec grows with realloc, in place at the heap top;
// std::vector must allocate, copy and free, which makes glibc hand the heap top back to the
// kernel at the end of every iteration, so the default run is dominated by page faults
// (about 100 per iteration), not by the I/O utilities. The tuned case shows the rest.
//
// copy_mem_to_slow_hdd, copy_chunk_to_mem and copy_chunk_to_slow_hdd need time::interval
// and are added once the timer module lands.
#define TOKIO_IMPLEMENTATION
#include <malloc.h>

#include <string>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
namespace io = tokio::io;

namespace {

constexpr std::size_t kSourceSize = 256 * 1024;  // copy.rs SOURCE_SIZE

constexpr std::size_t kDuplexBytes = 16u << 20;  // duplex_copy: bytes per iteration
constexpr std::size_t kDuplexCap = 64 * 1024;
constexpr std::size_t kDuplexChunk = 8 * 1024;

constexpr std::size_t kLines = 100000;  // lines: lines per iteration

tokio::runtime::Runtime current() {
  return tokio::runtime::Builder::new_current_thread().enable_time().build();
}

// copy.rs copy_mem_to_mem: io::copy(repeat(0).take(256 KiB), Vec) per iteration.
void copy_mem_to_mem(std::size_t iters) {
  auto rt = current();
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([]() -> Task<> {
      auto source = io::take(io::repeat(0), kSourceSize);
      std::vector<std::byte> dest;
      io::VecWriter w(dest);
      auto n = co_await io::copy(source, w);
      if (!n || *n != kSourceSize) std::abort();
      bench::black_box(dest);
    }());
  }
}

// 16 MiB written in 8 KiB chunks into a 64 KiB duplex pipe by one task, copied to a sink
// by another (backpressure on every chunk).
void duplex_copy(std::size_t workers, std::size_t iters) {
  auto rt = workers <= 1
                ? current()
                : tokio::runtime::Builder::new_multi_thread().worker_threads(workers).build();
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([]() -> Task<> {
      auto [a, b] = io::duplex(kDuplexCap);
      auto writer = tokio::spawn(
          [](io::DuplexStream a) -> Task<> {
            std::vector<std::byte> chunk(kDuplexChunk, std::byte{1});
            for (std::size_t sent = 0; sent < kDuplexBytes; sent += chunk.size()) {
              if (!co_await io::write_all(a, chunk)) std::abort();
            }
            (void)co_await a.shutdown();
          },
          std::move(a));
      auto sink = io::sink();
      auto n = co_await io::copy(b, sink);
      if (!n || *n != kDuplexBytes) std::abort();
      co_await writer;
    }());
  }
}

// 100,000 lines of text split with lines() over a BufReader on an in-memory reader.
void lines(std::size_t iters) {
  std::string text;
  for (std::size_t i = 0; i < kLines; ++i)
    text += "line number " + std::to_string(i) + " of the text\n";
  auto rt = current();
  for (std::size_t i = 0; i < iters; ++i) {
    rt.block_on([](const std::string& text) -> Task<> {
      auto ls = io::lines(io::BufReader(io::SliceReader(std::string_view(text))));
      std::size_t count = 0, bytes = 0;
      for (;;) {
        auto l = co_await ls.next_line();
        if (!l) std::abort();
        if (!*l) break;
        ++count;
        bytes += (*l)->size();
      }
      if (count != kLines) std::abort();
      bench::black_box(bytes);
    }(text));
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  if (a.name == "copy/copy_mem_to_mem") {
    copy_mem_to_mem(a.iters);
  } else if (a.name == "copy/copy_mem_to_mem_malloc_tuned") {
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    copy_mem_to_mem(a.iters);
  } else if (a.name == "duplex_copy") duplex_copy(a.workers, a.iters);
  else if (a.name == "lines") lines(a.iters);
  else bench::unknown(a);
  return 0;
}
