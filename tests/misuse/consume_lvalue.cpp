// `make check-misuse`: members that consume their object (Rust's `self`) called on an
// lvalue, and a read into a temporary buffer, must fail to compile with a message that
// names the fix. Each case is compiled
// alone (-DCASE=n) and must fail with the quoted words in the compiler's output; case 0
// is the same code written correctly and must compile.
#include "tokio.hpp"

using namespace tokio;

#if CASE == 0
Task<> all_fine(net::TcpStream s, net::UnixStream u, net::TcpSocket a, net::TcpSocket b,
                process::Child c, codec::BytesMut m) {
  auto [r, w] = std::move(s).into_split();
  auto [ur, uw] = std::move(u).into_split();
  auto st = co_await std::move(a).connect("127.0.0.1:1");
  auto l = std::move(b).listen(16);
  auto out = co_await std::move(c).wait_with_output();
  codec::Bytes frozen = std::move(m).freeze();
  std::vector<uint8_t> buf(16);
  auto n = co_await st->read(buf);
}
#elif CASE == 1  // expect: std::move(stream).into_split()
void f(net::TcpStream s) { auto [r, w] = s.into_split(); }
#elif CASE == 2  // expect: std::move(stream).into_split()
void f(net::UnixStream s) { auto [r, w] = s.into_split(); }
#elif CASE == 3  // expect: std::move(socket).connect(addr)
Task<> f(net::TcpSocket s) { auto c = co_await s.connect("127.0.0.1:1"); }
#elif CASE == 4  // expect: std::move(socket).listen(backlog)
void f(net::TcpSocket s) { auto l = s.listen(16); }
#elif CASE == 5  // expect: std::move(child).wait_with_output()
Task<> f(process::Child c) { auto o = co_await c.wait_with_output(); }
#elif CASE == 6  // expect: std::move(buf).freeze()
void f(codec::BytesMut m) { codec::Bytes b = m.freeze(); }
#elif CASE == 7  // expect: declare the buffer first
Task<> f(net::TcpStream s) { auto n = co_await s.read(std::vector<uint8_t>(16)); }
#endif
