#pragma once
// io::duplex(capacity): an in-memory, bidirectional pipe. Bytes written to one end are read
// from the other; each direction buffers at most `capacity` bytes.
//
//   auto [client, server] = io::duplex(64 * 1024);
//   co_await io::write_all(client, "ping");      // server reads "ping"
//
// Behaviour, as Tokio's DuplexStream:
//   - backpressure: a write to a full direction waits until the other end reads;
//   - shutdown() (or destroying an end) closes that end's writing direction: the other
//     end reads what is buffered, then end of stream (0);
//   - a write after the other end was destroyed, or after this end's shutdown, fails with
//     std::errc::broken_pipe; a read after the other end was destroyed still returns what
//     was buffered, then 0.
// Reads and writes are cancel-safe. Each end may be used by one task for reading and one
// for writing at the same time (it is thread-safe); both ends may live on different threads.
//
// Each direction is a mutex-guarded ring buffer that grows on demand up to `capacity`.
// Waiting operations register their task's waker in the direction's reader or writer slot
// (one each: one reader and one writer per direction); the registration is tagged with a
// sequence number so a cancelled operation only removes its own.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include "tokio/core/detail/mutex.hpp"
#include <span>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

// A byte FIFO that grows (doubling) up to a maximum size. Not synchronized.
class ByteRing {
 public:
  ByteRing() noexcept = default;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;
  ~ByteRing();

  std::size_t size() const noexcept { return len_; }
  // Appends all of src; the caller guarantees size() + src.size() <= max.
  void push(std::span<const std::byte> src, std::size_t max);
  // Moves up to dst.size() bytes out; returns how many.
  std::size_t pop(std::span<std::byte> dst) noexcept;

 private:
  void grow(std::size_t need, std::size_t max);
  std::byte* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t len_ = 0;
};

// One direction of a duplex pair.
struct DuplexPipe {
  Mutex mu;
  ByteRing ring;
  std::size_t max = 0;
  bool closed = false;           // writer shut down / an end was destroyed
  Wakeable* read_waker = nullptr;   // registered by a waiting read (owned reference)
  Wakeable* write_waker = nullptr;  // registered by a waiting write
  uint64_t read_tag = 0;         // tag of the read_waker registration (0 = none)
  uint64_t write_tag = 0;
  uint64_t next_tag = 0;
};

// Both directions of a pair and the count of live ends.
struct DuplexShared {
  DuplexPipe pipes[2];
  std::atomic<int> ends{2};
};

class DuplexReadOp : public Leaf<DuplexReadOp> {
 public:
  DuplexReadOp(DuplexPipe* p, std::span<std::byte> buf) noexcept : p_(p), buf_(buf) {}
  DuplexReadOp(const DuplexReadOp& o) noexcept : Leaf<DuplexReadOp>(o), p_(o.p_), buf_(o.buf_) {}
  ~DuplexReadOp();
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume() noexcept { return n_; }

 private:
  DuplexPipe* p_;
  std::span<std::byte> buf_;
  std::size_t n_ = 0;
  uint64_t tag_ = 0;
};

class DuplexWriteOp : public Leaf<DuplexWriteOp> {
 public:
  DuplexWriteOp(DuplexPipe* p, std::span<const std::byte> buf) noexcept : p_(p), buf_(buf) {}
  DuplexWriteOp(const DuplexWriteOp& o) noexcept
      : Leaf<DuplexWriteOp>(o), p_(o.p_), buf_(o.buf_) {}
  ~DuplexWriteOp();
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume() noexcept;

 private:
  DuplexPipe* p_;
  std::span<const std::byte> buf_;
  std::size_t n_ = 0;
  bool broken_ = false;
  uint64_t tag_ = 0;
};

// flush (nothing to do) and shutdown (close the writing direction). Never wait.
class DuplexControlOp : public Leaf<DuplexControlOp> {
 public:
  DuplexControlOp(DuplexPipe* p, bool shutdown) noexcept : p_(p), shutdown_(shutdown) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<void> await_resume() noexcept { return {}; }

 private:
  DuplexPipe* p_;
  bool shutdown_;
};

// Closes a direction and wakes whoever waits on it.
void duplex_close(DuplexPipe& p) noexcept;

}  // namespace tokio::detail

namespace tokio::io {

class DuplexStream {
 public:
  DuplexStream() noexcept = default;
  DuplexStream(DuplexStream&& o) noexcept
      : s_(std::exchange(o.s_, nullptr)), side_(o.side_) {}
  DuplexStream& operator=(DuplexStream&& o) noexcept;
  ~DuplexStream() { close(); }

  // Each throws std::logic_error on a moved-from stream.
  detail::DuplexReadOp read(std::span<std::byte> buf) { return {rd(), buf}; }
  detail::DuplexWriteOp write(std::span<const std::byte> buf) { return {wr(), buf}; }
  detail::DuplexControlOp flush() { return {wr(), false}; }
  detail::DuplexControlOp shutdown() { return {wr(), true}; }

  // False for a moved-from stream.
  bool valid() const noexcept { return s_ != nullptr; }

 private:
  friend std::pair<DuplexStream, DuplexStream> duplex(std::size_t);
  DuplexStream(detail::DuplexShared* s, int side) noexcept : s_(s), side_(side) {}
  detail::DuplexPipe* rd() const {
    check();
    return &s_->pipes[side_];
  }
  detail::DuplexPipe* wr() const {
    check();
    return &s_->pipes[1 - side_];
  }
  void check() const;
  void close() noexcept;

  detail::DuplexShared* s_ = nullptr;
  int side_ = 0;
};

// Creates a connected pair; `capacity` (> 0, else std::invalid_argument) bounds the bytes
// buffered in each direction.
std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity);

}  // namespace tokio::io
