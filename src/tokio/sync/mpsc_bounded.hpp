#pragma once
// mpsc::channel<T>(capacity): the bounded multi-producer single-consumer channel.
//
//   auto [tx, rx] = tokio::sync::mpsc::channel<int>(100);
//   tokio::spawn([](auto tx) -> tokio::Task<> { (void)co_await tx.send(1); }, tx);
//   while (auto v = co_await rx.recv()) use(*v);        // std::nullopt: all senders gone
//
// Backpressure: at most `capacity` messages are buffered; send() waits for a free slot
// (FIFO among waiting senders). A slot can be reserved first (reserve() -> Permit) and
// filled later without waiting. Copying a Sender clones it; the channel ends for the
// receiver when the last Sender (and Permit / OwnedPermit) is gone.
//
// Cancel safety: send() is not cancel-safe in the sense that a cancelled send loses its
// place in the queue and its message (the message was not sent). reserve(), reserve_many()
// and reserve_owned() lose only their place; slots already granted go to the next waiting
// sender (a cancelled reserve_owned() also drops the sender it consumed). closed() is
// cancel-safe. send_timeout() is like send(): destroyed while waiting (select, abort, an
// outer timeout), it drops its message unsent and loses its place; but when its own
// deadline passes, or the receiver closes, the message comes back inside the error, so
// nothing is lost.

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/result.hpp"
#include "tokio/sync/detail/batch_semaphore.hpp"
#include "tokio/sync/detail/blocking.hpp"
#include "tokio/sync/detail/permits.hpp"
#include "tokio/sync/detail/mpsc_chan.hpp"
#include "tokio/sync/error.hpp"
#include "tokio/sync/mpsc_receiver.hpp"
#include "tokio/sync/detail/mpsc_sender_base.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/time/instant.hpp"
#include "tokio/time/detail/timer.hpp"

namespace tokio::detail {
// What a Permit or PermitIterator counts in the channel's sender word (not a Sender).
inline constexpr std::size_t kMpscPermitRef = ChannelCounts::kPermitUnit;
}  // namespace tokio::detail

namespace tokio::sync::mpsc {

template <class T>
class Sender;

// One reserved slot. In Rust a Permit borrows its Sender, so the borrow checker keeps the
// channel open while the permit lives; here the permit holds a reference of its own that
// keeps the channel open as a Sender does, so dropping every Sender while a permit is
// alive neither closes the channel under it (its send would be lost) nor frees it. It is
// not counted as a Sender (strong_count(), as in Tokio).
template <class T>
class [[nodiscard]] Permit {
  using Chan = detail::Chan<T, true>;

 public:
  // Move-only; dropping an unused permit gives the slot back.
  explicit Permit(Chan* c) noexcept : c_(c) { c->counts.tx_clone(detail::kMpscPermitRef); }

  // Sends into the reserved slot (never waits, never fails). Consumes the permit.
  void send(T value) {
    Chan* c = c_.release();
    if (!c) detail::throw_misuse("mpsc::Permit::send on a used (or moved-from) permit");
    c->push(std::move(value));
    c->tx_drop(detail::kMpscPermitRef);
  }

 private:
  struct Drop {
    void operator()(Chan* c) const noexcept {
      c->release_permit(1);
      c->tx_drop(detail::kMpscPermitRef);
    }
  };
  std::unique_ptr<Chan, Drop> c_;
};

// n reserved slots, handed out one Permit at a time; the rest are released on destruction.
// Holds a reference that keeps the channel open while it holds slots, as Permit does.
template <class T>
class [[nodiscard]] PermitIterator {
  using Chan = detail::Chan<T, true>;

 public:
  PermitIterator(Chan* c, std::size_t n) noexcept : c_(c), n_(n) {
    c->counts.tx_clone(detail::kMpscPermitRef);
  }
  PermitIterator(PermitIterator&& o) noexcept
      : c_(detail::exchange(o.c_, nullptr)), n_(detail::exchange(o.n_, 0)) {}
  PermitIterator& operator=(PermitIterator&&) = delete;
  ~PermitIterator() {
    if (!c_) return;
    if (n_) c_->release_permit(n_);
    c_->tx_drop(detail::kMpscPermitRef);
  }
  std::optional<Permit<T>> next() noexcept {
    if (n_ == 0) return std::nullopt;
    --n_;
    return Permit<T>(c_);
  }
  std::size_t len() const noexcept { return n_; }

 private:
  Chan* c_;
  std::size_t n_;
};

// A reserved slot that owns a Sender (and so keeps the channel open).
template <class T>
class [[nodiscard]] OwnedPermit {
 public:
  explicit OwnedPermit(Sender<T> tx) noexcept : tx_(std::move(tx)) {}
  OwnedPermit(OwnedPermit&&) noexcept = default;
  OwnedPermit& operator=(OwnedPermit&&) = delete;
  ~OwnedPermit() {
    if (tx_.valid()) tx_.chan()->release_permit(1);
  }
  // Sends into the slot and gives the Sender back.
  Sender<T> send(T value) {
    if (!tx_.valid()) detail::throw_misuse("mpsc::OwnedPermit::send on a used permit");
    tx_.chan()->push(std::move(value));
    return std::move(tx_);
  }
  // Gives the slot back without sending; returns the Sender.
  Sender<T> release() noexcept {
    if (tx_.valid()) tx_.chan()->release_permit(1);
    return std::move(tx_);
  }

 private:
  Sender<T> tx_;
};

template <class T>
class Sender : public detail::MpscSenderBase<T, true> {
  using Base = detail::MpscSenderBase<T, true>;
  using Chan = detail::Chan<T, true>;
  using PR = detail::BatchSemaphore::PollResult;

 public:
  using Base::Base;
  // Rust's clone(): the same as a copy (another sender on the same channel).
  Sender clone() const noexcept { return *this; }

  // --- send -------------------------------------------------------------------------------
  class TOKIO_MUST_AWAIT Send : public detail::Leaf<Send> {
   public:
    Send(Chan* c, T&& v) noexcept : c_(c), value_(std::move(v)), op_(&c->sem, 1) {}
    Send(Send&& o) noexcept
        : detail::Leaf<Send>(o),
          c_(o.c_),
          value_(std::move(o.value_)),
          op_(o.op_),
          done_(o.done_) {}
    // Awaited again after it completed (kept as an lvalue): the value is gone, into the
    // channel or back to the caller in the error, so a second send would send what is
    // left of it.
    void before_first_poll() const {
      if (done_) detail::throw_awaited_after_completion("sync::mpsc::Sender::send");
    }
    bool poll(task::Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      PR r = op_.poll(cx.raw_waker());
      if (r == PR::Pending) return false;
      if (r == PR::Ready) sent();
      return true;
    }
    // Leaf's try_poll: sends if a slot is free now, or fails as poll does once the
    // receiver is gone; otherwise nothing is queued.
    bool try_poll() noexcept {
      return detail::coop_try([&] {
        PR r = op_.try_poll();
        if (r == PR::Ready) sent();
        return r != PR::Pending;
      });
    }
    Result<void, SendError<T>> await_resume() {
      done_ = true;
      if (op_.taken()) return {};  // sent() took the slot
      return unexpected(SendError<T>{std::move(value_)});
    }

   private:
    void sent() noexcept {  // the slot is held: the value goes in
      op_.take();
      c_->push(std::move(value_));
    }

    Chan* c_;
    T value_;
    detail::AcquireOp op_;
    bool done_ = false;  // await_resume ran (see before_first_poll)
  };
  // Waits for a free slot and sends; yields Result<void, SendError<T>> (the value comes
  // back when the receiver is closed).
  Send send(T value) const { return Send(this->checked(), std::move(value)); }

  // --- send_timeout -----------------------------------------------------------------------
  // A send with a deadline: one leaf that waits in the semaphore's queue and on a timer.
  // Each poll tries the slot first, so a slot that freed up wins over a deadline that
  // passed in the same instant (as Tokio's select-based send_timeout). The timer is
  // registered only when the send actually has to wait.
  class TOKIO_MUST_AWAIT SendTimeout : public detail::Leaf<SendTimeout> {
   public:
    SendTimeout(Chan* c, T&& v, time::Instant deadline)
        : c_(c),
          value_(std::move(v)),
          op_(&c->sem, 1),
          timer_(deadline, "mpsc::Sender::send_timeout") {}
    SendTimeout(SendTimeout&& o) noexcept
        : detail::Leaf<SendTimeout>(o),
          c_(o.c_),
          value_(std::move(o.value_)),
          op_(o.op_),
          timer_(o.timer_),
          state_(o.state_) {}
    // Also refuses a second await after it completed (see Send::before_first_poll).
    void before_first_poll() {
      if (state_ != kPending) {
        detail::throw_awaited_after_completion("sync::mpsc::Sender::send_timeout");
      }
      timer_.resolve_or_throw("mpsc::Sender::send_timeout");
    }
    bool poll(task::Context& cx) noexcept {
      if (!detail::coop_poll_proceed(cx)) return false;
      PR r = op_.poll(cx.raw_waker());
      if (r == PR::Ready) {
        op_.take();
        timer_.cancel();
        c_->push(std::move(value_));
        state_ = kSent;
        return true;
      }
      if (r == PR::Closed) {
        timer_.cancel();
        state_ = kClosed;
        return true;
      }
      if (!timer_.poll(cx)) return false;
      op_.cancel();  // leave the queue now: the next sender gets the slot
      state_ = kTimedOut;
      return true;
    }
    Result<void, SendTimeoutError<T>> await_resume() {
      using K = typename SendTimeoutError<T>::Kind;
      if (state_ == kSent) return {};
      if (state_ == kTimedOut) timer_.throw_if_errored("mpsc::Sender::send_timeout");
      return unexpected(
          SendTimeoutError<T>{state_ == kClosed ? K::Closed : K::Timeout, std::move(value_)});
    }
    time::Instant deadline() const noexcept { return timer_.deadline(); }

   private:
    enum State : unsigned char { kPending, kSent, kClosed, kTimedOut };
    Chan* c_;
    T value_;
    detail::AcquireOp op_;
    tokio::detail::Timer timer_;
    State state_ = kPending;
  };
  // Waits at most `d` (any std::chrono duration) for a free slot and sends; yields
  // Result<void, SendTimeoutError<T>>, whose value is handed back on timeout or close.
  // Needs a runtime built with enable_time() (else std::logic_error). Cancel safety: see
  // the top of this file.
  template <class Rep, class Period>
  SendTimeout send_timeout(T value, std::chrono::duration<Rep, Period> d) const {
    return SendTimeout(this->checked(), std::move(value), tokio::detail::deadline_after(d));
  }

  // Sends only if a slot is free right now.
  Result<void, TrySendError<T>> try_send(T value) const {
    Chan* c = this->checked();
    switch (c->sem.try_acquire(1)) {
      case detail::BatchSemaphore::TryResult::Ok: c->push(std::move(value)); return {};
      case detail::BatchSemaphore::TryResult::NoPermits:
        return unexpected(TrySendError<T>{TrySendError<T>::Kind::Full, std::move(value)});
      default: return unexpected(TrySendError<T>{TrySendError<T>::Kind::Closed, std::move(value)});
    }
  }

  // For plain threads; throws std::logic_error on a runtime thread.
  Result<void, SendError<T>> blocking_send(T value) const {
    Send s(this->checked(), std::move(value));
    return detail::blocking_wait(s, "mpsc::Sender::blocking_send");
  }

  // --- reserve ----------------------------------------------------------------------------
  struct MakePermit {
    static constexpr const char* kLeafName = "sync::mpsc::Sender::reserve";
    Chan* c;
    Permit<T> operator()(std::size_t) const noexcept { return Permit<T>(c); }
  };
  struct MakeIter {
    static constexpr const char* kLeafName = "sync::mpsc::Sender::reserve";
    Chan* c;
    PermitIterator<T> operator()(std::size_t n) const noexcept { return PermitIterator<T>(c, n); }
  };
  // Holds the strong reference of the consumed sender until the permit takes it over.
  struct MakeOwned {
    static constexpr const char* kLeafName = "sync::mpsc::Sender::reserve";
    Chan* c;
    explicit MakeOwned(Chan* ch) noexcept : c(ch) {}
    MakeOwned(MakeOwned&& o) noexcept : c(detail::exchange(o.c, nullptr)) {}
    ~MakeOwned() {
      if (c) c->tx_drop();
    }
    OwnedPermit<T> operator()(std::size_t) noexcept {
      return OwnedPermit<T>(Sender(detail::exchange(c, nullptr)));
    }
  };
  using Reserve = detail::PermitAcquire<MakePermit, SendError<>>;
  using ReserveMany = detail::PermitAcquire<MakeIter, SendError<>>;
  using ReserveOwned = detail::PermitAcquire<MakeOwned, SendError<>>;

  // Waits for one free slot; yields Result<Permit<T>, SendError<>>.
  Reserve reserve() const {
    Chan* c = this->checked();
    return Reserve(&c->sem, 1, MakePermit{c});
  }
  // Waits for n free slots at once; fails at once when n > max_capacity().
  ReserveMany reserve_many(std::size_t n) const {
    Chan* c = this->checked();
    return ReserveMany(&c->sem, n, MakeIter{c}, n > c->bound);
  }
  // Like reserve(), consuming this sender into the OwnedPermit (use
  // `Sender(tx).reserve_owned()` to keep tx).
  TOKIO_DETAIL_CONSUMES_SELF(reserve_owned, (),
                             "reserve_owned() takes the sender over: write "
                             "std::move(tx).reserve_owned(), or tx.clone().reserve_owned() to "
                             "keep tx")
  TOKIO_DETAIL_CONSUMES_SELF(try_reserve_owned, (),
                             "try_reserve_owned() takes the sender over: write "
                             "std::move(tx).try_reserve_owned(), or tx.clone().try_reserve_owned() "
                             "to keep tx")
  ReserveOwned reserve_owned() && {
    Chan* c = this->checked();
    return ReserveOwned(&c->sem, 1, MakeOwned(this->release_chan()));
  }

  Result<Permit<T>, TrySendError<>> try_reserve() const {
    Chan* c = this->checked();
    switch (c->sem.try_acquire(1)) {
      case detail::BatchSemaphore::TryResult::Ok: return Permit<T>(c);
      case detail::BatchSemaphore::TryResult::NoPermits:
        return unexpected(TrySendError<>{TrySendError<>::Kind::Full});
      default: return unexpected(TrySendError<>{TrySendError<>::Kind::Closed});
    }
  }
  Result<PermitIterator<T>, TrySendError<>> try_reserve_many(std::size_t n) const {
    Chan* c = this->checked();
    if (n > c->bound) return unexpected(TrySendError<>{TrySendError<>::Kind::Full});
    switch (c->sem.try_acquire(n)) {
      case detail::BatchSemaphore::TryResult::Ok: return PermitIterator<T>(c, n);
      case detail::BatchSemaphore::TryResult::NoPermits:
        return unexpected(TrySendError<>{TrySendError<>::Kind::Full});
      default: return unexpected(TrySendError<>{TrySendError<>::Kind::Closed});
    }
  }
  // On failure the sender comes back inside the error.
  Result<OwnedPermit<T>, TrySendError<Sender>> try_reserve_owned() && {
    Chan* c = this->checked();
    switch (c->sem.try_acquire(1)) {
      case detail::BatchSemaphore::TryResult::Ok: return OwnedPermit<T>(std::move(*this));
      case detail::BatchSemaphore::TryResult::NoPermits:
        return unexpected(TrySendError<Sender>{TrySendError<Sender>::Kind::Full, std::move(*this)});
      default:
        return unexpected(
            TrySendError<Sender>{TrySendError<Sender>::Kind::Closed, std::move(*this)});
    }
  }

  // Free slots right now, and the channel's capacity.
  std::size_t capacity() const noexcept {
    return this->chan() ? this->chan()->sem.available_permits() : 0;
  }
  std::size_t max_capacity() const noexcept { return this->chan() ? this->chan()->bound : 0; }

  detail::MpscWeakSender<T, true, Sender> downgrade() const {
    return detail::MpscWeakSender<T, true, Sender>(this->checked());
  }
};

template <class T>
using WeakSender = detail::MpscWeakSender<T, true, Sender<T>>;

// A bounded channel buffering at most `capacity` messages. Throws std::invalid_argument
// when capacity is 0 or above Semaphore's MAX_PERMITS.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  if (capacity == 0 || capacity > detail::BatchSemaphore::MAX_PERMITS) {
    detail::throw_mpsc_capacity(capacity, detail::BatchSemaphore::MAX_PERMITS);
  }
  auto* c = detail::Chan<T, true>::create(capacity);
  return {Sender<T>(c), Receiver<T>(c)};
}

}  // namespace tokio::sync::mpsc
