// BytePipe (io/detail/byte_pipe.hpp) under the explorer: a writer and a reader move bytes
// through a 3-byte pipe of 2-byte segments, each side waiting the way DuplexIoOp::poll
// does (try; register the waker; try again; wait for a wake), the writer closing the pipe
// at the end. Segments are linked, moved past, recycled through the spare stack and taken
// back, and both sides wait for each other. Invariants: the reader gets every byte once,
// in order, then end of stream; neither side waits for a wake that never comes (the
// explorer fails an execution in which every thread waits).
#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>

#include "cases.hpp"
#include "tokio/io/detail/byte_pipe.hpp"

namespace {

constexpr std::size_t kTotal = 7;

struct PipeWorld {
  // The wakers outlive the pipe, whose slots may still hold a reference at the end.
  explore::CountingWaker reader_wakes;
  explore::CountingWaker writer_wakes;
  tokio::detail::BytePipe pipe{3, 2};
  std::size_t received = 0;  // reader only
  bool eof = false;          // reader only

  static std::byte at(std::size_t i) { return static_cast<std::byte>(0x40 + i); }

  // Waits until `w` has been woken since `seen`. It yields at least once, as a task that
  // returned Pending does even when its waker was already woken (a registration that
  // found a wake in progress wakes it at once: the task is polled again only after the
  // scheduler ran, which is what lets the waking thread finish).
  static void wait_for_wake(explore::CountingWaker& w, int seen) {
    do {
      explore::spin();
    } while (w.wakes.load() == seen);
  }

  void write() {
    std::array<std::byte, kTotal> src{};
    for (std::size_t i = 0; i < kTotal; ++i) src[i] = at(i);
    const std::size_t chunks[] = {2, 3, 2};
    std::size_t sent = 0;
    for (std::size_t chunk : chunks) {
      std::size_t end = sent + chunk;
      while (sent < end) {
        std::span<const std::byte> rest(src.data() + sent, end - sent);
        explore::check(pipe.enter(true), "pipe: the writer's claim was already taken");
        std::size_t n = pipe.try_write(rest);
        int seen = writer_wakes.wakes.load();
        if (n == 0) {
          pipe.waker(true).register_waker(&writer_wakes);
          n = pipe.try_write(rest);
        }
        pipe.exit(true);
        if (n == 0) {
          wait_for_wake(writer_wakes, seen);
          continue;
        }
        sent += n;
        pipe.waker(false).wake();
      }
    }
    pipe.close();
  }

  // One read as DuplexIoOp<false>::poll makes it: n bytes, 0 with eof, or 0 = wait.
  std::size_t attempt(std::span<std::byte> buf) {
    std::size_t n = pipe.try_read(buf);
    if (n > 0 || !pipe.closed()) return n;
    n = pipe.try_read(buf);
    eof = n == 0;
    return n;
  }

  void read() {
    std::array<std::byte, 2> buf{};
    while (!eof) {
      explore::check(pipe.enter(false), "pipe: the reader's claim was already taken");
      std::size_t n = attempt(buf);
      int seen = reader_wakes.wakes.load();
      if (n == 0 && !eof) {
        pipe.waker(false).register_waker(&reader_wakes);
        n = attempt(buf);
      }
      pipe.exit(false);
      if (n == 0 && !eof) {
        wait_for_wake(reader_wakes, seen);
        continue;
      }
      for (std::size_t i = 0; i < n; ++i) {
        bool ok = received + i < kTotal && buf[i] == at(received + i);
        explore::check(ok, "pipe: a byte out of order, lost, duplicated or never written");
        if (!ok) return;
      }
      received += n;
      if (n > 0) pipe.waker(true).wake();
    }
  }
};

explore::Execution writer_and_reader() {
  auto w = std::make_shared<PipeWorld>();
  explore::Execution ex;
  ex.threads.push_back([w] { w->read(); });
  ex.threads.push_back([w] { w->write(); });
  ex.finally = [w] {
    explore::check(w->received == kTotal, "pipe: end of stream before every byte was read");
    explore::check(w->pipe.size() == 0, "pipe: bytes left after end of stream");
  };
  return ex;
}

}  // namespace

TEST_CASE("explore: byte pipe (io::duplex), writer and reader waiting for each other") {
  explore::expect_pass("byte pipe, bound 2", explore::exhaustive(2), writer_and_reader);
  explore::expect_pass("byte pipe, random", explore::randomized(3000), writer_and_reader);
}
