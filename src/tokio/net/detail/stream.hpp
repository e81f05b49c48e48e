#pragma once
// StreamBase: the byte-stream half shared by TcpStream and UnixStream (io::AsyncRead and
// io::AsyncWrite, vectored forms, try_ forms, readiness waits).
//
// Cancel safety (destroying the awaitable before it completes):
//   read, read_vectored, write, write_vectored   cancel-safe: a destroyed read consumed no
//                                                data, a destroyed write wrote nothing
//   readable, writable, ready, flush, shutdown   cancel-safe
//   write_all                                    NOT cancel-safe: part of the buffer may
//                                                have been written when it is destroyed

#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string_view>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/io/detail/closure_op.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::detail {

// shutdown(SHUT_WR) when awaited (AsyncWrite::shutdown).
class TOKIO_MUST_AWAIT ShutdownAwait : public Leaf<ShutdownAwait> {
 public:
  explicit ShutdownAwait(int fd) noexcept : fd_(fd) {}
  ShutdownAwait(const ShutdownAwait& o) noexcept : Leaf<ShutdownAwait>(o), fd_(o.fd_) {}
  bool poll(task::Context&) noexcept { return true; }
  io::Result<void> await_resume() noexcept {
    if (fd_ < 0) return io::os_error(EBADF);
    return shutdown_socket(fd_, net::Shutdown::Write);
  }

 private:
  int fd_;
};

class StreamBase : public io::Ext<StreamBase>, public UserIo<StreamBase> {
 public:
  // Reads up to buf.size() bytes; 0 means end of stream (or an empty buffer).
  auto read(io::MutableBuffer buf) noexcept {
    return IoOp<RecvOp>(sock_.io(), io::Interest::READABLE,
                        RecvOp{{}, sock_.fd(), buf.data(), buf.size(), 0, true, inq_state()});
  }
  // Vectored forms take at most IOV_MAX buffers per call (cap_iovecs); the count says how
  // much moved, as for any partial read or write.
  auto read_vectored(std::span<const iovec> bufs) noexcept {
    return IoOp<MsgOp>(sock_.io(), io::Interest::READABLE, msg_op(bufs, false));
  }

  // Writes some prefix of buf (at least one byte unless buf is empty); returns its length.
  auto write(io::ConstBuffer buf) noexcept {
    return IoOp<SendOp>(sock_.io(), io::Interest::WRITABLE,
                        SendOp{{}, sock_.fd(), buf.data(), buf.size(), true});
  }
  auto write_vectored(std::span<const iovec> bufs) noexcept {
    return IoOp<MsgOp>(sock_.io(), io::Interest::WRITABLE, msg_op(bufs, true));
  }
  // io::AsyncWriteVectored: every slice in one sendmsg (io::IoSlice is an iovec), so
  // io::write_vectored / write_all_vectored send a header and a body in one system call.
  auto write_vectored(std::span<const io::IoSlice> bufs) noexcept {
    return write_vectored(std::span<const iovec>(io::as_iovecs(bufs), bufs.size()));
  }
  // Writes the whole buffer (io::Result<void>). Not cancel-safe.
  auto write_all(io::ConstBuffer buf) noexcept {
    return IoOp<SendAllOp>(sock_.io(), io::Interest::WRITABLE,
                           SendAllOp{{}, sock_.fd(), buf.data(), buf.size()});
  }
  // Sockets have no user-space buffer: flush completes at once.
  auto flush() noexcept { return ReadyValue<io::Result<void>>(io::Result<void>()); }
  // Shuts the write direction down (the peer reads end of stream).
  auto shutdown() noexcept { return ShutdownAwait(sock_.fd()); }

  // Non-waiting forms: EAGAIN (std::errc::resource_unavailable_try_again) when not ready.
  io::Result<std::size_t> try_read(io::MutableBuffer buf) noexcept {
    RecvOp op{{}, sock_.fd(), buf.data(), buf.size(), 0, true, inq_state()};
    return finish_size(try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
  }
  // Appends to a growable container (std::vector<uint8_t>, std::string, codec::BytesMut:
  // Rust's BufMut) into its spare room, as read_buf; EAGAIN as try_read.
  template <io::ByteContainer C>
  io::Result<std::size_t> try_read_buf(C& c) {
    return try_read_into_spare(c, [&](std::span<std::byte> s) { return try_read(s); });
  }
  io::Result<std::size_t> try_read_vectored(std::span<const iovec> bufs) noexcept {
    MsgOp op = msg_op(bufs, false);
    return finish_size(try_io_once(sock_.io(), io::Interest::READABLE.mask(), op));
  }
  io::Result<std::size_t> try_write(io::ConstBuffer buf) noexcept {
    SendOp op{{}, sock_.fd(), buf.data(), buf.size(), true};
    return finish_size(try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
  }
  io::Result<std::size_t> try_write_vectored(std::span<const iovec> bufs) noexcept {
    MsgOp op = msg_op(bufs, true);
    return finish_size(try_io_once(sock_.io(), io::Interest::WRITABLE.mask(), op));
  }

  // Waits until the stream may be readable / writable / ready for `interest`
  // (io::Result<void>, io::Result<void>, io::Result<io::Ready>).
  auto readable() noexcept {
    return ReadinessAwait<FinishVoid>(sock_.io(), io::Interest::READABLE);
  }
  auto writable() noexcept {
    return ReadinessAwait<FinishVoid>(sock_.io(), io::Interest::WRITABLE);
  }
  auto ready(io::Interest interest) noexcept {
    return ReadinessAwait<FinishReady>(sock_.io(), interest);
  }

  int as_raw_fd() const noexcept { return sock_.fd(); }
  // The pending socket error (SO_ERROR), if any; reading it clears it.
  io::Result<std::optional<std::error_code>> take_error() const noexcept;

  // try_io / async_io come from UserIo, which reaches sock_.
  friend class UserIo<StreamBase>;

 protected:
  StreamBase() noexcept = default;
  explicit StreamBase(PollSocket s) noexcept : sock_(std::move(s)) {}
  StreamBase(StreamBase&&) noexcept = default;
  StreamBase& operator=(StreamBase&&) noexcept = default;
  ~StreamBase() = default;

  // One sendmsg / recvmsg over at most IOV_MAX of the caller's buffers.
  MsgOp msg_op(std::span<const iovec> bufs, bool write) const noexcept {
    std::size_t n = cap_iovecs(bufs.size());
    return MsgOp{{}, sock_.fd(), bufs.data(), n, write, true, iov_total(bufs.data(), n)};
  }

  std::atomic<uint8_t>* inq_state() const noexcept {
    ScheduledIo* io = sock_.io();
    return io ? &io->sock_state : nullptr;
  }

  PollSocket sock_;
};

}  // namespace tokio::detail
