#pragma once
// Reading helpers over any io::AsyncRead (Tokio's AsyncReadExt as free functions):
//
//   co_await io::read(r, buf)               -> Result<size_t>  one read; 0 = EOF
//   co_await io::read_exact(r, buf)         -> Result<size_t>  fills buf or fails
//   co_await io::read_to_end(r, vec)        -> Result<size_t>  appends until EOF
//   co_await io::read_to_string(r, str)     -> Result<size_t>  same, checked UTF-8
//   co_await io::read_buf(r, readbuf / vec) -> Result<size_t>  one read into spare room
//
// Cancel safety (what a select/abort/timeout that destroys the await leaves behind):
//   read, read_buf        cancel-safe: nothing was read unless the await completed.
//   read_exact            NOT cancel-safe: bytes already read into buf are not reported.
//   read_to_end           NOT cancel-safe in the count it returns, but loses no data: the
//                         bytes read so far stay appended to the container.
//   read_to_string        NOT cancel-safe: as read_to_end, and the string may then end in
//                         the middle of a UTF-8 sequence (it was not validated yet).
// The integer readers live in read_int.hpp.
//
// Every operation is a leaf (or drives the reader's own leaf in place): no allocation per
// call when the reader's read is a leaf.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "tokio/core/config.hpp"
#include "tokio/core/detail/pages.hpp"
#include "tokio/core/result.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/io/detail/child_op.hpp"
#include "tokio/io/error.hpp"
#include "tokio/core/detail/utf8.hpp"

namespace tokio::io {

// A growable container of bytes that read_to_end / read_buf can append to:
// std::vector<std::byte>, std::vector<char>, std::vector<unsigned char>, std::string...
template <class C>
concept ByteContainer = requires(C& c, std::size_t n) {
  {c.data()};
  { c.size() } -> std::convertible_to<std::size_t>;
  { c.capacity() } -> std::convertible_to<std::size_t>;
  c.resize(n);
  c.reserve(n);
  requires sizeof(*c.data()) == 1;
};

// A caller-provided buffer with a fill cursor (Tokio's ReadBuf): read_buf appends to the
// unfilled part and advances the cursor.
class ReadBuf {
 public:
  explicit ReadBuf(io::MutableBuffer storage) noexcept : buf_(storage) {}

  std::size_t capacity() const noexcept { return buf_.size(); }
  std::size_t remaining() const noexcept { return buf_.size() - filled_; }
  std::span<std::byte> filled() const noexcept { return buf_.first(filled_); }
  std::span<std::byte> unfilled() const noexcept { return buf_.subspan(filled_); }
  // Marks n more bytes of unfilled() as filled. Throws std::out_of_range past capacity.
  void advance(std::size_t n) {
    if (n > remaining()) throw std::out_of_range("io::ReadBuf::advance past the end of the buffer");
    filled_ += n;
  }
  void set_filled(std::size_t n) {
    if (n > capacity())
      throw std::out_of_range("io::ReadBuf::set_filled past the end of the buffer");
    filled_ = n;
  }
  void clear() noexcept { filled_ = 0; }
  // Appends bytes; throws std::out_of_range when they do not fit.
  void put(std::span<const std::byte> src) {
    if (src.size() > remaining()) throw std::out_of_range("io::ReadBuf::put: not enough room");
    if (!src.empty()) std::memcpy(buf_.data() + filled_, src.data(), src.size());
    filled_ += src.size();
  }

 private:
  std::span<std::byte> buf_;
  std::size_t filled_ = 0;
};

}  // namespace tokio::io

namespace tokio::detail {

[[noreturn]] void throw_overlong_read();
// A read_to_end destroyed unfinished could not append the bytes it had staged (out of
// memory): says so on stderr, as they are lost.
void report_lost_read(std::size_t bytes) noexcept;

// Appends bytes to a ByteContainer.
template <class C>
void append_bytes(C& c, std::span<const std::byte> s) {
  if (s.empty()) return;
  using T = std::remove_cv_t<std::remove_reference_t<decltype(*c.data())>>;
  const T* p = reinterpret_cast<const T*>(s.data());
  if constexpr (requires { c.append(p, s.size()); }) {
    c.append(p, s.size());  // std::string: its append path (insert goes through replace)
  } else if constexpr (requires { c.insert(c.end(), p, p + s.size()); }) {
    c.insert(c.end(), p, p + s.size());  // one copy, amortized growth, no zero-fill
  } else {
    std::size_t old = c.size();
    c.resize(old + s.size());
    std::memcpy(reinterpret_cast<std::byte*>(c.data()) + old, s.data(), s.size());
  }
}

// A reader that reports more bytes than the buffer it was given is broken; carrying on
// would read past the buffer. The exception surfaces from the await.
inline std::size_t checked_count(std::size_t n, std::size_t asked) {
  if (TOKIO_UNLIKELY(n > asked)) throw_overlong_read();
  return n;
}

// Moves all of buf through op, one transfer(rest of buf) after another until `done`
// reaches buf.size() (`done` survives across polls, so a cancelled or failed call never
// moves a byte twice when polled again). Fails with the transfer's error, or with
// `on_zero` when a transfer makes no progress. The shared loop of read_exact, write_all,
// the integer readers and writers and BufWriter's flush.
template <class Op, class Buf, class Transfer>
Poll<io::Result<void>> poll_all(task::Context& cx, Op& op, Buf buf, std::size_t& done,
                                io::Errc on_zero, Transfer&& transfer) {
  while (done < buf.size()) {
    auto n = op.poll_with(cx, [&] { return transfer(buf.subspan(done)); });
    if (!n) return pending;
    if (!*n) return unexpected(n->error());
    if (**n == 0) return unexpected(make_error_code(on_zero));
    done += checked_count(**n, buf.size() - done);
  }
  return io::Result<void>();
}

// Reads into buf[filled..] until buf is full; end of stream first is Errc::unexpected_eof.
template <class R>
Poll<io::Result<void>> poll_read_exact(task::Context& cx, R& r, ChildOp<read_op_t<R>>& op,
                                       std::span<std::byte> buf, std::size_t& filled) {
  return poll_all(cx, op, buf, filled, io::Errc::unexpected_eof,
                  [&](std::span<std::byte> b) { return r.read(b); });
}

template <class R>
struct ReadExact {
  R* r;
  std::span<std::byte> buf;
  std::size_t filled = 0;
  ChildOp<read_op_t<R>> op{};

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    return map_ok(poll_read_exact(cx, *r, op, buf, filled), [&] { return filled; });
  }
};

// A read into a container's spare room (read_to_end, read_to_string, read_buf into a
// container). While a read is in flight the container is grown past its `valid` real bytes
// (std containers zero-fill what they grow into, so growth is batched); what the read
// brings is added to valid, and shrink() sizes the container back to valid. Destroying the
// operation unfinished (cancellation) shrinks it too, once the read is gone.
template <class R, class C>
struct SpareRoomRead {
  R* r;
  C* c;
  std::size_t valid = 0;
  bool grown = false;
  ChildOp<read_op_t<R>> op{};

  ~SpareRoomRead() {
    op.reset();  // no read may still target the container
    shrink();
  }
  void shrink() {
    if (detail::exchange(grown, false)) c->resize(valid);
  }
  // Polls a read into c[valid, size()); grow() makes that room when a read starts.
  template <class Grow>
  Poll<io::Result<std::size_t>> poll_read(task::Context& cx, Grow&& grow) {
    auto n = op.poll_with(cx, [&] {
      grow(*c);
      grown = true;
      auto* p = reinterpret_cast<std::byte*>(c->data()) + valid;
      return r->read(std::span<std::byte>(p, c->size() - valid));
    });
    if (n && *n) valid += checked_count(**n, c->size() - valid);
    return n;
  }
};

// Past this capacity read_to_end stops growing the container and stages what it reads
// (StagingBuffer).
inline constexpr std::size_t kDirectReadMax = 256 * 1024;

// What a large read_to_end has read and not yet appended: an anonymous mapping grown with
// mremap, appended to the container once, at the end. mremap moves pages instead of
// copying them, as Rust's Vec gets from realloc for blocks glibc mapped itself; a std
// container grows by allocate, copy, free, and every doubling of a 10 MB read copied all
// of it into freshly faulted pages (20 reads of 10 MB in 64 KiB pieces: 2.3 s of CPU
// against 0.16 s staged in a realloc-grown block, the version before this one). Not
// realloc: once a large block has been freed, glibc raises its mmap threshold and serves
// the next ones from an arena, where growth copies (gdb samples of
// process::Command::output on a worker: an 8 -> 16 MB realloc copying). From
// 2 MiB on, the mapping is whole 2 MiB blocks at a 2 MiB boundary advised for transparent
// huge pages: fresh pages were most of the cost left (20 fills of 10 MB of new memory on
// this host: 520-640 ms a 4 KiB fault at a time, 16-33 ms as huge pages). Below 2 MiB it
// is whole 4 KiB pages, so a read of a few hundred KiB keeps only what it touched (huge
// pages from the first block took output() of 10 MB per stream from 1,177 to 954 ms, but
// would hold 2 MiB for a read of 300 KiB; faulting the small blocks in ahead by
// MADV_POPULATE_WRITE gained nothing measurable).
class StagingBuffer {
 public:
  StagingBuffer() noexcept = default;
  // Copied only with the operation before its first poll, when it is empty.
  StagingBuffer(const StagingBuffer&) noexcept {}
  StagingBuffer& operator=(const StagingBuffer&) = delete;
  ~StagingBuffer() { release(); }

  bool active() const noexcept { return cap_ != 0; }
  std::size_t size() const noexcept { return len_; }
  const std::byte* data() const noexcept { return p_; }
  // Room for at least 32 more bytes (at least `first` in all when it starts); the spare
  // part. Throws std::bad_alloc, as a container's growth would.
  std::span<std::byte> spare(std::size_t first);
  void commit(std::size_t n) noexcept { len_ += n; }
  void release() noexcept;

 private:
  std::byte* p_ = nullptr;
  std::size_t len_ = 0;
  std::size_t cap_ = 0;
};

// read_to_end / read_to_string: up to kDirectReadMax the reads go straight into the
// container, kept sized to its capacity while the operation runs (its spare room is
// zero-filled once per growth); past it they go to a StagingBuffer, appended at the end
// (or when the operation is destroyed unfinished: the data read stays appended).
template <class R, class C, bool Utf8>
struct ReadToEnd {
  SpareRoomRead<R, C> rd;
  StagingBuffer staged{};
  std::span<std::byte> target{};  // what the read in flight fills
  std::size_t start = SIZE_MAX;   // the container's size before the call (SIZE_MAX: not polled yet)

  ~ReadToEnd() {
    if (!staged.active()) return;
    rd.op.reset();  // no read may still target the staging buffer
    try {
      append_staged();
    } catch (...) {
      report_lost_read(staged.size());
    }
  }

  // Where the next read goes: the container's spare room or, past kDirectReadMax, the
  // staging buffer. Every read is offered at least 32 bytes, as Tokio's (it reserves 32
  // before each): growing only once full offered reads of 1 or 2 bytes after each
  // doubling, a system call each on a socket or pipe.
  void prepare() {
    C& c = *rd.c;
    if (!staged.active()) {
      std::size_t cap = c.capacity();
      if (cap - rd.valid < 32) cap = cap * 2 > rd.valid + 32 ? cap * 2 : rd.valid + 32;
      if (cap <= kDirectReadMax) {
        c.reserve(cap);
        c.resize(c.capacity());
        rd.grown = true;
        target = std::span<std::byte>(reinterpret_cast<std::byte*>(c.data()) + rd.valid,
                                      c.size() - rd.valid);
        return;
      }
      // The first block is what the container would have grown by.
      target = staged.spare(cap - rd.valid);
      return;
    }
    target = staged.spare(0);
  }

  void append_staged() {
    rd.shrink();
    C& c = *rd.c;
    // Its one growth, and the new pages faulted in by one system call: copied into one by
    // one, fresh pages cost 12 us each on this host (process::Command::output of 10 MB on
    // each stream: 1,288 ms wall without, 1,004 with, Tokio 1,411, one `bench/ab.py 6`).
    c.reserve(rd.valid + staged.size());
    if (staged.size() >= kPrefaultMin) {
      prefault_for_write(reinterpret_cast<std::byte*>(c.data()) + rd.valid, staged.size());
    }
    append_bytes(c, std::span<const std::byte>(staged.data(), staged.size()));
    rd.valid += staged.size();
    staged.release();
  }

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    if (start == SIZE_MAX) start = rd.valid = rd.c->size();
    for (;;) {
      if (!rd.op.live()) prepare();
      auto n = rd.op.poll_with(cx, [&] { return rd.r->read(target); });
      if (!n) return pending;
      if (*n && **n > 0) {
        const std::size_t got = checked_count(**n, target.size());
        if (staged.active()) {
          staged.commit(got);
        } else {
          rd.valid += got;
        }
        continue;
      }
      std::error_code err = *n ? std::error_code() : n->error();
      if (staged.active()) append_staged();
      if constexpr (Utf8) {
        // Like Tokio's read_to_string: on any failure the string is left as it was.
        const auto* text = reinterpret_cast<const unsigned char*>(rd.c->data());
        const std::size_t from = utf8_resume_point(text, start);
        if (!err && !utf8_valid(text + from, rd.valid - from)) {
          err = detail::invalid_utf8();
        }
        if (err) {
          rd.valid = start;
          rd.c->resize(start);  // what a staged append added goes too
        }
      }
      rd.shrink();
      if (err) return unexpected(err);
      return rd.valid - start;
    }
  }
};

// One read into a ReadBuf's unfilled part.
template <class R>
struct ReadIntoBuf {
  R* r;
  io::ReadBuf* b;
  ChildOp<read_op_t<R>> op{};

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    if (b->remaining() == 0) return std::size_t{0};
    auto n = op.poll_with(cx, [&] { return r->read(b->unfilled()); });
    if (n && *n) b->advance(checked_count(**n, b->remaining()));
    return n;
  }
};

// One read appended to a container's spare room, at most kReadBufWindow bytes per call. A
// full container grows first (by 64 bytes, or double), as bytes' Vec<u8> does (chunk_mut);
// one with spare room is offered just that, so reserve(n) bounds the read to n bytes as in
// Rust.
inline constexpr std::size_t kReadBufWindow = 64 * 1024;

// Makes that room: c is resized over it (zero-filled) and its old size returned; the
// caller resizes c back to old size + the bytes read.
template <class C>
std::size_t grow_for_read(C& c) {
  const std::size_t base = c.size();
  if (c.capacity() == base) c.reserve(base + (base < 64 ? 64 : base));
  const std::size_t spare = c.capacity() - base;
  c.resize(base + (spare < kReadBufWindow ? spare : kReadBufWindow));
  return base;
}

template <class R, class C>
struct ReadIntoContainer {
  SpareRoomRead<R, C> rd;

  Poll<io::Result<std::size_t>> poll(task::Context& cx) {
    auto n = rd.poll_read(cx, [&](C& c) { rd.valid = grow_for_read(c); });
    if (n) rd.shrink();
    return n;
  }
};

// The sockets' try_read_buf / try_recv_buf[_from] (Rust's BufMut forms): one non-blocking
// read, `read(std::span<std::byte>)` returning io::Result<size_t> or
// io::Result<pair<size_t, address>>, appended to c's spare room as read_buf does; c keeps
// only the bytes read (none on an error).
template <class C, class Read>
auto try_read_into_spare(C& c, Read&& read) {
  const std::size_t base = grow_for_read(c);
  auto r =
      read(std::span<std::byte>(reinterpret_cast<std::byte*>(c.data()) + base, c.size() - base));
  std::size_t n = 0;
  if (r) {
    if constexpr (requires { r->first; }) n = r->first;
    else n = *r;
  }
  c.resize(base + n);
  return r;
}

template <class R>
using ReadExactOp = AdaptorOp<ReadExact<R>>;
template <class R, class C, bool Utf8>
using ReadToEndOp = AdaptorOp<ReadToEnd<R, C, Utf8>>;

}  // namespace tokio::detail

namespace tokio::io {

// One read into buf: the bytes read, 0 at end of stream (or for an empty buf).
// Cancel-safe.
template <AsyncRead R>
auto read(R& r, io::MutableBuffer buf) {
  return r.read(buf);
}

// Reads exactly buf.size() bytes. End of stream first fails with Errc::unexpected_eof.
// NOT cancel-safe: bytes already read into buf are not reported on cancellation.
template <AsyncRead R>
detail::ReadExactOp<R> read_exact(R& r, io::MutableBuffer buf) {
  return {{&r, buf}};
}

// Reads until end of stream, appending to c; returns how many bytes were appended. On an
// error the bytes read before it stay appended. NOT cancel-safe (the count is lost; the
// data is not: it stays in c).
template <AsyncRead R, ByteContainer C>
detail::ReadToEndOp<R, C, false> read_to_end(R& r, C& c) {
  return {{{&r, &c}}};
}

// read_to_end into a string, then checks that what was appended is UTF-8: if not, fails
// with std::errc::illegal_byte_sequence. On any failure s is left as it was (the bytes
// read are dropped), as in Tokio. NOT cancel-safe (see the top of this file).
template <AsyncRead R>
detail::ReadToEndOp<R, std::string, true> read_to_string(R& r, std::string& s) {
  return {{{&r, &s}}};
}

// One read into the unfilled part of b, advancing its cursor. Cancel-safe.
template <AsyncRead R>
detail::AdaptorOp<detail::ReadIntoBuf<R>> read_buf(R& r, ReadBuf& b) {
  return {{&r, &b}};
}
// One read appended to c's spare capacity, at most that much (a full container grows by
// 64 bytes or double first, as bytes' Vec<u8>); returns the bytes appended, 0 at end of
// stream. Cancel-safe.
template <AsyncRead R, ByteContainer C>
detail::AdaptorOp<detail::ReadIntoContainer<R, C>> read_buf(R& r, C& c) {
  return {{{&r, &c}}};
}

}  // namespace tokio::io
