#pragma once
// wrappers::ReadDirStream: fs::ReadDir as a stream (tokio-stream's ReadDirStream).
//
//   auto rd = co_await tokio::fs::read_dir(path);
//   tokio::stream::wrappers::ReadDirStream entries(std::move(*rd));
//   while (auto e = co_await entries.next()) { ... }  // io::Result<fs::DirEntry> each
//
// Each entry, each error as an item, nullopt once the directory is read. next() is
// cancel-safe: the read in flight stays in the stream and the next call takes its entry.
// Written against any source with ReadDir's `next_entry()`, so this header does not pull
// tokio::fs in (a build without it, TOKIO_CONFIG_NO_FS, keeps the streams).

#include <optional>
#include <utility>

#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"
#include "tokio/stream/detail/source_stream.hpp"

namespace tokio::detail {

// What RD::next_entry() yields: io::Result<std::optional<Entry>>.
template <class RD>
using read_dir_entry_t =
    typename await_result_t<decltype(std::declval<RD&>().next_entry())>::value_type::value_type;

template <class RD>
struct ReadDirPolicy : FallibleNextMap<read_dir_entry_t<RD>> {
  auto op(RD& rd) { return rd.next_entry(); }
};

}  // namespace tokio::detail

namespace tokio::stream::wrappers {

template <class RD>
class ReadDirStream : public tokio::detail::SourceStream<RD, tokio::detail::ReadDirPolicy<RD>> {
  using Base = tokio::detail::SourceStream<RD, tokio::detail::ReadDirPolicy<RD>>;

 public:
  explicit ReadDirStream(RD rd) : Base(std::move(rd)) {}
};
template <class RD>
ReadDirStream(RD) -> ReadDirStream<RD>;

}  // namespace tokio::stream::wrappers
