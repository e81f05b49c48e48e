#pragma once
// ChildStdin (io::AsyncWrite), ChildStdout and ChildStderr (io::AsyncRead): the parent's
// ends of a child's pipes (Stdio::piped()), non-blocking and registered with the reactor
// of the runtime that spawned the child. They work with every I/O utility:
//
//   co_await io::write_all(*child.stdin, "3\n1\n2\n");
//   child.stdin.reset();                               // close: the child reads EOF
//                                                      // (or `in = {}` on one moved out)
//   std::string out;
//   co_await io::read_to_end(*child.stdout, out);
//   io::BufReader lines(std::move(*child.stderr));     // lines(), copy(), split()...
//
// Cancel safety: read, write and write_vectored are cancel-safe (a destroyed read
// consumed nothing, a destroyed write wrote nothing). A write to a pipe the child closed
// fails with std::errc::broken_pipe; SIGPIPE is never raised (see net/detail/pipe.hpp).
//
// ChildStdin::shutdown() closes the pipe so the child reads end of file (Tokio's is a
// no-op there and the pipe closes when ChildStdin is dropped; resetting the optional in
// Child::stdin, or destroying the object, closes it too). Writes after it fail with EBADF.

#include <cstddef>
#include <span>
#include <string_view>

#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/net/detail/socket.hpp"
#include "tokio/net/detail/pipe.hpp"
#include "tokio/io/detail/registration.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::detail {

struct ChildFactory;  // process/command.cpp: builds Child objects around spawned processes

// Registers the parent's end of a pipe with the current runtime's reactor (the fd is
// already non-blocking); closes it on failure.
io::Result<PollSocket> register_pipe(OwnedFd fd, io::Interest interest);

}  // namespace tokio::detail

namespace tokio::process {

class Stdio;

class ChildStdin : public detail::PipeWriter, public io::Ext<ChildStdin> {
 public:
  // Not connected to a child: every operation fails with EBADF. `in = {}` closes a pipe.
  ChildStdin() noexcept = default;
  ChildStdin(ChildStdin&&) noexcept = default;
  ChildStdin& operator=(ChildStdin&&) noexcept = default;
  // write, write_vectored, flush, shutdown (closes the pipe: the child reads end of file),
  // try_write, writable: detail::PipeWriter.

 private:
  friend struct detail::ChildFactory;
  friend class Stdio;
  explicit ChildStdin(detail::PollSocket p) noexcept : PipeWriter(std::move(p)) {}
};

// The read end of a pipe from the child: ChildStdout (Stream 1) and ChildStderr (Stream 2),
// distinct types as in Tokio, written once.
template <int Stream>
class ChildOutput : public detail::PipeReader, public io::Ext<ChildOutput<Stream>> {
 public:
  // Not connected to a child: every operation fails with EBADF. `out = {}` closes a pipe.
  ChildOutput() noexcept = default;
  ChildOutput(ChildOutput&&) noexcept = default;
  ChildOutput& operator=(ChildOutput&&) noexcept = default;
  // read (0 = the child closed its end, usually: it exited), try_read, readable:
  // detail::PipeReader.

 private:
  friend struct detail::ChildFactory;
  friend class Stdio;
  explicit ChildOutput(detail::PollSocket p) noexcept : PipeReader(std::move(p)) {}
};
using ChildStdout = ChildOutput<1>;
using ChildStderr = ChildOutput<2>;

}  // namespace tokio::process
