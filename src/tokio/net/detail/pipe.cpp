#include "tokio/net/detail/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "tokio/net/detail/socket.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"

namespace tokio::detail {

int64_t pipe_read(int fd, void* p, std::size_t n) noexcept {
  for (;;) {
    ssize_t r = ::read(fd, p, n);
    if (r >= 0 || errno != EINTR) return sys_result(r);
  }
}

int64_t pipe_write(int fd, const void* p, std::size_t n) noexcept { return write_nosig(fd, p, n); }

int64_t pipe_writev(int fd, const iovec* iov, std::size_t cnt) noexcept {
  return writev_nosig(fd, iov, static_cast<int>(cnt));
}

int PipeEnd::release_blocking() noexcept {
  int fd = pipe_.release();
  if (fd < 0) {
    errno = EBADF;
    return -1;
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int PipeEnd::release_nonblocking() noexcept {
  int fd = pipe_.release();
  if (fd < 0) errno = EBADF;
  return fd;
}

}  // namespace tokio::detail
