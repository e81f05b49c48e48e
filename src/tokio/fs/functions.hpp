#pragma once
// tokio::fs free functions, Tokio's names. Each returns an awaitable; nothing happens until
// it is awaited (or spawned). Paths: a std::filesystem::path, std::string, string_view or
// const char* (fs::PathArg).
//
//   auto data = co_await fs::read("/etc/hosts");               // io::Result<std::vector<std::byte>>
//   auto text = co_await fs::read_to_string("/etc/hosts");     // io::Result<std::string> (UTF-8 checked)
//   auto ok   = co_await fs::write("/tmp/x", "hello\n");         // io::Result<void>
//   auto meta = co_await fs::metadata("/tmp/x");               // io::Result<fs::Metadata>
//
// Errors: an io::Result error whose code is the errno (compare with std::errc) and whose
// message() names the path(s): "No such file or directory (os error 2): \"/tmp/nope\"".
// No function throws, except std::logic_error when awaited outside a runtime.
//
// Engine: io_uring when the kernel allows it, else the blocking pool (see
// fs/detail/engine.hpp and the README); the results are the same.
//
// Cancel safety: destroying the await (select, timeout, abort) stops the operation as soon
// as the kernel allows (IORING_OP_ASYNC_CANCEL; a blocking-pool job that has not started
// is skipped) and never frees a buffer the kernel may still write. Whether a cancelled
// operation took effect is unknown: write, create_dir, remove_file, rename... may have
// happened. Reading functions lose nothing but the data they were reading.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tokio/fs/detail/std_filesystem.hpp"
#include "tokio/core/result.hpp"
#include "tokio/fs/detail/op_await.hpp"
#include "tokio/fs/metadata.hpp"
#include "tokio/io/async_io.hpp"
#include "tokio/fs/path_arg.hpp"

namespace tokio::fs {

class ReadDir;

// The whole contents of a file. (io_uring: open, read and an end-of-file probe in one
// linked submission for files up to 32 KiB.)
detail::FsAwait<std::vector<std::byte>> read(PathArg path);
// The whole contents as a std::string; std::errc::illegal_byte_sequence if it is not UTF-8.
detail::FsAwait<std::string> read_to_string(PathArg path);
// Creates the file (mode 0666 & ~umask) or replaces its contents with `contents` (copied
// first, as Tokio does, so the caller's buffer may go away at once). `contents` is any
// byte buffer (Rust's AsRef<[u8]>): text, std::vector<uint8_t>, std::array<char, N>...
// An existing file is written from its start and then cut to the new length, not
// truncated at the open as Tokio's is (ext4 makes a truncated file's close submit the
// write-back at once: README, "Files"); until the cut, and after a crash or a failed
// write, it can hold new bytes followed by old ones. For contents that must survive a
// crash: write a new file, sync_all() it, rename it over the old one.
detail::FsAwait<void> write(PathArg path, io::ConstBuffer contents);
// Copies a regular file's contents and permission bits; returns the bytes copied.
detail::FsAwait<uint64_t> copy(PathArg from, PathArg to);

detail::FsAwait<void> create_dir(PathArg path);
// Creates every missing directory on the way (an existing directory is fine).
detail::FsAwait<void> create_dir_all(PathArg path);

// Directory creation with options (Tokio's fs::DirBuilder):
//   co_await fs::DirBuilder().recursive(true).mode(0750).create("a/b/c");
// recursive(false) (the default) is create_dir; recursive(true) is create_dir_all. mode sets
// the permission bits of each directory created (before the umask; default 0777).
class DirBuilder {
 public:
  DirBuilder() noexcept = default;
  static DirBuilder new_() noexcept { return DirBuilder(); }  // Rust's DirBuilder::new()
  DirBuilder& recursive(bool on) noexcept {
    recursive_ = on;
    return *this;
  }
  DirBuilder& mode(uint32_t bits) noexcept {
    mode_ = bits & 07777;
    return *this;
  }
  detail::FsAwait<void> create(PathArg path) const;

 private:
  bool recursive_ = false;
  unsigned mode_ = 0777;
};
detail::FsAwait<void> remove_file(PathArg path);
// Removes an empty directory.
detail::FsAwait<void> remove_dir(PathArg path);
// Removes a directory and everything in it; follows no symlink inside it (a symlink given
// as `path` is itself removed). As with Rust's: `path` with a trailing slash names what a
// symlink points to, so `link/` removes the contents of the link's target (and then fails
// with ENOTDIR on the link itself).
detail::FsAwait<void> remove_dir_all(PathArg path);
detail::FsAwait<void> rename(PathArg from, PathArg to);

// Follows symlinks.
detail::FsAwait<Metadata> metadata(PathArg path);
// Describes a symlink itself.
detail::FsAwait<Metadata> symlink_metadata(PathArg path);
// true / false when the path does (not) exist; an error when that cannot be told (e.g.
// std::errc::permission_denied on a parent directory).
detail::FsAwait<bool> try_exists(PathArg path);

detail::FsAwait<std::filesystem::path> canonicalize(PathArg path);
// Creates `dst` as a new name for `src` (not following a symlink `src`).
detail::FsAwait<void> hard_link(PathArg src, PathArg dst);
// Creates a symlink at `dst` pointing to `src` (Rust's std::os::unix::fs::symlink order).
detail::FsAwait<void> symlink(PathArg src, PathArg dst);
detail::FsAwait<std::filesystem::path> read_link(PathArg path);
detail::FsAwait<void> set_permissions(PathArg path, std::filesystem::perms perms);

// The entries of a directory (see read_dir.hpp).
detail::FsAwait<ReadDir> read_dir(PathArg path);

// Whether the current runtime's fs engine is io_uring (false: the blocking pool). Creates
// the engine if this is the runtime's first fs call; throws std::logic_error outside a
// runtime.
bool uses_io_uring();

}  // namespace tokio::fs
