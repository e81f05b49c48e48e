// tokio::fs against Tokio's fs (bench/tokio-rs/src/bin/fs.rs) and a plain blocking loop,
// on the workloads of issue 13. Cases (<case> <workers> <iters>):
//   read_files   10,000 files of 4 KiB, 256 in flight (256 tasks, each reading every
//                256th file with fs::read); `iters` passes
//   read_big     one 1 GiB file through File::read with a 64 KiB buffer; `iters` passes
//   write_files  fs::write of 10,000 files of 4 KiB, 256 in flight; `iters` passes
//   read_dir     read_dir + next_entry over 100,000 entries; `iters` passes
// A "/fallback" suffix builds the runtime with Builder::disable_io_uring() (the blocking-
// pool engine). "blocking/<case>" runs the same work as a single-threaded loop of plain
// system calls (open/read/close...), no runtime: the baseline the issue sets.
// The data lives under $TOKIO_FS_BENCH_DIR (default /tmp/tokio-hpp-fs-bench) and is
// created by whichever program runs first (same layout as the Rust twin).
#define TOKIO_IMPLEMENTATION
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <cstring>
#include <string>
#include <vector>

#include "bench_common.hpp"

using tokio::Task;
namespace fs = tokio::fs;

namespace {

constexpr std::size_t kFiles = 10000;
constexpr std::size_t kFileSize = 4096;
constexpr std::size_t kInFlight = 256;
constexpr uint64_t kBig = 1ull << 30;
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kDirEntries = 100000;

std::string root() {
  const char* e = std::getenv("TOKIO_FS_BENCH_DIR");
  return e ? e : "/tmp/tokio-hpp-fs-bench";
}

std::string small_name(const std::string& dir, std::size_t i) {
  char b[32];
  std::snprintf(b, sizeof b, "/f%05zu", i);
  return dir + b;
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

void mkdirs(const std::string& p) {
  std::string cur;
  for (std::size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') ::mkdir(p.substr(0, i).c_str(), 0777);
  }
}

void write_file(const std::string& p, const void* data, std::size_t n) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0 || ::write(fd, data, n) != static_cast<ssize_t>(n)) std::abort();
  ::close(fd);
}

void setup_small(const std::string& dir) {
  if (exists(dir + "/ready")) return;
  mkdirs(dir);
  std::vector<unsigned char> data(kFileSize);
  for (std::size_t i = 0; i < kFiles; ++i) {
    std::memset(data.data(), static_cast<int>(i % 251), data.size());
    write_file(small_name(dir, i), data.data(), data.size());
  }
  write_file(dir + "/ready", "", 0);
}

void setup_big(const std::string& path) {
  if (exists(path + ".ready")) return;
  mkdirs(root());
  std::vector<unsigned char> chunk(kChunk);
  for (std::size_t i = 0; i < kChunk; ++i) chunk[i] = static_cast<unsigned char>(i % 253);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  for (uint64_t left = kBig; left > 0; left -= kChunk) {
    if (::write(fd, chunk.data(), kChunk) != static_cast<ssize_t>(kChunk)) std::abort();
  }
  ::fsync(fd);
  ::close(fd);
  write_file(path + ".ready", "", 0);
}

void setup_dir(const std::string& dir) {
  if (exists(dir + "/ready")) return;
  mkdirs(dir);
  char b[32];
  for (std::size_t i = 0; i < kDirEntries; ++i) {
    std::snprintf(b, sizeof b, "/e%06zu", i);
    ::close(::open((dir + b).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
  }
  write_file(dir + "/ready", "", 0);
}

tokio::runtime::Runtime multi(std::size_t workers, bool fallback) {
  auto b = tokio::runtime::Builder::new_multi_thread();
  b.worker_threads(workers).enable_all();
  if (fallback) b.disable_io_uring();
  return b.build();
}

// --- tokio.hpp -----------------------------------------------------------------------------
Task<std::size_t> read_share(std::string dir, std::size_t first) {
  std::size_t sum = 0;
  for (std::size_t i = first; i < kFiles; i += kInFlight) {
    auto v = co_await fs::read(small_name(dir, i));
    if (!v || v->size() != kFileSize) std::abort();
    sum += static_cast<std::size_t>((*v)[0]);
  }
  co_return sum;
}

void read_files(const bench::Args& a, bool fallback) {
  std::string dir = root() + "/small";
  setup_small(dir);
  auto rt = multi(a.workers, fallback);
  for (std::size_t it = 0; it < a.iters; ++it) {
    std::size_t total = rt.block_on([](std::string dir) -> Task<std::size_t> {
      std::vector<tokio::task::JoinHandle<std::size_t>> tasks;
      tasks.reserve(kInFlight);
      for (std::size_t t = 0; t < kInFlight; ++t) tasks.push_back(tokio::spawn(read_share(dir, t)));
      std::size_t total = 0;
      for (auto& h : tasks) total += co_await h;
      co_return total;
    }(dir));
    bench::black_box(total);
  }
}

void read_big(const bench::Args& a, bool fallback) {
  std::string path = root() + "/big";
  setup_big(path);
  auto rt = multi(a.workers, fallback);
  for (std::size_t it = 0; it < a.iters; ++it) {
    rt.block_on([](std::string path) -> Task<> {
      auto f = co_await fs::File::open(path);
      if (!f) std::abort();
      std::vector<std::byte> buf(kChunk);
      uint64_t total = 0;
      for (;;) {
        auto n = co_await f->read(buf);
        if (!n) std::abort();
        if (*n == 0) break;
        total += *n;
      }
      if (total != kBig) std::abort();
    }(path));
  }
}

Task<> write_share(std::string dir, std::size_t first, const std::vector<std::byte>* data) {
  for (std::size_t i = first; i < kFiles; i += kInFlight) {
    auto r = co_await fs::write(small_name(dir, i), *data);
    if (!r) std::abort();
  }
}

void write_files(const bench::Args& a, bool fallback) {
  std::string dir = root() + "/write";
  mkdirs(dir);
  auto rt = multi(a.workers, fallback);
  std::vector<std::byte> data(kFileSize, std::byte{7});
  for (std::size_t it = 0; it < a.iters; ++it) {
    rt.block_on([](std::string dir, const std::vector<std::byte>* data) -> Task<> {
      std::vector<tokio::task::JoinHandle<void>> tasks;
      tasks.reserve(kInFlight);
      for (std::size_t t = 0; t < kInFlight; ++t) {
        tasks.push_back(tokio::spawn(write_share(dir, t, data)));
      }
      for (auto& h : tasks) co_await h;
    }(dir, &data));
  }
}

void read_dir(const bench::Args& a, bool fallback) {
  std::string dir = root() + "/dir100k";
  setup_dir(dir);
  auto rt = multi(a.workers, fallback);
  for (std::size_t it = 0; it < a.iters; ++it) {
    rt.block_on([](std::string dir) -> Task<> {
      auto rd = co_await fs::read_dir(dir);
      if (!rd) std::abort();
      std::size_t n = 0;
      for (;;) {
        auto e = co_await rd->next_entry();
        if (!e) std::abort();
        if (!*e) break;
        n += (*e)->file_name().native().size();
      }
      if (n < kDirEntries * 7) std::abort();
    }(dir));
  }
}

// --- the blocking loop -----------------------------------------------------------------------
void blocking_read_files(const bench::Args& a) {
  std::string dir = root() + "/small";
  setup_small(dir);
  std::vector<char> buf(kChunk);
  std::size_t sum = 0;
  for (std::size_t it = 0; it < a.iters; ++it) {
    for (std::size_t i = 0; i < kFiles; ++i) {
      int fd = ::open(small_name(dir, i).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) std::abort();
      ssize_t n, got = 0;
      while ((n = ::read(fd, buf.data(), buf.size())) > 0) got += n;
      ::close(fd);
      if (got != static_cast<ssize_t>(kFileSize)) std::abort();
      sum += static_cast<unsigned char>(buf[0]);
    }
  }
  bench::black_box(sum);
}

void blocking_read_big(const bench::Args& a) {
  std::string path = root() + "/big";
  setup_big(path);
  std::vector<char> buf(kChunk);
  for (std::size_t it = 0; it < a.iters; ++it) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    uint64_t total = 0;
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) total += static_cast<uint64_t>(n);
    ::close(fd);
    if (total != kBig) std::abort();
  }
}

void blocking_write_files(const bench::Args& a) {
  std::string dir = root() + "/write";
  mkdirs(dir);
  std::vector<std::byte> data(kFileSize, std::byte{7});
  for (std::size_t it = 0; it < a.iters; ++it) {
    for (std::size_t i = 0; i < kFiles; ++i) write_file(small_name(dir, i), data.data(), kFileSize);
  }
}

void blocking_read_dir(const bench::Args& a) {
  std::string dir = root() + "/dir100k";
  setup_dir(dir);
  for (std::size_t it = 0; it < a.iters; ++it) {
    DIR* d = ::opendir(dir.c_str());
    std::size_t n = 0;
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') n += std::strlen(e->d_name);
    }
    ::closedir(d);
    if (n < kDirEntries * 7) std::abort();
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args a = bench::parse(argc, argv);
  std::string c = a.name;
  if (c.rfind("blocking/", 0) == 0) {
    c = c.substr(9);
    if (c == "read_files") blocking_read_files(a);
    else if (c == "read_big") blocking_read_big(a);
    else if (c == "write_files") blocking_write_files(a);
    else if (c == "read_dir") blocking_read_dir(a);
    else bench::unknown(a);
    return 0;
  }
  bool fallback = false;
  const std::string suffix = "/fallback";
  if (c.size() > suffix.size() && c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0) {
    fallback = true;
    c.resize(c.size() - suffix.size());
  }
  if (c == "read_files") read_files(a, fallback);
  else if (c == "read_big") read_big(a, fallback);
  else if (c == "write_files") write_files(a, fallback);
  else if (c == "read_dir") read_dir(a, fallback);
  else bench::unknown(a);
  return 0;
}
