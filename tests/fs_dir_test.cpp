// fs::read_dir, ReadDir and DirEntry on both engines: entry kinds, metadata, a directory
// of 100,000 entries (scaled under TSan), cancel safety of next_entry.
#include "test_util.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fs_test_util.hpp"

using tokio::Task;
namespace fs = tokio::fs;
using fst::Engine;

namespace {

// Whether readdir(3) of `dir` reports a type for every entry (tmpfs, ext4, xfs... do).
bool listing_has_types(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  bool all = true;
  while (struct dirent* e = ::readdir(d)) all = all && e->d_type != DT_UNKNOWN;
  ::closedir(d);
  return all;
}

Task<> list_kinds(std::string dir) {
  fst::put(dir + "/file", "12345");
  REQUIRE(::mkdir((dir + "/sub").c_str(), 0755) == 0);
  REQUIRE(::symlink("file", (dir + "/link").c_str()) == 0);
  REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0644) == 0);
  const bool typed = listing_has_types(dir);
  auto rd = co_await fs::read_dir(dir);
  REQUIRE(rd.has_value());
  std::set<std::string> seen;
  std::vector<std::pair<fs::DirEntry, std::filesystem::file_type>> kept;
  for (;;) {
    auto e = co_await rd->next_entry();
    REQUIRE(e.has_value());
    if (!*e) break;
    const fs::DirEntry& ent = **e;
    std::string name = ent.file_name().string();
    CHECK(seen.insert(name).second);
    CHECK(ent.path() == std::filesystem::path(dir) / name);
    auto t = co_await ent.file_type();
    REQUIRE(t.has_value());
    auto m = co_await ent.metadata();  // not following symlinks
    REQUIRE(m.has_value());
    CHECK(m->file_type() == *t);
    CHECK(m->ino() == ent.ino());
    // Rust's FileType questions agree with the std::filesystem::file_type it converts to.
    CHECK(t->is_file() == (name == "file"));
    CHECK(t->is_dir() == (name == "sub"));
    CHECK(t->is_symlink() == (name == "link"));
    CHECK(t->is_fifo() == (name == "fifo"));
    CHECK_FALSE(t->is_socket());
    CHECK_FALSE(t->is_block_device());
    CHECK_FALSE(t->is_char_device());
    if (name == "file") {
      CHECK(*t == std::filesystem::file_type::regular);
      CHECK(std::filesystem::file_type::regular == *t);
      CHECK(m->len() == 5);
    } else if (name == "sub") {
      CHECK(*t == std::filesystem::file_type::directory);
    } else if (name == "link") {
      CHECK(*t == std::filesystem::file_type::symlink);
    } else if (name == "fifo") {
      std::filesystem::file_type as_std = *t;
      CHECK(as_std == std::filesystem::file_type::fifo);
    }
    kept.emplace_back(std::move(**e), *t);
  }
  CHECK(seen == std::set<std::string>{"file", "sub", "link", "fifo"});  // no "." / ".."
  // Past the end: stays at the end.
  auto again = co_await rd->next_entry();
  CHECK((again.has_value() && !*again));
  // An empty directory.
  auto empty = co_await fs::read_dir(dir + "/sub");
  REQUIRE(empty.has_value());
  auto none = co_await empty->next_entry();
  CHECK((none.has_value() && !*none));
  // An entry removed after listing: its metadata fails with the entry's path.
  auto rd2 = co_await fs::read_dir(dir);
  REQUIRE(rd2.has_value());
  auto first = co_await rd2->next_entry();
  REQUIRE((first.has_value() && *first));
  std::string p = (*first)->path().string();
  REQUIRE(::rename(p.c_str(), (dir + "/sub/moved").c_str()) == 0);
  auto gone = co_await (*first)->metadata();
  CHECK((!gone && gone.error() == std::errc::no_such_file_or_directory &&
         fst::names(gone.error(), p)));
  // As Rust's DirEntry::file_type: where the listing gave the type (d_type), the answer
  // comes from it without a system call, so it still answers once every entry is gone.
  if (!typed) {
    MESSAGE("this file system's listing has no entry types: file_type after removal unchecked");
    co_return;
  }
  for (const auto& k : kept) {
    std::error_code ec;
    std::filesystem::remove_all(k.first.path(), ec);
  }
  for (const auto& k : kept) {
    CAPTURE(k.first.file_name().string());
    auto t = co_await k.first.file_type();
    REQUIRE_MESSAGE(t.has_value(), t.error().message());
    CHECK(*t == k.second);
  }
}

// Lists `dir`, which holds entries e0 .. e(n-1); every one must come exactly once.
Task<> list_big(std::string dir, std::size_t n) {
  auto rd = co_await fs::read_dir(dir);
  REQUIRE(rd.has_value());
  std::vector<bool> seen(n, false);
  std::size_t count = 0;
  bool cancelled_once = false;
  for (;;) {
    if (!cancelled_once) {
      // Cancel-safe: an await destroyed while its batch is in flight loses nothing.
      auto t = co_await tokio::time::timeout(std::chrono::milliseconds(0), rd->next_entry());
      cancelled_once = true;
      if (t) {
        REQUIRE(t->has_value());
        if (!**t) break;
        std::size_t i = std::stoul((**t)->file_name().string().substr(1));
        REQUIRE(i < n);
        CHECK_FALSE(seen[i]);
        seen[i] = true;
        ++count;
      }
      continue;
    }
    auto e = co_await rd->next_entry();
    REQUIRE(e.has_value());
    if (!*e) break;
    std::string name = (*e)->file_name().native();
    std::size_t i = std::stoul(name.substr(1));
    REQUIRE(i < n);
    if (seen[i]) FAIL("entry listed twice: " << name);
    seen[i] = true;
    ++count;
  }
  CHECK(count == n);
}

}  // namespace

TEST_CASE("fs::read_dir: entry kinds, file_type, metadata, path; no . and ..") {
  fst::run_both("fs dir test", &list_kinds);
  fst::run_both("fs dir test", &list_kinds, 0);
}

TEST_CASE("fs::read_dir: a directory of 100,000 entries, each listed once, on both engines") {
  nt::Watchdog wd("fs big dir", std::chrono::seconds(120));
  const std::size_t n = test::scaled(100000);
  fst::TempDir dir(fst::fast_base());
  {
    int dfd = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    char name[32];
    for (std::size_t i = 0; i < n; ++i) {
      std::snprintf(name, sizeof name, "e%zu", i);
      int fd = ::openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      REQUIRE(fd >= 0);
      ::close(fd);
    }
    ::close(dfd);
  }
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    auto rt = fst::runtime(e, 1);
    rt.block_on(list_big(dir.path(), n));
  }
}

namespace {

Task<fs::ReadDir> open_listing(std::string dir) {
  auto rd = co_await fs::read_dir(dir);
  REQUIRE(rd.has_value());
  co_return std::move(*rd);
}

Task<std::size_t> count_listing(fs::ReadDir* rd) {
  std::size_t n = 0;
  for (;;) {
    auto e = co_await tokio::time::timeout(std::chrono::seconds(10), rd->next_entry());
    REQUIRE(e.has_value());   // not stuck on an idle runtime
    REQUIRE(e->has_value());  // no ECANCELED from a dropped one
    if (!**e) co_return n;
    ++n;
  }
}

}  // namespace

TEST_CASE("fs::ReadDir follows the runtime that polls it: its opener idle or dropped") {
  // As fs::File: a listing opened on runtime A is read on runtime B while A sits idle,
  // and another one after A is gone (its first batch, started on A, never ran).
  const std::size_t n = 3000;  // several batches
  fst::TempDir dir;
  for (std::size_t i = 0; i < n; ++i) fst::put(dir / ("f" + std::to_string(i)), "");
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("read_dir across runtimes", std::chrono::seconds(60));
    std::optional<fs::ReadDir> second;
    auto b = fst::runtime(e, 1);
    {
      auto a = fst::runtime(e, 0);
      fs::ReadDir first = a.block_on(open_listing(dir.path()));
      second.emplace(a.block_on(open_listing(dir.path())));
      CHECK(b.block_on(count_listing(&first)) == n);
    }
    CHECK(b.block_on(count_listing(&*second)) == n);
  }
}

TEST_CASE("stream::wrappers::ReadDirStream: every entry once, next() cancelled and resumed") {
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    fst::TempDir dir;
    for (int i = 0; i < 300; ++i) {
      fst::put(dir / ("f" + std::to_string(i)), "x");
    }
    auto rt = fst::runtime(e);
    rt.block_on([](std::string path) -> Task<> {
      auto rd = co_await fs::read_dir(path);
      REQUIRE(rd.has_value());
      tokio::stream::wrappers::ReadDirStream entries(std::move(*rd));
      static_assert(std::is_same_v<tokio::stream::item_t<decltype(entries)>,
                                   tokio::io::Result<fs::DirEntry>>);
      std::multiset<std::string> names;
      int lost = 0;
      for (int guard = 0; guard < 100000; ++guard) {
        // Every third next() raced against a yield: the losers are cancelled mid-read, and
        // the entry they were reading comes with the next call.
        if (guard % 3 == 0) {
          auto r = co_await tokio::select(entries.next(), tokio::task::yield_now());
          if (r.index() == 1) {
            ++lost;
            continue;
          }
          auto& item = std::get<0>(r);
          if (!item) break;
          REQUIRE(item->has_value());
          names.insert((*item)->file_name().string());
          continue;
        }
        auto item = co_await entries.next();
        if (!item) break;
        REQUIRE(item->has_value());
        names.insert((*item)->file_name().string());
      }
      CHECK(names.size() == 300);
      CHECK(std::set<std::string>(names.begin(), names.end()).size() == 300);
      CHECK(!(co_await entries.next()).has_value());  // the end stays the end
      MESSAGE("next() calls lost to the yield: " << lost);
    }(dir.path()));
  }
}
