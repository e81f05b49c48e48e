#pragma once
// The socket layer under every net type: an owned, non-blocking, registered fd
// (PollSocket, Tokio's PollEvented) and the one-syscall operations the reactor's IoOp
// retries (recv, send, sendmsg, accept...).
//
// Every op retries EINTR itself and returns a raw result (>= 0, or -errno); sends use
// MSG_NOSIGNAL so a closed peer gives EPIPE instead of killing the process with SIGPIPE.
// A short read or write on a stream socket proves the kernel buffer was drained / filled,
// so the op reports it as `drained` and the readiness is cleared without one more EAGAIN
// syscall (edge-triggered epoll reports the next change).

#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/net/socket_addr.hpp"
#include "tokio/io/interest.hpp"
#include "tokio/io/detail/registration.hpp"

namespace tokio::net {
// How to shut a socket down: std::net::Shutdown.
enum class Shutdown { Read, Write, Both };
}  // namespace tokio::net

namespace tokio::detail {

inline constexpr io::Interest kReadWrite = io::Interest::READABLE | io::Interest::WRITABLE;
// Readiness assumed at registration, so a first operation tries its syscall instead of
// waiting for the driver's first event: a connected socket is writable; an accepted one is
// also assumed readable (clients usually speak first, so the request is often queued
// already; if not, one EAGAIN clears it as after any event). A socket we connected
// ourselves is not: servers rarely speak first, and its first event reports data anyway.
inline constexpr uint32_t kConnected = io::Ready::kReadable | io::Ready::kWritable;

inline int64_t sys_result(long r) noexcept { return r >= 0 ? r : -int64_t(errno); }

// An owned file descriptor, closed on destruction.
class OwnedFd {
 public:
  OwnedFd() noexcept = default;
  explicit OwnedFd(int fd) noexcept : fd_(fd) {}
  OwnedFd(OwnedFd&& o) noexcept : fd_(detail::exchange(o.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = detail::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~OwnedFd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return detail::exchange(fd_, -1); }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC.
io::Result<OwnedFd> new_socket(int domain, int type, int protocol = 0) noexcept;
io::Result<void> set_nonblocking(int fd) noexcept;
io::Result<void> set_opt(int fd, int level, int name, int value) noexcept;
io::Result<int> get_opt(int fd, int level, int name) noexcept;
// get_opt read as a flag (non-zero) or as an unsigned value (TTL, buffer sizes, TOS).
io::Result<bool> get_flag(int fd, int level, int name) noexcept;
io::Result<uint32_t> get_uint(int fd, int level, int name) noexcept;
// SO_BINDTODEVICE (TcpSocket's and UdpSocket's bind_device / device): an interface name,
// or nullopt / "" to remove the binding; device() is nullopt when unbound.
io::Result<void> bind_device(int fd, std::optional<std::string_view> interface) noexcept;
io::Result<std::optional<std::string>> device(int fd);
// The IP type-of-service byte (TcpSocket's and UdpSocket's set_tos / tos): IP_TOS, or
// IPV6_TCLASS on an IPv6 socket (its family read with SO_DOMAIN).
io::Result<void> set_tos(int fd, uint32_t tos) noexcept;
io::Result<uint32_t> get_tos(int fd) noexcept;
io::Result<net::SocketAddr> inet_sock_name(int fd) noexcept;
io::Result<net::SocketAddr> inet_peer_name(int fd) noexcept;
// SO_ERROR: the pending socket error, cleared by reading it.
io::Result<std::optional<std::error_code>> take_socket_error(int fd) noexcept;
io::Result<void> shutdown_socket(int fd, net::Shutdown how) noexcept;
// SO_LINGER as an optional number of seconds.
io::Result<void> set_linger(int fd, std::optional<std::chrono::seconds> d) noexcept;
io::Result<std::optional<std::chrono::seconds>> get_linger(int fd) noexcept;

// A socket fd registered with the reactor; deregistered and closed on destruction.
class PollSocket {
 public:
  PollSocket() noexcept = default;
  // Takes ownership of the (non-blocking) fd and registers it, assuming `ready` (io::Ready
  // bits: kConnected for a connected stream); closes it on failure.
  static io::Result<PollSocket> adopt(OwnedFd fd, io::Interest interest, const char* what,
                                      uint32_t ready = 0);
  // The socket types' from_std: takes ownership of `fd` (closed on failure), makes it
  // non-blocking and registers it.
  static io::Result<PollSocket> from_std(int fd, io::Interest interest, const char* what);

  PollSocket(PollSocket&&) noexcept = default;
  PollSocket& operator=(PollSocket&& o) noexcept {
    if (this != &o) {
      close();
      reg_ = std::move(o.reg_);
      fd_ = std::move(o.fd_);
    }
    return *this;
  }
  ~PollSocket() { close(); }

  int fd() const noexcept { return fd_.get(); }
  ScheduledIo* io() const noexcept { return reg_.io(); }
  bool is_open() const noexcept { return fd_.get() >= 0; }
  bool registered_on(const HandleInner* h) const noexcept { return reg_.on(h); }
  // Moves the fd's registration to the reactor of the calling thread's runtime (the old
  // one may be idle or gone). Nobody may be waiting on the old one: its ScheduledIo goes.
  // Throws as Registration::create outside a runtime or without an I/O driver; on any
  // failure the old registration stays.
  io::Result<void> reregister_here(io::Interest interest, const char* what);
  // Deregisters and closes.
  void close() noexcept {
    (void)reg_.deregister();
    fd_.reset();
  }
  // Deregisters and gives the fd to the caller.
  int release() noexcept {
    (void)reg_.deregister();
    return fd_.release();
  }

 private:
  // Declared first, destroyed last: the fd is still open when the registration goes.
  OwnedFd fd_;
  Registration reg_;
};

// connect(2) on a fresh non-blocking socket, then, while the handshake is in progress, the
// wait for it: the connected socket, registered with the reactor, or the connection's
// error. `what` names the operation in a registration error. The one skeleton of
// TcpStream::connect, TcpSocket::connect and UnixStream::connect.
Task<io::Result<PollSocket>> connect_socket(OwnedFd fd, const sockaddr* addr, socklen_t len,
                                            const char* what);

// --- one-attempt operations (see reactor/registration.hpp for the protocol) ---------------
// TCP_INQ (Linux >= 4.18): recvmsg reports how many bytes are left in the receive queue,
// so a read that filled the caller's buffer can still prove the queue empty and clear
// readiness, saving the EAGAIN read that would otherwise follow. That pays off for
// message-sized reads (request/response traffic: the peer now waits for us); for bulk
// reads the peer is usually still sending, and retrying the read beats waiting for the
// driver, so it only applies to reads of at most kInqMaxRead bytes. Enabled lazily, on a
// stream's first such read that fills its buffer (ScheduledIo::sock_state):
inline constexpr uint8_t kInqUnknown = 0;  // not tried yet
inline constexpr uint8_t kInqOn = 1;       // enabled: reads use recvmsg and get the count
inline constexpr uint8_t kInqOff = 2;      // not a TCP socket, or the kernel refused it
inline constexpr std::size_t kInqMaxRead = 4096;

// recv(2). For TCP streams (`inq` set) a filled buffer turns TCP_INQ on, and afterwards
// the remaining-bytes count tells whether the queue is empty.
struct RecvOp : OpBase {
  static constexpr const char* kLeafName = "socket read (recv)";  // in task dumps
  int fd;
  void* p;
  std::size_t n;
  int flags;
  bool stream;
  std::atomic<uint8_t>* inq = nullptr;  // ScheduledIo::sock_state of a TCP stream
  bool empty = false;                   // TCP_INQ said nothing is left
  // A stream read or peek into an empty buffer: 0 at once, without waiting for the peer.
  // A datagram recv into an empty buffer still waits (it consumes a datagram); on a stream
  // socket `stream` is set, except for TcpStream::peek, which passes MSG_PEEK.
  bool nothing_to_do() const noexcept { return n == 0 && (stream || (flags & MSG_PEEK)); }
  int64_t operator()() noexcept {
    if (inq && n <= kInqMaxRead) {
      uint8_t st = inq->load(std::memory_order_relaxed);
      if (st == kInqOn) return recv_inq();
      int64_t r = recv_plain();
      if (st == kInqUnknown && r > 0 && std::size_t(r) == n) enable_inq();
      return r;
    }
    return recv_plain();
  }
  int64_t recv_plain() noexcept {
    for (;;) {
      long r = ::recv(fd, p, n, flags);
      if (r >= 0 || errno != EINTR) return sys_result(r);
    }
  }
  int64_t recv_inq() noexcept;
  void enable_inq() noexcept;
  bool drained(int64_t r) const noexcept { return stream && (std::size_t(r) < n || empty); }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

struct SendOp : OpBase {
  static constexpr const char* kLeafName = "socket write (send)";  // in task dumps
  int fd;
  const void* p;
  std::size_t n;
  bool stream;
  int64_t operator()() noexcept {
    for (;;) {
      long r = ::send(fd, p, n, MSG_NOSIGNAL);
      if (r >= 0 || errno != EINTR) return sys_result(r);
    }
  }
  bool drained(int64_t r) const noexcept { return stream && std::size_t(r) < n; }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

inline std::size_t iov_total(const iovec* v, std::size_t n) noexcept {
  std::size_t t = 0;
  for (std::size_t i = 0; i < n; ++i) t += v[i].iov_len;
  return t;
}

// How many of `count` buffers one readv / writev / sendmsg / recvmsg may take: the first
// IOV_MAX. The kernel refuses a longer array outright (EINVAL on Linux, EMSGSIZE under
// gVisor), while a shorter one is a partial transfer whose count the caller already
// handles, as Rust's std caps vectored I/O. Every vectored op caps its caller's count with
// this before it computes the op's total, so `drained` compares against what the call
// could move. (A count, not a span's first(): that member costs a user TU 17 ms of clang
// for the iterator concepts it checks, and these ops need only the pointer and count.)
constexpr std::size_t cap_iovecs(std::size_t count) noexcept {
  return count < std::size_t(IOV_MAX) ? count : std::size_t(IOV_MAX);
}

// recvmsg / sendmsg over an iovec array (vectored read and write); the array is already
// capped (cap_iovecs).
struct MsgOp : OpBase {
  static constexpr const char* kLeafName = "socket sendmsg/recvmsg";  // in task dumps
  int fd;
  const iovec* iov;
  std::size_t iovcnt;
  bool write;
  bool stream;
  std::size_t total;
  int64_t operator()() noexcept {
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = iovcnt;
    for (;;) {
      long r = write ? ::sendmsg(fd, &m, MSG_NOSIGNAL) : ::recvmsg(fd, &m, 0);
      if (r >= 0 || errno != EINTR) return sys_result(r);
    }
  }
  bool drained(int64_t r) const noexcept { return stream && std::size_t(r) < total; }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

// Sends the whole buffer, keeping its progress across waits (write_all).
struct SendAllOp : OpBase {
  static constexpr const char* kLeafName = "socket write_all (send)";  // in task dumps
  int fd;
  const std::byte* p;
  std::size_t n;
  std::size_t off = 0;
  int64_t operator()() noexcept {
    while (off < n) {
      long r = ::send(fd, p + off, n - off, MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EINTR) continue;
        return -int64_t(errno);  // EAGAIN: the IoOp waits and calls again
      }
      off += std::size_t(r);
    }
    return int64_t(n);
  }
  io::Result<void> finish(int64_t r) const noexcept {
    if (r < 0) return io_unexpected(r);
    return {};
  }
};

// recvfrom: Conv::convert(const sockaddr_storage&, socklen_t) gives the sender's address.
template <class Conv>
struct RecvFromOp : OpBase {
  static constexpr const char* kLeafName = "socket recv_from";  // in task dumps
  int fd;
  void* p;
  std::size_t n;
  int flags;
  sockaddr_storage ss{};
  socklen_t len = 0;
  RecvFromOp(int f, void* buf, std::size_t size, int fl) noexcept
      : fd(f), p(buf), n(size), flags(fl) {}
  RecvFromOp(const RecvFromOp& o) noexcept : OpBase(), fd(o.fd), p(o.p), n(o.n), flags(o.flags) {}
  int64_t operator()() noexcept {
    for (;;) {
      len = sizeof ss;
      long r = ::recvfrom(fd, p, n, flags, reinterpret_cast<sockaddr*>(&ss), &len);
      if (r >= 0 || errno != EINTR) return sys_result(r);
    }
  }
  auto finish(int64_t r) const -> io::Result<std::pair<std::size_t, typename Conv::type>> {
    if (r < 0) return io_unexpected(r);
    auto a = Conv::convert(ss, len);
    if (!a) return tokio::unexpected(a.error());
    return std::pair<std::size_t, typename Conv::type>(std::size_t(r), std::move(*a));
  }
};

// peek_sender: a zero-byte MSG_PEEK recvfrom, which leaves the datagram queued and gives
// only its source address.
template <class Conv>
struct PeekSenderOp : RecvFromOp<Conv> {
  static constexpr const char* kLeafName = "socket peek_sender";  // in task dumps
  explicit PeekSenderOp(int f) noexcept : RecvFromOp<Conv>(f, nullptr, 0, MSG_PEEK) {}
  auto finish(int64_t r) const -> io::Result<typename Conv::type> {
    auto got = RecvFromOp<Conv>::finish(r);
    if (!got) return tokio::unexpected(got.error());
    return std::move(got->second);
  }
};

struct SendToOp : OpBase {
  static constexpr const char* kLeafName = "socket send_to";  // in task dumps
  int fd;
  const void* p;
  std::size_t n;
  sockaddr_storage ss{};
  socklen_t len = 0;
  int64_t operator()() noexcept {
    for (;;) {
      long r = ::sendto(fd, p, n, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&ss), len);
      if (r >= 0 || errno != EINTR) return sys_result(r);
    }
  }
  io::Result<std::size_t> finish(int64_t r) const noexcept { return finish_size(r); }
};

// accept4 (non-blocking, close-on-exec). The accepted fd is owned by the op until
// Make::make(OwnedFd, const sockaddr_storage&, socklen_t) builds the result, so a
// connection accepted by an operation that is then destroyed is closed, not leaked.
// ECONNABORTED (the peer gave up while queued) is skipped: the next connection is taken.
template <class Make>
struct AcceptOp : OpBase {
  static constexpr const char* kLeafName = "accept";  // in task dumps
  int fd;
  OwnedFd accepted;
  sockaddr_storage ss{};
  socklen_t len = 0;
  explicit AcceptOp(int f) noexcept : fd(f) {}
  AcceptOp(const AcceptOp& o) noexcept : OpBase(), fd(o.fd) {}
  int64_t operator()() noexcept {
    for (;;) {
      len = sizeof ss;
      int r = ::accept4(fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (r >= 0) {
        accepted = OwnedFd(r);
        return 0;
      }
      if (errno != EINTR && errno != ECONNABORTED) return -int64_t(errno);
    }
  }
  auto finish(int64_t r) -> decltype(Make::make(std::move(accepted), ss, len)) {
    if (r < 0) return io_unexpected(r);
    return Make::make(std::move(accepted), ss, len);
  }
};

struct InetAddrConv {
  using type = net::SocketAddr;
  // Out of line (socket.cpp): inline, it would instantiate io::Result<SocketAddr> in
  // every user TU.
  static io::Result<net::SocketAddr> convert(const sockaddr_storage& ss, socklen_t len) noexcept;
};

}  // namespace tokio::detail
