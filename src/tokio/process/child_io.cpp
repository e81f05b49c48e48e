#include "tokio/process/child_io.hpp"

namespace tokio::detail {

io::Result<PollSocket> register_pipe(OwnedFd fd, io::Interest interest) {
  return PollSocket::adopt(std::move(fd), interest, "process::Command::spawn");
}

}  // namespace tokio::detail
