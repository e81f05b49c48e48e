// PathOp, OpenOp, ReadFileOp, WriteFileOp: see path_ops.hpp. (MiscOp: misc_ops.cpp.)
#include "tokio/fs/detail/path_ops.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "tokio/fs/detail/engine.hpp"
#include "tokio/fs/detail/sys.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"

namespace tokio::detail {

namespace fs_path_ops_impl {

constexpr uint64_t kCurPos = ~uint64_t{0};  // read/write at the file position

uint64_t ptr(const void* p) noexcept { return reinterpret_cast<uint64_t>(p); }
uint32_t fdcwd() noexcept { return static_cast<uint32_t>(AT_FDCWD); }

uint8_t path_opcode(PathOp::Kind k) noexcept {
  switch (k) {
    case PathOp::Kind::Mkdir: return uring::kOpMkdirat;
    case PathOp::Kind::Unlink:
    case PathOp::Kind::Rmdir: return uring::kOpUnlinkat;
    case PathOp::Kind::Rename: return uring::kOpRenameat;
    case PathOp::Kind::Link: return uring::kOpLinkat;
    case PathOp::Kind::Symlink: return uring::kOpSymlinkat;
    case PathOp::Kind::Stat:
    case PathOp::Kind::Lstat: return uring::kOpStatx;
  }
  return uring::kOpNop;
}

int ret(int r) noexcept { return r == 0 ? 0 : fs_errno(); }

// The file type bits of what `path` names (following links), 0 when stat fails.
mode_t path_mode(const char* path) noexcept {
  struct stat st;
  return ::stat(path, &st) == 0 ? st.st_mode : 0;
}

// fs::read's scratch buffers (the first two reads land there before the exact-size copy),
// cached per thread: a 64 KiB malloc/free per file makes glibc grow and trim its arenas
// (an mprotect or madvise system call every few files).
struct ScratchCache {
  static constexpr int kMax = 64;
  std::byte* bufs[kMax];
  int n = 0;
  ~ScratchCache() {
    while (n > 0) std::free(bufs[--n]);
  }
};
thread_local ScratchCache tl_scratch;

std::byte* scratch_get(std::size_t size) noexcept {
  ScratchCache& c = tl_scratch;
  if (c.n > 0) return c.bufs[--c.n];
  return static_cast<std::byte*>(std::malloc(size));
}
void scratch_put(std::byte* p) noexcept {
  if (!p) return;
  ScratchCache& c = tl_scratch;
  if (c.n < ScratchCache::kMax) c.bufs[c.n++] = p;
  else std::free(p);
}

}  // namespace fs_path_ops_impl

// --- PathOp ------------------------------------------------------------------------------
unsigned PathOp::uring_plan(const UringCaps& caps) noexcept {
  return caps.supports(fs_path_ops_impl::path_opcode(kind)) ? 1 : 0;
}

void PathOp::uring_prep(uring::Sqe* const* sqes, unsigned) noexcept {
  using fs_path_ops_impl::fdcwd;
  using fs_path_ops_impl::ptr;
  uring::Sqe* e = sqes[0];
  e->opcode = fs_path_ops_impl::path_opcode(kind);
  e->fd = dirfd;
  e->addr = ptr(target());
  switch (kind) {
    case Kind::Mkdir: e->len = mode; break;
    case Kind::Unlink: break;
    case Kind::Rmdir: e->op_flags = AT_REMOVEDIR; break;
    case Kind::Rename:
    case Kind::Link:
      e->len = fdcwd();
      e->off = ptr(p2.c_str());
      break;
    case Kind::Symlink: e->off = ptr(p2.c_str()); break;
    case Kind::Stat:
    case Kind::Lstat:
      e->len = kFsStatxMask;
      e->off = ptr(&sx);
      e->op_flags = kind == Kind::Lstat ? AT_SYMLINK_NOFOLLOW : 0;
      break;
  }
}

StepOutcome PathOp::uring_step_done() noexcept {
  if (res[0] < 0) {
    err = -res[0];
  } else if (kind == Kind::Stat || kind == Kind::Lstat) {
    fs_stat_from_statx(sx, stat);
  }
  return StepOutcome::Finished;
}

void PathOp::run_blocking() noexcept {
  using fs_path_ops_impl::ret;
  switch (kind) {
    case Kind::Mkdir: err = ret(::mkdir(p1.c_str(), mode)); break;
    case Kind::Unlink: err = ret(::unlink(p1.c_str())); break;
    case Kind::Rmdir: err = ret(::rmdir(p1.c_str())); break;
    case Kind::Rename: err = ret(::rename(p1.c_str(), p2.c_str())); break;
    case Kind::Link: err = ret(::linkat(AT_FDCWD, p1.c_str(), AT_FDCWD, p2.c_str(), 0)); break;
    case Kind::Symlink: err = ret(::symlink(p1.c_str(), p2.c_str())); break;
    case Kind::Stat: err = fs_sys_statx(dirfd, target(), 0, stat); break;
    case Kind::Lstat: err = fs_sys_statx(dirfd, target(), AT_SYMLINK_NOFOLLOW, stat); break;
  }
}

// --- OpenOp ------------------------------------------------------------------------------
void OpenOp::close_fd() noexcept { fs_sys_close(std::exchange(fd, -1)); }

unsigned OpenOp::uring_plan(const UringCaps&) noexcept { return 1; }

void OpenOp::uring_prep(uring::Sqe* const* sqes, unsigned) noexcept {
  uring::Sqe* e = sqes[0];
  e->opcode = uring::kOpOpenat;
  e->fd = AT_FDCWD;
  e->addr = fs_path_ops_impl::ptr(path.c_str());
  e->len = mode;
  e->op_flags = static_cast<uint32_t>(flags | O_CLOEXEC);
}

// io_uring opens without waiting, where open(2) of a FIFO waits for the other side:
// - for writing with no reader it says ENXIO: the blocking pool opens again and waits;
// - for writing with a reader it succeeds, as open(2) would at once: done;
// - for reading it always succeeds, paired with a writer that was waiting in its own
//   open (that writer's open returns now and it may write at once) or with none. The fd
//   is kept (closing it would leave that writer without a reader: EPIPE), and the
//   blocking pool waits for a writer only if none came (wait_for_writer).
StepOutcome OpenOp::uring_step_done() noexcept {
  const bool may_wait = !(flags & (O_NONBLOCK | O_DIRECTORY));
  const int access = flags & O_ACCMODE;
  if (res[0] < 0) {
    if (res[0] == -ENXIO && may_wait && access == O_WRONLY) return StepOutcome::Blocking;
    err = -res[0];
    return StepOutcome::Finished;
  }
  fd = res[0];
  if (may_wait && access == O_RDONLY) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) return StepOutcome::Blocking;
  }
  return StepOutcome::Finished;
}

void OpenOp::run_blocking() noexcept {
  if (fd >= 0) {
    wait_for_writer();
    return;
  }
  int r = fs_sys_open(AT_FDCWD, path.c_str(), flags, mode);
  if (r < 0) err = -r;
  else fd = r;
}

void OpenOp::wait_for_writer() noexcept {
  // The kernel hands back the fd without O_NONBLOCK; make sure (reads must block as on
  // a FIFO open(2) opened).
  int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0 && (fl & O_NONBLOCK)) (void)::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  // A writer came since the open if data is buffered (POLLIN) or one came and left
  // (POLLHUP: the kernel reports it only for a writer later than this reader's open).
  struct pollfd p {};
  p.fd = fd;
  p.events = POLLIN;
  if (::poll(&p, 1, 0) > 0) return;
  // None, or one is connected and has not written: open(2) again, which returns at once
  // in the second case and waits for a writer in the first, as the caller's open would
  // have. The fd stays the result. (Linux tells neither case apart without side effects;
  // a poll for data alone would stall the two-FIFO handshake, where the writer waits for
  // the reader's reply FIFO before writing.) Known gaps, not fixed: a writer that leaves
  // without writing between the poll and this open is missed, and the open waits for the
  // next writer (0.2-0.3% of rounds in a stress of writers that open and close at once;
  // the old close-and-reopen missed 1 in 40); a path renamed or removed in between fails
  // this open, and the error is returned although the first fd was good.
  int again = fs_sys_open(AT_FDCWD, path.c_str(), flags, mode);
  if (again < 0) {
    err = -again;
    close_fd();
    return;
  }
  fs_sys_close(again);
}

// --- ReadFileOp ----------------------------------------------------------------------------
template <class C>
ReadFileOp<C>::~ReadFileOp() {
  fs_sys_close(fd);
  fs_path_ops_impl::scratch_put(scratch);
}

template <class C>
unsigned ReadFileOp<C>::uring_plan(const UringCaps& caps) noexcept {
  if (phase != Phase::More && !scratch) {
    scratch = fs_path_ops_impl::scratch_get(kFirst + kProbe);
    if (!scratch) return 0;
  }
  switch (phase) {
    case Phase::Open: return caps.direct_slots ? 3 : 1;
    case Phase::First: return 2;
    case Phase::More: return 1;
  }
  return 0;
}

template <class C>
void ReadFileOp<C>::uring_prep(uring::Sqe* const* sqes, unsigned n) noexcept {
  using fs_path_ops_impl::kCurPos;
  using fs_path_ops_impl::ptr;
  const bool direct = slot >= 0;
  const int file = direct ? slot : fd;
  const uint8_t fixed = direct ? uring::kSqeFixedFile : 0;
  unsigned i = 0;
  if (phase == Phase::Open) {
    uring::Sqe* o = sqes[i++];
    o->opcode = uring::kOpOpenat;
    o->fd = AT_FDCWD;
    o->addr = ptr(path.c_str());
    if (direct) {
      // A direct descriptor cannot be O_CLOEXEC (it is not in the fd table at all).
      o->op_flags = O_RDONLY;
      o->file_index = static_cast<uint32_t>(slot) + 1;
      o->flags = uring::kSqeIoLink;  // a failed open cancels the reads
    } else {
      o->op_flags = O_RDONLY | O_CLOEXEC;
    }
  }
  if (phase == Phase::More) {
    uring::Sqe* r = sqes[i++];
    r->opcode = uring::kOpRead;
    r->fd = file;
    r->flags = fixed;
    r->addr = ptr(reinterpret_cast<std::byte*>(out.data()) + len);
    r->len = static_cast<uint32_t>(std::min<std::size_t>(out.size() - len, 1u << 30));
    r->off = kCurPos;
    return;
  }
  if (i == n) return;  // open alone (no direct slot): the reads follow once the fd exists
  // The first read, hard-linked to a second one: the second runs even when the first is
  // short (a short read "fails" a plain link), and returns 0 at end of file, which proves
  // the file was read whole in one submission.
  // The second read never waits (RWF_NOWAIT): a hard link also runs it after the first read
  // was cancelled, and the kernel issues it only then, out of reach of the cancellation
  // sent for it before (which found nothing: seen on Linux 6.18). A probe that could wait
  // (a FIFO or a terminal with no data) would then sit in the kernel with the op's buffer
  // until data came or the runtime shut down. Not waiting, it answers EAGAIN at once.
  uring::Sqe* r1 = sqes[i++];
  r1->opcode = uring::kOpRead;
  r1->fd = file;
  r1->flags = fixed | uring::kSqeIoHardlink;
  r1->addr = ptr(scratch);
  r1->len = kFirst;
  r1->off = kCurPos;
  uring::Sqe* r2 = sqes[i++];
  r2->opcode = uring::kOpRead;
  r2->fd = file;
  r2->flags = fixed;
  r2->addr = ptr(scratch + kFirst);
  r2->len = kProbe;
  r2->off = kCurPos;
  r2->op_flags = uring::kRwfNowait;
}

template <class C>
StepOutcome ReadFileOp<C>::more_or_done(std::size_t got) noexcept {
  len += got;
  // Only a regular file can be read again from its start: what a FIFO, a pipe (/dev/stdin,
  // /proc/self/fd/N) or a device gave is gone, so those go on here to their end (and a
  // FIFO's writer, between this close and a reopen, would see no reader: EPIPE).
  if (len >= kBlockingAbove && !reading_on) {
    if (S_ISREG(fs_path_ops_impl::path_mode(path.c_str()))) {
      out = C();  // run_blocking starts over (and appends to `out`)
      len = 0;
      return cancel_requested() ? error(ECANCELED) : StepOutcome::Blocking;
    }
    reading_on = true;
  }
  try {
    if (len == out.size()) out.resize(out.size() * 2);
  } catch (...) {
    return error(ENOMEM);
  }
  phase = Phase::More;
  if (cancel_requested()) return error(ECANCELED);
  return StepOutcome::Continue;
}

template <class C>
StepOutcome ReadFileOp<C>::uring_step_done() noexcept {
  using Elem = std::remove_reference_t<decltype(*out.data())>;
  unsigned i = 0;
  if (phase == Phase::Open) {
    if (res[0] < 0) return error(-res[0]);
    if (slot < 0) {
      fd = res[0];
      phase = Phase::First;
      return cancel_requested() ? error(ECANCELED) : StepOutcome::Continue;
    }
    slot_open = true;
    i = 1;
  }
  if (phase == Phase::More) {
    if (res[0] < 0) return error(-res[0]);
    if (res[0] == 0) {
      out.resize(len);
      return StepOutcome::Finished;
    }
    return more_or_done(static_cast<std::size_t>(res[0]));
  }
  // The first two reads.
  int32_t a = res[i], b = res[i + 1];
  if (a < 0) return error(-a);
  // The probe had nothing to read at once (EAGAIN: pages not cached, a FIFO or device with
  // no data yet) or cannot read without waiting (EOPNOTSUPP: procfs, sysfs and other files
  // without non-blocking reads): no proof of end of file, as when it read more bytes.
  const bool no_answer = b == -EAGAIN || b == -EOPNOTSUPP;
  if (b < 0 && !no_answer) return error(-b);
  const std::size_t got = no_answer ? 0 : static_cast<std::size_t>(b);
  auto* src = reinterpret_cast<const Elem*>(scratch);
  try {
    if (b == 0) {
      if (a == 0 && S_ISFIFO(fs_path_ops_impl::path_mode(path.c_str()))) {
        // io_uring's first, non-blocking open of a FIFO succeeds without a writer and
        // then reads end of file, where open(2) waits for a writer: redo it on the
        // blocking pool. (Only an empty result is checked; the path was just resolved,
        // so this stat does not block.)
        return StepOutcome::Blocking;
      }
      out.assign(src, src + a);  // the whole file, exactly sized
      fs_path_ops_impl::scratch_put(std::exchange(scratch, nullptr));
      return StepOutcome::Finished;
    }
    // Bigger than the first read (or not known to end there): keep going into `out`,
    // doubling as needed.
    out.resize(std::max<std::size_t>(2 * (static_cast<std::size_t>(a) + got), 4 * kFirst));
    std::memcpy(out.data(), scratch, static_cast<std::size_t>(a));
    std::memcpy(reinterpret_cast<std::byte*>(out.data()) + a, scratch + kFirst, got);
  } catch (...) {
    return error(ENOMEM);
  }
  len = static_cast<std::size_t>(a);
  return more_or_done(got);
}

template <class C>
void ReadFileOp<C>::run_blocking() noexcept {
  fs_sys_close(std::exchange(fd, -1));  // from an io_uring attempt handed over (a FIFO)
  int r = fs_sys_open(AT_FDCWD, path.c_str(), O_RDONLY, 0);
  if (r < 0) {
    err = -r;
    return;
  }
  struct stat st;
  std::size_t hint = 0;
  if (::fstat(r, &st) == 0 && S_ISREG(st.st_mode)) hint = static_cast<std::size_t>(st.st_size);
  err = fs_sys_read_to_end(r, out, hint);
  fs_sys_close(r);
}

template class ReadFileOp<std::vector<std::byte>>;
template class ReadFileOp<std::string>;

// --- WriteFileOp ---------------------------------------------------------------------------
WriteFileOp::~WriteFileOp() { fs_sys_close(fd); }

unsigned WriteFileOp::uring_plan(const UringCaps& caps) noexcept {
  const bool direct = caps.direct_slots;
  if (phase == Phase::Open) cut_after = !data.empty() && caps.supports(uring::kOpFtruncate);
  // With a slot, the close is linked after the write of the last chunk only: linked after
  // an earlier (full) chunk it would run, and the next chunk would find the slot empty.
  // So is the ftruncate that cuts the file to length (cut_after).
  const bool last = data.size() - written <= fs_uring_max_chunk();
  const unsigned cut = last && cut_after ? 1 : 0;
  if (phase == Phase::Open) return direct ? (data.empty() ? 2 : last ? 3 + cut : 2) : 1;
  return (direct && last ? 2 : 1) + cut;
}

void WriteFileOp::uring_prep(uring::Sqe* const* sqes, unsigned) noexcept {
  using fs_path_ops_impl::kCurPos;
  using fs_path_ops_impl::ptr;
  const bool direct = slot >= 0;
  unsigned i = 0;
  if (phase == Phase::Open) {
    uring::Sqe* o = sqes[i++];
    o->opcode = uring::kOpOpenat;
    o->fd = AT_FDCWD;
    o->addr = ptr(path.c_str());
    o->len = 0666;
    o->op_flags = O_WRONLY | O_CREAT | (cut_after ? 0 : O_TRUNC) | (direct ? 0 : O_CLOEXEC);
    if (!direct) return;
    o->file_index = static_cast<uint32_t>(slot) + 1;
    o->flags = uring::kSqeIoLink;
  }
  const std::size_t chunk = fs_uring_max_chunk();  // one write moves at most this much
  const bool last = data.size() - written <= chunk;
  closing = direct && last;
  cutting = cut_after && last;
  const uint8_t fixed = direct ? uring::kSqeFixedFile : 0;
  if (written < data.size()) {
    uring::Sqe* w = sqes[i++];
    w->opcode = uring::kOpWrite;
    w->fd = direct ? slot : fd;
    // IOSQE_ASYNC: run in io_uring's worker, whose signals are blocked. Written inline
    // (or retried by task work) in our thread, a FIFO whose reader left would raise
    // SIGPIPE here and kill the process; the worker just returns EPIPE.
    w->flags = uring::kSqeAsync | fixed | (closing || cutting ? uring::kSqeIoLink : 0);
    w->addr = ptr(data.data() + written);
    w->len = static_cast<uint32_t>(std::min(data.size() - written, chunk));
    // After a first write from offset 0 (the file position of a fresh open), the rest goes
    // at an explicit offset: io_uring may leave the file position where a short write
    // began (when its own retry of the rest failed with ENOSPC or EFBIG), and writing the
    // rest there would overwrite what was written and report success. A pipe ignores it.
    w->off = written > 0 ? written : kCurPos;
  }
  if (cutting) {
    // Linked: runs only if the write wrote everything (a short write fails the link).
    uring::Sqe* t = sqes[i++];
    t->opcode = uring::kOpFtruncate;
    t->fd = direct ? slot : fd;
    t->flags = fixed | (closing ? uring::kSqeIoLink : 0);
    t->off = data.size();
  }
  if (closing) {
    // Linked: runs only if the write wrote everything and the file was cut to length.
    uring::Sqe* c = sqes[i++];
    c->opcode = uring::kOpClose;
    c->file_index = static_cast<uint32_t>(slot) + 1;
  }
}

namespace fs_path_ops_impl {
// The result of cutting a written file to length: EINVAL says it is no regular file (a
// FIFO, /dev/null, a terminal), where there is nothing to cut.
inline int cut_error(int r) noexcept { return r < 0 && r != -EINVAL ? -r : 0; }
}  // namespace fs_path_ops_impl

StepOutcome WriteFileOp::uring_step_done() noexcept {
  const bool direct = slot >= 0;
  unsigned i = 0;
  if (phase == Phase::Open) {
    if (res[0] < 0) {
      err = -res[0];
      return StepOutcome::Finished;
    }
    phase = Phase::Write;
    if (!direct) {
      fd = res[0];
      if (data.empty()) {
        fs_sys_close(std::exchange(fd, -1));
        return StepOutcome::Finished;
      }
      return cancel_requested() ? (err = ECANCELED, StepOutcome::Finished) : StepOutcome::Continue;
    }
    slot_open = true;
    i = 1;
  }
  if (written < data.size()) {
    int32_t w = res[i++];
    if (w < 0) {
      err = -w;
    } else if (w == 0) {
      err = -1;  // write_zero
    } else {
      written += static_cast<std::size_t>(w);
      if (written < data.size()) {
        // Short: the linked ftruncate and close did not run; the next step links them again.
        if (cancel_requested()) err = ECANCELED;
        else return StepOutcome::Continue;
      }
    }
  }
  if (cutting) {
    if (!err) err = fs_path_ops_impl::cut_error(res[i]);
    ++i;
  }
  if (direct) {
    // An open slot left (no close prepared, or the close did not run) the engine closes.
    if (closing && !err && res[i] == 0) slot_open = false;  // the linked close ran
  } else {
    fs_sys_close(std::exchange(fd, -1));
  }
  return StepOutcome::Finished;
}

void WriteFileOp::run_blocking() noexcept {
  const bool cut = !data.empty();  // see cut_after
  int r = fs_sys_open(AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | (cut ? 0 : O_TRUNC), 0666);
  if (r < 0) {
    err = -r;
    return;
  }
  std::size_t n = 0;
  int w = write_all_nosig(r, data.data(), data.size(), n);
  if (w != 0) err = w == kWriteZero ? -1 : -w;
  if (cut && !err) {
    // Only after the whole write, as the io_uring engine's linked ftruncate: after a failed
    // write both engines leave the file as the write left it (fs::write's comment).
    int t;
    do {
      t = ::ftruncate(r, static_cast<off_t>(n)) == 0 ? 0 : -errno;
    } while (t == -EINTR);
    err = fs_path_ops_impl::cut_error(t);
  }
  fs_sys_close(r);
}

}  // namespace tokio::detail
