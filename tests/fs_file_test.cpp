// fs::File and fs::OpenOptions on both engines: read/write/seek semantics (write-behind,
// read-ahead), append, truncate, > 4 GiB offsets, sync, set_len, metadata, try_clone,
// into_std / from_std, and the io utilities (BufReader, lines, BufWriter, copy) on files.
#include "test_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <memory>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fs_test_util.hpp"
#include "internals.hpp"  // detail::fs_set_uring_max_chunk

using tokio::Task;
namespace fs = tokio::fs;
namespace io = tokio::io;
using fst::Engine;

static_assert(io::AsyncRead<fs::File>);
static_assert(io::AsyncWrite<fs::File>);
static_assert(io::AsyncSeek<fs::File>);

namespace {

Task<> write_then_read(std::string dir) {
  std::string path = dir + "/f";
  {
    auto f = co_await fs::File::create(path);
    REQUIRE(f.has_value());
    std::string data = fst::pattern(100000);
    REQUIRE((co_await io::write_all(*f, std::string_view(data))).has_value());
    REQUIRE((co_await f->write(std::string_view("tail"))).has_value());
    REQUIRE((co_await f->flush()).has_value());
    CHECK(fst::get(path) == data + "tail");
    // A read of nothing still asks the descriptor (Tokio's read(2) of 0 bytes): EBADF on
    // a File opened only for writing, not a quiet 0.
    auto none = co_await f->read(std::span<std::byte>());
    CHECK((!none && none.error() == std::errc::bad_file_descriptor &&
           fst::names(none.error(), path)));
  }
  auto f = co_await fs::File::open(path);
  REQUIRE(f.has_value());
  std::vector<std::byte> all;
  auto n = co_await io::read_to_end(*f, all);
  REQUIRE(n.has_value());
  CHECK(*n == 100004);
  CHECK(fst::as_string(all) == fst::pattern(100000) + "tail");
  char buf[8];
  auto eof = co_await f->read(buf);
  CHECK((eof.has_value() && *eof == 0));
  auto none = co_await f->read(std::span<std::byte>());
  CHECK((none.has_value() && *none == 0));
  // A read-only file refuses writes (EBADF from the kernel, surfaced by flush or the
  // next write: the write itself is accepted behind the caller's back).
  auto w = co_await f->write(std::string_view("x"));
  CHECK(w.has_value());
  auto fl = co_await f->flush();
  CHECK((!fl && fl.error() == std::errc::bad_file_descriptor && fst::names(fl.error(), path)));
}

Task<> open_options(std::string dir) {
  std::string path = dir + "/o";
  fst::put(path, "0123456789");
  // append: writes go to the end whatever the position.
  {
    auto f = co_await fs::OpenOptions().append(true).open(path);
    REQUIRE(f.has_value());
    REQUIRE((co_await f->write(std::string_view("AB"))).has_value());
    REQUIRE((co_await f->flush()).has_value());
  }
  CHECK(fst::get(path) == "0123456789AB");
  // read + write without truncate: overwrite in place.
  {
    auto f = co_await fs::OpenOptions().read(true).write(true).open(path);
    REQUIRE(f.has_value());
    REQUIRE((co_await f->write(std::string_view("xy"))).has_value());
    REQUIRE((co_await f->flush()).has_value());
  }
  CHECK(fst::get(path) == "xy23456789AB");
  // truncate.
  {
    auto f = co_await fs::OpenOptions().write(true).truncate(true).open(path);
    REQUIRE(f.has_value());
  }
  CHECK(fst::get(path).empty());
  // create on an existing file keeps its contents; create with truncate empties it.
  fst::put(path, "old");
  REQUIRE((co_await fs::OpenOptions().write(true).create(true).open(path)).has_value());
  CHECK(fst::get(path) == "old");
  REQUIRE(
      (co_await fs::OpenOptions().write(true).create(true).truncate(true).open(path)).has_value());
  CHECK(fst::get(path).empty());
  // create (absent) with a mode; create_new on an existing file fails.
  std::string made = dir + "/made";
  {
    auto f = co_await fs::OpenOptions().write(true).create(true).mode(0600).open(made);
    REQUIRE(f.has_value());
  }
  struct stat st;
  REQUIRE(::stat(made.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto cn = co_await fs::OpenOptions().write(true).create_new(true).open(made);
  CHECK((!cn && cn.error() == std::errc::file_exists && fst::names(cn.error(), made)));
  // custom_flags: O_NOFOLLOW on a symlink.
  REQUIRE(::symlink(made.c_str(), (dir + "/lnk").c_str()) == 0);
  auto nf = co_await fs::OpenOptions().read(true).custom_flags(O_NOFOLLOW).open(dir + "/lnk");
  CHECK((!nf && nf.error() == std::errc::too_many_symbolic_link_levels));
  // Invalid combinations: EINVAL before any system call, and nothing created.
  auto i1 = co_await fs::OpenOptions().open(dir + "/i1");  // no access mode
  CHECK((!i1 && i1.error() == std::errc::invalid_argument && fst::names(i1.error(), dir + "/i1")));
  auto i2 = co_await fs::OpenOptions().read(true).create(true).open(dir + "/i2");
  CHECK((!i2 && i2.error() == std::errc::invalid_argument));
  auto i3 = co_await fs::OpenOptions().append(true).truncate(true).open(dir + "/i3");
  CHECK((!i3 && i3.error() == std::errc::invalid_argument));
  CHECK_FALSE(fst::exists(dir + "/i2"));
  // A directory opens for reading; reading it is EISDIR.
  auto d = co_await fs::File::open(dir);
  REQUIRE(d.has_value());
  char b[4];
  auto dr = co_await d->read(b);
  CHECK((!dr && dr.error() == std::errc::is_a_directory));
  auto dw = co_await fs::File::create(dir);
  CHECK((!dw && dw.error() == std::errc::is_a_directory));
}

Task<> seek_and_read_ahead(std::string dir) {
  std::string path = dir + "/s";
  std::string data = fst::pattern(50000);
  fst::put(path, data);
  auto f = co_await fs::OpenOptions().read(true).write(true).open(path);
  REQUIRE(f.has_value());
  // A small read after a big one: the rest stays buffered (read-ahead).
  std::vector<std::byte> big(1000);
  REQUIRE((co_await f->read(big)).value() == 1000);
  char small[10];
  auto n = co_await f->read(small);
  CHECK((n.has_value() && *n == 10));
  CHECK(std::string(small, 10) == data.substr(1000, 10));
  // The logical position is 1010, whatever was read ahead.
  auto pos = co_await io::stream_position(*f);
  REQUIRE(pos.has_value());
  CHECK(*pos == 1010);
  // seek relative to the logical position.
  auto p2 = co_await f->seek(io::SeekFrom::current(-10));
  CHECK((p2.has_value() && *p2 == 1000));
  REQUIRE((co_await f->read(small)).value() == 10);
  CHECK(std::string(small, 10) == data.substr(1000, 10));
  // A write after reading lands at the logical position, not past the read-ahead.
  std::vector<std::byte> four(4);
  REQUIRE((co_await f->read(four)).value() == 4);  // position 1014 (more buffered)
  REQUIRE((co_await f->write(std::string_view("WXYZ"))).has_value());
  REQUIRE((co_await f->flush()).has_value());
  std::string now = fst::get(path);
  CHECK(now.substr(1014, 4) == "WXYZ");
  CHECK(now.size() == data.size());
  // From the end, from the start.
  auto pe = co_await f->seek(io::SeekFrom::end(-5));
  CHECK((pe.has_value() && *pe == 49995));
  REQUIRE((co_await f->read(small)).value() == 5);
  CHECK(std::string(small, 5) == data.substr(49995));
  auto ps = co_await io::rewind(*f);
  CHECK((ps.has_value() && *ps == 0));
  REQUIRE((co_await f->read(small)).value() == 10);
  CHECK(std::string(small, 10) == data.substr(0, 10));
  // Before the start: EINVAL.
  auto bad = co_await f->seek(io::SeekFrom::current(-1000000));
  CHECK((!bad && bad.error() == std::errc::invalid_argument));
  // So far back that the unread read-ahead cannot be taken off it as well: EINVAL (the
  // subtraction overflowed: UBSan, helper-89), the read-ahead and the position kept.
  REQUIRE((co_await io::rewind(*f)).has_value());
  REQUIRE((co_await f->read(small)).value() == 10);
  auto far = co_await f->seek(io::SeekFrom::current(INT64_MIN));
  CHECK((!far && far.error() == std::errc::invalid_argument));
  REQUIRE((co_await f->read(small)).value() == 10);
  CHECK(std::string(small, 10) == data.substr(10, 10));
  // A small buffer size: big reads and writes are split.
  f->set_max_buf_size(7);
  REQUIRE((co_await io::rewind(*f)).has_value());
  REQUIRE((co_await f->read(big)).value() == 7);
}

Task<> beyond_4gib(std::string dir) {
  // A sparse file: offsets past 4 GiB need 64-bit positions end to end.
  std::string path = dir + "/sparse";
  auto f = co_await fs::OpenOptions().read(true).write(true).create(true).open(path);
  REQUIRE(f.has_value());
  const uint64_t five = 5ull << 30;
  REQUIRE((co_await f->set_len(five)).has_value());
  auto m = co_await f->metadata();
  REQUIRE(m.has_value());
  CHECK(m->len() == five);
  CHECK(m->blocks() < 64);  // sparse: nothing allocated
  const uint64_t off = (4ull << 30) + 12345;
  auto p = co_await f->seek(io::SeekFrom::start(off));
  REQUIRE(p.has_value());
  CHECK(*p == off);
  REQUIRE((co_await f->write(std::string_view("far away"))).has_value());
  REQUIRE((co_await f->flush()).has_value());
  REQUIRE((co_await f->seek(io::SeekFrom::start(off - 2))).has_value());
  char buf[10];
  REQUIRE((co_await io::read_exact(*f, std::span<char>(buf, 10))).has_value());
  CHECK(std::string(buf, 10) == std::string("\0\0far away", 10));
  auto end = co_await f->seek(io::SeekFrom::end(0));
  CHECK((end.has_value() && *end == five));
  // fs::metadata agrees.
  auto fm = co_await fs::metadata(path);
  CHECK((fm.has_value() && fm->len() == five));
  // Shrink back below 4 GiB.
  REQUIRE((co_await f->set_len(100)).has_value());
  CHECK((co_await fs::metadata(path))->len() == 100);
}

Task<> sync_len_clone_std(std::string dir) {
  std::string path = dir + "/c";
  auto f = co_await fs::File::create(path);
  REQUIRE(f.has_value());
  REQUIRE((co_await f->write(std::string_view("hello world"))).has_value());
  // sync_all waits for the write in flight first.
  REQUIRE((co_await f->sync_all()).has_value());
  CHECK(fst::get(path) == "hello world");
  REQUIRE((co_await f->sync_data()).has_value());
  // set_len: truncate and extend with zeros; the position stays.
  REQUIRE((co_await f->set_len(5)).has_value());
  CHECK(fst::get(path) == "hello");
  REQUIRE((co_await f->set_len(8)).has_value());
  CHECK(fst::get(path) == std::string("hello\0\0\0", 8));
  auto m = co_await f->metadata();
  REQUIRE(m.has_value());
  CHECK(m->len() == 8);
  CHECK(m->is_file());
  // try_clone: a dup, sharing the position.
  auto g = co_await f->try_clone();
  REQUIRE(g.has_value());
  CHECK(g->as_raw_fd() != f->as_raw_fd());
  REQUIRE((co_await g->seek(io::SeekFrom::start(1))).has_value());
  auto pos = co_await io::stream_position(*f);
  CHECK((pos.has_value() && *pos == 1));
  // into_std hands the fd over; from_std wraps one.
  int fd = (co_await g->into_std()).value();
  CHECK(g->as_raw_fd() == -1);
  auto gone = co_await g->flush();
  CHECK((!gone && gone.error() == std::errc::bad_file_descriptor));
  CHECK(::lseek(fd, 0, SEEK_CUR) == 1);
  fs::File h = fs::File::from_std(fd);
  REQUIRE((co_await h.write(std::string_view("E"))).has_value());
  REQUIRE((co_await h.flush()).has_value());
  CHECK(fst::get(path).substr(0, 3) == "hEl");
  // A from_std File's errors have no path to name (plain errno).
  auto bad = co_await fs::File::from_std(::open("/dev/null", O_RDONLY | O_CLOEXEC)).set_len(1);
  CHECK((!bad && bad.error() == std::errc::invalid_argument));
}

Task<> io_utilities(std::string dir) {
  std::string src = dir + "/lines";
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  fst::put(src, text);
  // BufReader + lines.
  {
    auto f = co_await fs::File::open(src);
    REQUIRE(f.has_value());
    io::BufReader<fs::File> r(std::move(*f));
    auto lines = io::lines(r);
    int count = 0;
    for (;;) {
      auto l = co_await lines.next_line();
      REQUIRE(l.has_value());
      if (!*l) break;
      CHECK(**l == "line " + std::to_string(count));
      ++count;
    }
    CHECK(count == 5000);
  }
  // BufWriter over a File, then io::copy file -> file.
  std::string out = dir + "/out";
  {
    auto f = co_await fs::File::create(out);
    REQUIRE(f.has_value());
    io::BufWriter<fs::File> w(std::move(*f));
    for (int i = 0; i < 1000; ++i) {
      REQUIRE((co_await io::write_all(w, std::string_view("0123456789"))).has_value());
    }
    REQUIRE((co_await w.flush()).has_value());
  }
  CHECK(fst::get(out).size() == 10000);
  {
    auto a = co_await fs::File::open(src);
    auto b = co_await fs::File::create(dir + "/copy");
    REQUIRE((a.has_value() && b.has_value()));
    auto n = co_await io::copy(*a, *b);
    REQUIRE(n.has_value());
    CHECK(*n == text.size());
    REQUIRE((co_await b->flush()).has_value());
  }
  CHECK(fst::get(dir + "/copy") == text);
}

// The spellings a Tokio user reaches for: OpenOptions::new_(), File::set_permissions,
// rewind/stream_position as members (AsyncSeekExt), fs::write of any contiguous bytes.
Task<> tokio_spellings(std::string dir) {
  std::string path = dir + "/spell";
  std::vector<uint8_t> u8s{'a', 'b', 'c'};
  REQUIRE((co_await fs::write(path, u8s)).has_value());
  CHECK(fst::get(path) == "abc");
  std::vector<char> chars{'x', 'y'};
  REQUIRE((co_await fs::write(path, chars)).has_value());
  CHECK(fst::get(path) == "xy");
  std::array<unsigned char, 3> arr{'1', '2', '3'};
  REQUIRE((co_await fs::write(path, arr)).has_value());
  CHECK(fst::get(path) == "123");
  auto f = co_await fs::OpenOptions::new_().read(true).write(true).open(path);
  REQUIRE(f.has_value());
  REQUIRE((co_await f->write(std::string_view("9"))).has_value());
  auto pos = co_await f->stream_position();  // after the write in flight
  CHECK((pos.has_value() && *pos == 1));
  auto zero = co_await f->rewind();
  CHECK((zero.has_value() && *zero == 0));
  std::string back(3, '\0');
  auto n = co_await f->read_exact(std::span<char>(back));
  REQUIRE(n.has_value());
  CHECK(back == "923");  // the write landed before the rewind
  // set_permissions waits for the operation in flight, then changes the mode bits.
  using std::filesystem::perms;
  REQUIRE((co_await f->set_permissions(perms::owner_read | perms::group_read)).has_value());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0440);
  auto m = co_await f->metadata();
  REQUIRE(m.has_value());
  CHECK(m->permissions() == (perms::owner_read | perms::group_read));
  CHECK(m->readonly());
  // A moved-from File fails with EBADF, as every other command does.
  fs::File moved = std::move(*f);
  auto bad = co_await f->set_permissions(perms::owner_all);
  CHECK((!bad && bad.error() == std::errc::bad_file_descriptor));
  REQUIRE((co_await moved.set_permissions(perms::owner_read | perms::owner_write)).has_value());
}

Task<> buffered_seek(std::string dir) {
  const std::string path = dir + "/seek";
  fst::put(path, "0123456789abcdefghij");
  {
    // BufReader: a seek from the current position counts from what the caller has read,
    // not from where the buffer's read left the file.
    auto f = co_await fs::File::open(path);
    REQUIRE(f.has_value());
    io::BufReader br(std::move(*f), 8);
    std::array<char, 3> three{};
    REQUIRE(co_await br.read_exact(three));  // the buffer holds "01234567"
    CHECK(std::string(three.data(), 3) == "012");
    auto at = co_await br.stream_position();
    REQUIRE(at.has_value());
    CHECK(*at == 3);
    auto skip = co_await br.seek(io::SeekFrom::current(2));
    REQUIRE(skip.has_value());
    CHECK(*skip == 5);
    REQUIRE(co_await br.read_exact(three));
    CHECK(std::string(three.data(), 3) == "567");
    auto end = co_await br.seek(io::SeekFrom::end(-2));
    REQUIRE(end.has_value());
    CHECK(*end == 18);
    std::string rest;
    REQUIRE(co_await br.read_to_string(rest));
    CHECK(rest == "ij");
    REQUIRE((co_await br.rewind()).has_value());
    REQUIRE(co_await br.read_exact(three));
    CHECK(std::string(three.data(), 3) == "012");
    auto bad = co_await br.seek(io::SeekFrom::current(-100));  // before the start: EINVAL
    CHECK((!bad.has_value() && bad.error() == std::errc::invalid_argument));
    REQUIRE(co_await br.read_exact(three));  // a failed seek moved nothing
    CHECK(std::string(three.data(), 3) == "345");
  }
  {
    // BufWriter: the buffer goes out before the seek.
    auto f = co_await fs::OpenOptions().write(true).open(path);
    REQUIRE(f.has_value());
    io::BufWriter bw(std::move(*f));
    REQUIRE(co_await bw.write_all("AB"));
    auto pos = co_await bw.seek(io::SeekFrom::start(10));
    REQUIRE(pos.has_value());
    CHECK(*pos == 10);
    REQUIRE(co_await bw.write_all("XY"));
    REQUIRE(co_await bw.flush());
  }
  CHECK(fst::get(path) == "AB23456789XYcdefghij");
  {
    auto f = co_await fs::OpenOptions().read(true).write(true).open(path);
    REQUIRE(f.has_value());
    io::BufStream bs(std::move(*f));
    REQUIRE(co_await bs.write_all("--"));
    auto pos = co_await bs.seek(io::SeekFrom::start(0));
    REQUIRE(pos.has_value());
    std::array<char, 4> four{};
    REQUIRE(co_await bs.read_exact(four));
    CHECK(std::string(four.data(), 4) == "--23");
  }
}

// Two operations on one File at once (the File shared by two tasks; Rust's &mut self makes
// it impossible to write): the second is refused with std::logic_error. It used to take
// over the first one's wake-up and result: the first task hung and its bytes went to the
// second. After the refusal the first completes normally, and a cancelled operation lets
// go of the File (the next one is not refused).
Task<> two_operations_at_once(std::string dir) {
  std::string fifo = dir + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto opened = co_await fs::OpenOptions().read(true).write(true).open(fifo);  // O_RDWR: no wait
  REQUIRE(opened.has_value());
  auto f = std::make_shared<fs::File>(std::move(*opened));
  auto first = tokio::spawn(
      [](std::shared_ptr<fs::File> f) -> Task<std::string> {
        char b[16];
        auto n = co_await f->read(b);
        co_return n ? std::string(b, *n) : "error " + n.error().message();
      },
      f);
  co_await tokio::time::sleep(std::chrono::milliseconds(50));  // the read waits for data
  CHECK_FALSE(first.is_finished());
  for (int which = 0; which < 3; ++which) {
    CAPTURE(which);
    std::string what;
    try {
      char c[4];
      if (which == 0) (void)co_await f->read(c);
      else if (which == 1) (void)co_await f->write(std::string_view("xx"));
      else (void)co_await f->flush();
    } catch (const std::logic_error& e) {
      what = e.what();
    }
    CHECK(what.find("a second operation was started on one fs::File") != std::string::npos);
  }
  int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(w >= 0);
  REQUIRE(::write(w, "hello", 5) == 5);
  auto got = co_await tokio::time::timeout(std::chrono::seconds(5), std::move(first));
  REQUIRE(got.has_value());
  CHECK(*got == "hello");
  // A read cancelled by a timeout lets go; the read after it is the File's only one.
  char c[8];
  auto cut = co_await tokio::time::timeout(std::chrono::milliseconds(20), f->read(c));
  CHECK_FALSE(cut.has_value());
  REQUIRE(::write(w, "again", 5) == 5);
  auto again = co_await f->read(c);
  CHECK((again.has_value() && std::string(c, *again) == "again"));
  ::close(w);
}

}  // namespace

TEST_CASE(
    "fs::File: Tokio's spellings: new_(), set_permissions, rewind, stream_position, write(bytes)") {
  fst::run_both("fs file test", &tokio_spellings);
}

TEST_CASE(
    "fs::File: write-behind, flush, read back, EOF, write to a read-only file, read of nothing") {
  fst::run_both("fs file test", &write_then_read);
  fst::run_both("fs file test", &write_then_read, 0);
}

TEST_CASE("fs::File: a second operation while one is pending is refused, not hung") {
  fst::run_both("fs file two ops", &two_operations_at_once);
}

TEST_CASE("fs::OpenOptions: append, truncate, create, create_new, mode, custom_flags, EINVAL") {
  fst::run_both("fs file test", &open_options);
}

TEST_CASE("fs::File: seek (start, end, current) with read-ahead, writes at the logical position") {
  fst::run_both("fs file test", &seek_and_read_ahead);
  fst::run_both("fs file test", &seek_and_read_ahead, 0);
}

TEST_CASE("fs::File: offsets beyond 4 GiB in a sparse file, set_len, metadata") {
  fst::run_both("fs file test", &beyond_4gib);
}

TEST_CASE("fs: a write longer than one io_uring step, and a File buffer of 4 GiB or more") {
  // One io_uring read or write moves at most 1 GiB (lowered here to 64 KiB). fs::write of
  // more once linked the slot's close to the first chunk, and the second went to a closed
  // slot (EBADF, a file cut at the first chunk); a File buffer of 4 GiB gave a read length
  // cut to 32 bits (0: a false end of file).
  tokio::detail::fs_set_uring_max_chunk(64 * 1024);
  struct Reset {
    ~Reset() { tokio::detail::fs_set_uring_max_chunk(0); }
  } reset;
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs long write", 60s);
    fst::TempDir dir;
    auto rt = fst::runtime(e, 1);
    fst::check_engine(rt, e);
    rt.block_on([](std::string dir) -> Task<> {
      std::string path = dir + "/long";
      std::string data = fst::pattern(200 * 1024 + 7, 5);  // four chunks, the last short
      REQUIRE((co_await fs::write(path, data)).has_value());
      CHECK(fst::get(path) == data);
      // Over it, in chunks, longer then shorter: written in place and cut to length
      // after the last chunk (the ftruncate is linked there, not after the first).
      for (std::size_t n : {300 * 1024 + 3, 70 * 1024, 64 * 1024}) {
        CAPTURE(n);
        std::string over = fst::pattern(n, static_cast<unsigned>(n));
        REQUIRE((co_await fs::write(path, over)).has_value());
        CHECK(fst::get(path) == over);
      }
      // A File writes and reads through its buffer in chunks too.
      auto f = co_await fs::OpenOptions().read(true).write(true).truncate(true).open(path);
      REQUIRE(f.has_value());
      f->set_max_buf_size(1 << 20);
      REQUIRE((co_await io::write_all(*f, data)).has_value());
      REQUIRE((co_await f->flush()).has_value());
      REQUIRE((co_await f->rewind()).has_value());
      std::vector<uint8_t> back;  // the pattern is binary: not read_to_string
      REQUIRE((co_await io::read_to_end(*f, back)).has_value());
      CHECK(std::string(back.begin(), back.end()) == data);

      // 4 GiB + 1 of buffer and of destination, neither touched beyond what is read
      // (address space only; not in the sanitizer builds, whose allocators touch shadow
      // memory for every byte allocated).
      if (test::scale() > 1) co_return;
      fst::put(path, "eleven byte");
      auto g = co_await fs::File::open(path);
      REQUIRE(g.has_value());
      const std::size_t span = (std::size_t{4} << 30) + 1;
      g->set_max_buf_size(span);
      void* mem = ::mmap(nullptr, span, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      REQUIRE(mem != MAP_FAILED);
      auto n = co_await g->read(std::span<std::byte>(static_cast<std::byte*>(mem), span));
      bool ok = n.has_value() && *n == 11 && std::memcmp(mem, "eleven byte", 11) == 0;
      ::munmap(mem, span);
      CHECK(ok);
    }(dir.path()));
  }
}

namespace {
// write_all + flush of `data`, which the file-size limit stops: EFBIG, the file holds
// `head`, and the File's position is past it.
Task<> write_stopped(fs::File& f, std::string_view data, std::string path,
                     const std::string& head) {
  auto w = co_await io::write_all(f, data);
  auto fl = w.has_value() ? co_await f.flush() : io::Result<void>(tokio::unexpected(w.error()));
  REQUIRE_FALSE(fl.has_value());
  CHECK(fl.error() == std::errc::file_too_large);
  CHECK(fst::get(path) == head);
  auto pos = co_await f.stream_position();
  REQUIRE(pos.has_value());
  CHECK(*pos == head.size());
}
}  // namespace

// A write the kernel stops partway (the file-size limit here; a full disk alike) must
// report the error and keep what was written. On io_uring a write that comes back short
// leaves the file position where it began (the kernel's own retry of the rest failed), and
// the rest written there overwrote the first part and reported success: fs::write and
// File::write_all + flush said Ok with half the data gone.
TEST_CASE("fs: a write stopped partway by the file-size limit reports EFBIG on both engines") {
  constexpr rlim_t kLimit = 1 << 20;
  struct Limit {
    rlimit old{};
    void (*old_handler)(int) = SIG_DFL;
    Limit() {
      REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
      old_handler = std::signal(SIGXFSZ, SIG_IGN);  // else SIGXFSZ ends the process
      rlimit low = old;
      low.rlim_cur = kLimit;
      REQUIRE(::setrlimit(RLIMIT_FSIZE, &low) == 0);
    }
    ~Limit() {
      ::setrlimit(RLIMIT_FSIZE, &old);
      std::signal(SIGXFSZ, old_handler);
    }
  };
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs write over the size limit", 60s);
    fst::TempDir dir;
    auto rt = fst::runtime(e, 1);
    fst::check_engine(rt, e);
    std::string data = fst::pattern(2 * kLimit, 3);
    std::string head = data.substr(0, kLimit);
    Limit limit;
    rt.block_on([](std::string dir, std::string* data, std::string* head) -> Task<> {
      std::string path = dir + "/big";
      auto w = co_await fs::write(path, *data);
      REQUIRE_FALSE(w.has_value());
      CHECK(w.error() == std::errc::file_too_large);
      CHECK(fst::names(w.error(), path));
      CHECK(fst::get(path) == *head);

      std::string fpath = dir + "/file";
      auto f = co_await fs::File::create(fpath);
      REQUIRE(f.has_value());
      f->set_max_buf_size(4 << 20);  // one operation for the whole write
      // The file position is past what was written, as after one write(2) that stopped.
      co_await write_stopped(*f, *data, fpath, *head);

      // The same stop on a later write, which starts where the File's previous write left
      // the position without asking the kernel (see FileOp::pos): the rest still goes on
      // at the right offset.
      std::string gpath = dir + "/later";
      auto g = co_await fs::File::create(gpath);
      REQUIRE(g.has_value());
      g->set_max_buf_size(4 << 20);
      std::string_view all(*data);
      REQUIRE((co_await io::write_all(*g, all.substr(0, 1000))).has_value());
      REQUIRE((co_await g->flush()).has_value());
      REQUIRE((co_await io::write_all(*g, all.substr(1000, 3000))).has_value());
      REQUIRE((co_await g->flush()).has_value());
      co_await write_stopped(*g, all.substr(4000), gpath, *head);

      // An appending File: its position ends past what was written, where write(2) leaves
      // an appending description (io_uring left it at 0, and the next read returned the
      // whole file).
      std::string apath = dir + "/append";
      fst::put(apath, all.substr(0, 1000));
      auto a = co_await fs::OpenOptions().read(true).append(true).open(apath);
      REQUIRE(a.has_value());
      a->set_max_buf_size(4 << 20);
      co_await write_stopped(*a, all.substr(1000), apath, *head);
      std::array<std::byte, 16> rest{};
      auto rn = co_await a->read(rest);
      REQUIRE(rn.has_value());
      CHECK(*rn == 0);
    }(dir.path(), &data, &head));
  }
}

// Two Files on one open file description (try_clone, or from_std of dup'd fds), written by
// two tasks at once: every write lands whole and none over another, as read(2) and
// write(2) serialize a shared description's position. io_uring does not: a write at the
// file position on two rings at once wrote both at the same offset (multi-thread runtime:
// records lost in most rounds while every call succeeded), so such Files run their reads
// and writes on the blocking pool (FileOp::shared_pos).
TEST_CASE("fs::File: Files sharing a description, written by two tasks at once, lose nothing") {
  fst::each_engine("fs shared description writes", [](Engine e, int flavour, fst::TempDir& dir) {
    auto rt = fst::runtime(e, flavour);
    fst::check_engine(rt, e);
    rt.block_on([](std::string dir) -> Task<> {
      constexpr int kRecords = 400;
      auto writer = [](fs::File f, char tag) -> Task<bool> {
        for (int i = 0; i < kRecords; ++i) {
          char rec[16];
          std::snprintf(rec, sizeof rec, "%c%08d\n", tag, i % 100'000'000);
          if (!co_await io::write_all(f, std::string_view(rec, 10))) co_return false;
          if (!co_await f.flush()) co_return false;
        }
        co_return true;
      };
      for (int round = 0; round < 6; ++round) {
        CAPTURE(round);
        std::string path = dir + "/shared" + std::to_string(round);
        std::optional<fs::File> first, second;
        if (round % 2 == 0) {
          auto f = co_await fs::OpenOptions().write(true).create(true).truncate(true).open(path);
          REQUIRE(f.has_value());
          auto g = co_await f->try_clone();
          REQUIRE(g.has_value());
          first.emplace(std::move(*f));
          second.emplace(std::move(*g));
        } else {
          int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
          REQUIRE(fd >= 0);
          int fd2 = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
          REQUIRE(fd2 >= 0);
          first.emplace(fs::File::from_std(fd));
          second.emplace(fs::File::from_std(fd2));
        }
        auto a = tokio::spawn(writer, std::move(*first), 'A');
        auto b = tokio::spawn(writer, std::move(*second), 'B');
        CHECK(co_await a);
        CHECK(co_await b);
        std::string data = fst::get(path);
        CHECK(data.size() == 2u * kRecords * 10);
        std::vector<int> seen(2 * kRecords, 0);
        for (std::size_t i = 0; i + 10 <= data.size(); i += 10) {
          int n = std::atoi(data.substr(i + 1, 8).c_str());
          if ((data[i] == 'A' || data[i] == 'B') && n >= 0 && n < kRecords) {
            ++seen[(data[i] == 'B' ? kRecords : 0) + n];
          }
        }
        CHECK(std::count(seen.begin(), seen.end(), 1) == 2 * kRecords);
      }
    }(dir.path()));
  });
}

TEST_CASE("fs::File: sync_all, sync_data, set_len, metadata, try_clone, into_std, from_std") {
  fst::run_both("fs file test", &sync_len_clone_std);
}

TEST_CASE("fs::File with BufReader, lines, BufWriter and io::copy") {
  fst::run_both("fs file test", &io_utilities);
}

TEST_CASE("fs::File follows the runtime that awaits it: an idle or dropped opener is no trap") {
  // Tokio runs a File's operations on the awaiting runtime's blocking pool. Here a File
  // opened on runtime A is used on runtime B while A sits idle (nobody drives A's
  // engine), then on runtime C after A and B are gone.
  for (Engine e : {Engine::Uring, Engine::Blocking}) {
    CAPTURE(std::string(fst::name(e)));
    nt::Watchdog wd("fs file across runtimes", std::chrono::seconds(60));
    fst::TempDir dir;
    const std::string path = dir.path() + "/moved";
    std::optional<fs::File> file;
    {
      auto a = fst::runtime(e, 0);
      file.emplace(a.block_on([](std::string p) -> Task<fs::File> {
        auto f = co_await fs::OpenOptions().read(true).write(true).create(true).open(p);
        REQUIRE(f.has_value());
        REQUIRE((co_await f->write_all("one ")).has_value());  // write-behind, on A
        REQUIRE((co_await f->flush()).has_value());
        co_return std::move(*f);
      }(path)));
      auto b = fst::runtime(e, 1);
      b.block_on([](fs::File* f) -> Task<> {
        REQUIRE((co_await f->write_all("two ")).has_value());
        auto flushed = co_await tokio::time::timeout(std::chrono::seconds(10), f->flush());
        REQUIRE(flushed.has_value());  // not stuck on idle A
        CHECK(flushed->has_value());
        REQUIRE((co_await f->rewind()).has_value());
        std::string s;
        REQUIRE((co_await f->read_to_string(s)).has_value());
        CHECK(s == "one two ");
      }(&*file));
    }
    auto c = fst::runtime(e, 1);
    c.block_on([](fs::File* f) -> Task<> {
      REQUIRE((co_await f->write_all("three")).has_value());
      REQUIRE((co_await f->flush()).has_value());  // not ECANCELED from the dropped runtimes
      REQUIRE((co_await f->sync_all()).has_value());
      auto pos = co_await f->stream_position();
      REQUIRE(pos.has_value());
      CHECK(*pos == 13);
    }(&*file));
    // A write still behind (not flushed) when its runtime goes: it completes there, and
    // the next write, on another runtime, must go to that runtime's engine, not the dead
    // one's (which cancelled it, and the accepted bytes were lost).
    {
      auto d = fst::runtime(e, 1);
      d.block_on([](fs::File* f) -> Task<> {
        REQUIRE((co_await f->write_all(" four")).has_value());
      }(&*file));
    }
    auto g = fst::runtime(e, 0);
    g.block_on([](fs::File* f) -> Task<> {
      REQUIRE((co_await f->write_all(" five")).has_value());
      auto flushed = co_await f->flush();
      CHECK(flushed.has_value());
    }(&*file));
    file.reset();
    CHECK(fst::get(path) == "one two three four five");
  }
}

// A read left in flight on a FIFO (its caller timed out; a File's read goes on behind the
// caller) when its runtime shuts down never ran: the next read, on another runtime, must
// read the data, not report the shutdown's ECANCELED. io_uring only: on the blocking pool
// the read blocks a pool thread, and dropping the runtime waits for it (as in Tokio).
TEST_CASE("fs::File: a read in flight when its runtime shut down runs again on the next one") {
  if (!fst::uring_available()) return;
  nt::Watchdog wd("fs read across a runtime shutdown", std::chrono::seconds(60));
  fst::TempDir dir;
  const std::string path = dir.path() + "/fifo";
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  std::optional<fs::File> file;
  {
    auto a = fst::runtime(Engine::Uring, 1);
    fst::check_engine(a, Engine::Uring);
    file.emplace(a.block_on([](std::string p) -> Task<fs::File> {
      // Read and write: the FIFO then opens without a peer, and stays empty.
      auto f = co_await fs::OpenOptions().read(true).write(true).open(p);
      REQUIRE(f.has_value());
      char buf[16];
      auto r = co_await tokio::time::timeout(std::chrono::milliseconds(30), f->read(buf));
      CHECK_FALSE(r.has_value());  // timed out: the read stays in flight
      co_return std::move(*f);
    }(path)));
  }
  int wfd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  REQUIRE(wfd >= 0);
  REQUIRE(::write(wfd, "hi", 2) == 2);
  auto b = fst::runtime(Engine::Uring, 0);
  b.block_on([](fs::File* f) -> Task<> {
    char buf[16];
    auto r = co_await tokio::time::timeout(std::chrono::seconds(10), f->read(buf));
    REQUIRE(r.has_value());
    REQUIRE(r->has_value());  // was ECANCELED
    CHECK(std::string(buf, **r) == "hi");
  }(&*file));
  ::close(wfd);
  file.reset();
}

TEST_CASE("io::BufReader / BufWriter / BufStream seek over a File, both engines") {
  fst::run_both("fs file test", &buffered_seek);
}
