#pragma once
// io::split(stream): a read half and a write half of any read-write stream, usable from
// two tasks at once (one reading, one writing), and io::unsplit to put them back.
//
//   auto [rd, wr] = io::split(std::move(stream));     // owns the stream
//   tokio::spawn([](auto rd) -> Task<> { ... co_await rd.read(buf) ... }, std::move(rd));
//   co_await io::write_all(wr, data);
//
// The halves share the stream behind a lock that is held only while one operation is
// polled (never while it waits), as in Tokio: a read waiting for data does not block a
// write. If the lock is busy the poll yields (the task is woken to retry at once). An
// lvalue argument is borrowed instead of owned: it must then outlive both halves.
// Sockets have their own lock-free split; this one works for any stream (BufStream,
// DuplexStream, TLS wrappers...).
//
// Cancel safety is that of the stream's own operations (a read half's read is cancel-safe
// when the stream's read is).

#include <atomic>
#include <memory>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "tokio/core/detail/mutex.hpp"
#include "tokio/core/detail/spin_lock.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::detail {

template <class S>
struct SplitShared {
  template <class A,
            std::enable_if_t<!std::is_same_v<std::remove_cvref_t<A>, SplitShared>, int> = 0>
  explicit SplitShared(A&& a) : stream(std::forward<A>(a)) {}

  S stream;
  SpinLock lock;             // held while one half polls an operation
  std::atomic<int> refs{2};  // one per half

  struct Release {
    void operator()(SplitShared* s) const noexcept {
      if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
    }
  };
  bool try_lock_briefly() noexcept {
    for (int i = 0; i < 32; ++i) {
      if (lock.try_lock()) return true;
      cpu_relax();
    }
    return false;
  }
};

// An operation on the shared stream, polled (and created and destroyed) under its lock.
template <class S, class Make>
struct Locked {
  using Inner = decltype(std::declval<Make&>()(std::declval<std::remove_reference_t<S>&>()));
  SplitShared<S>* sh;
  Make make;
  ChildOp<Inner> op{};

  ~Locked() {
    if (op.live()) {
      LockGuard<SpinLock> g(sh->lock);
      op.reset();
    }
  }

  Poll<await_result_t<Inner>> poll(task::Context& cx) {
    if (!sh->try_lock_briefly()) {
      cx.wake_by_ref();  // the other half is mid-poll: retry on the next turn
      return pending;
    }
    struct Unlock {
      SpinLock& l;
      ~Unlock() { l.unlock(); }
    } unlock{sh->lock};
    return op.poll_with(cx, [&] { return make(sh->stream); });
  }
};

// What both halves are: a counted reference to the shared stream (moves leave it null) and
// the way to run one operation on it under the lock.
template <class S>
class SplitHalf {
 protected:
  using Stream = std::remove_reference_t<S>;
  explicit SplitHalf(SplitShared<S>* sh) noexcept : h_(sh) {}
  // Throws std::logic_error on an empty half (default-made, assigned {} or moved from).
  template <class Make>
  AdaptorOp<Locked<S, Make>> locked(Make make) {
    if (!h_) {
      throw std::logic_error(
          "operation on an empty io::ReadHalf/WriteHalf (default-made, reset with = {}, or "
          "moved from)");
    }
    return {Locked<S, Make>{h_.get(), std::move(make)}};
  }
  bool same_split(const SplitHalf& other) const noexcept {
    return h_ && h_.get() == other.h_.get();
  }
  std::unique_ptr<SplitShared<S>, typename SplitShared<S>::Release> h_;
};

}  // namespace tokio::detail

namespace tokio::io {

template <class S>
class WriteHalf;
template <class S>
class ReadHalf;
template <class S>
S unsplit(ReadHalf<S> r, WriteHalf<S> w);

// Each half is move-only; an empty one (default-made: `half = {}` drops a half, as Rust's
// drop(half)) throws std::logic_error from every operation.
template <class S>
class ReadHalf : public Ext<ReadHalf<S>>, public detail::SplitHalf<S> {
  using typename detail::SplitHalf<S>::Stream;

 public:
  ReadHalf() noexcept : detail::SplitHalf<S>(nullptr) {}
  explicit ReadHalf(detail::SplitShared<S>* sh) noexcept : detail::SplitHalf<S>(sh) {}

  // Tokio's ReadHalf::unsplit(self, w): io::unsplit(std::move(r), std::move(w)).
  S unsplit(WriteHalf<S> w) && { return io::unsplit(std::move(*this), std::move(w)); }

  auto read(io::MutableBuffer buf) {
    return this->locked([buf](Stream& s) { return s.read(buf); });
  }
  bool is_pair_of(const WriteHalf<S>& w) const noexcept { return this->same_split(w); }

 private:
  template <class T>
  friend T unsplit(ReadHalf<T> r, WriteHalf<T> w);
};

template <class S>
class WriteHalf : public Ext<WriteHalf<S>>, public detail::SplitHalf<S> {
  using typename detail::SplitHalf<S>::Stream;

 public:
  WriteHalf() noexcept : detail::SplitHalf<S>(nullptr) {}
  explicit WriteHalf(detail::SplitShared<S>* sh) noexcept : detail::SplitHalf<S>(sh) {}

  auto write(io::ConstBuffer buf) {
    return this->locked([buf](Stream& s) { return s.write(buf); });
  }
  auto write_vectored(std::span<const IoSlice> bufs) requires AsyncWriteVectored<Stream> {
    return this->locked([bufs](Stream& s) { return s.write_vectored(bufs); });
  }
  auto flush() {
    return this->locked([](Stream& s) { return s.flush(); });
  }
  auto shutdown() {
    return this->locked([](Stream& s) { return s.shutdown(); });
  }
  bool is_pair_of(const ReadHalf<S>& r) const noexcept { return this->same_split(r); }
};

// Splits a stream into halves that can be used from different tasks at once.
template <class S>
  requires AsyncRead<std::remove_reference_t<S>> && AsyncWrite<std::remove_reference_t<S>>
      std::pair<ReadHalf<S>, WriteHalf<S>> split(S&& stream) {
    auto* sh = new detail::SplitShared<S>(std::forward<S>(stream));
    return {ReadHalf<S>(sh), WriteHalf<S>(sh)};
  }

// Joins the halves of one split back into the stream. Throws std::invalid_argument when
// they come from different splits (or were moved from). No operation on either half may
// be in flight.
template <class S>
S unsplit(ReadHalf<S> r, WriteHalf<S> w) {
  if (!r.is_pair_of(w)) {
    throw std::invalid_argument("io::unsplit: the halves do not come from the same io::split");
  }
  S s = static_cast<S&&>(r.h_.get()->stream);
  return s;
}

}  // namespace tokio::io
