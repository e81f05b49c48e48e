#include "tokio/io/detail/registration.hpp"

#include "tokio/io/detail/io_driver.hpp"
#include "tokio/runtime/detail/handle_inner.hpp"

namespace tokio::detail {

io::Result<Registration> Registration::create(int fd, io::Interest interest, const char* what,
                                              uint32_t ready) {
  HandleInner* h = current_handle_or_throw(what);
  IoDriver* d = io_driver_of(h, what);
  auto io = d->add(fd, interest);
  if (!io) return tokio::unexpected(io.error());
  if (ready) (*io)->assume_ready(ready);
  h->ref_inc();
  Registration r;
  r.driver_ = d;
  r.handle_ = h;
  r.io_ = *io;
  r.fd_ = fd;
  return r;
}

io::Result<void> Registration::deregister() noexcept {
  ScheduledIo* io = io_;
  if (!io) return {};
  // The fields are cleared after the removal, which takes the entry's lock to wake any
  // operation still waiting: an operation another task left waiting on this object read
  // them before it registered under that lock, so those reads happen before these writes.
  auto r = driver_->remove(fd_, io);
  io_ = nullptr;
  driver_ = nullptr;
  fd_ = -1;
  std::exchange(handle_, nullptr)->ref_dec();
  return r;
}

}  // namespace tokio::detail
