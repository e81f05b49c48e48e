// fs::read_dir, ReadDir, DirEntry: see read_dir.hpp.
#include "tokio/fs/read_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "tokio/fs/detail/engine.hpp"
#include "tokio/fs/detail/path_error.hpp"
#include "tokio/fs/detail/path_ops.hpp"
#include "tokio/fs/detail/sys.hpp"
#include "tokio/fs/functions.hpp"

namespace tokio::detail {

struct DirShared {
  DirShared(std::filesystem::path p, int f) noexcept : path(std::move(p)), fd(f) {}
  ~DirShared() { fs_sys_close(fd); }
  std::filesystem::path path;
  int fd;
};

namespace fs_read_dir_impl {

struct RawEntry {
  std::string name;
  uint64_t ino;
  uint8_t type;
};

constexpr std::size_t kDentsBuf = 64 * 1024;
constexpr std::size_t kBatch = 2048;  // entries per job (at least; whole getdents calls)

// One batch: getdents64 until kBatch entries or the end of the directory.
class DirBatchOp final : public FsOp {
 public:
  explicit DirBatchOp(std::shared_ptr<const DirShared> d) noexcept : dir(std::move(d)) {}
  void run_blocking() noexcept override;
  void fail(int e) noexcept override { err = e; }

  std::shared_ptr<const DirShared> dir;  // keeps the fd open while the job reads it
  std::vector<RawEntry> entries;
  bool eof = false;
  int err = 0;
};

void DirBatchOp::run_blocking() noexcept {
  try {
    std::unique_ptr<char[]> buf(new char[kDentsBuf]);
    while (entries.size() < kBatch) {
      long n = ::syscall(SYS_getdents64, dir->fd, buf.get(), kDentsBuf);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = fs_errno();
        return;
      }
      if (n == 0) {
        eof = true;
        return;
      }
      if (entries.capacity() < entries.size() + static_cast<std::size_t>(n) / 24) {
        entries.reserve(entries.size() + static_cast<std::size_t>(n) / 24);
      }
      // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[].
      for (long off = 0; off < n;) {
        const char* rec = buf.get() + off;
        uint64_t ino;
        uint16_t reclen;
        std::memcpy(&ino, rec, sizeof ino);
        std::memcpy(&reclen, rec + 16, sizeof reclen);
        uint8_t type = static_cast<uint8_t>(rec[18]);
        const char* name = rec + 19;
        off += reclen;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        entries.push_back(RawEntry{std::string(name), ino, type});
      }
    }
  } catch (...) {
    err = ENOMEM;
  }
}

}  // namespace fs_read_dir_impl

struct ReadDirInner {
  std::shared_ptr<const DirShared> dir;
  FsEngine* engine = nullptr;  // one reference
  std::vector<fs_read_dir_impl::RawEntry> buf;
  std::size_t pos = 0;
  fs_read_dir_impl::DirBatchOp* op = nullptr;  // the batch in flight (one reference)
  bool eof = false;
  int err = 0;  // reported once the entries read before it are consumed

  // Starts the next batch on the engine of the runtime polling now: as a File, a listing
  // follows the runtime that polls it between batches (the one that opened it may be
  // idle, or gone: its engine would never finish, or fail every batch).
  void start_batch() { start_batch(fs_engine_current("fs::ReadDir::next_entry")); }
  void start_batch(FsEngine* current) {
    if (TOKIO_UNLIKELY(current != engine)) {
      current->ref_inc();
      engine->ref_dec();
      engine = current;
    }
    try {
      op = new fs_read_dir_impl::DirBatchOp(dir);
    } catch (...) {
      err = ENOMEM;
      return;
    }
    fs_op_start(op, engine);
  }
};

bool fs_read_dir_poll(ReadDirInner* rd, task::Context& cx, Opaque<80>& out_room) {
  ReadDirNext::Out& out = out_room.as<ReadDirNext::Out>();
  for (;;) {
    if (rd->pos < rd->buf.size()) {
      fs_read_dir_impl::RawEntry& e = rd->buf[rd->pos++];
      out = std::optional<fs::DirEntry>(std::in_place, rd->dir, std::move(e.name), e.ino, e.type);
      // Fetch the next batch while this one is consumed.
      if (!rd->op && !rd->eof && !rd->err && rd->buf.size() - rd->pos <= rd->buf.size() / 2) {
        rd->start_batch();
      }
      return true;
    }
    if (rd->op) {
      if (!rd->op->poll_done(cx)) return false;
      fs_read_dir_impl::DirBatchOp* op = std::exchange(rd->op, nullptr);
      if (op->err == ECANCELED && op->entries.empty()) {
        FsEngine* current = fs_engine_current("fs::ReadDir::next_entry");
        if (current != rd->engine) {
          // The batch never ran: the runtime it was started on shut down (the first batch
          // starts with the ReadDir). Nothing of the directory was read, so it runs again
          // on the runtime polling now.
          fs_op_release(op);
          rd->start_batch(current);
          continue;
        }
      }
      rd->buf = std::move(op->entries);
      rd->pos = 0;
      rd->eof = op->eof;
      if (op->err) rd->err = op->err;
      fs_op_release(op);
      continue;
    }
    if (rd->err) {
      out = tokio::unexpected(fs_error(std::exchange(rd->err, 0), rd->dir->path.native()));
      rd->eof = true;
      return true;
    }
    if (rd->eof) {
      out = std::optional<fs::DirEntry>();
      return true;
    }
    rd->start_batch();
  }
}

void fs_read_dir_free(ReadDirInner* rd) noexcept {
  // A batch still running keeps the directory open through its own reference.
  if (rd->op) fs_op_release(rd->op);
  rd->engine->ref_dec();
  delete rd;
}

namespace fs_read_dir_impl {

io::Result<fs::ReadDir> take_read_dir(FsOp* o) {
  auto* op = static_cast<OpenOp*>(o);
  if (op->err) return tokio::unexpected(fs_error(op->err, op->path));
  auto* rd = new ReadDirInner();
  rd->dir = std::make_shared<const DirShared>(std::filesystem::path(op->path), op->fd);
  op->fd = -1;  // DirShared owns it now
  rd->engine = op->engine;
  rd->engine->ref_inc();
  rd->start_batch();  // the first batch starts with the ReadDir
  return fs::ReadDir(rd);
}

}  // namespace fs_read_dir_impl

static_assert(Opaque<80>::holds<ReadDirNext::Out>, "ReadDirNext::out_ is too small");
static_assert(Opaque<24>::holds<FileTypeAwait::Meta>, "FileTypeAwait::meta_ is too small");

ReadDirNext::ReadDirNext(ReadDirInner* rd) noexcept : rd_(rd) {
  new (out_.bytes) Out(std::optional<fs::DirEntry>());
}
ReadDirNext::ReadDirNext(const ReadDirNext& o) noexcept : Leaf<ReadDirNext>(o), rd_(o.rd_) {
  new (out_.bytes) Out(std::optional<fs::DirEntry>());
}
ReadDirNext::~ReadDirNext() { out_.as<Out>().~Out(); }
ReadDirNext::Out ReadDirNext::await_resume() { return std::move(out_.as<Out>()); }

FileTypeAwait::FileTypeAwait(std::filesystem::file_type t) noexcept : type_(t) {
  new (meta_.bytes) Meta();
}
FileTypeAwait::FileTypeAwait(FsAwait<fs::Metadata>&& m) noexcept {
  new (meta_.bytes) Meta(std::move(m));
}
FileTypeAwait::FileTypeAwait(FileTypeAwait&& o) noexcept : type_(o.type_) {
  new (meta_.bytes) Meta(std::move(o.meta_.as<Meta>()));
}
FileTypeAwait::~FileTypeAwait() { meta_.as<Meta>().~Meta(); }
bool FileTypeAwait::poll(task::Context& cx) {
  Meta& meta = meta_.as<Meta>();
  return meta ? meta->poll(cx) : true;
}
io::Result<fs::FileType> FileTypeAwait::await_resume() {
  Meta& meta = meta_.as<Meta>();
  if (!meta) return type_;
  auto m = meta->await_resume();
  if (!m) return tokio::unexpected(m.error());
  return m->file_type();
}

}  // namespace tokio::detail

namespace tokio::fs {

detail::FsAwait<ReadDir> read_dir(PathArg path) {
  auto* op = new detail::OpenOp(std::move(path).str(), O_RDONLY | O_DIRECTORY, 0);
  return {op, &detail::fs_read_dir_impl::take_read_dir};
}

const detail::DirShared& DirEntry::dir() const {
  const Dir& d = dir_.as<Dir>();
  if (TOKIO_UNLIKELY(!d)) {
    detail::throw_misuse(
        "fs::DirEntry used after it was moved from: use the one it was moved into");
  }
  return *d;
}

DirEntry::DirEntry(std::shared_ptr<const detail::DirShared> dir, std::string name, uint64_t ino,
                   uint8_t d_type) noexcept
    : name_(std::move(name)), ino_(ino), type_(d_type) {
  static_assert(detail::Opaque<sizeof(void*) * 2>::holds<Dir>, "DirEntry::dir_ is too small");
  new (dir_.bytes) Dir(std::move(dir));
}
DirEntry::DirEntry(const DirEntry& o) : name_(o.name_), ino_(o.ino_), type_(o.type_) {
  new (dir_.bytes) Dir(o.dir_.as<Dir>());
}
DirEntry::DirEntry(DirEntry&& o) noexcept
    : name_(std::move(o.name_)), ino_(o.ino_), type_(o.type_) {
  new (dir_.bytes) Dir(std::move(o.dir_.as<Dir>()));
}
DirEntry& DirEntry::operator=(const DirEntry& o) {
  if (this != &o) *this = DirEntry(o);
  return *this;
}
DirEntry& DirEntry::operator=(DirEntry&& o) noexcept {
  dir_.as<Dir>() = std::move(o.dir_.as<Dir>());
  name_ = std::move(o.name_);
  ino_ = o.ino_;
  type_ = o.type_;
  return *this;
}
DirEntry::~DirEntry() { dir_.as<Dir>().~Dir(); }

std::filesystem::path DirEntry::path() const { return dir().path / name_; }
std::filesystem::path DirEntry::file_name() const { return std::filesystem::path(name_); }

detail::FileTypeAwait DirEntry::file_type() const {
  using std::filesystem::file_type;
  (void)dir();  // a moved-from entry has no type either
  switch (type_) {
    case DT_REG: return detail::FileTypeAwait(file_type::regular);
    case DT_DIR: return detail::FileTypeAwait(file_type::directory);
    case DT_LNK: return detail::FileTypeAwait(file_type::symlink);
    case DT_BLK: return detail::FileTypeAwait(file_type::block);
    case DT_CHR: return detail::FileTypeAwait(file_type::character);
    case DT_FIFO: return detail::FileTypeAwait(file_type::fifo);
    case DT_SOCK: return detail::FileTypeAwait(file_type::socket);
    default: return detail::FileTypeAwait(metadata());
  }
}

detail::FsAwait<Metadata> DirEntry::metadata() const {
  auto* op = new detail::PathOp(detail::PathOp::Kind::Lstat, path().native());
  op->dirfd = dir().fd;
  op->at_name = name_;
  op->keep = dir_.as<Dir>();
  return {op, [](detail::FsOp* o) -> io::Result<Metadata> {
            auto* p = static_cast<detail::PathOp*>(o);
            if (p->err) return tokio::unexpected(detail::fs_error(p->err, p->p1));
            return Metadata(p->stat);
          }};
}

}  // namespace tokio::fs
