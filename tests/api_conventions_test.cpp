// Issue 16 API edges: printing (operator<<, format_duration), std::stop_token <->
// CancellationToken, `Runtime rt;`, run_main, I/O extension methods as members, version.
#include "test_util.hpp"

#include <filesystem>
#include <sstream>
#include <stop_token>
#include <string>
#include <optional>
#include <thread>
#include <vector>

using tokio::Task;
namespace io = tokio::io;

namespace {
template <class T>
std::string streamed(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

TEST_CASE("version macros agree") {
  static_assert(TOKIO_VERSION ==
                TOKIO_VERSION_MAJOR * 10000 + TOKIO_VERSION_MINOR * 100 + TOKIO_VERSION_PATCH);
  CHECK(std::string(TOKIO_VERSION_STRING) == std::to_string(TOKIO_VERSION_MAJOR) + "." +
                                                 std::to_string(TOKIO_VERSION_MINOR) + "." +
                                                 std::to_string(TOKIO_VERSION_PATCH));
}

TEST_CASE("operator<< prints addresses, Interest, Ready, Instant and JoinError") {
  auto v4 = tokio::net::SocketAddr::parse("127.0.0.1:8080");
  REQUIRE(v4);
  CHECK(streamed(*v4) == "127.0.0.1:8080");
  auto v6 = tokio::net::SocketAddr::parse("[::1]:443");
  REQUIRE(v6);
  CHECK(streamed(*v6) == "[::1]:443");
  CHECK(streamed(v6->ip()) == "::1");
  CHECK(streamed(io::Interest::READABLE | io::Interest::WRITABLE) == "READABLE | WRITABLE");
  CHECK(streamed(io::Interest::PRIORITY) == "PRIORITY");
  CHECK(streamed(io::Ready::READABLE | io::Ready::READ_CLOSED) == "READABLE | READ_CLOSED");
  CHECK(streamed(io::Ready::EMPTY) == "EMPTY");
  CHECK(streamed(tokio::time::Instant()) == "Instant(0ns)");
  CHECK(streamed(tokio::time::Elapsed{}) == "deadline has elapsed");
  CHECK(to_string(tokio::time::error::Elapsed{}) == "deadline has elapsed");

  auto rt = test::current_thread();
  rt.block_on([]() -> Task<> {
    auto h = tokio::spawn([]() -> Task<int> {
      throw std::runtime_error("boom");
      co_return 0;
    });
    auto r = co_await h.result();
    REQUIRE(!r);
    std::string s = streamed(r.error());
    CHECK(s.find("threw an exception: boom") != std::string::npos);
    CHECK(s.rfind("task ", 0) == 0);

    auto slow =
        tokio::spawn([]() -> Task<> { co_await tokio::time::sleep(std::chrono::hours(1)); });
    slow.abort();
    auto c = co_await slow.result();
    REQUIRE(!c);
    CHECK(streamed(c.error()).find("was cancelled") != std::string::npos);
  }());
}

TEST_CASE("format_duration prints as Tokio's Debug does") {
  using namespace std::chrono;
  using tokio::time::format_duration;
  CHECK(format_duration(nanoseconds(0)) == "0ns");
  CHECK(format_duration(nanoseconds(17)) == "17ns");
  CHECK(format_duration(nanoseconds(3200)) == "3.2\u00b5s");
  CHECK(format_duration(milliseconds(250)) == "250ms");
  CHECK(format_duration(milliseconds(1500)) == "1.5s");
  CHECK(format_duration(seconds(1) + nanoseconds(1)) == "1.000000001s");
  CHECK(format_duration(milliseconds(-2)) == "-2ms");
  CHECK(format_duration(nanoseconds::min()) == "-9223372036.854775808s");
}

TEST_CASE("CancellationToken -> std::stop_token: cancel requests the stop, children too") {
  tokio::sync::CancellationToken parent;
  auto child = parent.child_token();
  std::stop_token st = child.stop_token();
  CHECK(st.stop_possible());
  CHECK(!st.stop_requested());
  int called = 0;
  std::stop_callback cb(st, [&] { ++called; });
  parent.cancel();
  CHECK(st.stop_requested());
  CHECK(called == 1);
  // A token cancelled before its stop_token was asked for hands out a stopped one.
  CHECK(child.stop_token().stop_requested());
  tokio::sync::CancellationToken late;
  late.cancel();
  CHECK(late.stop_token().stop_requested());

  // A jthread worker stops when the token is cancelled.
  tokio::sync::CancellationToken tok;
  std::atomic<bool> exited{false};
  {
    std::jthread worker([&](std::stop_token) {
      auto s = tok.stop_token();
      while (!s.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      exited = true;
    });
    tok.cancel();
  }
  CHECK(exited.load());
}

TEST_CASE("std::stop_token -> CancellationToken: cancel_on_stop, while the link lives") {
  {
    std::stop_source src;
    tokio::sync::CancellationToken token;
    auto link = tokio::sync::cancel_on_stop(src.get_token(), token);
    CHECK(!token.is_cancelled());
    src.request_stop();
    CHECK(token.is_cancelled());
  }
  {
    std::stop_source src;
    tokio::sync::CancellationToken token;
    { auto link = tokio::sync::cancel_on_stop(src.get_token(), token); }
    src.request_stop();  // the link is gone: no effect
    CHECK(!token.is_cancelled());
  }
  {
    std::stop_source src;
    src.request_stop();
    tokio::sync::CancellationToken token;
    auto link = tokio::sync::cancel_on_stop(src.get_token(), token);  // already stopped
    CHECK(token.is_cancelled());
  }
  // A task waiting on cancelled() wakes when a std::jthread is asked to stop.
  tokio::runtime::Runtime rt;  // the default multi-thread runtime
  tokio::sync::CancellationToken token;
  std::stop_source src;
  auto link = tokio::sync::cancel_on_stop(src.get_token(), token);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    src.request_stop();
  });
  bool woke = rt.block_on([](tokio::sync::CancellationToken t) -> Task<bool> {
    auto r = co_await tokio::time::timeout(std::chrono::seconds(10), t.cancelled());
    co_return static_cast<bool>(r);
  }(token));
  stopper.join();
  CHECK(woke);
}

TEST_CASE("clone() on handles is a copy: the same channel, token, runtime or bytes") {
  tokio::runtime::Runtime rt;
  rt.block_on([]() -> Task<> {
    namespace sync = tokio::sync;
    // mpsc: the receiver sees end of stream only once the clone is gone too.
    auto [tx, rx] = sync::mpsc::channel<int>(4);
    auto tx2 = tx.clone();
    tx = {};
    REQUIRE((co_await tx2.send(7)).has_value());
    tx2 = {};
    auto got = co_await rx.recv();
    CHECK(got == std::optional<int>(7));
    auto end = co_await rx.recv();
    CHECK_FALSE(end.has_value());
    auto [utx, urx] = sync::mpsc::unbounded_channel<int>();
    REQUIRE(utx.clone().send(1).has_value());
    auto one = co_await urx.recv();
    CHECK(one == std::optional<int>(1));
    // broadcast: a cloned sender counts as a sender; its sends reach the receivers.
    auto [btx, brx] = sync::broadcast::channel<int>(4);
    auto btx2 = btx.clone();
    REQUIRE(btx2.send(3).has_value());
    auto b = co_await brx.recv();
    CHECK((b.has_value() && *b == 3));
    // watch: a cloned receiver starts at the version of the one it came from.
    auto [wtx, wrx] = sync::watch::channel<int>(0);
    REQUIRE(wtx.send(1).has_value());
    auto wrx2 = wrx.clone();
    CHECK(wrx2.has_changed().value());
    CHECK(*wrx2.borrow() == 1);
    // CancellationToken: cancelling the clone cancels the original.
    sync::CancellationToken tok;
    tok.clone().cancel();
    CHECK(tok.is_cancelled());
    // Handle: the same runtime.
    auto h = tokio::runtime::Handle::current().clone();
    int five = co_await h.spawn([]() -> Task<int> { co_return 5; }());
    CHECK(five == 5);
    // Bytes: the same storage, no copy of the data.
    auto bytes = tokio::codec::Bytes::from(std::string_view("shared"));
    auto again = bytes.clone();
    CHECK(again.data() == bytes.data());
    CHECK(std::string_view(again) == "shared");
  }());
}

TEST_CASE("Runtime rt; is a multi-thread runtime with every driver") {
  tokio::runtime::Runtime rt;
  CHECK(rt.handle().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
  int v = rt.block_on([]() -> Task<int> {
    co_await tokio::time::sleep(std::chrono::milliseconds(1));  // the timer driver is on
    auto h = tokio::spawn([]() -> Task<int> { co_return 41; });
    co_return co_await h + 1;
  }());
  CHECK(v == 42);
  auto rt2 = tokio::runtime::Runtime::new_();  // Rust's Runtime::new()
  CHECK(rt2.handle().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
  CHECK(rt2.block_on([]() -> Task<int> { co_return 7; }()) == 7);
}

namespace {
Task<int> amain_args(int argc, char** argv) {
  co_await tokio::time::sleep(std::chrono::milliseconds(1));
  co_return argc + static_cast<int>(std::string(argv[1]).size());
}
Task<> amain_void() { co_return; }
Task<int> amain_throws(std::vector<std::string> args) {
  throw std::runtime_error("bad " + args.at(0));
  co_return 0;
}
Task<io::Result<void>> amain_error() { co_return io::os_error(ENOENT); }
}  // namespace

TEST_CASE("run_main: exit codes from Task<int>, Task<void>, errors and exceptions") {
  char a0[] = "prog", a1[] = "abc";
  char* argv[] = {a0, a1, nullptr};
  CHECK(tokio::run_main(amain_args, 2, argv) == 5);
  CHECK(tokio::run_main(amain_void, 2, argv) == 0);
  CHECK(tokio::run_main(amain_throws, 2, argv) == 1);  // prints "prog: error: bad prog"
  CHECK(tokio::run_main(amain_error, 2, argv) == 1);
  CHECK(tokio::run_main(
            tokio::runtime::Builder::new_current_thread().enable_all(),
            [](int, char**) -> Task<int> { co_return 7; }, 2, argv) == 7);
  // From `int main()`: no arguments to pass on (errors are reported as "tokio: ...").
  CHECK(tokio::run_main([]() -> Task<int> { co_return 9; }) == 9);
  CHECK(tokio::run_main(amain_void) == 0);
  CHECK(tokio::run_main(amain_error) == 1);
  CHECK(tokio::run_main(tokio::runtime::Builder::new_current_thread().enable_all(),
                        []() -> Task<int> { co_return 4; }) == 4);
}

TEST_CASE("lines() and split() as members consume the reader, as in Tokio") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(256);
    (void)co_await a.write_all("one\ntwo\r\nthree");
    (void)co_await a.shutdown();
    auto ls = io::BufReader<io::DuplexStream>(std::move(b)).lines();  // on a temporary
    std::vector<std::string> got;
    while (auto l = co_await ls.next_line()) {
      REQUIRE(l.has_value());
      if (!*l) break;
      got.push_back(**l);
    }
    CHECK(got == std::vector<std::string>{"one", "two", "three"});

    auto [c, d] = io::duplex(256);
    (void)co_await c.write_all("x;yy;");
    (void)co_await c.shutdown();
    io::BufReader<io::DuplexStream> br(std::move(d));
    auto sp = std::move(br).split(';');  // on a variable: moved in
    std::vector<std::size_t> sizes;
    while (auto seg = co_await sp.next_segment()) {
      REQUIRE(seg.has_value());
      if (!*seg) break;
      sizes.push_back((*seg)->size());
    }
    CHECK(sizes == std::vector<std::size_t>{1, 2});
  }());
}

TEST_CASE("take() and chain() as members consume the reader; split halves unsplit and reset") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(256);
    (void)co_await a.write_all("headerbody");
    (void)co_await a.shutdown();
    auto head = std::move(b).take(6);  // Tokio's AsyncReadExt::take
    std::string got;
    REQUIRE((co_await head.read_to_string(got)).has_value());
    CHECK(got == "header");
    auto both = std::move(head).chain(io::SliceReader(std::string_view("+tail")));
    std::string rest;
    REQUIRE((co_await both.read_to_string(rest)).has_value());
    CHECK(rest == "+tail");  // the take's limit was used up: only the chained reader's bytes

    auto [c, d] = io::duplex(64);
    auto [rd, wr] = io::split(std::move(c));
    io::DuplexStream whole = std::move(rd).unsplit(std::move(wr));  // ReadHalf::unsplit
    (void)co_await whole.write_all("back");
    std::array<std::byte, 8> buf{};
    CHECK(*co_await d.read(buf) == 4);

    auto [e, f] = io::duplex(64);
    auto [re, we] = io::split(std::move(e));
    we = {};  // Rust's drop(we): the half is empty now
    CHECK_THROWS_AS((void)we.write(std::string_view("x")), std::logic_error);
    re = {};
    CHECK_THROWS_AS((void)re.read(buf), std::logic_error);
    (void)f;
  }());
}

TEST_CASE("I/O extension methods: members and free functions, the same operations") {
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    // Members (Tokio's spelling)...
    auto w = co_await a.write_all("hello\n");
    CHECK(w.has_value());
    auto w2 = co_await a.write_u32(0xA1B2C3D4u);
    CHECK(w2.has_value());
    char buf[6];
    auto r = co_await b.read_exact(std::span<char>(buf));
    CHECK(r.value() == 6u);
    CHECK(std::string(buf, 6) == "hello\n");
    auto u = co_await b.read_u32();
    CHECK(u.value() == 0xA1B2C3D4u);
    // ...and the free functions, interchangeable.
    (void)co_await io::write_all(a, "line one\nline two\n");
    (void)co_await a.shutdown();
    io::BufReader<io::DuplexStream> br(std::move(b));
    std::string line;
    auto n = co_await br.read_line(line);
    CHECK(n.value() == 9u);
    CHECK(line == "line one\n");
    std::string rest;
    auto m = co_await io::read_to_string(br, rest);
    CHECK(m.value() == 9u);
    CHECK(rest == "line two\n");
    // The sockets keep their own write_all (one send loop) under the same name.
    auto listener = co_await tokio::net::TcpListener::bind("127.0.0.1:0");
    REQUIRE(listener);
    auto addr = listener->local_addr();
    REQUIRE(addr);
    auto client = co_await tokio::net::TcpStream::connect(*addr);
    REQUIRE(client);
    auto accepted = co_await listener->accept();
    REQUIRE(accepted);
    auto& server = accepted->first;
    (void)co_await client->write_all("ping");
    (void)co_await client->write_u16_le(513);
    char pb[4];
    CHECK((co_await server.read_exact(std::span<char>(pb))).value() == 4u);
    CHECK((co_await server.read_u16_le()).value() == 513);
    std::vector<char> all;
    (void)co_await client->shutdown();
    CHECK((co_await server.read_to_end(all)).value() == 0u);
  }());
}

TEST_CASE("Rust's Type::new(...) spelled Type::new_(...) where the type is not a template") {
  namespace codec = tokio::codec;
  namespace sw = tokio::stream::wrappers;
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  rt.block_on([]() -> Task<> {
    auto [a, b] = io::duplex(64);
    codec::FramedWrite lines_out(std::move(a), codec::LinesCodec::new_());
    codec::FramedRead lines_in(std::move(b), codec::LinesCodec::new_());
    REQUIRE((co_await lines_out.send("x")).has_value());
    auto line = co_await lines_in.next();
    REQUIRE((line && *line));
    CHECK(**line == "x");
    auto [c, d] = io::duplex(64);
    codec::FramedWrite any_out(std::move(c), codec::AnyDelimiterCodec::new_(",;", ";"));
    codec::FramedRead any_in(std::move(d), codec::AnyDelimiterCodec::new_(",;", ";"));
    REQUIRE((co_await any_out.send(std::string_view("y"))).has_value());
    auto chunk = co_await any_in.next();
    REQUIRE((chunk && *chunk));
    CHECK(std::string_view(**chunk) == "y");
    auto [e, f] = io::duplex(64);
    codec::FramedWrite len_out(std::move(e), codec::LengthDelimitedCodec::new_());
    codec::FramedRead raw_in(std::move(f), codec::BytesCodec::new_());
    REQUIRE((co_await len_out.send(codec::Bytes::from(std::string_view("zz")))).has_value());
    auto raw = co_await raw_in.next();
    REQUIRE((raw && *raw));
    CHECK((*raw)->len() == 6);  // a 4-byte big-endian length, then the frame
    auto listener = (co_await tokio::net::TcpListener::bind("127.0.0.1:0")).value();
    auto incoming = sw::TcpListenerStream::new_(std::move(listener));  // the spelling compiles
    auto ticks = sw::IntervalStream::new_(tokio::time::interval(1ms));
    CHECK((co_await ticks.next()).has_value());
  }());
}

namespace {
Task<int> make_one() { co_return 1; }
}  // namespace

TEST_CASE("an empty or finished Task handed to block_on, select, join, timeout or pin throws") {
  // It used to crash the first poll (a null or finished coroutine resumed), with no message.
  auto rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
  auto* make = &make_one;
  auto message_of = [](auto&& f) {
    try {
      f();
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  Task<int> empty;
  CHECK(message_of([&] { (void)rt.block_on(std::move(empty)); }).find("empty tokio::Task") !=
        std::string::npos);
  Task<int> t = make();
  CHECK(rt.block_on(std::move(t)) == 1);
  // block_on twice on the same variable: the second call gets the moved-from Task.
  CHECK(message_of([&] { (void)rt.block_on(std::move(t)); }).find("empty tokio::Task") !=
        std::string::npos);
  rt.block_on([](Task<int> (*mk)()) -> Task<> {
    Task<int> gone;
    CHECK_THROWS_AS((void)tokio::select(std::move(gone), mk()), std::logic_error);
    CHECK_THROWS_AS((void)tokio::join(mk(), Task<int>()), std::logic_error);
    CHECK_THROWS_AS((void)tokio::time::timeout(std::chrono::seconds(1), Task<int>()),
                    std::logic_error);
    CHECK_THROWS_AS((void)tokio::pin(Task<int>()), std::logic_error);
    co_return;
  }(make));
}

TEST_CASE("moved-from Builder, Command, ReadDir, DirEntry, BufReader, BufWriter throw") {
  // Each crashed (a null dereference) when used again after a move; now each throws a
  // std::logic_error naming the type. A TaskTracker is a shared handle, as in Rust: a move
  // copies it, so the moved-from one still works.
  auto b = tokio::runtime::Builder::new_current_thread();
  auto b2 = std::move(b);
  CHECK_THROWS_WITH_AS(b.enable_all(), doctest::Contains("runtime::Builder used after"),
                       std::logic_error);
  CHECK_THROWS_AS((void)b.build(), std::logic_error);
  auto rt = b2.enable_all().build();

  tokio::process::Command cmd("true");
  tokio::process::Command kept = std::move(cmd);
  CHECK_THROWS_WITH_AS(cmd.arg("-l"), doctest::Contains("process::Command used after"),
                       std::logic_error);

  tokio::sync::TaskTracker tracker;
  tokio::sync::TaskTracker moved = std::move(tracker);
  CHECK(tracker.close());  // the same tracker
  CHECK(moved.is_closed());

  rt.block_on([]() -> Task<> {
    auto d = co_await tokio::fs::read_dir("/");
    REQUIRE(d.has_value());
    auto e = co_await d->next_entry();
    REQUIRE(e.has_value());
    REQUIRE(e->has_value());
    tokio::fs::DirEntry ent = std::move(**e);
    CHECK_THROWS_WITH_AS((void)(*e)->path(), doctest::Contains("fs::DirEntry used after"),
                         std::logic_error);
    CHECK_FALSE(ent.path().empty());
    tokio::fs::ReadDir rd = std::move(*d);
    CHECK_THROWS_WITH_AS((void)d->next_entry(), doctest::Contains("fs::ReadDir used after"),
                         std::logic_error);

    auto [x, y] = io::duplex(64);
    io::BufWriter w(std::move(x));
    auto w2 = std::move(w);
    CHECK_THROWS_WITH_AS((void)co_await w.write_all(std::string_view("x")),
                         doctest::Contains("BufWriter used after"), std::logic_error);
    io::BufReader r(std::move(y));
    auto r2 = std::move(r);
    std::string line;
    CHECK_THROWS_AS((void)co_await r.read_line(line), std::logic_error);
  }());
}

TEST_CASE("max_blocking_threads(SIZE_MAX) means unlimited, not a pool of none") {
  // max + the workers wrapped around to a cap of 0 or 1: every spawn_blocking waited for
  // ever on the multi-thread runtime.
  auto rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(SIZE_MAX)
                .enable_all()
                .build();
  auto v = rt.block_on([]() -> Task<int> {
    auto h = tokio::task::spawn_blocking([] { return 7; });
    auto r = co_await tokio::time::timeout(std::chrono::seconds(10), std::move(h));
    co_return r ? *r : -1;
  }());
  CHECK(v == 7);
}

// Tokio's paths to the channel errors were missing (`mpsc::error::TrySendError` did not
// compile; helper-91): they name the same types as the channel namespaces.
TEST_CASE("channel errors under Tokio's mpsc::error / broadcast::error / ... paths") {
  namespace sync = tokio::sync;
  static_assert(
      std::is_same_v<sync::mpsc::error::TrySendError<int>, sync::mpsc::TrySendError<int>>);
  static_assert(std::is_same_v<sync::mpsc::error::SendError<int>, sync::mpsc::SendError<int>>);
  static_assert(std::is_same_v<sync::mpsc::error::TryRecvError, sync::mpsc::TryRecvError>);
  static_assert(
      std::is_same_v<sync::mpsc::error::SendTimeoutError<int>, sync::mpsc::SendTimeoutError<int>>);
  static_assert(std::is_same_v<sync::oneshot::error::RecvError, sync::oneshot::RecvError>);
  static_assert(std::is_same_v<sync::oneshot::error::TryRecvError, sync::oneshot::TryRecvError>);
  static_assert(std::is_same_v<sync::watch::error::SendError<int>, sync::watch::SendError<int>>);
  static_assert(std::is_same_v<sync::watch::error::RecvError, sync::watch::RecvError>);
  static_assert(std::is_same_v<sync::broadcast::error::RecvError, sync::broadcast::RecvError>);
  static_assert(
      std::is_same_v<sync::broadcast::error::TryRecvError, sync::broadcast::TryRecvError>);
  CHECK(sync::broadcast::error::RecvError::lagged(3).is_lagged());
  CHECK(sync::mpsc::error::TrySendError<int>{sync::mpsc::error::TrySendErrorKind::Full, 1}.kind ==
        sync::mpsc::error::TrySendErrorKind::Full);
}
