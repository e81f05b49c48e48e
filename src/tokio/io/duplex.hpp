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

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/detail/poll.hpp"

namespace tokio::detail {

// One direction of a pair (a ring buffer, its lock and the waiting read and write) and
// the pair itself; defined in duplex.cpp, so a user TU never parses them.
struct DuplexPipe;
struct DuplexShared;

// Removes the registration `tag` of a destroyed read (write = false) or write.
void duplex_cancel(DuplexPipe& p, bool write, uint64_t tag) noexcept;

// What a read and a write share: the pipe, the side they wait on (reader or writer) and
// the tag of their registration, removed when the operation is destroyed unfinished.
template <class D, bool Write>
class DuplexOp : public Leaf<D> {
 public:
  explicit DuplexOp(DuplexPipe* p) noexcept : p_(p) {}
  DuplexOp(const DuplexOp& o) noexcept : Leaf<D>(o), p_(o.p_) {}  // before the first poll
  ~DuplexOp() {
    if (tag_ != 0) duplex_cancel(*p_, Write, tag_);
  }

 protected:
  DuplexPipe* p_;
  uint64_t tag_ = 0;
};

class DuplexReadOp : public DuplexOp<DuplexReadOp, false> {
 public:
  DuplexReadOp(DuplexPipe* p, std::span<std::byte> buf) noexcept : DuplexOp(p), buf_(buf) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume() noexcept { return n_; }

 private:
  std::span<std::byte> buf_;
  std::size_t n_ = 0;
};

class DuplexWriteOp : public DuplexOp<DuplexWriteOp, true> {
 public:
  DuplexWriteOp(DuplexPipe* p, std::span<const std::byte> buf) noexcept : DuplexOp(p), buf_(buf) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume() noexcept;

 private:
  std::span<const std::byte> buf_;
  std::size_t n_ = 0;
  bool broken_ = false;
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
  // This end's reading and writing directions; throw std::logic_error when moved-from.
  detail::DuplexPipe* rd() const;
  detail::DuplexPipe* wr() const;
  void close() noexcept;

  detail::DuplexShared* s_ = nullptr;
  int side_ = 0;
};

// Creates a connected pair; `capacity` (> 0, else std::invalid_argument) bounds the bytes
// buffered in each direction.
std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity);

}  // namespace tokio::io
