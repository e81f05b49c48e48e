// net::unix::pipe: see unix_pipe.hpp.
#include "tokio/net/unix_pipe.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <type_traits>

namespace tokio::net::unix::pipe {

namespace net_unix_pipe_impl {

// Checks fd (a FIFO unless `unchecked`, open for `want` = O_RDONLY or O_WRONLY, or O_RDWR),
// makes it non-blocking and registers it; closes it on failure.
io::Result<detail::PollSocket> adopt_end(int fd, int want, bool unchecked, const char* what) {
  detail::OwnedFd owned(fd);
  if (fd < 0) return io::os_error(EBADF);
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return io::last_os_error();
  int mode = fl & O_ACCMODE;
  if (mode != want && mode != O_RDWR) return io::os_error(EINVAL);  // the wrong direction
  if (!unchecked) {
    struct stat st;
    if (::fstat(fd, &st) < 0) return io::last_os_error();
    if (!S_ISFIFO(st.st_mode)) return io::os_error(EINVAL);  // not a pipe
  }
  if (!(fl & O_NONBLOCK) && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    return io::last_os_error();
  }
  io::Interest interest = want == O_WRONLY ? io::Interest::WRITABLE : io::Interest::READABLE;
  return detail::PollSocket::adopt(std::move(owned), interest, what);
}

io::Result<int> open_fifo(const std::string& path, int want, bool read_write) {
  if (path.find('\0') != std::string::npos) return io::os_error(EINVAL);
  int fd = ::open(path.c_str(), (read_write ? O_RDWR : want) | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return io::last_os_error();
  return fd;
}

// into_*_fd: the fd the end released (deregistered), or the error that release met.
io::Result<int> release_fd(int fd) {
  if (fd < 0) return io::last_os_error();
  return fd;
}

}  // namespace net_unix_pipe_impl

// Builds an end from an fd (or the error that opening it met): checked (a FIFO unless
// `unchecked`; the end's direction), non-blocking and registered. The one place that
// constructs a Sender or a Receiver.
struct MakeEnd {
  template <class End>
  static io::Result<End> from(io::Result<int> fd, bool unchecked, const char* what) {
    if (!fd) return tokio::unexpected(fd.error());
    constexpr int want = std::is_same_v<End, Sender> ? O_WRONLY : O_RDONLY;
    auto p = net_unix_pipe_impl::adopt_end(*fd, want, unchecked, what);
    if (!p) return tokio::unexpected(p.error());
    return End(std::move(*p));
  }
  static io::Result<std::pair<Sender, Receiver>> pair(int rfd, int wfd) {
    detail::OwnedFd rd(rfd);
    auto w = detail::PollSocket::adopt(detail::OwnedFd(wfd), io::Interest::WRITABLE,
                                       "net::unix::pipe::pipe");
    if (!w) return tokio::unexpected(w.error());
    auto r =
        detail::PollSocket::adopt(std::move(rd), io::Interest::READABLE, "net::unix::pipe::pipe");
    if (!r) return tokio::unexpected(r.error());
    return std::pair<Sender, Receiver>(Sender(std::move(*w)), Receiver(std::move(*r)));
  }
};

io::Result<std::pair<Sender, Receiver>> pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) return io::last_os_error();
  return MakeEnd::pair(fds[0], fds[1]);
}

io::Result<Sender> Sender::from_owned_fd(int fd) {
  return MakeEnd::from<Sender>(fd, false, "pipe::Sender::from_owned_fd");
}
io::Result<Sender> Sender::from_owned_fd_unchecked(int fd) {
  return MakeEnd::from<Sender>(fd, true, "pipe::Sender::from_owned_fd");
}
io::Result<int> Sender::into_blocking_fd() && {
  return net_unix_pipe_impl::release_fd(release_blocking());
}
io::Result<int> Sender::into_nonblocking_fd() && {
  return net_unix_pipe_impl::release_fd(release_nonblocking());
}

io::Result<Receiver> Receiver::from_owned_fd(int fd) {
  return MakeEnd::from<Receiver>(fd, false, "pipe::Receiver::from_owned_fd");
}
io::Result<Receiver> Receiver::from_owned_fd_unchecked(int fd) {
  return MakeEnd::from<Receiver>(fd, true, "pipe::Receiver::from_owned_fd");
}
io::Result<int> Receiver::into_blocking_fd() && {
  return net_unix_pipe_impl::release_fd(release_blocking());
}
io::Result<int> Receiver::into_nonblocking_fd() && {
  return net_unix_pipe_impl::release_fd(release_nonblocking());
}

io::Result<Receiver> OpenOptions::open_receiver(const std::string& path) const {
  return MakeEnd::from<Receiver>(net_unix_pipe_impl::open_fifo(path, O_RDONLY, read_write_),
                                 unchecked_, "pipe::OpenOptions::open_receiver");
}

io::Result<Sender> OpenOptions::open_sender(const std::string& path) const {
  return MakeEnd::from<Sender>(net_unix_pipe_impl::open_fifo(path, O_WRONLY, read_write_),
                               unchecked_, "pipe::OpenOptions::open_sender");
}

}  // namespace tokio::net::unix::pipe
