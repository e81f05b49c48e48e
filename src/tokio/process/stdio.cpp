#include "tokio/process/stdio.hpp"

#include <unistd.h>

#include "tokio/process/child_io.hpp"

namespace tokio::process {

void Stdio::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// (Stdio is a friend of the three pipe types, so it may call their protected
// PipeEnd::release_blocking through them.)
io::Result<Stdio> Stdio::from(ChildStdin&& s) {
  int fd = s.release_blocking();
  if (fd < 0) return io::last_os_error();
  return Stdio(Kind::fd, fd);
}
io::Result<Stdio> Stdio::from(ChildStdout&& s) {
  int fd = s.release_blocking();
  if (fd < 0) return io::last_os_error();
  return Stdio(Kind::fd, fd);
}
io::Result<Stdio> Stdio::from(ChildStderr&& s) {
  int fd = s.release_blocking();
  if (fd < 0) return io::last_os_error();
  return Stdio(Kind::fd, fd);
}

}  // namespace tokio::process
