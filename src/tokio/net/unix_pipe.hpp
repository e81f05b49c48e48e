#pragma once
// net::unix::pipe: anonymous pipes and FIFOs as async byte streams (Tokio's
// tokio::net::unix::pipe). A Sender is io::AsyncWrite, a Receiver io::AsyncRead.
//
//   auto [tx, rx] = tokio::net::unix::pipe::pipe().value();
//   co_await tx.write_all("hello");                 // rx reads "hello"
//   tx = {};                                        // closed: rx reads end of file
//
//   auto rx = pipe::OpenOptions().open_receiver("/tmp/fifo");   // a FIFO (mkfifo)
//   auto tx = pipe::OpenOptions().read_write(true).open_sender("/tmp/fifo");
//
// Opening a FIFO's write end fails with ENXIO while it has no reader (the non-blocking
// open(2) rule), unless read_write(true) opens it O_RDWR, which Linux allows. The file is
// checked to be a FIFO (EINVAL, "not a pipe", otherwise) unless unchecked(true): a
// character device or a socket can then be used the same way. Every end is non-blocking,
// close-on-exec and registered with the current runtime's reactor (so an I/O-enabled
// runtime must be running: the error says so otherwise).
//
// Cancel safety: read and write are cancel-safe. A write whose reader is gone fails with
// std::errc::broken_pipe; SIGPIPE is never raised. An empty end (default-constructed,
// moved-from) fails every operation with EBADF.

#include <string>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/ext.hpp"
#include "tokio/net/detail/pipe.hpp"
#include "tokio/net/detail/socket.hpp"

namespace tokio::net::unix::pipe {

class Sender;
class Receiver;
struct MakeEnd;  // unix_pipe.cpp: how every opening function builds an end

// Both ends of a new anonymous pipe (pipe2(2)).
io::Result<std::pair<Sender, Receiver>> pipe();

// The write end: write, write_vectored, flush, shutdown (closes it), try_write, writable
// (detail::PipeWriter), and io::Ext's write_all...
class Sender : public detail::PipeWriter, public io::Ext<Sender> {
 public:
  Sender() noexcept = default;
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender&&) noexcept = default;

  // Adopts the write end of a pipe or FIFO (made non-blocking). Fails with EINVAL when fd
  // is not a FIFO (unless _unchecked) or not open for writing; the fd is closed on failure.
  static io::Result<Sender> from_owned_fd(int fd);
  static io::Result<Sender> from_owned_fd_unchecked(int fd);
  // Gives the fd back (deregistered), in blocking or non-blocking mode.
  io::Result<int> into_blocking_fd() &&;
  io::Result<int> into_nonblocking_fd() &&;

 private:
  friend struct MakeEnd;
  explicit Sender(detail::PollSocket p) noexcept : PipeWriter(std::move(p)) {}
};

// The read end: read, try_read, readable (detail::PipeReader), and io::Ext's read_exact,
// read_to_end... A read returns 0 once every write end is closed.
class Receiver : public detail::PipeReader, public io::Ext<Receiver> {
 public:
  Receiver() noexcept = default;
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&&) noexcept = default;

  static io::Result<Receiver> from_owned_fd(int fd);
  static io::Result<Receiver> from_owned_fd_unchecked(int fd);
  io::Result<int> into_blocking_fd() &&;
  io::Result<int> into_nonblocking_fd() &&;

 private:
  friend struct MakeEnd;
  explicit Receiver(detail::PollSocket p) noexcept : PipeReader(std::move(p)) {}
};

// Opens FIFOs (Tokio's pipe::OpenOptions). The path is anything that converts to
// std::string (a std::filesystem::path does); one holding a NUL byte gives EINVAL.
class OpenOptions {
 public:
  OpenOptions() noexcept = default;
  static OpenOptions new_() noexcept { return OpenOptions(); }
  // Open O_RDWR (Linux): a sender opens without a reader, a receiver never reads end of
  // file while it holds the write side itself.
  OpenOptions& read_write(bool on) noexcept {
    read_write_ = on;
    return *this;
  }
  // Skip the check that the file is a FIFO.
  OpenOptions& unchecked(bool on) noexcept {
    unchecked_ = on;
    return *this;
  }
  io::Result<Receiver> open_receiver(const std::string& path) const;
  io::Result<Sender> open_sender(const std::string& path) const;

 private:
  bool read_write_ = false;
  bool unchecked_ = false;
};

}  // namespace tokio::net::unix::pipe
