#pragma once
// The engine shared by FramedRead, FramedWrite and Framed.
//
// Read side (FramedReadState + framed_poll_next): decode what the buffer holds; when that
// gives no frame, read more into the buffer's spare capacity (the read operation is kept
// in the framed object between polls; a read is cancel-safe, so a next() destroyed
// mid-frame loses nothing: the partial frame stays in the buffer) and decode again. At
// the end of the input, decode_eof decides what the leftovers are (a partial frame is an
// error by default); after the end, or an I/O error, the stream yields nullopt for good.
//
// After a decode error the stream pauses, as tokio-util's FramedImpl (has_errored): the
// error is an item, the next poll yields nullopt once (so a `while (auto x = co_await
// f.next())` loop ends there, as Rust's `while let Some(x)` does), and the poll after that
// resumes. Three differences: the resume decodes what is buffered before it reads
// (tokio-util reads first, so a frame pipelined behind the bad one waited for the peer to
// send more: a client that sent a bad request and a good one and then waited for both
// answers got none for the second); a decoder that consumed nothing while failing would
// fail on the same bytes again at every resume, so that error ends the stream for good
// (tokio-util would error, pause, error...); and an error from decode_eof that consumed
// input pauses like one from decode, after which decode_eof goes on with the rest of the
// buffer (tokio-util ends the stream there, so what it yields from the same bytes depends
// on whether the end was seen before the error).
//
// Write side (FramedWriteApi): items are encoded into the write buffer; a flush writes
// the buffer out (looping over partial writes) and then flushes the writer. feed() first
// flushes when the buffer holds the back-pressure boundary (8 KiB by default) or more, so
// a producer faster than the peer waits instead of growing the buffer without bound; as
// tokio-util's poll_ready, that is checked again at every poll, so once the writer was
// pending with the buffer below the boundary, the item is encoded without writing the
// rest (or flushing the writer). send() also flushes after encoding. The write in progress belongs to the awaitable
// (or, for poll_flush, to the framed object): destroying one mid-flush leaves the
// unwritten bytes in the buffer for the next flush.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/codec/bytes.hpp"
#include "tokio/codec/decoder.hpp"
#include "tokio/codec/encoder.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/io/error.hpp"
#include "tokio/io/read_ext.hpp"

namespace tokio::detail {

inline constexpr std::size_t kFramedInitialCapacity = 8 * 1024;
inline constexpr std::size_t kFramedBackpressure = 8 * 1024;

struct FramedReadState {
  explicit FramedReadState(std::size_t capacity)
      : buf(codec::BytesMut::with_capacity(capacity)),
        min_read(capacity / 4 > 0 ? capacity / 4 : 1) {}
  codec::BytesMut buf;
  std::size_t min_read;  // spare room guaranteed before each read
  // The most one read asks for (ReaderStream: its capacity is the largest chunk, as
  // tokio-util's; the buffer's spare room may be larger, blocks are at least 64 bytes).
  std::size_t max_read = SIZE_MAX;
  bool readable = false;  // the buffer may hold a frame: decode before reading
  bool eof = false;       // the reader returned 0
  bool done = false;      // nothing more will be yielded
  bool errored = false;   // the last item was a decode error: the next poll yields the pause
};

// Decodes one frame from the buffer (no I/O). True when it produced an item (a frame or
// an error) in `out`.
// `at_eof`: after the end of the input (decode_eof) rather than before it (decode).
template <class D>
bool framed_decode_buffered(D& codec, FramedReadState& st, bool at_eof,
                            std::optional<io::Result<codec::decoder_item_t<D>>>& out) {
  const std::size_t before = st.buf.len();
  auto r = at_eof ? codec::decode_eof(codec, st.buf) : codec.decode(st.buf);
  if (!r) {
    // Input consumed while failing: the decoder skipped the bad bytes and can go on after
    // the pause (after the end of the input too: the resume's read returns 0 again and
    // decode_eof goes on with what is buffered, so whether the end had been seen when the
    // error came does not change what is yielded). Nothing consumed: it would fail the
    // same way at every resume, so the stream ends (the nullopt that follows is for good).
    if (st.buf.len() == before) {
      st.done = true;
    } else {
      st.errored = true;
    }
    out.emplace(unexpected(r.error()));
    return true;
  }
  if (*r) {
    out.emplace(std::move(**r));
    return true;
  }
  if (at_eof) st.done = true;  // nothing left to decode after the end
  st.readable = false;
  return false;
}

// Asked (Cx = TryContext) when the reader's read can be (a socket's, a pipe's): a frame
// already buffered, or one a read finds without waiting.
template <class R, class D, class Cx>
  requires ChildPolls<read_op_t<R>, Cx>
bool framed_poll_next(R& io, D& codec, FramedReadState& st, ChildOp<read_op_t<R>>& op, Cx& cx,
                      std::optional<io::Result<codec::decoder_item_t<D>>>& out) {
  for (;;) {
    if (st.done) return true;
    if (st.errored) {
      // The pause after a decode error: nullopt once. The next poll decodes what the
      // buffer still holds before it reads (the error consumed input, so this ends).
      st.errored = false;
      st.readable = !st.buf.is_empty();
      return true;
    }
    if (st.readable) {
      if (framed_decode_buffered(codec, st, st.eof, out)) return true;
      if (st.done) return true;
    }
    if (!op.live()) {
      st.buf.reserve(st.min_read);
      op.start([&] {
        auto spare = st.buf.spare_capacity_mut();
        return io.read(spare.first(spare.size() < st.max_read ? spare.size() : st.max_read));
      });
    }
    if (!poll_child(op, cx)) return false;
    io::Result<std::size_t> n = op.take();
    if (!n) {
      st.done = true;
      out.emplace(unexpected(n.error()));
      return true;
    }
    if (*n == 0) {
      st.eof = true;
    } else {
      st.buf.advance_mut(checked_count(*n, st.buf.capacity() - st.buf.len()));
    }
    st.readable = true;
  }
}

// Writes `buf` out (advancing it over what was written), then flushes the writer when
// `flush_inner`. True when done; `err` tells how.
template <class W>
class FlushDriver {
 public:
  bool poll(W& w, codec::BytesMut& buf, bool flush_inner, task::Context& cx, std::error_code& err) {
    while (!buf.is_empty()) {
      if (!wop_.live())
        wop_.start([&] { return w.write(std::span<const std::byte>(buf.as_span())); });
      if (!wop_.poll(cx)) return false;
      io::Result<std::size_t> n = wop_.take();
      if (!n) {
        err = n.error();
        return true;
      }
      if (*n == 0) {
        err = io::Errc::write_zero;
        return true;
      }
      buf.advance(checked_count(*n, buf.len()));
    }
    if (flush_inner) {
      if (!fop_.live()) fop_.start([&] { return w.flush(); });
      if (!fop_.poll(cx)) return false;
      io::Result<void> r = fop_.take();
      if (!r) err = r.error();
    }
    return true;
  }
  // Cancels a write or flush in progress (both are cancel-safe).
  void reset() noexcept {
    wop_.reset();
    fop_.reset();
  }

 private:
  ChildOp<write_op_t<W>> wop_;
  ChildOp<flush_op_t<W>> fop_;
};

template <class Derived, class W>
class FramedWriteApi;

// feed (Flush = false) and send (Flush = true): wait for room (flush when the buffer is at
// the boundary), encode the item, and for send flush everything.
//
// A write in progress holds a view of the buffer, so nothing may change the buffer until
// that write completes or is cancelled: a back-pressure flush whose partial writes took the
// buffer below the boundary cancels its pending write before encoding (the buffer would be
// reallocated or compacted under it), and only one sink operation may use the buffer at a
// time (detail::ExclusiveUse).
//
// FramedSinkOp is what every sink operation shares: the claim around each poll, the error
// and the result. Derived supplies step_claimed.
template <class Derived, class F>
class TOKIO_MUST_AWAIT FramedSinkOp : public CompositeLeaf<Derived> {
 public:
  explicit FramedSinkOp(F& f) noexcept : f_(&f) {}
  bool step(task::Context& cx) {
    return claim_.poll(f_->sink_use(), "FramedWrite / Framed sink",
                       [&] { return static_cast<Derived*>(this)->step_claimed(cx); });
  }
  io::Result<void> await_resume() {
    this->check();
    if (err_) return unexpected(err_);
    return {};
  }

 protected:
  F* f_;
  std::error_code err_;

 private:
  ExclusiveClaim claim_;
};

template <class F, class Item, bool Flush>
class TOKIO_MUST_AWAIT FramedSendOp : public FramedSinkOp<FramedSendOp<F, Item, Flush>, F> {
  using Base = FramedSinkOp<FramedSendOp, F>;
  using Base::err_;
  using Base::f_;

 public:
  template <class U>
  FramedSendOp(F& f, U&& item) : Base(f), item_(std::forward<U>(item)) {}

 private:
  friend Base;
  bool step_claimed(task::Context& cx) {
    // (write_buffer_mut cancels a poll_flush in progress: this op writes from now on.)
    codec::BytesMut& buf = f_->write_buffer_mut();
    if (phase_ == 0) {
      // tokio-util's poll_ready, asked again at every poll: flush while the buffer is at
      // the boundary. A poll that finds it below (a write took it under, then the next
      // write or the writer's flush was pending) stops there and encodes, as tokio-util's
      // does: the pending write or flush is cancelled first, having done nothing, so no
      // write in flight holds a view of the buffer the encoder changes.
      if (buf.len() >= f_->backpressure_boundary()) {
        if (!fl_.poll(f_->get_mut(), buf, true, cx, err_)) return false;
        if (err_) return true;
      } else {
        fl_.reset();
      }
      phase_ = 1;
      io::Result<void> r = f_->encoder_mut().encode(std::move(item_), buf);
      if (!r) {
        err_ = r.error();
        return true;
      }
    }
    if constexpr (Flush) {
      return fl_.poll(f_->get_mut(), buf, true, cx, err_);
    } else {
      return true;
    }
  }

  Item item_;
  int phase_ = 0;  // 0: waiting for room, then encoding; 1: encoded (flushing for send)
  FlushDriver<std::remove_reference_t<decltype(std::declval<F&>().get_mut())>> fl_;
};

// flush (Shutdown = false) and close (Shutdown = true: flush, then shut the writer down).
template <class F, bool Shutdown>
class TOKIO_MUST_AWAIT FramedFlushOp : public FramedSinkOp<FramedFlushOp<F, Shutdown>, F> {
  using W = std::remove_reference_t<decltype(std::declval<F&>().get_mut())>;
  using Base = FramedSinkOp<FramedFlushOp, F>;
  using Base::err_;
  using Base::f_;

 public:
  explicit FramedFlushOp(F& f) noexcept : Base(f) {}

 private:
  friend Base;
  bool step_claimed(task::Context& cx) {
    if (!flushed_) {
      if (!fl_.poll(f_->get_mut(), f_->write_buffer_mut(), true, cx, err_)) return false;
      flushed_ = true;
      if (err_) return true;
    }
    if constexpr (Shutdown) {
      if (!sop_.live()) sop_.start([&] { return f_->get_mut().shutdown(); });
      if (!sop_.poll(cx)) return false;
      io::Result<void> r = sop_.take();
      if (!r) err_ = r.error();
    }
    return true;
  }

  bool flushed_ = false;
  FlushDriver<W> fl_;
  ChildOp<shutdown_op_t<W>> sop_;
};

// The sink half of FramedWrite and Framed: the write buffer, its back-pressure boundary,
// and the operations on them. Derived (CRTP) supplies get_mut() (the writer, of type W)
// and encoder_mut().
template <class Derived, class W>
class FramedWriteApi {
 public:
  // Encodes `item` into the write buffer (after flushing it when it is at the
  // back-pressure boundary); does not flush otherwise. NOT cancel-safe: the item is
  // dropped if the await is destroyed before it was encoded.
  template <class Item>
  auto feed(Item&& item) {
    check_encodable<Item>();
    return FramedSendOp<Derived, std::decay_t<Item>, false>(self(), std::forward<Item>(item));
  }
  // feed, then flush everything (SinkExt::send). NOT cancel-safe, as feed; once encoded
  // the item is in the buffer and a later flush writes it.
  template <class Item>
  auto send(Item&& item) {
    check_encodable<Item>();
    return FramedSendOp<Derived, std::decay_t<Item>, true>(self(), std::forward<Item>(item));
  }
  // Writes the whole write buffer out, then flushes the writer. Cancel-safe in that what
  // was not written stays buffered.
  auto flush() noexcept { return FramedFlushOp<Derived, false>(self()); }
  // flush, then shuts the writer down (the peer reads end of stream).
  auto close() noexcept { return FramedFlushOp<Derived, true>(self()); }

  // Poll form of flush (Rust's Sink::poll_flush), to combine with other polls (a
  // deadline...): true once everything buffered is written and the writer flushed (`out`
  // says how that went); false with the task's waker registered. The write in progress is
  // kept here between polls; anything else that touches the buffer (feed, send, flush,
  // write_buffer_mut) cancels it first, which loses nothing (a cancelled write wrote
  // nothing).
  bool poll_flush(task::Context& cx, io::Result<void>& out) {
    std::error_code err;
    if (!flusher_.poll(self().get_mut(), wbuf_, true, cx, err)) return false;
    if (err) {
      out = unexpected(err);
    } else {
      out = io::Result<void>();
    }
    return true;
  }

  const codec::BytesMut& write_buffer() const noexcept { return wbuf_; }
  codec::BytesMut& write_buffer_mut() noexcept {
    flusher_.reset();
    return wbuf_;
  }
  std::size_t backpressure_boundary() const noexcept { return hwm_; }
  void set_backpressure_boundary(std::size_t n) noexcept { hwm_ = n; }

  // The feed / send / flush / close operation using the write buffer: one at a time (a
  // second one polled while the first is pending would change the buffer under the first
  // one's write). The operations claim it (detail::ExclusiveUse).
  ExclusiveUse& sink_use() noexcept { return use_; }

 protected:
  FramedWriteApi() : wbuf_(codec::BytesMut::with_capacity(kFramedInitialCapacity)) {}
  // A write in flight refers to the buffer: it is cancelled before the buffer moves.
  FramedWriteApi(FramedWriteApi&& o)
      : wbuf_((o.flusher_.reset(), std::move(o.wbuf_))), hwm_(o.hwm_) {}
  // The same for both sides when a framed object is replaced by assignment.
  FramedWriteApi& operator=(FramedWriteApi&& o) noexcept {
    flusher_.reset();
    o.flusher_.reset();
    wbuf_ = std::move(o.wbuf_);
    hwm_ = o.hwm_;
    return *this;
  }
  ~FramedWriteApi() = default;
  // Derived's destructor calls this: the write in progress must go before the writer does.
  void cancel_flush() noexcept { flusher_.reset(); }

 private:
  // feed / send say at the call which item the codec cannot take, instead of failing
  // deep inside the send operation (the item is moved into encode when it is sent).
  template <class Item>
  static constexpr void check_encodable() {
    using E = std::remove_reference_t<decltype(std::declval<Derived&>().encoder_mut())>;
    static_assert(codec::Encoder<E, std::decay_t<Item>>,
                  "Framed / FramedWrite send() or feed(): the codec has no "
                  "`io::Result<void> encode(Item, codec::BytesMut& dst)` taking this item type "
                  "(see codec/encoder.hpp)");
  }
  Derived& self() noexcept { return static_cast<Derived&>(*this); }

  codec::BytesMut wbuf_;
  std::size_t hwm_ = kFramedBackpressure;
  FlushDriver<W> flusher_;  // poll_flush's write in progress
  ExclusiveUse use_;
};

}  // namespace tokio::detail
