#pragma once
// NextClaim: the claim word of a stream whose pending next() waits inside it (a waker kept
// by the stream or by the streams it polls: StreamMap, Generator, chain, merge, zip, then,
// BoxStream), with the move rule that goes with it.
//
// - PollStream::Next claims next_use() while it waits (detail::PendingClaim), so a second
//   task's next() meanwhile throws std::logic_error naming Derived::kTypeName: it would
//   have taken the one waker over, and the first task would have waited for ever.
// - Moving the stream (either side of a move assignment) while a next() on it waits, in
//   another task, throws std::logic_error before anything changes: that next() refers to
//   this object, and after the move it would have polled a moved-from stream (an end that
//   never was, or a wait for ever). Between items, moves are free.
// - A copy starts unclaimed; copy-assigning over a stream a next() waits in is refused too.
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
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  NextClaim(NextClaim&& o) { check_no_pending_next(o.next_use_, Derived::kTypeName); }
  NextClaim& operator=(const NextClaim& o) {
    if (this != &o) check_no_pending_next(next_use_, Derived::kTypeName);
    return *this;
  }
  NextClaim& operator=(NextClaim&& o) {
    if (this != &o) {
      check_no_pending_next(next_use_, Derived::kTypeName);
      check_no_pending_next(o.next_use_, Derived::kTypeName);
    }
    return *this;
  }

 private:
  ExclusiveUse next_use_;
};

}  // namespace tokio::detail
