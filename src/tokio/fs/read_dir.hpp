#pragma once
// fs::read_dir, ReadDir and DirEntry (Tokio's names):
//
//   auto rd = co_await fs::read_dir("/tmp");                  // io::Result<ReadDir>
//   if (!rd) co_return;
//   for (;;) {
//     auto e = co_await rd->next_entry();                      // io::Result<std::optional<DirEntry>>
//     if (!e || !*e) break;                                    // error, or the end
//     std::printf("%s\n", (*e)->file_name().c_str());
//   }
//
// Entries come in batches read by one getdents64 call (about 2,000 short names) on the
// blocking pool (io_uring has no opcode for it), and the next batch is fetched while the
// current one is consumed. "." and ".." are skipped; order is the file system's.
//
// Cancel safety: next_entry is cancel-safe (a batch that arrives after its await was
// destroyed is kept for the next call). DirEntry::metadata and file_type are cancel-safe
// (they only read).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tokio/fs/detail/std_filesystem.hpp"
#include "tokio/core/config.hpp"
#include "tokio/core/detail/owned.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/fs/detail/op_await.hpp"
#include "tokio/fs/metadata.hpp"

namespace tokio::detail {
// The open directory shared by a ReadDir, its entries and its batch jobs (closed when the
// last one goes).
struct DirShared;
struct ReadDirInner;
class FileTypeAwait;
}  // namespace tokio::detail

namespace tokio::fs {

class DirEntry {
 public:
  DirEntry(std::shared_ptr<const detail::DirShared> dir, std::string name, uint64_t ino,
           uint8_t d_type) noexcept;
  // (Out of line, with the directory's std::shared_ptr in Opaque room: see ReadDirNext.)
  DirEntry(const DirEntry& o);
  DirEntry(DirEntry&& o) noexcept;
  DirEntry& operator=(const DirEntry& o);
  DirEntry& operator=(DirEntry&& o) noexcept;
  ~DirEntry();

  // The directory's path (as given to read_dir) joined with file_name().
  std::filesystem::path path() const;
  std::filesystem::path file_name() const;
  uint64_t ino() const noexcept { return ino_; }
  // The entry's type, not following a symlink.
  detail::FileTypeAwait file_type() const;
  // The entry's metadata, not following a symlink (symlink_metadata of path()).
  detail::FsAwait<Metadata> metadata() const;

 private:
  using Dir = std::shared_ptr<const detail::DirShared>;
  detail::Opaque<sizeof(void*) * 2> dir_;  // a Dir: null once moved from
  std::string name_;
  uint64_t ino_;
  uint8_t type_;  // the listing's d_type (DT_UNKNOWN: ask the file system)
  // The open directory; throws std::logic_error on a moved-from entry.
  const detail::DirShared& dir() const;
};

}  // namespace tokio::fs

namespace tokio::detail {

// `out` is ReadDirNext's room for its io::Result<std::optional<fs::DirEntry>> (typed only
// in read_dir.cpp: naming it here would instantiate it in every TU).
bool fs_read_dir_poll(ReadDirInner* rd, task::Context& cx, Opaque<80>& out);
void fs_read_dir_free(ReadDirInner* rd) noexcept;

// The constructors, destructor and await_resume of these two are defined in read_dir.cpp,
// and their io::Result<std::optional<fs::DirEntry>> and std::optional<FsAwait<fs::Metadata>>
// members are Opaque room filled there: inline, or as typed members, they would instantiate
// those classes in every TU that includes this header.
class TOKIO_MUST_AWAIT ReadDirNext : public Leaf<ReadDirNext> {
 public:
  using Out = io::Result<std::optional<fs::DirEntry>>;
  explicit ReadDirNext(ReadDirInner* rd) noexcept;
  ReadDirNext(const ReadDirNext& o) noexcept;
  ReadDirNext& operator=(const ReadDirNext&) = delete;  // (out_ is raw room: no bytewise copy)
  ~ReadDirNext();
  bool poll(task::Context& cx) {
    if (!coop_poll_proceed(cx)) return false;
    return fs_read_dir_poll(rd_, cx, out_);
  }
  Out await_resume();

 private:
  ReadDirInner* rd_;
  Opaque<80> out_;  // an Out (constructed by the constructors)
};

// DirEntry::file_type: ready at once when the directory listing said the type, else an
// lstat of the entry.
class TOKIO_MUST_AWAIT FileTypeAwait : public Leaf<FileTypeAwait> {
 public:
  using Meta = std::optional<FsAwait<fs::Metadata>>;
  explicit FileTypeAwait(std::filesystem::file_type t) noexcept;
  explicit FileTypeAwait(FsAwait<fs::Metadata>&& m) noexcept;
  FileTypeAwait(FileTypeAwait&& o) noexcept;
  ~FileTypeAwait();

  bool poll(task::Context& cx);
  io::Result<fs::FileType> await_resume();

 private:
  fs::FileType type_;
  Opaque<24> meta_;  // a Meta (constructed by the constructors)
};

}  // namespace tokio::detail

namespace tokio::fs {

class ReadDir {
 public:
  explicit ReadDir(detail::ReadDirInner* rd) noexcept : rd_(rd) {}
  ReadDir(ReadDir&& o) noexcept : rd_(detail::exchange(o.rd_, nullptr)) {}
  ReadDir& operator=(ReadDir&& o) noexcept {
    if (this != &o) {
      if (rd_) detail::fs_read_dir_free(rd_);
      rd_ = detail::exchange(o.rd_, nullptr);
    }
    return *this;
  }
  ReadDir(const ReadDir&) = delete;
  ReadDir& operator=(const ReadDir&) = delete;
  ~ReadDir() {
    if (rd_) detail::fs_read_dir_free(rd_);
  }

  // The next entry, or an empty optional at the end. Cancel-safe.
  detail::ReadDirNext next_entry() {
    if (TOKIO_UNLIKELY(!rd_)) {
      detail::throw_misuse(
          "fs::ReadDir used after it was moved from: use the one it was moved into");
    }
    return detail::ReadDirNext(rd_);
  }

 private:
  detail::ReadDirInner* rd_;
};

}  // namespace tokio::fs
