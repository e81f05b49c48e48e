#pragma once
// Helpers shared by the fs suites (tests/fs_*_test.cpp). Every scenario runs on both
// engines: io_uring (when the kernel allows it) and the blocking-pool fallback
// (Builder::disable_io_uring()).

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "net_test_util.hpp"

namespace fst {

enum class Engine { Uring, Blocking };

inline const char* name(Engine e) { return e == Engine::Uring ? "io_uring" : "blocking"; }

// Whether this kernel lets us set up a ring at all (seccomp'd containers do not): the
// io_uring runs then fall back, and the engine check is skipped.
inline bool uring_available() {
  static const bool ok = [] {
    unsigned char params[120] = {};
    long fd = ::syscall(425, 4, params);
    if (fd < 0) return false;
    ::close(static_cast<int>(fd));
    return true;
  }();
  return ok;
}

// flavour 0 = current-thread, 1 = multi-thread (2 workers).
inline tokio::runtime::Runtime runtime(Engine e, int flavour = 1) {
  auto b = flavour == 0 ? tokio::runtime::Builder::new_current_thread()
                        : tokio::runtime::Builder::new_multi_thread();
  if (flavour != 0) b.worker_threads(2);
  b.enable_all();
  if (e == Engine::Blocking) b.disable_io_uring();
  return b.build();
}

inline tokio::Task<bool> uses_uring() { co_return tokio::fs::uses_io_uring(); }

// Checks that the runtime runs the engine the test asked for.
inline void check_engine(tokio::runtime::Runtime& rt, Engine e) {
  bool u = rt.block_on(uses_uring());
  if (e == Engine::Blocking) CHECK_FALSE(u);
  else if (uring_available()) CHECK(u);
}

// A fresh directory under /tmp (or `base`), removed with everything in it at scope exit.
class TempDir {
 public:
  explicit TempDir(const char* base = "/tmp") {
    std::string t = std::string(base) + "/tokio-fs-test-XXXXXX";
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    // Make everything removable first (permission tests chmod things away).
    for (auto it = std::filesystem::recursive_directory_iterator(
             path_, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        ::chmod(it->path().c_str(), 0755);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// A tmpfs for tests that create many files (much faster than a disk file system), or
// /tmp when /dev/shm is not there.
inline const char* fast_base() {
  return ::access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

// Test setup and checks with plain system calls.
inline void put(const std::string& path, std::string_view data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

inline std::string get(const std::string& path) {
  std::string s;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "<missing>";
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return s;
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Bytes 0..255 repeated: binary contents with zeros and high bytes.
inline std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed) & 0xFF);
  return s;
}

inline std::string as_string(const std::vector<std::byte>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// The error's message names `path`.
inline bool names(const std::error_code& e, const std::string& path) {
  return e.message().find(path) != std::string::npos;
}

// Runs `f` with the effective user id of "nobody" (root ignores permission bits), then
// switches back. Process-wide (glibc changes every thread), so runtime workers, blocking
// threads and io_uring's workers (which take the submitter's credentials) all see it.
class AsNobody {
 public:
  AsNobody() {
    if (::geteuid() == 0) {
      REQUIRE(::setegid(65534) == 0);
      REQUIRE(::seteuid(65534) == 0);
      switched_ = true;
    }
  }
  ~AsNobody() {
    if (switched_) {
      if (::seteuid(0) != 0 || ::setegid(0) != 0) std::abort();
    }
  }

 private:
  bool switched_ = false;
};

// Calls body(engine, flavour, dir) for each engine and each runtime flavour in `flavours`
// (0 current-thread, 1 multi-thread), each time in a fresh temporary directory under a
// watchdog named `what`, with the engine and flavour in every failure report.
struct Flavours {
  bool current = true;
  bool multi = true;
};
inline constexpr Flavours kMultiOnly{false, true};
template <class Body>
void each_engine(const char* what, Body body, Flavours flavours = {},
                 std::chrono::seconds limit = std::chrono::seconds(60)) {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    for (int flavour : {0, 1}) {
      if (!(flavour == 0 ? flavours.current : flavours.multi)) continue;
      CAPTURE(std::string(name(e)));
      CAPTURE(flavour);
      nt::Watchdog wd(what, limit);
      TempDir dir;
      body(e, flavour, dir);
    }
  }
}

// Runs `scenario(dir)` on each engine, on a runtime of the given flavour (each_engine).
inline void run_both(const char* what, tokio::Task<> (*scenario)(std::string), int flavour = 1) {
  each_engine(
      what,
      [&](Engine e, int f, TempDir& dir) {
        auto rt = runtime(e, f);
        check_engine(rt, e);
        rt.block_on(scenario(dir.path()));
      },
      Flavours{flavour == 0, flavour != 0});
}

}  // namespace fst
