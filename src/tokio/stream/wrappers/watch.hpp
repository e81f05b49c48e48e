#pragma once
// wrappers::WatchStream<T>: the values of a watch channel as a stream (copies of T).
//
//   tokio::stream::wrappers::WatchStream s(std::move(rx));
//   auto v = co_await s.next();   // first the current value, then each new one
//
// Like every watch receiver it sees the latest value, not every value: several sends
// between two next() calls yield only the last. The stream ends when the sender is gone
// (after the last value was seen). from_changes() skips the current value and waits for
// the next change. next() is cancel-safe (watch changed() is).

#include <optional>
#include <utility>

#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/stream/stream.hpp"
#include "tokio/sync/watch.hpp"

namespace tokio::stream::wrappers {

template <class T>
class WatchStream : public PollStream<WatchStream<T>, T> {
  using ChangedOp = decltype(std::declval<sync::watch::Receiver<T>&>().changed());

 public:
  // Yields the current value first, then every change.
  explicit WatchStream(sync::watch::Receiver<T> rx) : rx_(std::move(rx)) {}
  // Yields only changes made after this call.
  static WatchStream from_changes(sync::watch::Receiver<T> rx) {
    WatchStream s(std::move(rx));
    s.first_ = false;
    return s;
  }
  // NOLINTNEXTLINE(bugprone-exception-escape): throws on purpose (check_no_pending_next)
  WatchStream(WatchStream&& o)
      : rx_((tokio::detail::check_no_pending_next(o.next_use_, kTypeName), o.op_.reset(),
             std::move(o.rx_))),
        first_(o.first_) {}
  WatchStream& operator=(WatchStream&&) = delete;
  ~WatchStream() { op_.reset(); }

  template <class Cx>
    requires tokio::detail::ChildPolls<ChangedOp, Cx>
  bool poll_next(Cx& cx, std::optional<T>& out) {
    if (first_) {
      first_ = false;
      out.emplace(*rx_.borrow_and_update());
      return true;
    }
    if (!op_.live()) op_.start([&] { return rx_.changed(); });
    if (!tokio::detail::poll_child(op_, cx)) return false;
    if (op_.take()) out.emplace(*rx_.borrow_and_update());
    return true;
  }

  sync::watch::Receiver<T>& get_mut() noexcept { return rx_; }
  // One next() at a time (see detail::SourceStream): a second one from another task while
  // one waits throws std::logic_error.
  static constexpr const char* kTypeName = "stream::wrappers::WatchStream";
  tokio::detail::ExclusiveUse& next_use() noexcept { return next_use_; }
  sync::watch::Receiver<T> into_inner() && {
    op_.reset();
    return std::move(rx_);
  }

 private:
  sync::watch::Receiver<T> rx_;
  bool first_ = true;
  tokio::detail::ChildOp<ChangedOp> op_;
  tokio::detail::ExclusiveUse next_use_;
};
template <class T>
WatchStream(sync::watch::Receiver<T>) -> WatchStream<T>;

}  // namespace tokio::stream::wrappers
