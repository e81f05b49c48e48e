#pragma once
// fs::File and fs::OpenOptions (Tokio's names and semantics).
//
//   auto f = co_await fs::File::open("/etc/hosts");          // io::Result<File>
//   auto g = co_await fs::File::create("/tmp/out");          // write, create, truncate
//   auto h = co_await fs::OpenOptions().append(true).create(true).open("/tmp/log");
//   co_await io::write_all(*g, "hello\n");
//   co_await g->flush();                                      // wait for the write-behind
//   co_await g->sync_all();                                   // fsync
//
// File is an io::AsyncRead, io::AsyncWrite and io::AsyncSeek, so BufReader, BufWriter,
// lines, copy, read_to_end... work on it. As Tokio's File, it owns one buffer and runs at
// most one operation at a time:
//   read   copies buffered data, or reads up to the buffer size (2 MiB by default,
//          set_max_buf_size) into the buffer and copies from it (the kernel never writes
//          into the caller's memory, which may be gone after a cancellation).
//   write  copies the data into the buffer, starts writing it and returns at once: the
//          write happens behind the caller's back, and its error is reported by the next
//          write, flush or shutdown. A write that was accepted always reaches the file
//          (it finishes even if the File is dropped or the runtime shuts down); call
//          flush() to know it did, and sync_all() to know it is on disk.
//   seek   waits for the operation in flight, discards read-ahead, lseek(2).
// Use one File from one task at a time (the operations take it by reference); share it
// behind a sync::Mutex otherwise.
//
// Cancel safety: read is cancel-safe (data read for a destroyed await stays buffered for
// the next read); write is cancel-safe (a destroyed await either copied nothing or its
// data is being written); flush and seek are cancel-safe; sync_all, sync_data, set_len,
// set_permissions, metadata are not (the operation continues, its result is lost).
// Dropping a File with a read in flight cancels that read (IORING_OP_ASYNC_CANCEL); the
// file descriptor is closed once nothing uses it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tokio/core/config.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/core/detail/poll.hpp"
#include "tokio/core/result.hpp"
#include "tokio/fs/detail/op_await.hpp"
#include "tokio/fs/metadata.hpp"
#include "tokio/fs/path_arg.hpp"
#include "tokio/io/seek.hpp"
#include "tokio/io/detail/exclusive.hpp"
#include "tokio/io/ext.hpp"

namespace tokio::fs {
class File;
}

namespace tokio::detail {

struct FileInner;

bool fs_file_poll_read(FileInner* f, task::Context& cx, std::span<std::byte> dst,
                       io::Result<std::size_t>& out);
bool fs_file_poll_write(FileInner* f, task::Context& cx, std::span<const std::byte> src,
                        io::Result<std::size_t>& out);
bool fs_file_poll_flush(FileInner* f, task::Context& cx, io::Result<void>& out);
bool fs_file_poll_seek(FileInner* f, task::Context& cx, io::SeekFrom pos,
                       io::Result<uint64_t>& out);

enum class FileCmd : uint8_t {
  SyncAll,
  SyncData,
  SetLen,
  SetPermissions,
  Metadata,
  TryClone,
  IntoStd
};
// `out` points to the awaitable's io::Result of the command's type (void for the first
// four, then fs::Metadata, fs::File, int).
bool fs_file_poll_cmd(FileInner* f, task::Context& cx, FileCmd cmd, uint64_t arg, bool& started,
                      void* out);
void fs_file_free(FileInner* f) noexcept;
// The File's claim word: one operation at a time (Rust's &mut self). A second one polled
// while another is pending throws std::logic_error instead of taking over the first one's
// wake-up (which then never came) and its result. Synchronized: the two may be polled on
// two threads (a compare-exchange per poll, as Tokio's File takes its mutex per poll).
using FileUse = BasicExclusiveUse<true>;
using FileClaim = BasicExclusiveClaim<true>;
FileUse& fs_file_use(FileInner* f) noexcept;
inline constexpr const char* kFileWhat = "fs::File";

// What every File operation shares: its File, and one poll = the coop budget, then the
// operation's step under the File's claim (a copy holds no claim).
template <class D>
class TOKIO_MUST_AWAIT FileLeaf : public Leaf<D> {
 protected:
  explicit FileLeaf(FileInner* f) noexcept : f_(f) {}
  FileLeaf(const FileLeaf& o) noexcept : Leaf<D>(o), f_(o.f_) {}
  template <class Step>
  bool poll_claimed(task::Context& cx, Step&& step) {
    if (!coop_poll_proceed(cx)) return false;
    return claim_.poll(fs_file_use(f_), kFileWhat, step);
  }

  FileInner* f_;

 private:
  FileClaim claim_;
};

class TOKIO_MUST_AWAIT FileReadOp : public FileLeaf<FileReadOp> {
 public:
  FileReadOp(FileInner* f, std::span<std::byte> dst) noexcept : FileLeaf(f), dst_(dst) {}
  FileReadOp(const FileReadOp& o) noexcept : FileLeaf(o), dst_(o.dst_) {}
  bool poll(task::Context& cx) {
    return poll_claimed(cx, [&] { return fs_file_poll_read(f_, cx, dst_, out_); });
  }
  io::Result<std::size_t> await_resume() { return std::move(out_); }

 private:
  std::span<std::byte> dst_;
  io::Result<std::size_t> out_ = std::size_t{0};
};

class TOKIO_MUST_AWAIT FileWriteOp : public FileLeaf<FileWriteOp> {
 public:
  FileWriteOp(FileInner* f, std::span<const std::byte> src) noexcept : FileLeaf(f), src_(src) {}
  FileWriteOp(const FileWriteOp& o) noexcept : FileLeaf(o), src_(o.src_) {}
  bool poll(task::Context& cx) {
    return poll_claimed(cx, [&] { return fs_file_poll_write(f_, cx, src_, out_); });
  }
  io::Result<std::size_t> await_resume() { return std::move(out_); }

 private:
  std::span<const std::byte> src_;
  io::Result<std::size_t> out_ = std::size_t{0};
};

class TOKIO_MUST_AWAIT FileFlushOp : public FileLeaf<FileFlushOp> {
 public:
  explicit FileFlushOp(FileInner* f) noexcept : FileLeaf(f) {}
  FileFlushOp(const FileFlushOp& o) noexcept : FileLeaf(o) {}
  bool poll(task::Context& cx) {
    return poll_claimed(cx, [&] { return fs_file_poll_flush(f_, cx, out_); });
  }
  io::Result<void> await_resume() { return std::move(out_); }

 private:
  io::Result<void> out_;
};

class TOKIO_MUST_AWAIT FileSeekOp : public FileLeaf<FileSeekOp> {
 public:
  FileSeekOp(FileInner* f, io::SeekFrom pos) noexcept : FileLeaf(f), pos_(pos) {}
  FileSeekOp(const FileSeekOp& o) noexcept : FileLeaf(o), pos_(o.pos_) {}
  bool poll(task::Context& cx) {
    return poll_claimed(cx, [&] { return fs_file_poll_seek(f_, cx, pos_, out_); });
  }
  io::Result<uint64_t> await_resume() { return std::move(out_); }

 private:
  io::SeekFrom pos_;
  io::Result<uint64_t> out_ = uint64_t{0};
};

template <class T>
class TOKIO_MUST_AWAIT FileCmdOp : public FileLeaf<FileCmdOp<T>> {
  using Base = FileLeaf<FileCmdOp<T>>;

 public:
  FileCmdOp(FileInner* f, FileCmd cmd, uint64_t arg = 0) noexcept : Base(f), cmd_(cmd), arg_(arg) {}
  FileCmdOp(FileCmdOp&& o) noexcept : Base(o.f_), cmd_(o.cmd_), arg_(o.arg_) {}
  bool poll(task::Context& cx) {
    return this->poll_claimed(
        cx, [&] { return fs_file_poll_cmd(this->f_, cx, cmd_, arg_, started_, &out_); });
  }
  io::Result<T> await_resume() { return std::move(out_); }

 private:
  FileCmd cmd_;
  uint64_t arg_;
  bool started_ = false;
  io::Result<T> out_ = tokio::unexpected(std::make_error_code(std::errc::bad_file_descriptor));
};

}  // namespace tokio::detail

namespace tokio::fs {

class OpenOptions;

class File : public io::Ext<File> {
 public:
  // Opens for reading.
  static detail::FsAwait<File> open(PathArg path);
  // Opens for writing, creating it (mode 0666 & ~umask) or truncating it.
  static detail::FsAwait<File> create(PathArg path);
  // Creates a new file for reading and writing; fails with std::errc::file_exists if it
  // exists.
  static detail::FsAwait<File> create_new(PathArg path);
  static OpenOptions options();  // = OpenOptions::new_()
  // Wraps an open file descriptor (the File owns it from now on).
  static File from_std(int fd);

  File(File&& o) noexcept : f_(detail::exchange(o.f_, nullptr)) {}
  File& operator=(File&& o) noexcept {
    if (this != &o) {
      if (f_) detail::fs_file_free(f_);
      f_ = detail::exchange(o.f_, nullptr);
    }
    return *this;
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (f_) detail::fs_file_free(f_);
  }

  // io::AsyncRead / AsyncWrite / AsyncSeek.
  detail::FileReadOp read(io::MutableBuffer buf) noexcept { return {f_, buf}; }
  detail::FileWriteOp write(io::ConstBuffer buf) noexcept { return {f_, buf}; }
  // Waits for the write in flight; its error, or one reported earlier, comes back here.
  detail::FileFlushOp flush() noexcept { return detail::FileFlushOp(f_); }
  detail::FileFlushOp shutdown() noexcept { return detail::FileFlushOp(f_); }
  detail::FileSeekOp seek(io::SeekFrom pos) noexcept { return {f_, pos}; }

  // fsync(2) / fdatasync(2), after the write in flight.
  detail::FileCmdOp<void> sync_all() noexcept;
  detail::FileCmdOp<void> sync_data() noexcept;
  // Truncates or extends (with zeros) to `size` bytes; the position does not move.
  detail::FileCmdOp<void> set_len(uint64_t size) noexcept;
  detail::FileCmdOp<Metadata> metadata() noexcept;
  // fchmod(2) to `perms` (the permission bits of std::filesystem::perms, as
  // Metadata::permissions() gives them), after the operation in flight; on the blocking
  // pool under both engines (io_uring has no fchmod), as fs::set_permissions.
  detail::FileCmdOp<void> set_permissions(std::filesystem::perms perms) noexcept;
  // A second File on the same open file description (dup: shared position and flags).
  // Under io_uring both then read and write on the blocking pool when the file has a
  // position (a regular file or block device), as a File made by from_std does
  // (FileOp::shared_pos: io_uring does not serialize a shared position).
  detail::FileCmdOp<File> try_clone() noexcept;
  // Waits for the operation in flight, then hands over the file descriptor (the caller
  // closes it); this File is empty afterwards. Pending write errors are dropped: flush
  // first to see them. (Tokio's into_std returns a std::fs::File.)
  detail::FileCmdOp<int> into_std() noexcept;

  // The file descriptor (still owned by the File), or -1.
  int as_raw_fd() const noexcept;
  // The largest single read or write (default 2 MiB).
  void set_max_buf_size(std::size_t n) noexcept;

 private:
  friend struct detail::FileInner;
  explicit File(detail::FileInner* f) noexcept : f_(f) {}
  detail::FileInner* f_;
};

// How a file is opened (Rust's std::fs::OpenOptions with its Unix extensions). The
// defaults open nothing: ask for read, write or append.
class OpenOptions {
 public:
  // Rust's OpenOptions::new() (`new` is a C++ keyword; OpenOptions() is the same).
  static OpenOptions new_() noexcept { return OpenOptions(); }
  OpenOptions& read(bool on) noexcept { return set(kRead, on); }
  OpenOptions& write(bool on) noexcept { return set(kWrite, on); }
  // Writes go to the end of the file (implies write).
  OpenOptions& append(bool on) noexcept { return set(kAppend, on); }
  OpenOptions& truncate(bool on) noexcept { return set(kTruncate, on); }
  OpenOptions& create(bool on) noexcept { return set(kCreate, on); }
  // Fails with std::errc::file_exists if the file exists (O_CREAT | O_EXCL).
  OpenOptions& create_new(bool on) noexcept { return set(kCreateNew, on); }
  // Permission bits for a created file (default 0666, minus the umask).
  OpenOptions& mode(uint32_t m) noexcept {
    mode_ = m;
    return *this;
  }
  // Extra open(2) flags (O_NOFOLLOW, O_DIRECT...); the access mode bits are ignored.
  OpenOptions& custom_flags(int flags) noexcept {
    custom_ = flags;
    return *this;
  }
  // Invalid combinations (truncate without write, no access mode at all...) fail with
  // std::errc::invalid_argument.
  detail::FsAwait<File> open(PathArg path) const;

 private:
  static constexpr unsigned kRead = 1, kWrite = 2, kAppend = 4, kTruncate = 8, kCreate = 16,
                            kCreateNew = 32;
  OpenOptions& set(unsigned bit, bool on) noexcept {
    bits_ = on ? (bits_ | bit) : (bits_ & ~bit);
    return *this;
  }
  unsigned bits_ = 0;
  uint32_t mode_ = 0666;
  int custom_ = 0;
};

inline OpenOptions File::options() { return OpenOptions(); }

}  // namespace tokio::fs
