#pragma once
// detail::SourceStream<Src, Policy>: the skeleton of the wrapper streams (ReceiverStream,
// BroadcastStream, IntervalStream, SignalStream, the listener, lines and read_dir streams;
// WatchStream, whose first item needs no receive, is written apart).
//
// The wrapper owns its source (a receiver, an interval, a listener...) and keeps the
// source's receive operation in flight between polls, so a destroyed next() leaves it
// running and the next call picks its result up. Policy says how:
//   auto op(Src&)                         starts one receive (returns a tokio awaitable)
//   bool map(Result&&, optional<Item>&)   turns its result into an item (true: done, with
//                                         an item or, left empty, the end of the stream;
//                                         false: nothing to yield, receive again)
// Moving the wrapper cancels the receive in flight first (every source's receive is
// cancel-safe, so no item is lost).
//
// One next() at a time: the receive in flight keeps one waker, so a second task's next()
// would take it over and the first task would wait for ever. PollStream::Next claims
// next_use() while it waits, and a second next() meanwhile throws std::logic_error naming
// Policy::kTypeName. (The wrapped receiver's own claim cannot serve: a ReceiverStream
// holds it as the owner, and the receive in flight is the wrapper's, not a next()'s.)

#include <optional>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/stream/stream.hpp"

namespace tokio::detail {

// The map half of a Policy whose source's receive yields io::Result<std::optional<T>>
// (lines, segments, directory entries): each value and each error is an item, nullopt
// ends the stream.
template <class T>
struct FallibleNextMap {
  static constexpr const char* kTypeName = "stream wrapper (LinesStream, ReadDirStream...)";
  using Item = io::Result<T>;
  bool map(io::Result<std::optional<T>>&& r, std::optional<Item>& out) {
    if (!r) {
      out.emplace(unexpected(r.error()));
    } else if (*r) {
      out.emplace(std::move(**r));
    }
    return true;
  }
};

template <class Src, class Policy>
class SourceStream : public stream::PollStream<SourceStream<Src, Policy>, typename Policy::Item> {
  using Item = typename Policy::Item;
  using Op = decltype(std::declval<Policy&>().op(std::declval<Src&>()));

 public:
  explicit SourceStream(Src src) : src_(std::move(src)) {}
  SourceStream(SourceStream&& o)
      : src_((check_no_pending_next(o.next_use_, kTypeName), o.op_.reset(), std::move(o.src_))),
        pol_(std::move(o.pol_)) {}
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  SourceStream& operator=(SourceStream&& o) {
    if (this != &o) {
      check_no_pending_next(next_use_, kTypeName);
      check_no_pending_next(o.next_use_, kTypeName);
      op_.reset();
      o.op_.reset();
      src_ = std::move(o.src_);
      pol_ = std::move(o.pol_);
    }
    return *this;
  }
  ~SourceStream() { op_.reset(); }

  // Asked (TryContext) when the source's receive can be (a channel's recv, a tick, an
  // accept...).
  template <class Cx>
    requires ChildPolls<Op, Cx>
  bool poll_next(Cx& cx, std::optional<Item>& out) {
    for (;;) {
      if (!op_.live()) op_.start([&] { return pol_.op(src_); });
      if (!poll_child(op_, cx)) return false;
      if (pol_.map(op_.take(), out)) return true;
    }
  }

  // The source (get_ref / get_mut in tokio-stream). get_mut cancels the receive in flight
  // first (cancel-safe: nothing is lost), so the source is free for the caller's own
  // operations (a receiver's try_recv would otherwise be refused as a second receive).
  const Src& get_ref() const noexcept { return src_; }
  static constexpr const char* kTypeName = Policy::kTypeName;
  ExclusiveUse& next_use() noexcept { return next_use_; }
  Src& get_mut() noexcept {
    op_.reset();
    return src_;
  }
  // Gives the source back (a receive in flight is cancelled).
  Src into_inner() && {
    op_.reset();
    return std::move(src_);
  }

 protected:
  Src src_;
  [[no_unique_address]] Policy pol_;
  ChildOp<Op> op_;
  ExclusiveUse next_use_;
};

}  // namespace tokio::detail
