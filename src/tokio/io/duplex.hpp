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
// Each direction is a detail::BytePipe (io/detail/byte_pipe.hpp): a bounded byte FIFO of
// segments that grows on demand up to `capacity`, with no lock: the reading end and the
// writing end copy at the same time. A waiting read or write registers its task's waker in
// the direction's reader or writer slot (one of each); a destroyed waiting operation takes
// its waker back out, so a cancelled wait does not keep its task alive.

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/io/ext.hpp"
#include "tokio/io/split.hpp"

namespace tokio::detail {

// One direction of a pair (io/detail/byte_pipe.hpp) and the pair itself; defined in the
// implementation, so a user TU never parses them.
class BytePipe;
struct DuplexShared;

// Drops the waker a destroyed waiting read (write = false) or write left registered, if
// its registration `reg` is still the side's latest (another operation of the same task
// may have registered the same waker since, and still waits).
void duplex_unregister(BytePipe& p, bool write, uint64_t reg) noexcept;

// A read (Write = false) or a write on one direction. While it waits its waker is
// registered in the direction's reader or writer slot; a wake takes it out, and so does the
// operation's destruction. A read never fails; a write fails with broken_pipe once the
// direction is closed (and with not_enough_memory if the pipe cannot grow).
template <bool Write>
class TOKIO_MUST_AWAIT DuplexIoOp : public Leaf<DuplexIoOp<Write>> {
  using Buf = std::conditional_t<Write, std::span<const std::byte>, std::span<std::byte>>;

 public:
  DuplexIoOp(BytePipe* p, Buf buf) noexcept : p_(p), buf_(buf) {}
  ~DuplexIoOp() {
    if (reg_ != 0) duplex_unregister(*p_, Write, reg_);
  }
  bool poll(task::Context& cx) noexcept;
  io::Result<std::size_t> await_resume() noexcept {
    if (err_ != 0) return unexpected(std::error_code(err_, std::generic_category()));
    return n_;
  }

 private:
  BytePipe* p_;
  Buf buf_;
  std::size_t n_ = 0;
  int err_ = 0;       // a write's failure: EPIPE (closed), ENOMEM (no memory)
  uint64_t reg_ = 0;  // its latest registration's number (0: it never waited)
};
template <>
bool DuplexIoOp<false>::poll(task::Context& cx) noexcept;
template <>
bool DuplexIoOp<true>::poll(task::Context& cx) noexcept;
using DuplexReadOp = DuplexIoOp<false>;
using DuplexWriteOp = DuplexIoOp<true>;

// flush (nothing to do) and shutdown (close the writing direction). Never wait.
class TOKIO_MUST_AWAIT DuplexControlOp : public Leaf<DuplexControlOp> {
 public:
  DuplexControlOp(BytePipe* p, bool shutdown) noexcept : p_(p), shutdown_(shutdown) {}
  bool poll(task::Context& cx) noexcept;
  io::Result<void> await_resume() noexcept { return {}; }

 private:
  BytePipe* p_;
  bool shutdown_;
};

}  // namespace tokio::detail

namespace tokio::io {

class DuplexStream : public Ext<DuplexStream> {
 public:
  DuplexStream() noexcept = default;
  DuplexStream(DuplexStream&& o) noexcept : s_(detail::exchange(o.s_, nullptr)), side_(o.side_) {}
  DuplexStream& operator=(DuplexStream&& o) noexcept;
  ~DuplexStream() { close(); }

  // Each throws std::logic_error on a moved-from stream.
  detail::DuplexReadOp read(io::MutableBuffer buf) { return {rd(), buf}; }
  detail::DuplexWriteOp write(io::ConstBuffer buf) { return {wr(), buf}; }
  detail::DuplexControlOp flush() { return {wr(), false}; }
  detail::DuplexControlOp shutdown() { return {wr(), true}; }

  // False for a moved-from stream.
  bool valid() const noexcept { return s_ != nullptr; }

 private:
  friend std::pair<DuplexStream, DuplexStream> duplex(std::size_t);
  DuplexStream(detail::DuplexShared* s, int side) noexcept : s_(s), side_(side) {}
  // This end's reading and writing directions; throw std::logic_error when moved-from.
  detail::BytePipe* rd() const;
  detail::BytePipe* wr() const;
  void close() noexcept;

  detail::DuplexShared* s_ = nullptr;
  int side_ = 0;
};

// Creates a connected pair; `capacity` (> 0, else std::invalid_argument) bounds the bytes
// buffered in each direction.
std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity);

// io::SimplexStream: one direction of a duplex in one object: what is written to it is
// read from it (Tokio's SimplexStream). io::simplex(capacity) gives its two halves
// (io::split), the usual way to use it:
//
//   auto [rd, wr] = io::simplex(64 * 1024);
//   co_await wr.write_all("ping");                  // rd reads "ping"
//   co_await wr.shutdown();                         // rd reads end of stream after it
//
// As in Tokio, the reader sees end of stream only after shutdown() (the halves share one
// stream, so dropping the write half alone does not end it); a write after shutdown fails
// with broken_pipe; a write to a full buffer waits for a read. Reads and writes are
// cancel-safe and the halves may be used from different threads.
class SimplexStream : public Ext<SimplexStream> {
 public:
  SimplexStream() noexcept = default;  // empty: every operation throws std::logic_error
  SimplexStream(SimplexStream&& o) noexcept : p_(detail::exchange(o.p_, nullptr)) {}
  SimplexStream& operator=(SimplexStream&& o) noexcept {
    if (this != &o) {
      close();
      p_ = detail::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~SimplexStream() { close(); }

  // A stream buffering at most `capacity` bytes (> 0, else std::invalid_argument).
  static SimplexStream new_unsplit(std::size_t capacity);

  detail::DuplexReadOp read(io::MutableBuffer buf) { return {pipe(), buf}; }
  detail::DuplexWriteOp write(io::ConstBuffer buf) { return {pipe(), buf}; }
  detail::DuplexControlOp flush() { return {pipe(), false}; }
  detail::DuplexControlOp shutdown() { return {pipe(), true}; }

  bool valid() const noexcept { return p_ != nullptr; }

 private:
  explicit SimplexStream(detail::BytePipe* p) noexcept : p_(p) {}
  detail::BytePipe* pipe() const;
  void close() noexcept;
  detail::BytePipe* p_ = nullptr;
};

// The read and write halves of a new SimplexStream of `capacity` bytes.
std::pair<ReadHalf<SimplexStream>, WriteHalf<SimplexStream>> simplex(std::size_t capacity);

}  // namespace tokio::io
