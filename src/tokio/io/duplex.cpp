// io::duplex: see duplex.hpp.
#include "tokio/io/duplex.hpp"

#include <cstring>
#include <new>
#include <stdexcept>

namespace tokio::detail {

// --- ByteRing ----------------------------------------------------------------------------
ByteRing::~ByteRing() { ::operator delete(buf_); }

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

// --- waker slots --------------------------------------------------------------------------
namespace io_duplex_impl {

// Stores cx's waker in a slot (replacing a different one) and tags the registration.
// Returns a waker reference the caller drops after unlocking (the replaced one), or null.
Wakeable* register_waker(Wakeable*& slot, uint64_t& slot_tag, uint64_t& my_tag,
                         uint64_t& next_tag, task::Context& cx) noexcept {
  Wakeable* old = nullptr;
  Wakeable* w = cx.raw_waker();
  if (slot != w) {
    old = slot;
    w->vtable->clone(w);
    slot = w;
  }
  my_tag = slot_tag = ++next_tag;
  return old;
}

// Takes the waker out of a slot (to wake it after unlocking).
Wakeable* take_waker(Wakeable*& slot, uint64_t& slot_tag) noexcept {
  slot_tag = 0;
  return std::exchange(slot, nullptr);
}

// Removes our own registration (a finished or cancelled operation); returns the waker
// reference to drop after unlocking.
Wakeable* unregister(Wakeable*& slot, uint64_t& slot_tag, uint64_t my_tag) noexcept {
  if (my_tag != 0 && slot_tag == my_tag) return take_waker(slot, slot_tag);
  return nullptr;
}


}  // namespace (impl)

// --- read ---------------------------------------------------------------------------------
bool DuplexReadOp::poll(task::Context& cx) noexcept {
  if (!coop_poll_proceed(cx)) return false;
  Wakeable* to_wake = nullptr;
  Wakeable* to_drop = nullptr;
  bool ready = true;
  {
    LockGuard<Mutex> g(p_->mu);
    if (p_->ring.size() > 0) {
      n_ = p_->ring.pop(buf_);
      if (n_ > 0) to_wake = io_duplex_impl::take_waker(p_->write_waker, p_->write_tag);
      to_drop = io_duplex_impl::unregister(p_->read_waker, p_->read_tag, tag_);
    } else if (p_->closed || buf_.empty()) {
      n_ = 0;
      to_drop = io_duplex_impl::unregister(p_->read_waker, p_->read_tag, tag_);
    } else {
      to_drop = io_duplex_impl::register_waker(p_->read_waker, p_->read_tag, tag_, p_->next_tag, cx);
      ready = false;
    }
  }
  if (ready) tag_ = 0;
  drop_waker(to_drop);
  wake_waker(to_wake);
  return ready;
}

DuplexReadOp::~DuplexReadOp() {
  if (tag_ == 0) return;
  Wakeable* w;
  {
    LockGuard<Mutex> g(p_->mu);
    w = io_duplex_impl::unregister(p_->read_waker, p_->read_tag, tag_);
  }
  drop_waker(w);
}

// --- write --------------------------------------------------------------------------------
bool DuplexWriteOp::poll(task::Context& cx) noexcept {
  if (!coop_poll_proceed(cx)) return false;
  Wakeable* to_wake = nullptr;
  Wakeable* to_drop = nullptr;
  bool ready = true;
  {
    LockGuard<Mutex> g(p_->mu);
    if (p_->closed) {
      broken_ = true;
      to_drop = io_duplex_impl::unregister(p_->write_waker, p_->write_tag, tag_);
    } else if (buf_.empty()) {
      n_ = 0;
      to_drop = io_duplex_impl::unregister(p_->write_waker, p_->write_tag, tag_);
    } else if (p_->ring.size() == p_->max) {
      to_drop = io_duplex_impl::register_waker(p_->write_waker, p_->write_tag, tag_, p_->next_tag, cx);
      ready = false;
    } else {
      std::size_t room = p_->max - p_->ring.size();
      n_ = buf_.size() < room ? buf_.size() : room;
      p_->ring.push(buf_.first(n_), p_->max);
      to_wake = io_duplex_impl::take_waker(p_->read_waker, p_->read_tag);
      to_drop = io_duplex_impl::unregister(p_->write_waker, p_->write_tag, tag_);
    }
  }
  if (ready) tag_ = 0;
  drop_waker(to_drop);
  wake_waker(to_wake);
  return ready;
}

io::Result<std::size_t> DuplexWriteOp::await_resume() noexcept {
  if (broken_) return unexpected(std::make_error_code(std::errc::broken_pipe));
  return n_;
}

DuplexWriteOp::~DuplexWriteOp() {
  if (tag_ == 0) return;
  Wakeable* w;
  {
    LockGuard<Mutex> g(p_->mu);
    w = io_duplex_impl::unregister(p_->write_waker, p_->write_tag, tag_);
  }
  drop_waker(w);
}

// --- flush / shutdown -----------------------------------------------------------------------
bool DuplexControlOp::poll(task::Context&) noexcept {
  if (shutdown_) duplex_close(*p_);
  return true;
}

void duplex_close(DuplexPipe& p) noexcept {
  Wakeable* r;
  Wakeable* w;
  {
    LockGuard<Mutex> g(p.mu);
    p.closed = true;
    r = io_duplex_impl::take_waker(p.read_waker, p.read_tag);
    w = io_duplex_impl::take_waker(p.write_waker, p.write_tag);
  }
  wake_waker(r);
  wake_waker(w);
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

void DuplexStream::check() const {
  if (!s_) throw std::logic_error("operation on a moved-from io::DuplexStream");
}

void DuplexStream::close() noexcept {
  detail::DuplexShared* s = std::exchange(s_, nullptr);
  if (!s) return;
  // Our writing direction: the peer reads what is buffered, then end of stream. Our
  // reading direction: the peer's writes fail with broken_pipe from now on.
  detail::duplex_close(s->pipes[1 - side_]);
  detail::duplex_close(s->pipes[side_]);
  if (s->ends.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    for (auto& p : s->pipes) {
      if (p.read_waker) p.read_waker->vtable->drop(p.read_waker);
      if (p.write_waker) p.write_waker->vtable->drop(p.write_waker);
    }
    delete s;
  }
}

std::pair<DuplexStream, DuplexStream> duplex(std::size_t capacity) {
  if (capacity == 0) {
    throw std::invalid_argument("io::duplex: capacity must be > 0 (a 0-byte pipe can never transfer)");
  }
  auto* s = new detail::DuplexShared();
  s->pipes[0].max = capacity;
  s->pipes[1].max = capacity;
  return {DuplexStream(s, 0), DuplexStream(s, 1)};
}

}  // namespace tokio::io
