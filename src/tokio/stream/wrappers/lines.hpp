#pragma once
// wrappers::LinesStream<R> / SplitStream<R>: io::Lines / io::Split as streams.
//
//   tokio::stream::wrappers::LinesStream lines(tokio::io::lines(tokio::io::BufReader(std::move(sock))));
//   auto l = co_await lines.next();   // std::optional<io::Result<std::string>>
//
// Each line (without "\n" or "\r\n"), each error as an item (invalid UTF-8 drops that line
// and yields std::errc::illegal_byte_sequence; the stream goes on), nullopt at the end of
// the input. next() is cancel-safe: a partial line stays in the Lines object.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokio/core/result.hpp"
#include "tokio/io/buf_read_ext.hpp"
#include "tokio/stream/detail/source_stream.hpp"

namespace tokio::detail {

template <class T>
struct NextPolicy : FallibleNextMap<T> {
  template <class L>
  auto op(L& l) {
    if constexpr (requires { l.next_line(); }) {
      return l.next_line();
    } else {
      return l.next_segment();
    }
  }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class R>
class LinesStream
    : public tokio::detail::SourceStream<io::Lines<R>, tokio::detail::NextPolicy<std::string>> {
  using Base = tokio::detail::SourceStream<io::Lines<R>, tokio::detail::NextPolicy<std::string>>;

 public:
  explicit LinesStream(io::Lines<R> l) : Base(std::move(l)) {}
};
template <class R>
LinesStream(io::Lines<R>) -> LinesStream<R>;

template <class R>
class SplitStream
    : public tokio::detail::SourceStream<io::Split<R>,
                                         tokio::detail::NextPolicy<std::vector<std::byte>>> {
  using Base =
      tokio::detail::SourceStream<io::Split<R>, tokio::detail::NextPolicy<std::vector<std::byte>>>;

 public:
  explicit SplitStream(io::Split<R> s) : Base(std::move(s)) {}
};
template <class R>
SplitStream(io::Split<R>) -> SplitStream<R>;

}  // namespace tokio::stream::wrappers
