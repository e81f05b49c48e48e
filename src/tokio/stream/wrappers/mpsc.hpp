#pragma once
// wrappers::ReceiverStream<T> / UnboundedReceiverStream<T>: an mpsc receiver as a stream.
//
//   auto [tx, rx] = tokio::sync::mpsc::channel<int>(16);
//   tokio::stream::wrappers::ReceiverStream s(std::move(rx));
//   auto v = co_await s.next();          // std::optional<int>; nullopt once all senders
//                                        // are gone and the channel is empty
//
// next() is cancel-safe: a message is taken from the channel only by the poll that
// completes it (mpsc recv is cancel-safe). close() closes the receiver (buffered messages
// are still yielded); into_inner() gives the receiver back.

#include <utility>

#include "tokio/stream/detail/source_stream.hpp"
#include "tokio/sync/mpsc.hpp"

namespace tokio::detail {

template <class T>
struct MpscRecvPolicy {
  using Item = T;
  static constexpr const char* kTypeName = "stream::wrappers::ReceiverStream";
  // The wrapper holds the receiver's claim (claim_for_owner): its receives skip theirs.
  bool owner = false;
  template <class Rx>
  auto op(Rx& rx) {
    return owner ? rx.recv_as_owner() : rx.recv().operator co_await();
  }
  bool map(std::optional<T>&& r, std::optional<T>& out) {
    if (r) out.emplace(std::move(*r));  // member by member (detail::take_fresh says why)
    return true;
  }
};

// The two mpsc wrappers. While the wrapper owns its receiver it holds the receiver's
// claim (BasicReceiver::claim_for_owner), so its receives skip the claim every receive
// otherwise takes and lets go. It lets go of it where the receiver can reach other hands:
// get_mut(), into_inner(), destruction, and before a move-assignment replaces it. (A
// receiver handed in with a receive of its own still pending cannot be claimed: the
// wrapper's receives then claim as any receive does.)
template <class Rx, class T>
class OwnedReceiverStream : public SourceStream<Rx, MpscRecvPolicy<T>> {
  using Base = SourceStream<Rx, MpscRecvPolicy<T>>;

 public:
  explicit OwnedReceiverStream(Rx rx) : Base(std::move(rx)) {
    this->pol_.owner = this->src_.claim_for_owner();
  }
  // Does not throw (so that it goes through channels): a move while another task waits in
  // next() aborts with the reason (detail::abort_if_pending_next) instead of the base's
  // std::logic_error.
  OwnedReceiverStream(OwnedReceiverStream&& o) noexcept
      : Base((tokio::detail::abort_if_pending_next(o.next_use(), Base::kTypeName), std::move(o))) {
    o.pol_.owner = false;  // the claim went with the receiver
  }
  OwnedReceiverStream& operator=(OwnedReceiverStream&& o) noexcept {
    if (this != &o) {
      tokio::detail::abort_if_pending_next(this->next_use(), Base::kTypeName);
      tokio::detail::abort_if_pending_next(o.next_use(), Base::kTypeName);
      let_go();
      Base::operator=(std::move(o));
      o.pol_.owner = false;
    }
    return *this;
  }
  ~OwnedReceiverStream() { let_go(); }

  // Closes the receiving half (senders fail from now on; buffered messages still come).
  void close() noexcept { this->src_.close(); }
  // The receiver, free for the caller's own receives (the one in flight is cancelled:
  // cancel-safe, nothing is lost).
  Rx& get_mut() noexcept {
    let_go();
    return this->src_;
  }
  Rx into_inner() && {
    let_go();
    return std::move(this->src_);
  }

 private:
  // Cancels the receive in flight, then lets go of the claim (the receiver's receives
  // claim for themselves from here on).
  void let_go() noexcept {
    this->op_.reset();
    if (this->pol_.owner) {
      this->src_.release_owner_claim();
      this->pol_.owner = false;
    }
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class T>
class ReceiverStream : public tokio::detail::OwnedReceiverStream<sync::mpsc::Receiver<T>, T> {
 public:
  explicit ReceiverStream(sync::mpsc::Receiver<T> rx)
      : tokio::detail::OwnedReceiverStream<sync::mpsc::Receiver<T>, T>(std::move(rx)) {}
};
template <class T>
ReceiverStream(sync::mpsc::BasicReceiver<T, true>) -> ReceiverStream<T>;

template <class T>
class UnboundedReceiverStream
    : public tokio::detail::OwnedReceiverStream<sync::mpsc::UnboundedReceiver<T>, T> {
 public:
  explicit UnboundedReceiverStream(sync::mpsc::UnboundedReceiver<T> rx)
      : tokio::detail::OwnedReceiverStream<sync::mpsc::UnboundedReceiver<T>, T>(std::move(rx)) {}
};
template <class T>
UnboundedReceiverStream(sync::mpsc::BasicReceiver<T, false>) -> UnboundedReceiverStream<T>;

}  // namespace tokio::stream::wrappers
