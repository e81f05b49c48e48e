// examples/chat driven by several real `nc` clients: every line reaches every other
// client (not its author), joins and leaves are announced, renames, a client that closes
// leaves cleanly, and an overlong line is refused and closes its connection (as in Tokio's
// chat example: the Framed pauses after the decode error, which ends the client's loop).
#include <string>

#include "server_test_util.hpp"

TEST_CASE("chat: three nc clients talk; a long line is refused and ends its connection") {
  nt::Watchdog wd("chat example", std::chrono::seconds(60));
  srv::Server server("exec " + nt::example("chat") + " 127.0.0.1:0");
  srv::TempDir dir;
  const std::string nc = "nc -N 127.0.0.1 " + server.port;

  srv::Interactive a(dir, "a", nc);
  CHECK(a.line() == "welcome, you are guest1");
  srv::Interactive b(dir, "b", nc);
  CHECK(b.line() == "welcome, you are guest2");
  CHECK(a.line() == "* guest2 joined");
  srv::Interactive c(dir, "c", nc);
  CHECK(c.line() == "welcome, you are guest3");
  CHECK(a.line() == "* guest3 joined");
  CHECK(b.line() == "* guest3 joined");

  a.send("hello from a");
  CHECK(b.line() == "guest1: hello from a");
  CHECK(c.line() == "guest1: hello from a");
  b.send("and b");
  CHECK(a.line() == "guest2: and b");
  CHECK(c.line() == "guest2: and b");
  // Nothing came back to the authors: the next line each sees is the next message.
  c.send("/name carol");
  CHECK(a.line() == "* guest3 is now carol");
  CHECK(b.line() == "* guest3 is now carol");
  c.send("hi all");
  CHECK(a.line() == "carol: hi all");
  CHECK(b.line() == "carol: hi all");

  // b ends its input: nc -N shuts the socket's write side, the server sees the end.
  b.close_input();
  CHECK(a.line() == "* guest2 left");
  CHECK(c.line() == "* guest2 left");
  CHECK(b.child().wait(std::chrono::milliseconds(5000)) == 0);  // its connection was closed
  c.send("/quit");
  CHECK(a.line() == "* carol left");
  // Many lines in one burst arrive in order.
  for (int i = 0; i < 50; ++i) a.send("burst " + std::to_string(i));
  srv::Interactive d(dir, "d", nc);
  CHECK(d.line() == "welcome, you are guest4");
  (void)a.line();  // "* guest4 joined"
  d.send("late");
  CHECK(a.line() == "guest4: late");

  // A 10,000-byte line: refused to its author only, then its connection is closed.
  d.send(std::string(10000, 'x'));
  std::string refusal = d.line();
  while (refusal.rfind("guest1: burst", 0) == 0) refusal = d.line();  // the burst's tail
  CHECK_MESSAGE(refusal.rfind("! line too long", 0) == 0, "d got: '" << refusal << "'");
  CHECK(a.line() == "* guest4 left");
  d.close_input();
  CHECK(d.child().wait(std::chrono::milliseconds(5000)) == 0);  // its connection was closed
  // The others go on.
  srv::Interactive e(dir, "e", nc);
  CHECK(e.line() == "welcome, you are guest5");
  CHECK(a.line() == "* guest5 joined");
  a.send("still here");
  CHECK(e.line() == "guest1: still here");
  // Control characters reach nobody: an escape sequence and a carriage return meant to
  // overwrite the prefix on e's terminal with a forged sender come out as '?'.
  a.send("\x1b[2Jhi\rguest5: fake\x7f");
  CHECK(e.line() == "guest1: ?[2Jhi?guest5: fake?");
  a.send("/name \x1b[1mboss");
  CHECK(e.line() == "* guest1 is now ?[1mboss");
}
