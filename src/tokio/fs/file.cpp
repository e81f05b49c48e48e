// fs::File, fs::OpenOptions, and the FileOp / FileInner machinery (see file.hpp and
// detail/file_inner.hpp).
#include "tokio/fs/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tokio/fs/detail/engine.hpp"
#include "tokio/fs/detail/file_inner.hpp"
#include "tokio/fs/detail/path_error.hpp"
#include "tokio/fs/detail/path_ops.hpp"
#include "tokio/fs/detail/sys.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"
#include "tokio/io/error.hpp"

namespace tokio::detail {

namespace fs_file_impl {

constexpr uint64_t kCurPos = ~uint64_t{0};
const char kEmptyPath[] = "";

// An SQE's length is 32 bits, and the buffer may be larger (File::set_max_buf_size): one
// read or write step moves at most fs_uring_max_chunk() (1 GiB).
inline uint32_t sqe_len(std::size_t n) noexcept {
  return static_cast<uint32_t>(std::min(n, fs_uring_max_chunk()));
}

FileInner* make_inner(int fd, FsEngine* engine, std::string path);

// The start of every leaf's poll: a usable file and its engine, and, for the polls that
// report it (`take_write_err`), the error a write-behind left. The error to complete the
// poll with, if any.
std::error_code enter(FileInner* f, bool take_write_err) {
  if (!f || f->fd < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  f->ensure_engine();
  if (take_write_err && f->last_write_err) return std::exchange(f->last_write_err, {});
  return {};
}

// One file-descriptor system call returning 0 or -1 (fsync, ftruncate, fchmod), retried
// on EINTR: 0 or -errno, FileOp::result's encoding.
template <class Call>
int64_t retry_eintr(Call call) noexcept {
  int r;
  do {
    r = call();
  } while (r != 0 && errno == EINTR);
  return r == 0 ? 0 : -fs_errno();
}

}  // namespace fs_file_impl

// --- FileOp ------------------------------------------------------------------------------
FileOp::~FileOp() {
  std::free(buf);
  if (own_fd) fs_sys_close(fd);
}

bool FileOp::reserve(std::size_t n) noexcept {
  if (cap >= n) return true;
  auto* p = static_cast<std::byte*>(std::malloc(n));
  if (!p) return false;
  std::free(buf);
  buf = p;
  cap = n;
  return true;
}

unsigned FileOp::uring_plan(const UringCaps& caps) noexcept {
  switch (kind) {
    case Kind::Fsync:
    case Kind::Fdatasync: return caps.supports(uring::kOpFsync) ? 1 : 0;
    case Kind::Truncate: return caps.supports(uring::kOpFtruncate) ? 1 : 0;  // Linux 6.9
    case Kind::Read:
    case Kind::Write: return shared_pos ? 0 : 1;  // see FileOp::shared_pos
    case Kind::Chmod:  // no io_uring opcode: the blocking pool, as fs::set_permissions
    case Kind::None: return 0;
    default: return 1;
  }
}

void FileOp::uring_prep(uring::Sqe* const* sqes, unsigned) noexcept {
  uring::Sqe* e = sqes[0];
  e->fd = fd;
  switch (kind) {
    case Kind::Read:
      e->opcode = uring::kOpRead;
      e->addr = reinterpret_cast<uint64_t>(buf);
      e->len = fs_file_impl::sqe_len(len);  // a short read: the caller reads the rest later
      e->off = fs_file_impl::kCurPos;
      break;
    case Kind::Write:
      e->opcode = uring::kOpWrite;
      // A pipe or socket: written by io_uring's worker (signals blocked) so a reader that
      // left gives EPIPE instead of a SIGPIPE raised in our thread.
      if (async_write) e->flags = uring::kSqeAsync;
      e->addr = reinterpret_cast<uint64_t>(buf + done);
      e->len = fs_file_impl::sqe_len(len - done);  // the rest is written by the next step
      // The first step writes at the file position. io_uring does not always move that
      // position past a short write: when the kernel's own retry of the rest fails
      // (ENOSPC, EFBIG), the completion reports the bytes written but the position stays
      // where the write began (seen on Linux 6.18), so writing the rest there would
      // overwrite them and report success. So the start is taken first (one lseek, on
      // files that have a position) and a continuation writes at start + done.
      if (done == 0) wpos = !track_pos ? -1 : pos >= 0 ? pos : ::lseek(fd, 0, SEEK_CUR);
      e->off = done > 0 && wpos >= 0 ? static_cast<uint64_t>(wpos) + done : fs_file_impl::kCurPos;
      break;
    case Kind::Fsync:
    case Kind::Fdatasync:
      e->opcode = uring::kOpFsync;
      e->op_flags = kind == Kind::Fdatasync ? uring::kFsyncDatasync : 0;
      break;
    case Kind::Truncate:
      e->opcode = uring::kOpFtruncate;
      e->off = arg;
      break;
    case Kind::Stat:
      e->opcode = uring::kOpStatx;
      e->addr = reinterpret_cast<uint64_t>(fs_file_impl::kEmptyPath);
      e->len = kFsStatxMask;
      e->off = reinterpret_cast<uint64_t>(&sx);
      e->op_flags = AT_EMPTY_PATH;
      break;
    case Kind::Chmod:  // never planned (uring_plan: 0)
    case Kind::None: e->opcode = uring::kOpNop; break;
  }
}

StepOutcome FileOp::uring_step_done() noexcept {
  int32_t r = res[0];
  switch (kind) {
    case Kind::Write:
      if (r < 0) {
        result = r;
      } else if (r == 0) {
        result = kFileWriteZero;
      } else {
        done += static_cast<std::size_t>(r);
        if (done < len) return StepOutcome::Continue;  // short: the rest at start + done
        result = static_cast<int64_t>(done);
      }
      // Bytes written before this step mean an earlier step came back short, and io_uring
      // left the file position behind: put it where one write of `done` bytes would have.
      // The continuations wrote at explicit offsets from the start (track_pos); an
      // appending write's position is the end, as write(2) leaves it.
      if (done > static_cast<std::size_t>(r > 0 ? r : 0)) {
        if (wpos >= 0) {
          (void)::lseek(fd, static_cast<off_t>(wpos) + static_cast<off_t>(done), SEEK_SET);
        } else if (append_pos) {
          (void)::lseek(fd, 0, SEEK_END);
        }
      }
      // Either way the position is now start + done (moved by the kernel, or put there).
      pos = own_offset && wpos >= 0 ? wpos + static_cast<int64_t>(done) : -1;
      return StepOutcome::Finished;
    case Kind::Stat:
      if (r >= 0) fs_stat_from_statx(sx, stat);
      result = r < 0 ? r : 0;
      return StepOutcome::Finished;
    default: result = r; return StepOutcome::Finished;
  }
}

void FileOp::run_blocking() noexcept {
  switch (kind) {
    case Kind::Read: result = fs_sys_read(fd, buf, len); break;
    case Kind::Write: {
      pos = -1;  // moved by write(2), not recorded
      int e = write_all_nosig(fd, buf, len, done);
      result = e == 0 ? static_cast<int64_t>(done) : e == kWriteZero ? kFileWriteZero : e;
      break;
    }
    case Kind::Fsync:
    case Kind::Fdatasync:
      result = fs_file_impl::retry_eintr(
          [&] { return kind == Kind::Fsync ? ::fsync(fd) : ::fdatasync(fd); });
      break;
    case Kind::Truncate:
      result = fs_file_impl::retry_eintr([&] { return ::ftruncate(fd, static_cast<off_t>(arg)); });
      break;
    case Kind::Chmod:
      result = fs_file_impl::retry_eintr([&] { return ::fchmod(fd, static_cast<mode_t>(arg)); });
      break;
    case Kind::Stat:
      result = -fs_sys_statx(fd, fs_file_impl::kEmptyPath, AT_EMPTY_PATH, stat);
      break;
    case Kind::None: result = 0; break;
  }
}

// --- FileInner ---------------------------------------------------------------------------
FileInner::~FileInner() = default;

fs::File FileInner::wrap(FileInner* f) noexcept { return fs::File(f); }

std::error_code FileInner::error(int64_t neg) const {
  if (neg == kFileWriteZero) return io::Errc::write_zero;
  int e = static_cast<int>(-neg);
  if (path.empty()) return {e, std::system_category()};
  return fs_error(e, path);
}

void FileInner::ensure_engine() {
  // Tokio runs a File's operations on the blocking pool of the runtime that awaits them,
  // whichever runtime opened the file. So does this: an idle File follows the runtime
  // of the task polling it. Keeping the first one would hang on a runtime nobody drives
  // (its ring's completions are reaped by its own driver) and fail every operation with
  // ECANCELED once that runtime is gone. An operation in flight finishes where it started.
  if (busy) return;  // (re-polls of an operation in flight: nothing to look up)
  FsEngine* current = fs_engine_current("fs::File");
  if (TOKIO_LIKELY(current == engine)) return;
  current->ref_inc();
  if (engine) engine->ref_dec();
  engine = current;
}

void FileInner::start(FileOp::Kind kind) {
  // The entry check skipped this when an operation was in flight; it has finished now
  // (perhaps on a runtime that is gone since, whose engine would cancel the next one: a
  // write accepted by then would be lost), so the next one goes to the current runtime.
  ensure_engine();
  op->reset_for_reuse();
  op->kind = kind;
  // Only a write keeps `pos` (set when it finishes on io_uring); a read moves the position
  // and the blocking engine's write does not record it.
  if (offset_shared) op->own_offset = false;
  if (kind != FileOp::Kind::Write || !op->own_offset) op->pos = -1;
  // A File whose description nobody else holds (opened here) never needs the type: no
  // system call is added to its reads.
  op->shared_pos = false;
  if (!op->own_offset && (kind == FileOp::Kind::Read || kind == FileOp::Kind::Write)) {
    if (pipe_like < 0) classify();
    // Only a position can race: a terminal or other character device has none, and its
    // reads stay cancellable on io_uring.
    op->shared_pos = op->track_pos || op->append_pos;
  }
  op->fd = fd;
  // A write accepted by write() must reach the file: never cancelled, runs through a
  // runtime shutdown (Tokio: spawn_mandatory_blocking).
  op->mandatory = kind == FileOp::Kind::Write;
  busy = true;
  fs_op_start(op, engine);
}

bool FileInner::settle(task::Context& cx, bool keep_read) {
  if (!busy) return true;
  if (!op->poll_done(cx)) return false;
  busy = false;
  FileOp::Kind kind = std::exchange(op->kind, FileOp::Kind::None);
  if (kind == FileOp::Kind::Read && op->result > 0) {
    rpos = 0;
    rlen = static_cast<std::size_t>(op->result);
    if (!keep_read) (void)discard_read_ahead();
  } else if (kind == FileOp::Kind::Write && op->result < 0) {
    last_write_err = error(op->result);
  }
  return true;
}

void FileInner::classify() noexcept {
  struct stat st;
  bool known = ::fstat(fd, &st) == 0;
  pipe_like = static_cast<int8_t>(known && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
  int fl = ::fcntl(fd, F_GETFL);
  bool positioned = known && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) && fl >= 0;
  op->track_pos = positioned && !(fl & O_APPEND);
  op->append_pos = positioned && (fl & O_APPEND);
}

int FileInner::discard_read_ahead() noexcept {
  std::size_t unread = rlen - rpos;
  rpos = rlen = 0;
  op->pos = -1;
  if (unread == 0) return 0;
  if (::lseek(fd, -static_cast<off_t>(unread), SEEK_CUR) < 0) return fs_errno();
  return 0;
}

// --- the leaves' polls ---------------------------------------------------------------------
bool fs_file_poll_read(FileInner* f, task::Context& cx, std::span<std::byte> dst,
                       io::Result<std::size_t>& out) {
  if (std::error_code e = fs_file_impl::enter(f, false)) {
    out = tokio::unexpected(e);
    return true;
  }
  for (;;) {
    if (f->busy) {
      if (!f->op->poll_done(cx)) return false;
      f->busy = false;
      FileOp& op = *f->op;
      FileOp::Kind kind = std::exchange(op.kind, FileOp::Kind::None);
      if (kind == FileOp::Kind::Read) {
        if (op.result == -ECANCELED && f->engine != fs_engine_current("fs::File::read")) {
          // The read never ran: the runtime it started on shut down (a read left in flight
          // by a cancelled caller; reads are never cancelled otherwise). Nothing was taken
          // from the file, so it starts again on the runtime polling now.
          f->ensure_engine();
          continue;
        }
        if (op.result < 0) {
          out = tokio::unexpected(f->error(op.result));
          return true;
        }
        f->rpos = 0;
        f->rlen = static_cast<std::size_t>(op.result);
        std::size_t n = std::min(dst.size(), f->rlen);
        if (n) std::memcpy(dst.data(), op.buf, n);
        f->rpos = n;
        if (f->rpos == f->rlen) f->rpos = f->rlen = 0;
        out = n;  // 0: end of file
        return true;
      }
      if (kind == FileOp::Kind::Write && op.result < 0) f->last_write_err = f->error(op.result);
      continue;
    }
    if (dst.empty() && f->rpos == f->rlen) {
      // A read of nothing still asks the descriptor, as Tokio's (a read(2) of 0 bytes):
      // a File not open for reading says EBADF instead of a quiet 0. read(2) of 0 bytes
      // returns at once (it checks the mode and count before it could wait).
      if (::read(f->fd, nullptr, 0) < 0) {
        out = tokio::unexpected(f->error(-fs_errno()));
        return true;
      }
      out = std::size_t{0};
      return true;
    }
    if (f->rpos < f->rlen || dst.empty()) {
      std::size_t n = std::min(dst.size(), f->rlen - f->rpos);
      if (n) std::memcpy(dst.data(), f->op->buf + f->rpos, n);
      f->rpos += n;
      if (f->rpos == f->rlen) f->rpos = f->rlen = 0;
      out = n;
      return true;
    }
    std::size_t n = std::min(dst.size(), f->max_buf);
    if (!f->op->reserve(n)) {
      out = tokio::unexpected(std::make_error_code(std::errc::not_enough_memory));
      return true;
    }
    f->op->len = n;
    f->start(FileOp::Kind::Read);
  }
}

bool fs_file_poll_write(FileInner* f, task::Context& cx, std::span<const std::byte> src,
                        io::Result<std::size_t>& out) {
  if (std::error_code e = fs_file_impl::enter(f, true)) {
    out = tokio::unexpected(e);
    return true;
  }
  for (;;) {
    if (f->busy) {
      if (!f->op->poll_done(cx)) return false;
      f->busy = false;
      FileOp& op = *f->op;
      FileOp::Kind kind = std::exchange(op.kind, FileOp::Kind::None);
      if (kind == FileOp::Kind::Read && op.result > 0) {
        f->rpos = 0;
        f->rlen = static_cast<std::size_t>(op.result);
      } else if (kind == FileOp::Kind::Write && op.result < 0) {
        out = tokio::unexpected(f->error(op.result));
        return true;
      }
      continue;
    }
    // The write lands where the caller is, not where read-ahead left the file.
    if (int e = f->discard_read_ahead()) {
      out = tokio::unexpected(f->error(-e));
      return true;
    }
    if (src.empty()) {
      out = std::size_t{0};
      return true;
    }
    std::size_t n = std::min(src.size(), f->max_buf);
    if (!f->op->reserve(n)) {
      out = tokio::unexpected(std::make_error_code(std::errc::not_enough_memory));
      return true;
    }
    std::memcpy(f->op->buf, src.data(), n);
    f->op->len = n;
    f->op->done = 0;
    if (f->pipe_like < 0) f->classify();
    f->op->async_write = f->pipe_like > 0;
    f->start(FileOp::Kind::Write);
    out = n;  // accepted: written behind the caller's back
    return true;
  }
}

bool fs_file_poll_flush(FileInner* f, task::Context& cx, io::Result<void>& out) {
  if (std::error_code e = fs_file_impl::enter(f, true)) {
    out = tokio::unexpected(e);
    return true;
  }
  if (!f->settle(cx, true)) return false;
  if (f->last_write_err) {
    out = tokio::unexpected(std::exchange(f->last_write_err, std::error_code()));
    return true;
  }
  out = {};
  return true;
}

bool fs_file_poll_seek(FileInner* f, task::Context& cx, io::SeekFrom pos,
                       io::Result<uint64_t>& out) {
  if (std::error_code e = fs_file_impl::enter(f, false)) {
    out = tokio::unexpected(e);
    return true;
  }
  if (!f->settle(cx, true)) return false;
  int whence = SEEK_SET;
  int64_t off = pos.offset;
  switch (pos.whence) {
    case io::SeekFrom::Whence::Start:
      if (pos.position > static_cast<uint64_t>(INT64_MAX)) {
        out = tokio::unexpected(f->error(-EINVAL));
        return true;
      }
      off = static_cast<int64_t>(pos.position);
      break;
    case io::SeekFrom::Whence::End: whence = SEEK_END; break;
    case io::SeekFrom::Whence::Current:
      whence = SEEK_CUR;
      // Relative to the caller's position, which is behind the file's by the unread
      // read-ahead. An offset that cannot be moved back by it is no position: EINVAL, as
      // lseek gives for one out of range (the subtraction overflowed: UBSan, helper-89).
      if (__builtin_sub_overflow(off, static_cast<int64_t>(f->rlen - f->rpos), &off)) {
        out = tokio::unexpected(f->error(-EINVAL));
        return true;
      }
      break;
  }
  f->rpos = f->rlen = 0;
  f->op->pos = -1;
  off_t r = ::lseek(f->fd, static_cast<off_t>(off), whence);
  if (r < 0) {
    out = tokio::unexpected(f->error(-fs_errno()));
    return true;
  }
  out = static_cast<uint64_t>(r);
  return true;
}

bool fs_file_poll_cmd(FileInner* f, task::Context& cx, FileCmd cmd, uint64_t arg, bool& started,
                      void* out) {
  auto set_err = [&](std::error_code e) {
    switch (cmd) {
      case FileCmd::Metadata:
        *static_cast<io::Result<fs::Metadata>*>(out) = tokio::unexpected(e);
        break;
      case FileCmd::TryClone:
        *static_cast<io::Result<fs::File>*>(out) = tokio::unexpected(e);
        break;
      case FileCmd::IntoStd: *static_cast<io::Result<int>*>(out) = tokio::unexpected(e); break;
      default: *static_cast<io::Result<void>*>(out) = tokio::unexpected(e); break;
    }
  };
  if (!f || f->fd < 0) {
    set_err(std::make_error_code(std::errc::bad_file_descriptor));
    return true;
  }
  f->ensure_engine();
  if (!started) {
    if (!f->settle(cx, true)) return false;
    switch (cmd) {
      case FileCmd::TryClone: {
        // The two Files share one offset from now on: neither may assume it.
        f->offset_shared = true;
        int fd = ::fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
          set_err(f->error(-fs_errno()));
          return true;
        }
        try {
          *static_cast<io::Result<fs::File>*>(out) =
              FileInner::wrap(fs_file_impl::make_inner(fd, f->engine, f->path));
        } catch (...) {
          fs_sys_close(fd);
          set_err(std::make_error_code(std::errc::not_enough_memory));
        }
        return true;
      }
      case FileCmd::IntoStd: {
        // Hand over the fd at the caller's logical position.
        (void)f->discard_read_ahead();
        *static_cast<io::Result<int>*>(out) = std::exchange(f->fd, -1);
        return true;
      }
      case FileCmd::SetLen:
        if (int e = f->discard_read_ahead()) {
          set_err(f->error(-e));
          return true;
        }
        f->op->arg = arg;
        f->start(FileOp::Kind::Truncate);
        break;
      case FileCmd::SetPermissions:
        f->op->arg = arg;
        f->start(FileOp::Kind::Chmod);
        break;
      case FileCmd::SyncAll: f->start(FileOp::Kind::Fsync); break;
      case FileCmd::SyncData: f->start(FileOp::Kind::Fdatasync); break;
      case FileCmd::Metadata: f->start(FileOp::Kind::Stat); break;
    }
    started = true;
  }
  if (!f->op->poll_done(cx)) return false;
  f->busy = false;
  FileOp& op = *f->op;
  op.kind = FileOp::Kind::None;
  if (op.result < 0) {
    set_err(f->error(op.result));
  } else if (cmd == FileCmd::Metadata) {
    *static_cast<io::Result<fs::Metadata>*>(out) = fs::Metadata(op.stat);
  } else {
    *static_cast<io::Result<void>*>(out) = io::Result<void>();
  }
  return true;
}

FileUse& fs_file_use(FileInner* f) noexcept {
  // A moved-from File (null): its operations fail at once with EBADF, each within the poll
  // that claims, so one word per thread serves them all.
  thread_local FileUse none;
  return f ? f->use : none;
}

void fs_file_free(FileInner* f) noexcept {
  FileOp* op = f->op;
  if (f->busy) {
    // The op finishes on its own and then closes the file (own_fd). A write completes
    // (it was accepted); anything else is cancelled.
    op->own_fd = f->fd >= 0;
    if (op->kind == FileOp::Kind::Write) {
      op->take_waker_and_drop();
      op->ref_dec();
    } else {
      fs_op_release(op);
    }
  } else {
    fs_sys_close(f->fd);
    op->ref_dec();
  }
  if (f->engine) f->engine->ref_dec();
  delete f;
}

namespace fs_file_impl {

FileInner* make_inner(int fd, FsEngine* engine, std::string path) {
  auto* f = new FileInner();
  f->fd = fd;
  f->engine = engine;
  if (engine) engine->ref_inc();
  f->path = std::move(path);
  f->op = new FileOp();
  f->op->fd = fd;
  return f;
}

io::Result<fs::File> take_file(FsOp* o) {
  auto* op = static_cast<OpenOp*>(o);
  if (op->err) return tokio::unexpected(fs_error(op->err, op->path));
  FileInner* f = make_inner(op->fd, op->engine, std::move(op->path));
  f->op->own_offset = true;  // a fresh open file description nobody else holds
  op->fd = -1;               // the File owns it now
  return FileInner::wrap(f);
}

FsAwait<fs::File> open_with(std::string path, int flags, unsigned mode, int err) {
  auto* op = new OpenOp(std::move(path), flags, mode);
  if (err) op->fail_before_start(err);  // rejected before any system call
  return {op, &take_file};
}

}  // namespace fs_file_impl

}  // namespace tokio::detail

namespace tokio::fs {

detail::FsAwait<File> File::open(PathArg path) {
  return detail::fs_file_impl::open_with(std::move(path).str(), O_RDONLY, 0666, 0);
}

detail::FsAwait<File> File::create(PathArg path) {
  return detail::fs_file_impl::open_with(std::move(path).str(), O_WRONLY | O_CREAT | O_TRUNC, 0666,
                                         0);
}

detail::FsAwait<File> File::create_new(PathArg path) {
  return detail::fs_file_impl::open_with(std::move(path).str(), O_RDWR | O_CREAT | O_EXCL, 0666, 0);
}

File File::from_std(int fd) {
  return File(detail::fs_file_impl::make_inner(fd, nullptr, std::string()));
}

// The commands run after the operation in flight (file.hpp); out of line, so a user TU
// instantiates no FileCmdOp constructor unless it names one.
detail::FileCmdOp<void> File::sync_all() noexcept { return {f_, detail::FileCmd::SyncAll}; }
detail::FileCmdOp<void> File::sync_data() noexcept { return {f_, detail::FileCmd::SyncData}; }
detail::FileCmdOp<void> File::set_len(uint64_t size) noexcept {
  return {f_, detail::FileCmd::SetLen, size};
}
detail::FileCmdOp<Metadata> File::metadata() noexcept { return {f_, detail::FileCmd::Metadata}; }
detail::FileCmdOp<void> File::set_permissions(std::filesystem::perms perms) noexcept {
  return {f_, detail::FileCmd::SetPermissions, static_cast<uint64_t>(perms) & 07777};
}
detail::FileCmdOp<File> File::try_clone() noexcept { return {f_, detail::FileCmd::TryClone}; }
detail::FileCmdOp<int> File::into_std() noexcept { return {f_, detail::FileCmd::IntoStd}; }

int File::as_raw_fd() const noexcept {
  if (!f_) return -1;
  // Whoever holds the fd may move the offset: the File stops assuming it (from its next
  // operation on: one may be in flight).
  f_->offset_shared = true;
  return f_->fd;
}

void File::set_max_buf_size(std::size_t n) noexcept {
  if (f_) f_->max_buf = n ? n : 1;
}

detail::FsAwait<File> OpenOptions::open(PathArg path) const {
  const bool rd = bits_ & kRead, wr = bits_ & kWrite, ap = bits_ & kAppend;
  const bool tr = bits_ & kTruncate, cr = bits_ & kCreate, cn = bits_ & kCreateNew;
  int err = 0;
  int flags = 0;
  // Access mode (Rust's OpenOptions::get_access_mode).
  if (ap) flags = (rd ? O_RDWR : O_WRONLY) | O_APPEND;
  else if (rd && wr) flags = O_RDWR;
  else if (wr) flags = O_WRONLY;
  else if (rd) flags = O_RDONLY;
  else err = EINVAL;
  // Creation mode (get_creation_mode).
  if (!wr && !ap) {
    if (tr || cr || cn) err = EINVAL;
  } else if (ap && tr && !cn) {
    err = EINVAL;
  }
  if (cn) flags |= O_CREAT | O_EXCL;
  else if (cr) flags |= O_CREAT | (tr ? O_TRUNC : 0);
  else if (tr) flags |= O_TRUNC;
  flags |= custom_ & ~O_ACCMODE;
  return detail::fs_file_impl::open_with(std::move(path).str(), flags, mode_, err);
}

}  // namespace tokio::fs
