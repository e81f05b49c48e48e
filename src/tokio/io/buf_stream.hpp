#pragma once
// io::BufStream<S>: a read-write stream with both halves buffered, i.e. a BufReader over
// a BufWriter over S (Tokio's BufStream). Reads use the read buffer, writes collect in the
// write buffer until flush/shutdown or until it fills.
//
//   io::BufStream s(std::move(tcp));
//   co_await io::write_all(s, request);
//   co_await s.flush();
//   std::string line;
//   co_await io::read_line(s, line);
//
// Unflushed writes are lost when a BufStream is destroyed; flush or shut it down first.
// Cancel safety is that of BufReader (reads) and BufWriter (writes).

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "tokio/io/async_io.hpp"
#include "tokio/io/buf_reader.hpp"
#include "tokio/io/buf_writer.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::io {

template <class S>
class BufStream : public Ext<BufStream<S>> {
  using Inner = std::remove_reference_t<S>;

 public:
  static_assert(AsyncRead<Inner> && AsyncWrite<Inner>,
                "io::BufStream<S> needs a stream that is both AsyncRead and AsyncWrite");

  explicit BufStream(S stream)
      : inner_(BufWriter<S>(std::forward<S>(stream), kDefaultBufSize), kDefaultBufSize) {}
  BufStream(S stream, std::size_t read_capacity, std::size_t write_capacity)
      : inner_(BufWriter<S>(std::forward<S>(stream), write_capacity), read_capacity) {}
  // Tokio's spelling: BufStream<S>::with_capacity(read_capacity, write_capacity, stream).
  static BufStream with_capacity(std::size_t read_capacity, std::size_t write_capacity, S stream) {
    return BufStream(std::forward<S>(stream), read_capacity, write_capacity);
  }

  Inner& get_ref() noexcept { return inner_.get_ref().get_ref(); }
  Inner& get_mut() noexcept { return inner_.get_mut().get_mut(); }
  // The stream; buffered data in either direction is lost (flush first).
  Inner into_inner() && { return std::move(inner_).into_inner().into_inner(); }
  TOKIO_DETAIL_CONSUMES_SELF(into_inner, (),
                             "into_inner() takes the BufStream over: write "
                             "std::move(stream).into_inner() (Rust moves it implicitly)")
  std::span<const std::byte> read_buffer() const noexcept { return inner_.buffer(); }
  std::span<const std::byte> write_buffer() const noexcept { return inner_.get_ref().buffer(); }

  auto read(io::MutableBuffer buf) noexcept { return inner_.read(buf); }
  auto fill_buf() noexcept { return inner_.fill_buf(); }
  void consume(std::size_t n) noexcept { inner_.consume(n); }
  auto write(io::ConstBuffer buf) noexcept { return inner_.get_mut().write(buf); }
  auto write_vectored(std::span<const IoSlice> bufs) noexcept {
    return inner_.get_mut().write_vectored(bufs);
  }
  auto flush() noexcept { return inner_.get_mut().flush(); }
  auto shutdown() noexcept { return inner_.get_mut().shutdown(); }
  // io::AsyncSeek over a seekable stream: the write buffer goes out, the read buffer is
  // dropped (see BufReader::seek and BufWriter::seek).
  auto seek(SeekFrom pos) requires AsyncSeek<Inner> { return inner_.seek(pos); }

 private:
  BufReader<BufWriter<S>> inner_;
};

template <class S>
BufStream(S&&) -> BufStream<std::remove_cvref_t<S>>;

}  // namespace tokio::io
