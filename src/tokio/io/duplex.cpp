// io::duplex: see duplex.hpp.
#include "tokio/io/duplex.hpp"

#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>

#include "tokio/core/detail/mutex.hpp"
#include "tokio/core/waker.hpp"

namespace tokio::detail {

// A byte FIFO that grows (doubling) up to a maximum size. Not synchronized.
class ByteRing {
 public:
  ByteRing() noexcept = default;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;
  ~ByteRing() { ::operator delete(buf_); }

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

// The waker of the one operation waiting on a pipe end (a read or a write). The
// registration is tagged so that a finished or cancelled operation only removes its own.
struct DuplexWaiter {
  Wakeable* waker = nullptr;  // owned reference
  uint64_t tag = 0;           // tag of the registration (0 = none)

  // Takes the waker out (to wake or drop after unlocking) if `mine` (non-zero) is the
  // current registration, or whatever it is when `mine` is 0.
  Wakeable* take(uint64_t mine = 0) noexcept {
    if (mine != 0 && mine != tag) return nullptr;
    tag = 0;
    return std::exchange(waker, nullptr);
  }
};

// One direction of a duplex pair. Every field is guarded by mu.
struct DuplexPipe {
  Mutex mu;
  ByteRing ring;
  std::size_t max = 0;
  bool closed = false;  // writer shut down / an end was destroyed
  DuplexWaiter reader;  // a read waiting for data
  DuplexWaiter writer;  // a write waiting for room
  uint64_t next_tag = 0;

  DuplexWaiter& waiter(bool write) noexcept { return write ? writer : reader; }
};

// Both directions of a pair and the count of live ends.
struct DuplexShared {
  DuplexPipe pipes[2];
  std::atomic<int> ends{2};
};

// --- ByteRing ----------------------------------------------------------------------------
void ByteRing::grow(std::size_t need, std::size_t max) {
  std::size_t cap = cap_ ? cap_ : 4096;
  while (cap < need) cap *= 2;
  if (cap > max) cap = max;
  auto* nb = static_cast<std::byte*>(::operator new(cap));
  // Unwrap the old contents to the front of the new buffer.
  std::size_t first = len_ < cap_ - head_ ? len_ : cap_ - head_;
  if (first) std::memcpy(nb, buf_ + head_, first);
  if (len_ > first) std::memcpy(nb + first, buf_, len_ - first);
  ::operator delete(buf_);
  buf_ = nb;
  cap_ = cap;
  head_ = 0;
}

void ByteRing::push(std::span<const std::byte> src, std::size_t max) {
  if (src.empty()) return;
  if (len_ + src.size() > cap_) grow(len_ + src.size(), max);
  std::size_t tail = head_ + len_;
  if (tail >= cap_) tail -= cap_;
  std::size_t first = src.size() < cap_ - tail ? src.size() : cap_ - tail;
  std::memcpy(buf_ + tail, src.data(), first);
  if (src.size() > first) std::memcpy(buf_, src.data() + first, src.size() - first);
  len_ += src.size();
}

std::size_t ByteRing::pop(std::span<std::byte> dst) noexcept {
  std::size_t n = dst.size() < len_ ? dst.size() : len_;
  if (n == 0) return 0;
  std::size_t first = n < cap_ - head_ ? n : cap_ - head_;
  std::memcpy(dst.data(), buf_ + head_, first);
  if (n > first) std::memcpy(dst.data() + first, buf_, n - first);
  head_ += n;
  if (head_ >= cap_) head_ -= cap_;
  len_ -= n;
  if (len_ == 0) head_ = 0;
  return n;
}

// --- read and write -----------------------------------------------------------------------
namespace io_duplex_impl {

// What one attempt of a read or write decided, under the pipe's lock.
enum class Step { Done, Moved, Wait };  // Moved: done, and the other side may proceed now

// The poll shared by reads and writes: `attempt` runs under the lock; Wait registers the
// operation's waker (replacing a different one) under a new tag, anything else removes its
// registration and, for Moved, takes the other side's waker. Wakers are woken and dropped
// after unlocking.
template <class F>
bool poll_pipe(DuplexPipe& p, bool write, uint64_t& tag, task::Context& cx, F&& attempt) {
  if (!coop_poll_proceed(cx)) return false;
  Wakeable* to_wake = nullptr;
  Wakeable* to_drop = nullptr;
  Step s;
  {
    LockGuard<Mutex> g(p.mu);
    DuplexWaiter& mine = p.waiter(write);
    s = attempt();
    if (s == Step::Wait) {
      Wakeable* k = cx.raw_waker();
      if (mine.waker != k) {
        to_drop = mine.take();
        k->vtable->clone(k);
        mine.waker = k;
      }
      tag = mine.tag = ++p.next_tag;
    } else {
      if (s == Step::Moved) to_wake = p.waiter(!write).take();
      if (tag != 0) to_drop = mine.take(std::exchange(tag, 0));
    }
  }
  drop_waker(to_drop);
  wake_waker(to_wake);
  return s != Step::Wait;
}

// Closes a direction and wakes whoever waits on it.
void close(DuplexPipe& p) noexcept {
  Wakeable* r;
  Wakeable* w;
  {
    LockGuard<Mutex> g(p.mu);
    p.closed = true;
    r = p.reader.take();
    w = p.writer.take();
  }
  wake_waker(r);
  wake_waker(w);
}

}  // namespace io_duplex_impl

template <>
bool DuplexIoOp<false>::poll(task::Context& cx) noexcept {
  using io_duplex_impl::Step;
  return io_duplex_impl::poll_pipe(*p_, false, tag_, cx, [&] {
    n_ = p_->ring.pop(buf_);  // 0 when the ring or buf_ is empty
    if (n_ > 0) return Step::Moved;
    return p_->closed || buf_.empty() ? Step::Done : Step::Wait;
  });
}

template <>
bool DuplexIoOp<true>::poll(task::Context& cx) noexcept {
  using io_duplex_impl::Step;
  return io_duplex_impl::poll_pipe(*p_, true, tag_, cx, [&] {
    broken_ = p_->closed;
    n_ = 0;
    if (broken_ || buf_.empty()) return Step::Done;
    if (p_->ring.size() == p_->max) return Step::Wait;
    std::size_t room = p_->max - p_->ring.size();
    n_ = buf_.size() < room ? buf_.size() : room;
    p_->ring.push(buf_.first(n_), p_->max);
    return Step::Moved;
  });
}

void duplex_cancel(DuplexPipe& p, bool write, uint64_t tag) noexcept {
  Wakeable* w;
  {
    LockGuard<Mutex> g(p.mu);
    w = p.waiter(write).take(tag);
  }
  drop_waker(w);
}

// --- flush / shutdown -----------------------------------------------------------------------
bool DuplexControlOp::poll(task::Context&) noexcept {
  if (shutdown_) io_duplex_impl::close(*p_);
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

detail::DuplexPipe* DuplexStream::rd() const {
  if (!s_) throw std::logic_error("operation on a moved-from io::DuplexStream");
  return &s_->pipes[side_];
}

detail::DuplexPipe* DuplexStream::wr() const {
  if (!s_) throw std::logic_error("operation on a moved-from io::DuplexStream");
  return &s_->pipes[1 - side_];
}

void DuplexStream::close() noexcept {
  detail::DuplexShared* s = std::exchange(s_, nullptr);
  if (!s) return;
  // Our writing direction: the peer reads what is buffered, then end of stream. Our
  // reading direction: the peer's writes fail with broken_pipe from now on.
  detail::io_duplex_impl::close(s->pipes[1 - side_]);
  detail::io_duplex_impl::close(s->pipes[side_]);
  if (s->ends.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    for (auto& p : s->pipes) {
      detail::drop_waker(p.reader.take());
      detail::drop_waker(p.writer.take());
    }
    delete s;
  }
}

std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "io::duplex: capacity must be > 0 (a 0-byte pipe can never transfer)");
  }
  auto* s = new detail::DuplexShared();
  s->pipes[0].max = capacity;
  s->pipes[1].max = capacity;
  return {DuplexStream(s, 0), DuplexStream(s, 1)};
}

// --- SimplexStream ---------------------------------------------------------------------------
SimplexStream SimplexStream::new_unsplit(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument(
        "io::simplex: capacity must be > 0 (a 0-byte pipe can never transfer)");
  }
  auto* p = new detail::DuplexPipe();
  p->max = capacity;
  return SimplexStream(p);
}

detail::DuplexPipe* SimplexStream::pipe() const {
  if (!p_) throw std::logic_error("operation on an empty (moved-from) io::SimplexStream");
  return p_;
}

void SimplexStream::close() noexcept {
  detail::DuplexPipe* p = std::exchange(p_, nullptr);
  if (!p) return;
  // Nothing can wait on it now: its operations borrow the stream (or a half that owns it).
  detail::drop_waker(p->reader.take());
  detail::drop_waker(p->writer.take());
  delete p;
}

std::pair<ReadHalf<SimplexStream>, WriteHalf<SimplexStream>> simplex(std::size_t capacity) {
  return split(SimplexStream::new_unsplit(capacity));
}

}  // namespace tokio::io
