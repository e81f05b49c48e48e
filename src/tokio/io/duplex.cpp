// io::duplex: see duplex.hpp.
#include "tokio/io/duplex.hpp"

#include <atomic>
#include <cerrno>
#include <new>
#include <stdexcept>

#include "tokio/core/waker.hpp"
#include "tokio/io/detail/byte_pipe.hpp"

namespace tokio::detail {

// Both directions of a pair and the count of live ends.
struct DuplexShared {
  explicit DuplexShared(std::size_t capacity) noexcept
      : pipes{BytePipe(capacity), BytePipe(capacity)} {}
  BytePipe pipes[2];
  std::atomic<int> ends{2};
};

// --- read and write -----------------------------------------------------------------------
// Each poll first claims its side of the pipe (BytePipe::enter). Two tasks using
// one end's same side at once is misuse: the second poll is asked to retry on its next turn
// instead of racing the first over the pipe's positions.
//
// Then the register-then-recheck pattern: try; if nothing could move (and the pipe is not
// closed), register the task's waker and try again, so bytes (or room, or the close)
// published by the other side between the two tries either are seen by the second try or
// find the waker registered (byte_pipe.hpp: len_ and closed_ are seq_cst, as the wakers'
// state words are). A side that moved bytes wakes the other side after releasing its claim.

namespace io_duplex_impl {

// The poll both sides share (Write picks the side); attempt() tries once and says whether
// the operation is ready; `moved` is what it moved.
template <bool Write, class Attempt>
bool poll_side(BytePipe& p, task::Context& cx, uint64_t& reg, const std::size_t& moved,
               Attempt attempt) noexcept {
  if (!coop_poll_proceed(cx)) return false;
  if (!p.enter(Write)) {
    cx.wake_by_ref();
    return false;
  }
  bool ready = attempt();
  if (!ready) {
    p.waker(Write).register_waker(cx.raw_waker());
    reg = p.next_registration(Write);
    ready = attempt();
  }
  p.exit(Write);
  if (moved > 0) p.waker(!Write).wake();
  return ready;
}

}  // namespace io_duplex_impl

template <>
bool DuplexIoOp<false>::poll(task::Context& cx) noexcept {
  BytePipe& p = *p_;
  // Ready with n_ bytes, or with 0 at end of stream; bytes written before the close are
  // still read (closed_ is set after them, so a second try after seeing it finds them).
  return io_duplex_impl::poll_side<false>(p, cx, reg_, n_, [&]() noexcept {
    n_ = p.try_read(buf_);
    if (n_ > 0 || buf_.empty()) return true;
    if (!p.closed()) return false;
    n_ = p.try_read(buf_);
    return true;
  });
}

template <>
bool DuplexIoOp<true>::poll(task::Context& cx) noexcept {
  BytePipe& p = *p_;
  // Ready with n_ bytes written, or with an error (err_) and none.
  return io_duplex_impl::poll_side<true>(p, cx, reg_, n_, [&]() noexcept {
    n_ = 0;
    if (p.closed()) {
      err_ = EPIPE;
      return true;
    }
    if (buf_.empty()) return true;
    try {
      n_ = p.try_write(buf_);
    } catch (const std::bad_alloc&) {
      err_ = ENOMEM;  // no segment for the bytes: nothing was published
      return true;
    }
    return n_ > 0;
  });
}

void duplex_unregister(BytePipe& p, bool write, uint64_t reg) noexcept {
  // The side's claim orders this against the side's next registration. Busy: another
  // operation of this side is being polled right now, so it registers after us; leave it.
  if (!p.enter(write)) return;
  if (p.registration(write) == reg) p.waker(write).unregister();
  p.exit(write);
}

// --- flush / shutdown -----------------------------------------------------------------------
bool DuplexControlOp::poll(task::Context&) noexcept {
  if (shutdown_) p_->close();
  return true;
}

}  // namespace tokio::detail

namespace tokio::io {

DuplexStream& DuplexStream::operator=(DuplexStream&& o) noexcept {
  if (this != &o) {
    close();
    s_ = std::exchange(o.s_, nullptr);
    side_ = o.side_;
  }
  return *this;
}

detail::BytePipe* DuplexStream::rd() const {
  if (!s_) throw std::logic_error("operation on a moved-from io::DuplexStream");
  return &s_->pipes[side_];
}

detail::BytePipe* DuplexStream::wr() const {
  if (!s_) throw std::logic_error("operation on a moved-from io::DuplexStream");
  return &s_->pipes[1 - side_];
}

void DuplexStream::close() noexcept {
  detail::DuplexShared* s = std::exchange(s_, nullptr);
  if (!s) return;
  // Our writing direction: the peer reads what is buffered, then end of stream. Our
  // reading direction: the peer's writes fail with broken_pipe from now on.
  s->pipes[1 - side_].close();
  s->pipes[side_].close();
  // The last end frees the pair (and with it any waker still registered).
  if (s->ends.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}

std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "io::duplex: capacity must be > 0 (a 0-byte pipe can never transfer)");
  }
  auto* s = new detail::DuplexShared(capacity);
  return {DuplexStream(s, 0), DuplexStream(s, 1)};
}

// --- SimplexStream ---------------------------------------------------------------------------
SimplexStream SimplexStream::new_unsplit(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "io::simplex: capacity must be > 0 (a 0-byte pipe can never transfer)");
  }
  return SimplexStream(new detail::BytePipe(capacity));
}

detail::BytePipe* SimplexStream::pipe() const {
  if (!p_) throw std::logic_error("operation on an empty (moved-from) io::SimplexStream");
  return p_;
}

void SimplexStream::close() noexcept {
  detail::BytePipe* p = std::exchange(p_, nullptr);
  if (!p) return;
  // Nothing can wait on it now: its operations borrow the stream (or a half that owns it).
  delete p;
}

std::pair<ReadHalf<SimplexStream>, WriteHalf<SimplexStream>> simplex(std::size_t capacity) {
  return split(SimplexStream::new_unsplit(capacity));
}

}  // namespace tokio::io
