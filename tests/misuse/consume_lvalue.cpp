// `make check-misuse`: members that consume their object (Rust's `self`) called on an
// lvalue, a read into a temporary buffer, an item a Framed's codec cannot encode, and a
// move-only lvalue given to spawn(f, args...) (which copies its operands into the task),
// must fail to compile with a message that names the fix; an awaitable whose co_await was
// forgotten must draw the compiler's unused-result warning (made an error in those
// cases). Each case is compiled alone (-DCASE=n) and must fail with the quoted words in
// the compiler's output; case 0 is the same code written correctly and must compile.
#include "tokio.hpp"

using namespace tokio;

#if CASE == 0
#include <filesystem>
Task<> path_result_with_its_header() {
  auto p = co_await fs::canonicalize(".");
  auto n = p ? p->native().size() : 0;
  (void)n;
}
Task<> all_fine(net::TcpStream s, net::UnixStream u, net::UnixStream u2, net::TcpSocket a,
                net::TcpSocket b, process::Child c, codec::BytesMut m) {
  auto [r, w] = std::move(s).into_split();
  auto [ur, uw] = std::move(u).into_split();
  auto st = co_await std::move(a).connect("127.0.0.1:1");
  auto l = std::move(b).listen(16);
  auto out = co_await std::move(c).wait_with_output();
  codec::Bytes frozen = std::move(m).freeze();
  std::vector<uint8_t> buf(16);
  auto n = co_await st->read(buf);
  io::BufReader br(std::move(*st));
  auto ls = std::move(br).lines();
  auto [tx, rx] = sync::mpsc::channel<int>(1);
  auto p = co_await std::move(tx).reserve_owned();
  sync::Mutex<int> m2(1);
  int v = std::move(m2).into_inner();
  auto again = std::move(r).reunite(std::move(w));
  codec::Framed fr(std::move(u2), codec::LinesCodec());
  auto sent = co_await fr.send(std::string("line"));
  auto plus = stream::iter(std::vector<int>{1, 2}) | stream::map([](int x) { return x + 1; });
  auto first = co_await plus.next();
  task::LocalSet local;
  co_await local;
}
Task<> spawn_fine(net::TcpStream s, std::unique_ptr<int> p, std::unique_ptr<int> q) {
  auto take = [](net::TcpStream, int) -> Task<> { co_return; };
  int copyable = 1;  // a copyable lvalue is copied into the task
  co_await spawn(take, std::move(s), copyable);
  auto use = [](std::unique_ptr<int> x) { return *x; };
  int v = co_await task::spawn_blocking(use, std::move(p));
  task::JoinSet<int> set;
  set.spawn([](std::unique_ptr<int> x) -> Task<int> { co_return *x; }, std::move(q));
  (void)v;
}
#elif CASE == 1   // expect: std::move(stream).into_split()
void f(net::TcpStream s) { auto [r, w] = s.into_split(); }
#elif CASE == 2   // expect: std::move(stream).into_split()
void f(net::UnixStream s) { auto [r, w] = s.into_split(); }
#elif CASE == 3   // expect: std::move(socket).connect(addr)
Task<> f(net::TcpSocket s) { auto c = co_await s.connect("127.0.0.1:1"); }
#elif CASE == 4   // expect: std::move(socket).listen(backlog)
void f(net::TcpSocket s) { auto l = s.listen(16); }
#elif CASE == 5   // expect: std::move(child).wait_with_output()
Task<> f(process::Child c) { auto o = co_await c.wait_with_output(); }
#elif CASE == 6   // expect: std::move(buf).freeze()
void f(codec::BytesMut m) { codec::Bytes b = m.freeze(); }
#elif CASE == 7   // expect: declare the buffer first
Task<> f(net::TcpStream s) { auto n = co_await s.read(std::vector<uint8_t>(16)); }
#elif CASE == 8   // expect: std::move(reader).lines()
void f(io::BufReader<net::TcpStream> r) { auto l = r.lines(); }
#elif CASE == 9   // expect: std::move(read_half).reunite(std::move(write_half))
void f(net::TcpStream s) {
  auto [r, w] = std::move(s).into_split();
  auto back = r.reunite(std::move(w));
}
#elif CASE == 10  // expect: std::move(reader).into_inner()
void f(io::BufReader<net::TcpStream> r) { auto s = r.into_inner(); }
#elif CASE == 11  // expect: tx.clone().reserve_owned()
Task<> f(sync::mpsc::Sender<int> tx) { auto p = co_await tx.reserve_owned(); }
#elif CASE == 12  // expect: std::move(mutex).into_inner()
void f(sync::Mutex<int> m) { int v = m.into_inner(); }
#elif CASE == 13  // expect: the codec has no `io::Result<void> encode(Item, codec::BytesMut& dst)`
Task<> f(codec::Framed<net::UnixStream, codec::LinesCodec>& fr) { co_await fr.send(42); }
#elif CASE == 14  // expect: stream::map's function returns void
Task<> f() {
  auto s = stream::iter(std::vector<int>{1, 2}) | stream::map([](int) {});
  (void)co_await s.next();
}
#elif CASE == 15  // expect: pass it as an lvalue (rt.block_on(x), co_await x)
void f(runtime::Runtime& rt) {
  task::LocalSet local;
  rt.block_on(std::move(local));
}
#elif CASE == 16  // expect: await a LocalSet as an lvalue
Task<> f() {
  task::LocalSet local;
  co_await std::move(local);
}
#elif CASE == 17  // expect: an argument is a move-only lvalue; pass std::move(x)
void f(net::TcpStream s) {
  (void)spawn([](net::TcpStream) -> Task<> { co_return; }, s);
}
#elif CASE == 18  // expect: an argument is a move-only lvalue; pass std::move(x)
void f(std::unique_ptr<int> p) {
  (void)task::spawn_blocking([](std::unique_ptr<int> x) { return *x; }, p);
}
#elif CASE == 19  // expect: an argument is a move-only lvalue; pass std::move(x)
void f(task::JoinSet<int>& set, std::unique_ptr<int> p) {
  set.spawn([](std::unique_ptr<int> x) -> Task<int> { co_return *x; }, p);
}
#elif CASE == 20  // expect: an argument is a move-only lvalue; pass std::move(x)
void f(std::unique_ptr<int> p) {
  (void)task::spawn_local([](std::unique_ptr<int> x) -> Task<> { co_return; }, p);
}
#elif CASE == 21  // expect: does nothing unless it is co_awaited
#pragma GCC diagnostic error "-Wunused-result"
Task<> f(net::TcpStream& s) {
  s.write_all(std::string_view("forgot the co_await"));  // nothing is written
  co_return;
}
#elif CASE == 22  // expect: does nothing unless it is co_awaited
#pragma GCC diagnostic error "-Wunused-result"
Task<> f() {
  time::sleep(std::chrono::seconds(1));  // no pause
  co_return;
}
#elif CASE == 23  // expect: does nothing unless it is co_awaited
#pragma GCC diagnostic error "-Wunused-result"
Task<> f(sync::mpsc::Sender<int>& tx, sync::Mutex<int>& m, sync::Notify& n) {
  tx.send(1);    // nothing sent
  m.lock();      // nothing locked
  n.notified();  // no wait
  co_return;
}
#elif CASE == 24  // expect: does nothing unless it is co_awaited
#pragma GCC diagnostic error "-Wunused-result"
Task<> f(codec::Framed<net::TcpStream, codec::LinesCodec>& fr) {
  fr.send(std::string("line"));  // nothing sent
  co_return;
}
#elif CASE == 25  // expect: co_await binds tighter than |
Task<> f() {
  auto sum = co_await stream::iter(std::vector<int>{1, 2}) |
             stream::fold(0, [](int a, int b) { return a + b; });
}
#elif CASE == 26  // expect: for Rust's () use std::monostate
Task<> f() {
  auto [tx, rx] = sync::oneshot::channel<void>();
  co_return;
}
#elif CASE == 27  // expect: for Rust's () use std::monostate
Task<> f() {
  auto [tx, rx] = sync::mpsc::channel<void>(1);
  co_return;
}
#elif CASE == 28  // expect: for Rust's () use std::monostate
sync::Mutex<void> m;
#elif CASE == 29  // expect: #include <filesystem> in this file
// tokio.hpp declares std::filesystem::path without defining it (libstdc++'s <bits/fs_fwd.h>,
// fs/detail/std_filesystem.hpp): a TU that uses a path result includes <filesystem>.
Task<> f() {
  auto p = co_await fs::canonicalize(".");
  co_return;
}
#elif CASE == 30  // expect: does nothing unless it is co_awaited
#pragma GCC diagnostic error "-Wunused-result"
Task<int> child() { co_return 1; }
Task<> f() {
  child();  // the child never runs
  co_return;
}
#endif
