// tokio::fs free functions: see functions.hpp.
#include "tokio/fs/functions.hpp"

#include <cerrno>
#include <new>
#include <system_error>

#include "tokio/core/detail/quote.hpp"
#include "tokio/fs/detail/engine.hpp"
#include "tokio/fs/detail/path_error.hpp"
#include "tokio/fs/detail/path_ops.hpp"
#include "tokio/fs/read_dir.hpp"
#include "tokio/core/detail/utf8.hpp"
#include "tokio/io/error.hpp"

namespace tokio::detail {

namespace fs_functions_impl {

tokio::unexpected<std::error_code> err1(int e, std::string_view p) {
  if (e == -1) return tokio::unexpected(std::error_code(io::Errc::write_zero));
  return tokio::unexpected(fs_error(e, p));
}
tokio::unexpected<std::error_code> err2(int e, std::string_view a, std::string_view b) {
  return tokio::unexpected(fs_error(e, a, b));
}

template <class Op>
Op* as(FsOp* op) noexcept {
  return static_cast<Op*>(op);
}

io::Result<void> take_path_void(FsOp* o) {
  auto* op = as<PathOp>(o);
  if (!op->err) return {};
  bool two = op->kind == PathOp::Kind::Rename || op->kind == PathOp::Kind::Link ||
             op->kind == PathOp::Kind::Symlink;
  return two ? err2(op->err, op->p1, op->p2) : err1(op->err, op->p1);
}

io::Result<fs::Metadata> take_metadata(FsOp* o) {
  auto* op = as<PathOp>(o);
  if (op->err) return err1(op->err, op->p1);
  return fs::Metadata(op->stat);
}

io::Result<bool> take_exists(FsOp* o) {
  auto* op = as<PathOp>(o);
  if (op->err == ENOENT) return false;
  if (op->err) return err1(op->err, op->p1);
  return true;
}

io::Result<std::vector<std::byte>> take_read(FsOp* o) {
  auto* op = as<ReadFileOp<std::vector<std::byte>>>(o);
  if (op->err) return err1(op->err, op->path);
  return std::move(op->out);
}

io::Result<std::string> take_read_string(FsOp* o) {
  auto* op = as<ReadFileOp<std::string>>(o);
  if (op->err) return err1(op->err, op->path);
  if (!utf8_valid(reinterpret_cast<const unsigned char*>(op->out.data()), op->out.size())) {
    // The errno's text speaks of "multibyte or wide characters": say what is wrong.
    std::string ctx = debug_quoted(op->path) + ": stream did not contain valid UTF-8";
    return tokio::unexpected(fs_error_ctx(EILSEQ, ctx));
  }
  return std::move(op->out);
}

io::Result<void> take_write(FsOp* o) {
  auto* op = as<WriteFileOp>(o);
  if (op->err) return err1(op->err, op->path);
  return {};
}

io::Result<void> take_misc_void(FsOp* o) {
  auto* op = as<MiscOp>(o);
  if (!op->err) return {};
  if (op->kind == MiscOp::Kind::Copy) {
    if (op->err == -1) return tokio::unexpected(std::error_code(io::Errc::write_zero));
    return err2(op->err, op->p1, op->p2);
  }
  auto trimmed = [](std::string_view p) {
    while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
    return p;
  };
  if (!op->p2.empty() && trimmed(op->p2) != trimmed(op->p1)) {
    // A recursive operation failed at another path than its argument: name both.
    return tokio::unexpected(
        fs_error_ctx(op->err, debug_quoted(op->p1) + " (failed at " + debug_quoted(op->p2) + ")"));
  }
  return err1(op->err, op->p1);
}

io::Result<uint64_t> take_copy(FsOp* o) {
  auto* op = as<MiscOp>(o);
  if (op->err) return err2(op->err, op->p1, op->p2);
  return op->count;
}

io::Result<std::filesystem::path> take_misc_path(FsOp* o) {
  auto* op = as<MiscOp>(o);
  if (op->err) return err1(op->err, op->p1);
  return std::move(op->out);
}

FsAwait<void> path_void(PathOp::Kind k, std::string a, std::string b = {}) {
  return {new PathOp(k, std::move(a), std::move(b)), &take_path_void};
}

FsAwait<void> misc_void(MiscOp::Kind k, std::string a, std::string b = {}) {
  return {new MiscOp(k, std::move(a), std::move(b)), &take_misc_void};
}

}  // namespace fs_functions_impl

}  // namespace tokio::detail

namespace tokio::fs {

namespace fs_impl = tokio::detail::fs_functions_impl;
using detail::FsAwait;
using detail::MiscOp;
using detail::PathOp;

FsAwait<std::vector<std::byte>> read(PathArg path) {
  return {new detail::ReadFileOp<std::vector<std::byte>>(std::move(path).str()),
          &fs_impl::take_read};
}

FsAwait<std::string> read_to_string(PathArg path) {
  return {new detail::ReadFileOp<std::string>(std::move(path).str()), &fs_impl::take_read_string};
}

FsAwait<void> write(PathArg path, io::ConstBuffer contents) {
  std::vector<std::byte> data(contents.begin(), contents.end());
  return {new detail::WriteFileOp(std::move(path).str(), std::move(data)), &fs_impl::take_write};
}

FsAwait<uint64_t> copy(PathArg from, PathArg to) {
  return {new MiscOp(MiscOp::Kind::Copy, std::move(from).str(), std::move(to).str()),
          &fs_impl::take_copy};
}

FsAwait<void> create_dir(PathArg path) {
  return fs_impl::path_void(PathOp::Kind::Mkdir, std::move(path).str());
}
FsAwait<void> create_dir_all(PathArg path) {
  return fs_impl::misc_void(MiscOp::Kind::CreateDirAll, std::move(path).str());
}
FsAwait<void> DirBuilder::create(PathArg path) const {
  if (recursive_) {
    auto* op = new MiscOp(MiscOp::Kind::CreateDirAll, std::move(path).str());
    op->mode = mode_;
    return {op, &fs_impl::take_misc_void};
  }
  auto* op = new PathOp(PathOp::Kind::Mkdir, std::move(path).str());
  op->mode = mode_;
  return {op, &fs_impl::take_path_void};
}
FsAwait<void> remove_file(PathArg path) {
  return fs_impl::path_void(PathOp::Kind::Unlink, std::move(path).str());
}
FsAwait<void> remove_dir(PathArg path) {
  return fs_impl::path_void(PathOp::Kind::Rmdir, std::move(path).str());
}
FsAwait<void> remove_dir_all(PathArg path) {
  return fs_impl::misc_void(MiscOp::Kind::RemoveDirAll, std::move(path).str());
}
FsAwait<void> rename(PathArg from, PathArg to) {
  return fs_impl::path_void(PathOp::Kind::Rename, std::move(from).str(), std::move(to).str());
}

FsAwait<Metadata> metadata(PathArg path) {
  return {new PathOp(PathOp::Kind::Stat, std::move(path).str()), &fs_impl::take_metadata};
}
FsAwait<Metadata> symlink_metadata(PathArg path) {
  return {new PathOp(PathOp::Kind::Lstat, std::move(path).str()), &fs_impl::take_metadata};
}
FsAwait<bool> try_exists(PathArg path) {
  return {new PathOp(PathOp::Kind::Stat, std::move(path).str()), &fs_impl::take_exists};
}

FsAwait<std::filesystem::path> canonicalize(PathArg path) {
  return {new MiscOp(MiscOp::Kind::Canonicalize, std::move(path).str()), &fs_impl::take_misc_path};
}
FsAwait<void> hard_link(PathArg src, PathArg dst) {
  return fs_impl::path_void(PathOp::Kind::Link, std::move(src).str(), std::move(dst).str());
}
FsAwait<void> symlink(PathArg src, PathArg dst) {
  return fs_impl::path_void(PathOp::Kind::Symlink, std::move(src).str(), std::move(dst).str());
}
FsAwait<std::filesystem::path> read_link(PathArg path) {
  return {new MiscOp(MiscOp::Kind::ReadLink, std::move(path).str()), &fs_impl::take_misc_path};
}
FsAwait<void> set_permissions(PathArg path, std::filesystem::perms perms) {
  auto* op = new MiscOp(MiscOp::Kind::SetPermissions, std::move(path).str());
  op->perms = static_cast<unsigned>(perms) & 07777;
  return {op, &fs_impl::take_misc_void};
}

bool uses_io_uring() {
  return detail::fs_engine_current("fs::uses_io_uring()")->kind() ==
         detail::FsEngine::Kind::IoUring;
}

}  // namespace tokio::fs
