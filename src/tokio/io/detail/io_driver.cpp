#include "tokio/io/detail/io_driver.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <stdexcept>
#include <string>
#include <system_error>

#include "tokio/io/reactor_error.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

namespace io_io_driver_impl {
// The driver currently dispatching events on this thread (unpark from it is a no-op).
thread_local IoDriver* tl_dispatching = nullptr;
}  // namespace io_io_driver_impl

// --- the driver stack's calls (runtime/detail/driver.hpp) ---------------------------------
IoDriver* io_driver_create(const Config& cfg, Driver&) { return new IoDriver(cfg); }
void io_driver_destroy(IoDriver* d) noexcept { delete d; }
void io_driver_turn(IoDriver* d, std::optional<std::chrono::nanoseconds> timeout) {
  d->turn(timeout);
}
void io_driver_unpark(IoDriver* d) noexcept { d->unpark(); }
void io_driver_shutdown(IoDriver* d) noexcept { d->shutdown(); }
IoDriverCounts io_driver_counts(const IoDriver* d) noexcept {
  return {d->fd_registered_count(), d->fd_deregistered_count(), d->ready_count()};
}

IoDriver* io_driver_of(HandleInner* h, const char* what) {
  if (IoDriver* d = h->driver.io()) return d;
  throw std::logic_error(std::string("tokio: ") + what +
                         " needs the I/O driver, but this runtime was built without it: call "
                         "enable_io() (or enable_all()) on the runtime::Builder");
}

IoDriver::IoDriver(const Config& cfg) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw std::system_error(errno, std::system_category(), "tokio: epoll_create1");
  evfd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (evfd_ < 0) {
    int e = errno;
    ::close(epfd_);
    throw std::system_error(e, std::system_category(), "tokio: eventfd");
  }
  // The wake-up eventfd is edge-triggered and never read: each write is a new edge, and
  // the 64-bit counter cannot overflow in practice (one increment per unpark of a parked
  // driver).
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev) < 0) {
    int e = errno;
    ::close(evfd_);
    ::close(epfd_);
    throw std::system_error(e, std::system_category(), "tokio: epoll_ctl(eventfd)");
  }
  std::size_t n = cfg.max_io_events_per_tick ? cfg.max_io_events_per_tick : 1;
  if (n > 65536) n = 65536;
  events_.resize(n);
}

IoDriver::~IoDriver() {
  // Registrations hold a reference on the runtime, so none is alive here; free the lists.
  for (ScheduledIo* p : pending_) delete p;
  for (ScheduledIo* p : free_) delete p;
  while (live_) {
    ScheduledIo* p = live_;
    live_ = p->set_next;
    delete p;
  }
  ::close(evfd_);
  ::close(epfd_);
}

uint32_t IoDriver::to_epoll(io::Interest interest) noexcept {
  uint32_t ev = EPOLLET;
  if (interest.is_readable()) ev |= EPOLLIN | EPOLLRDHUP;
  if (interest.is_writable()) ev |= EPOLLOUT;
  if (interest.is_priority()) ev |= EPOLLPRI;
  return ev;
}

uint32_t IoDriver::from_epoll(uint32_t events) noexcept {
  using io::Ready;
  uint32_t r = 0;
  if (events & EPOLLIN) r |= Ready::kReadable;
  if (events & EPOLLOUT) r |= Ready::kWritable;
  if (events & EPOLLPRI) r |= Ready::kPriority;
  if (events & EPOLLRDHUP) r |= Ready::kReadClosed;
  if (events & EPOLLHUP) r |= Ready::kReadClosed | Ready::kWriteClosed;
  if (events & EPOLLERR) r |= Ready::kError;
  return r;
}

io::Result<ScheduledIo*> IoDriver::add(int fd, io::Interest interest) {
  ScheduledIo* io = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (is_shutdown_) {
      return tokio::unexpected(make_error_code(io::ReactorErrc::shutdown));
    }
    if (!free_.empty()) {
      io = free_.back();
      free_.pop_back();
    } else {
      io = new ScheduledIo();
    }
    io->set_prev = nullptr;
    io->set_next = live_;
    if (live_) live_->set_prev = io;
    live_ = io;
    ++num_live_;
  }
  epoll_event ev{};
  ev.events = to_epoll(interest);
  ev.data.ptr = io;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    std::lock_guard<std::mutex> g(mu_);
    if (io->set_prev) io->set_prev->set_next = io->set_next;
    else live_ = io->set_next;
    if (io->set_next) io->set_next->set_prev = io->set_prev;
    --num_live_;
    free_.push_back(io);  // never seen by epoll: reusable at once
    return io::os_error(e);
  }
  registered_.fetch_add(1, std::memory_order_relaxed);
  return io;
}

io::Result<void> IoDriver::remove(int fd, ScheduledIo* io) noexcept {
  int err = 0;
  if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) < 0) err = errno;
  // Any waiter still linked belongs to an operation that outlived its I/O object: wake it
  // so it fails instead of hanging. Done before the entry is queued for release (after
  // that another thread's turn may recycle it).
  io->shutdown();
  bool notify = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (io->set_prev) io->set_prev->set_next = io->set_next;
    else live_ = io->set_next;
    if (io->set_next) io->set_next->set_prev = io->set_prev;
    io->set_prev = io->set_next = nullptr;
    --num_live_;
    try {
      pending_.push_back(io);
    } catch (...) {
      // Out of memory: leak the entry rather than free it under a possible dispatch.
    }
    notify = pending_.size() == kNotifyAfter;
    pending_count_.store(pending_.size(), std::memory_order_relaxed);
  }
  deregistered_.fetch_add(1, std::memory_order_relaxed);
  if (notify) unpark();
  if (err) return io::os_error(err);
  return {};
}

// Released entries are reset and kept for reuse, never freed while the driver lives: an
// operation that outlived its I/O object (another task destroyed it under the waiting
// operation) may still load its entry, and must find it there, with a new generation, to
// fail (scheduled_io.hpp). The cost is the peak number of registrations, 64 bytes each (a
// server that once held 100,000 connections keeps 6.4 MB).
void IoDriver::release_pending() noexcept {
  std::lock_guard<std::mutex> g(mu_);
  for (ScheduledIo* p : pending_) {
    p->reset();
    try {
      free_.push_back(p);
    } catch (...) {
      // Out of memory for the list: leak the entry (freeing it is what must not happen).
    }
  }
  pending_.clear();
  pending_count_.store(0, std::memory_order_relaxed);
}

std::size_t IoDriver::num_registered() const {
  std::lock_guard<std::mutex> g(mu_);
  return num_live_;
}

void IoDriver::turn(std::optional<std::chrono::nanoseconds> timeout) {
  if (pending_count_.load(std::memory_order_relaxed) != 0) release_pending();

  int ms = -1;
  if (timeout) {
    auto ns = timeout->count();
    if (ns <= 0) {
      ms = 0;
    } else {
      // Round up: waking early would only make the caller park again.
      long long m = (ns + 999999) / 1000000;
      ms = m > INT_MAX ? INT_MAX : static_cast<int>(m);
    }
  }
  const bool blocking = ms != 0;
  if (blocking && park_state_.exchange(PARKED, std::memory_order_acq_rel) == NOTIFIED) ms = 0;
  int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), ms);
  if (blocking) park_state_.exchange(IDLE, std::memory_order_acq_rel);
  if (n <= 0) return;  // timeout, or EINTR (a signal): the caller re-checks its work

  // First start the misses of every wake at once (ScheduledIo::prefetch_waiter), then wake:
  // each wake would otherwise wait for its own miss before the next event is looked at.
  for (int i = 0; i < n; ++i) {
    if (auto* io = static_cast<const ScheduledIo*>(events_[i].data.ptr)) io->prefetch_waiter();
  }
  io_io_driver_impl::tl_dispatching = this;
  uint64_t ready = 0;
  for (int i = 0; i < n; ++i) {
    auto* io = static_cast<ScheduledIo*>(events_[i].data.ptr);
    if (!io) continue;  // the wake-up eventfd
    io->set_readiness(from_epoll(events_[i].events));
    ++ready;
  }
  io_io_driver_impl::tl_dispatching = nullptr;
  if (ready) ready_events_.fetch_add(ready, std::memory_order_relaxed);
}

void IoDriver::unpark() noexcept {
  if (io_io_driver_impl::tl_dispatching == this) return;
  if (park_state_.exchange(NOTIFIED, std::memory_order_acq_rel) == PARKED) {
    uint64_t one = 1;
    ssize_t r;
    do {
      r = ::write(evfd_, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
  }
}

void IoDriver::shutdown() noexcept {
  std::lock_guard<std::mutex> g(mu_);
  if (is_shutdown_) return;
  is_shutdown_ = true;
  // Woken under mu_ (so remove() cannot release an entry meanwhile): a wake only schedules
  // or unparks, it never registers or deregisters.
  for (ScheduledIo* p = live_; p; p = p->set_next) p->shutdown();
}

}  // namespace tokio::detail
