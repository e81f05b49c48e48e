// MiscOp: the operations io_uring has no opcode for, run on the blocking pool by both
// engines (see path_ops.hpp).
#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tokio/fs/detail/path_ops.hpp"
#include "tokio/fs/detail/sys.hpp"
#include "tokio/runtime/detail/sigpipe.hpp"

namespace tokio::detail {

namespace fs_misc_ops_impl {

// 0, an errno, or -1 when the target accepted no bytes (io::Errc::write_zero).
int copy_fds(int in, int out, uint64_t& copied) noexcept {
  copied = 0;
  // copy_file_range shares extents or copies in the kernel; it refuses some pairs
  // (across file systems before 5.3, special files): then a read/write loop.
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1u << 30, 0);
    if (n > 0) {
      copied += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (copied == 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                        errno == EOPNOTSUPP || errno == EPERM)) {
      break;
    }
    return fs_errno();
  }
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    int64_t n = fs_sys_read(in, buf.data(), buf.size());
    if (n < 0) return static_cast<int>(-n);
    if (n == 0) return 0;
    std::size_t w = 0;
    int e = write_all(out, buf.data(), static_cast<std::size_t>(n), w);
    copied += w;
    if (e) return e == kWriteZero ? -1 : -e;  // -1: write_zero, as WriteFileOp reports it
  }
}

int copy_file(const char* from, const char* to, uint64_t& copied) noexcept {
  SigpipeGuard guard;  // the target may be a FIFO whose reader leaves
  int in = fs_sys_open(AT_FDCWD, from, O_RDONLY, 0);
  if (in < 0) return -in;
  struct stat st;
  if (::fstat(in, &st) != 0) {
    int e = fs_errno();
    fs_sys_close(in);
    return e;
  }
  if (!S_ISREG(st.st_mode)) {  // as Rust's fs::copy: only regular files
    fs_sys_close(in);
    return EINVAL;
  }
  int out = fs_sys_open(AT_FDCWD, to, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
  if (out < 0) {
    fs_sys_close(in);
    return -out;
  }
  int e = copy_fds(in, out, copied);
  if (e == EPIPE) guard.epipe();
  // The copy gets the source's permission bits even if the target existed, when the target
  // is a regular file: as Rust's fs::copy, a FIFO or device node written through keeps its
  // own (fchmod of /dev/null as root would lock everyone else out of it).
  struct stat ost;
  if (!e && ::fstat(out, &ost) != 0) e = fs_errno();
  if (!e && S_ISREG(ost.st_mode) && ::fchmod(out, st.st_mode & 07777) != 0) e = fs_errno();
  fs_sys_close(in);
  fs_sys_close(out);
  return e;
}

// Names the path a recursive operation failed at (for its error message); a name that
// cannot be allocated is left out, the errno still reported.
template <class... Parts>
void note_failed_at(std::string& failed, const Parts&... parts) noexcept {
  try {
    failed.clear();
    ((failed += parts), ...);
  } catch (...) {
    failed.clear();
  }
}

// 0 or errno; `failed` is set to the directory whose mkdir failed when that is not p itself.
int create_dir_all(std::string p, unsigned mode, std::string& failed) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty()) return 0;
  if (::mkdir(p.c_str(), mode) == 0) return 0;
  int e = errno;
  struct stat st;
  if (e == EEXIST) {
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    note_failed_at(failed, p);
    return EEXIST;
  }
  std::size_t slash = p.rfind('/');
  if (e != ENOENT || slash == std::string::npos || p == "/") {
    note_failed_at(failed, p);
    return e;
  }
  if (int pe = create_dir_all(slash == 0 ? std::string("/") : p.substr(0, slash), mode, failed)) {
    return pe;
  }
  if (::mkdir(p.c_str(), mode) == 0) return 0;
  e = errno;
  if (e == EEXIST && ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return 0;
  note_failed_at(failed, p);
  return e;
}

// 0 or errno; `failed` is set to the entry below p whose removal failed, if one did.
int remove_dir_all(const std::string& p, std::string& failed) noexcept {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) return fs_errno();
  // A symlink is removed itself, never followed.
  if (!S_ISDIR(st.st_mode)) {
    if (!S_ISLNK(st.st_mode)) return ENOTDIR;
    return ::unlink(p.c_str()) ? fs_errno() : 0;
  }
  int fd = fs_sys_open(AT_FDCWD, p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
  if (fd < 0) return -fd;
  std::string below;
  int e = fs_remove_dir_contents(fd, &below);
  fs_sys_close(fd);
  if (e) {
    if (!below.empty()) note_failed_at(failed, p, p.ends_with('/') ? "" : "/", below);
    return e;
  }
  return ::rmdir(p.c_str()) ? fs_errno() : 0;
}

int read_link(const char* p, std::filesystem::path& out) noexcept {
  try {
    std::string buf(256, '\0');
    for (;;) {
      ssize_t n = ::readlink(p, buf.data(), buf.size());
      if (n < 0) return fs_errno();
      if (static_cast<std::size_t>(n) < buf.size()) {
        buf.resize(static_cast<std::size_t>(n));
        out = std::move(buf);
        return 0;
      }
      buf.resize(buf.size() * 2);
    }
  } catch (...) {
    return ENOMEM;
  }
}

}  // namespace fs_misc_ops_impl

namespace fs_misc_ops_impl {
// Puts `name` in front of what a failure below it recorded (failed_at: "a/b/c").
void prefix_failed_at(std::string* failed_at, const char* name) noexcept {
  if (!failed_at) return;
  try {
    *failed_at = failed_at->empty() ? std::string(name) : std::string(name) + "/" + *failed_at;
  } catch (...) {
    failed_at->clear();
  }
}
}  // namespace fs_misc_ops_impl

int fs_remove_dir_contents(int dirfd, std::string* failed_at) noexcept {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return fs_errno();
  DIR* d = ::fdopendir(dup);
  if (!d) {
    int e = fs_errno();
    fs_sys_close(dup);
    return e;
  }
  int err = 0;
  struct dirent* ent;  // on a failure after the loop: the entry it failed at (null: readdir)
  for (;;) {
    errno = 0;
    ent = ::readdir(d);
    if (!ent) {
      if (errno) err = errno;
      break;
    }
    const char* name = ent->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    bool is_dir = ent->d_type == DT_DIR;
    if (ent->d_type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        err = errno;
        break;
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      int child = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        if (errno == ENOENT) continue;
        err = errno;
        break;
      }
      err = fs_remove_dir_contents(child, failed_at);
      fs_sys_close(child);
      if (err) break;
    }
    if (::unlinkat(dirfd, name, is_dir ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT) {
      err = errno;
      break;
    }
  }
  if (err && ent) fs_misc_ops_impl::prefix_failed_at(failed_at, ent->d_name);
  ::closedir(d);  // (ent points into d's buffer until here)
  return err;
}

void MiscOp::run_blocking() noexcept {
  switch (kind) {
    case Kind::Copy: err = fs_misc_ops_impl::copy_file(p1.c_str(), p2.c_str(), count); break;
    case Kind::CreateDirAll: try { err = fs_misc_ops_impl::create_dir_all(p1, mode, p2);
      } catch (...) {
        err = ENOMEM;
      }
      break;
    case Kind::RemoveDirAll: err = fs_misc_ops_impl::remove_dir_all(p1, p2); break;
    case Kind::Canonicalize: {
      char* r = ::realpath(p1.c_str(), nullptr);
      if (!r) {
        err = fs_errno();
        break;
      }
      try {
        out = r;
      } catch (...) {
        err = ENOMEM;
      }
      std::free(r);
      break;
    }
    case Kind::ReadLink: err = fs_misc_ops_impl::read_link(p1.c_str(), out); break;
    case Kind::SetPermissions: err = ::chmod(p1.c_str(), perms & 07777) ? fs_errno() : 0; break;
  }
}

}  // namespace tokio::detail
