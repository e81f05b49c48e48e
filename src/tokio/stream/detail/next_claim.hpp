#pragma once
// NextClaim: the claim word of a stream whose pending next() waits inside it (a waker kept
// by the stream or by the streams it polls: StreamMap, Generator, chain, merge, zip, then,
// BoxStream, the timed combinators), with the move rule that goes with it.
//
// - PollStream::Next claims next_use() while it waits (detail::PendingClaim), so a second
//   task's next() meanwhile throws std::logic_error naming Derived::kTypeName: it would
//   have taken the one waker over, and the first task would have waited for ever.
// - Moves do not throw, so that these streams go through channels (mpsc needs nothrow
//   moves) and grow in vectors without copies. Moving one (either side of a move
//   assignment) while a next() on it waits, in another task, is a misuse that would leave
//   that task polling a moved-from object (an end that never was, or a wait for ever): it
//   is reported on stderr and the program aborts (abort_if_pending_next), before anything
//   moves. FramedRead, Framed and the wrappers whose moves may throw anyway refuse it with
//   a std::logic_error instead (check_no_pending_next). Between items, moves are free.
// - A copy starts unclaimed; copy-assigning over a stream a next() waits in aborts too.
#include "tokio/io/detail/exclusive.hpp"

namespace tokio::detail {

template <class Derived>
class NextClaim {
 public:
  ExclusiveUse& next_use() noexcept { return next_use_; }

 protected:
  NextClaim() = default;
  ~NextClaim() = default;
  NextClaim(const NextClaim&) noexcept {}
  NextClaim(NextClaim&& o) noexcept { abort_if_pending_next(o.next_use_, Derived::kTypeName); }
  NextClaim& operator=(const NextClaim& o) noexcept {
    if (this != &o) abort_if_pending_next(next_use_, Derived::kTypeName);
    return *this;
  }
  NextClaim& operator=(NextClaim&& o) noexcept {
    if (this != &o) {
      abort_if_pending_next(next_use_, Derived::kTypeName);
      abort_if_pending_next(o.next_use_, Derived::kTypeName);
    }
    return *this;
  }

 private:
  ExclusiveUse next_use_;
};

}  // namespace tokio::detail
