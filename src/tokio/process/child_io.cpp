#include <fcntl.h>

#include <cerrno>

#include "tokio/process/child_io.hpp"

namespace tokio::detail {

int ChildPipe::release_blocking() noexcept {
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

io::Result<PollSocket> register_pipe(OwnedFd fd, io::Interest interest) {
  return PollSocket::adopt(std::move(fd), interest, "process::Command::spawn");
}

}  // namespace tokio::detail
