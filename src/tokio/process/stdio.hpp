#pragma once
// process::Stdio: what a child's stdin, stdout or stderr is connected to.
//
//   Stdio::piped()     a new pipe; the parent's end becomes Child::stdin / stdout / stderr
//   Stdio::inherit()   the parent's own descriptor (the default for spawn() and status())
//   Stdio::null()      /dev/null (output(): the default for stdin)
//   Stdio::from_fd(fd) that descriptor, owned by the Stdio from now on (closed with it;
//                      Tokio/Rust: Stdio::from(OwnedFd))
//   Stdio::from(std::move(*child.stdout))   chains two children (see process/child_io.hpp)
//
// A Command keeps its Stdio values, so one Command can spawn several children with the
// same configuration (each gets its own pipes; a from_fd descriptor is shared by all).

#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"

namespace tokio::process {

class ChildStdin;
template <int Stream>
class ChildOutput;
using ChildStdout = ChildOutput<1>;
using ChildStderr = ChildOutput<2>;

class Stdio {
 public:
  enum class Kind { inherit, piped, null, fd };

  static Stdio piped() noexcept { return Stdio(Kind::piped, -1); }
  static Stdio inherit() noexcept { return Stdio(Kind::inherit, -1); }
  static Stdio null() noexcept { return Stdio(Kind::null, -1); }
  // Takes ownership of `fd`. The child gets a copy (dup2), in blocking mode if `fd` is.
  static Stdio from_fd(int fd) noexcept { return Stdio(Kind::fd, fd); }
  // The parent's end of another child's pipe, switched back to blocking mode (the next
  // child reads or writes it directly). Tokio: ChildStdout::try_into::<Stdio>().
  static io::Result<Stdio> from(ChildStdin&& s);
  static io::Result<Stdio> from(ChildStdout&& s);
  static io::Result<Stdio> from(ChildStderr&& s);

  Stdio(Stdio&& o) noexcept : kind_(o.kind_), fd_(detail::exchange(o.fd_, -1)) {}
  Stdio& operator=(Stdio&& o) noexcept {
    if (this != &o) {
      close();
      kind_ = o.kind_;
      fd_ = detail::exchange(o.fd_, -1);
    }
    return *this;
  }
  Stdio(const Stdio&) = delete;
  Stdio& operator=(const Stdio&) = delete;
  ~Stdio() { close(); }

  Kind kind() const noexcept { return kind_; }
  // The owned descriptor of a from_fd Stdio (-1 otherwise).
  int as_raw_fd() const noexcept { return fd_; }

 private:
  Stdio(Kind k, int fd) noexcept : kind_(k), fd_(fd) {}
  void close() noexcept;

  Kind kind_;
  int fd_;
};

}  // namespace tokio::process
