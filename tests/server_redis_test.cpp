// examples/mini_redis driven by the real redis-cli (and nc for raw RESP): the commands,
// keys removed by the timer, pipelined commands answered in order (raw and through
// redis-cli --pipe), malformed RESP answered with an error and never a crash, publish /
// subscribe with a subscribed redis-cli, and a short redis-benchmark run. Where the
// example follows redis-server 7 (times to live out of range, integer syntax, pub/sub
// output limits), the expected bytes are redis-server's.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_test_util.hpp"
// The example's RESP codec itself, for the decoder case below.
#include "examples/mini_redis_resp.hpp"

namespace {

struct Redis {
  srv::Server server;
  Redis() : server("exec " + nt::example("mini_redis") + " 127.0.0.1:0 --workers 2") {}
  // redis-cli's answer (its raw, non-tty output) to one command.
  std::string cli(const std::string& args) {
    return nt::sh("redis-cli -p " + server.port + " " + args);
  }
  // Raw bytes to the server (printf format), then the end of input; everything it answers.
  std::string raw(const std::string& printf_fmt) {
    return nt::sh("printf \"" + printf_fmt + "\" | nc -N 127.0.0.1 " + server.port);
  }
};

// A connection to the server (blocking, 5 s timeouts).
struct RedisConn {
  int fd;
  explicit RedisConn(const std::string& port, int rcvbuf = 0) {
    fd = nt::blocking_client(port);
    if (rcvbuf) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  ~RedisConn() { ::close(fd); }
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;
  void send(const std::string& bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()));
  }
  // Reads until what came ends with `tail` (or the connection ends, or 5 s pass).
  std::string until(const std::string& tail) {
    std::string got;
    (void)srv::recv_until(fd, got, [&](const std::string& s) { return s.ends_with(tail); });
    return got;
  }
  // Everything until the server closes the connection (or 5 s pass without a byte).
  std::string until_end() {
    std::string got;
    (void)srv::recv_until(fd, got, [](const std::string&) { return false; });
    return got;
  }
};

// A RESP array of bulk strings.
std::string resp_cmd(std::initializer_list<std::string> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// The resident memory of process `pid`, in KiB.
long rss_kib(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  REQUIRE(f != nullptr);
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmRSS: %ld", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

}  // namespace

TEST_CASE("mini_redis: redis-cli commands") {
  nt::Watchdog wd("mini_redis commands", std::chrono::seconds(60));
  Redis r;
  CHECK(r.cli("ping") == "PONG\n");
  CHECK(r.cli("ping hello") == "hello\n");
  CHECK(r.cli("set greeting hello") == "OK\n");
  CHECK(r.cli("get greeting") == "hello\n");
  CHECK(r.cli("get missing") == "\n");  // nil
  CHECK(r.cli("incr counter") == "1\n");
  CHECK(r.cli("incr counter") == "2\n");
  CHECK(r.cli("incr greeting") == "ERR value is not an integer or out of range\n\n");
  CHECK(r.cli("set big 9223372036854775807") == "OK\n");
  CHECK(r.cli("incr big") == "ERR increment or decrement would overflow\n\n");
  CHECK(r.cli("del greeting counter nothere") == "2\n");
  CHECK(r.cli("get greeting") == "\n");
  CHECK(r.cli("ttl nothere") == "-2\n");
  CHECK(r.cli("set k v") == "OK\n");
  CHECK(r.cli("ttl k") == "-1\n");
  CHECK(r.cli("expire k 100") == "1\n");
  CHECK(r.cli("ttl k") == "100\n");
  CHECK(r.cli("expire nothere 100") == "0\n");
  CHECK(r.cli("set s v ex 50") == "OK\n");
  CHECK(r.cli("ttl s") == "50\n");
  CHECK(r.cli("set s v xx 5") == "ERR mini_redis does not support SET XX (only EX and PX)\n\n");
  CHECK(r.cli("set lock 1 nx ex 10") ==
        "ERR mini_redis does not support SET NX (only EX and PX)\n\n");
  CHECK(r.cli("set s v ex 5 px") == "ERR syntax error\n\n");
  CHECK(r.cli("set s v ex zz") == "ERR value is not an integer or out of range\n\n");
  // Repeated as redis-server 7 takes them: the last one counts, only its value is read;
  // EX with PX is a syntax error.
  CHECK(r.cli("set s v ex zz ex 70") == "OK\n");
  CHECK(r.cli("ttl s") == "70\n");
  CHECK(r.cli("set s v PX 1 px 80000") == "OK\n");
  CHECK(r.cli("ttl s") == "80\n");
  CHECK(r.cli("set s v ex 1 px 2") == "ERR syntax error\n\n");
  CHECK(r.cli("set s v ex 5 ex 0") == "ERR invalid expire time in 'set' command\n\n");
  CHECK(r.cli("set s v ex 5 ex") == "ERR syntax error\n\n");
  CHECK(r.cli("get") == "ERR wrong number of arguments for 'get' command\n\n");
  // redis-server 7's text, byte for byte.
  CHECK(r.cli("frobnicate 1") ==
        "ERR unknown command 'frobnicate', with args beginning with: '1' \n\n");
  CHECK(r.cli("expire k 0") == "1\n");  // a deadline in the past deletes
  CHECK(r.cli("get k") == "\n");
  // A value with spaces and binary-safe lengths.
  CHECK(r.cli("set sp \"a b  c\"") == "OK\n");
  CHECK(r.cli("get sp") == "a b  c\n");
}

TEST_CASE("mini_redis: keys expire on the timer (PX / EX / EXPIRE), not only when read") {
  nt::Watchdog wd("mini_redis expiry", std::chrono::seconds(60));
  Redis r;
  CHECK(r.cli("dbsize") == "0\n");
  // 50 keys with 2 s to live, one without. (The times leave room for a loaded machine:
  // with 600 ms, CI once took longer than that to run the two redis-cli calls below.)
  std::string cmds;
  for (int i = 0; i < 50; ++i) cmds += "SET t" + std::to_string(i) + " v PX 2000\\r\\n";
  cmds += "SET keep v\\r\\n";
  std::string out = r.raw(cmds);
  CHECK(out.size() == 51 * 5);  // 51 x "+OK\r\n"
  CHECK(r.cli("dbsize") == "51\n");
  CHECK(r.cli("get t7") == "v\n");
  // EXPIRE reschedules; SET without EX clears the time to live.
  CHECK(r.cli("set a 1 px 100000") == "OK\n");
  CHECK(r.cli("expire a 1") == "1\n");
  CHECK(r.cli("set b 1 px 1500") == "OK\n");
  CHECK(r.cli("set b 2") == "OK\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(2800));
  // DBSIZE counts stored keys without checking their time: only the timer removed them.
  CHECK(r.cli("dbsize") == "2\n");  // keep, b
  CHECK(r.cli("get t7") == "\n");
  CHECK(r.cli("get keep") == "v\n");
  CHECK(r.cli("get a") == "\n");
  CHECK(r.cli("get b") == "2\n");
  CHECK(r.cli("ttl b") == "-1\n");
}

TEST_CASE("mini_redis: pipelined commands are answered in order; redis-cli --pipe") {
  nt::Watchdog wd("mini_redis pipeline", std::chrono::seconds(60));
  Redis r;
  // Inline and RESP commands mixed in one write.
  std::string out = r.raw(
      "PING\\r\\n*3\\r\\n\\$3\\r\\nSET\\r\\n\\$1\\r\\na\\r\\n\\$2\\r\\n41\\r\\nINCR a\\r\\n\\r\\n"
      "*2\\r\\n\\$3\\r\\nGET\\r\\n\\$1\\r\\na\\r\\nGET nope\\r\\nDEL a\\r\\n");
  CHECK(out == "+PONG\r\n+OK\r\n:42\r\n$2\r\n42\r\n$-1\r\n:1\r\n");
  // 20,000 commands through redis-cli --pipe: all replies, no error.
  std::string file = "/tmp/tokio-redis-pipe-" + std::to_string(::getpid()) + ".txt";
  {
    std::string body;
    for (int i = 0; i < 10000; ++i) {
      body += "SET key" + std::to_string(i) + " " + std::to_string(i) + "\r\n";
      body += "INCR key" + std::to_string(i) + "\r\n";
    }
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  std::string pipe =
      nt::sh("redis-cli -p " + r.server.port + " --pipe < " + file + "; rm -f " + file, 60);
  CHECK(pipe.find("errors: 0, replies: 20000") != std::string::npos);
  CHECK(r.cli("get key9999") == "10000\n");
  CHECK(r.cli("dbsize") == "10000\n");
}

TEST_CASE(
    "mini_redis: malformed RESP gets a protocol error and the connection closes; the server lives "
    "on") {
  nt::Watchdog wd("mini_redis malformed", std::chrono::seconds(60));
  Redis r;
  CHECK(r.raw("*2\\r\\n\\$3\\r\\nGET\\r\\n\\$abc\\r\\n") ==
        "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*x\\r\\n") == "-ERR Protocol error: invalid multibulk length\r\n");
  CHECK(r.raw("*1\\r\\n:5\\r\\n") == "-ERR Protocol error: expected '$', got ':'\r\n");
  CHECK(r.raw("*1\\r\\n*1\\r\\n\\$4\\r\\nPING\\r\\n") ==
        "-ERR Protocol error: expected '$', got '*'\r\n");  // (no nested arrays)
  CHECK(r.raw("*1\\r\\n\\$3\\r\\nGETxx\\r\\n") ==
        "-ERR Protocol error: expected CRLF after bulk data\r\n");
  CHECK(r.raw("*1\\r\\n\\$99999999999\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*1\\r\\n\\$-7\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*99999999999999999999\\r\\n") ==
        "-ERR Protocol error: invalid multibulk length\r\n");
  // Leading zeros are refused, as redis-server's string2ll refuses them.
  CHECK(r.raw("*01\\r\\n\\$4\\r\\nPING\\r\\n") ==
        "-ERR Protocol error: invalid multibulk length\r\n");
  CHECK(r.raw("*1\\r\\n\\$04\\r\\nPING\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*1\\r\\n\\$-0\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*1\\r\\n\\$0\\r\\n\\r\\n") ==
        "-ERR unknown command '', with args beginning with: \r\n");
  // Replies before the bad command still come, in order.
  CHECK(r.raw("PING\\r\\n*1\\r\\n\\$x\\r\\n") ==
        "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
  // An endless inline line: refused once it passes 64 KiB, never buffered further. (The
  // server closes with input unread, so the kernel may reset the connection before nc
  // reads the error: then there is no answer at all.)
  std::string huge =
      nt::sh("head -c 200000 /dev/zero | tr \"\\\\000\" a | nc -N 127.0.0.1 " + r.server.port);
  CHECK((huge == "-ERR Protocol error: too big inline request\r\n" || huge.empty()));
  // A truncated command at the end of the connection is simply dropped.
  CHECK(r.raw("*2\\r\\n\\$3\\r\\nGET\\r\\n") == "");
  CHECK(r.cli("ping") == "PONG\n");
}

TEST_CASE(
    "mini_redis: publish / subscribe with a subscribed redis-cli; unsubscribe and ping in "
    "subscriber mode") {
  nt::Watchdog wd("mini_redis pubsub", std::chrono::seconds(60));
  Redis r;
  CHECK(r.cli("publish news nobody") == "0\n");
  nt::Child sub("exec redis-cli -p " + r.server.port + " subscribe news sport");
  CHECK(sub.read_line() == "subscribe");
  CHECK(sub.read_line() == "news");
  CHECK(sub.read_line() == "1");
  CHECK(sub.read_line() == "subscribe");
  CHECK(sub.read_line() == "sport");
  CHECK(sub.read_line() == "2");
  CHECK(r.cli("publish news hello") == "1\n");
  CHECK(sub.read_line() == "message");
  CHECK(sub.read_line() == "news");
  CHECK(sub.read_line() == "hello");
  CHECK(r.cli("publish sport \"a goal\"") == "1\n");
  CHECK(sub.read_line() == "message");
  CHECK(sub.read_line() == "sport");
  CHECK(sub.read_line() == "a goal");
  CHECK(r.cli("publish weather rain") == "0\n");
  // Raw: subscribe, ping, a forbidden command, unsubscribe from all -> normal mode again.
  std::string out =
      r.raw("SUBSCRIBE a b\\r\\nPING\\r\\nGET x\\r\\nUNSUBSCRIBE\\r\\nPING\\r\\nUNSUBSCRIBE\\r\\n");
  CHECK(out ==
        "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context\r\n"
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n"
        "+PONG\r\n"
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  sub.stop();
}

TEST_CASE("mini_redis: a short redis-benchmark run, pipelined and not") {
  nt::Watchdog wd("mini_redis benchmark", std::chrono::seconds(60));
  Redis r;
  std::string a =
      nt::sh("redis-benchmark -p " + r.server.port + " -t set,get -n 4000 -c 20 -P 8 -q 2>&1", 30);
  CHECK(a.find("SET: ") != std::string::npos);
  CHECK(a.find("GET: ") != std::string::npos);
  CHECK(a.find("WARNING") == std::string::npos);
  std::string b =
      nt::sh("redis-benchmark -p " + r.server.port + " -t set,get -n 2000 -c 10 -q 2>&1", 30);
  CHECK(b.find("GET: ") != std::string::npos);
  CHECK(r.cli("ping") == "PONG\n");
}

TEST_CASE(
    "mini_redis: times to live out of range are refused as redis-server 7 refuses them, large "
    "ones kept; the connection lives on") {
  nt::Watchdog wd("mini_redis expire range", std::chrono::seconds(60));
  Redis r;
  // One pipelined write: every reply comes, in order (an overflow used to end the
  // connection, and an EX of INT64_MAX overflowed to a key expired at once).
  std::string out = r.raw(
      "SET a v EX 9223372036854775807\\r\\nSET a v EX 9223372036854775\\r\\n"
      "SET a v PX 9223372036854775807\\r\\nSET a v EX -9223372036854775808\\r\\n"
      "SET a v EX 0\\r\\nSET a v PX -5\\r\\nGET a\\r\\n"
      "SET a v EX 9999999999\\r\\nTTL a\\r\\nGET a\\r\\n"
      "SET b v PX 99999999999999999\\r\\nTTL b\\r\\n"
      "EXPIRE b 9999999999\\r\\nTTL b\\r\\n"
      "EXPIRE b 9223372036854775807\\r\\nEXPIRE b 9223372036854775\\r\\n"
      "EXPIRE b -9223372036854775808\\r\\nEXPIRE nokey 9223372036854775807\\r\\nTTL b\\r\\n"
      "EXPIRE b -9223372036854775\\r\\nGET b\\r\\nPING\\r\\n");
  const std::string set_err = "-ERR invalid expire time in 'set' command\r\n";
  const std::string expire_err = "-ERR invalid expire time in 'expire' command\r\n";
  CHECK(out == set_err + set_err + set_err + set_err + set_err + set_err + "$-1\r\n" +
                   "+OK\r\n:9999999999\r\n$1\r\nv\r\n" + "+OK\r\n:100000000000000\r\n" +
                   ":1\r\n:9999999999\r\n" + expire_err + expire_err + expire_err + expire_err +
                   ":9999999999\r\n" + ":1\r\n$-1\r\n+PONG\r\n");
  // The far deadline keeps the key (the purge task does not take it).
  CHECK(r.cli("get a") == "v\n");
  CHECK(r.cli("dbsize") == "1\n");
}

// Inline commands (what `nc` users type) split as redis-server splits them: quotes hold
// spaces, double quotes take \xHH, \n, \t... and any escaped character, single quotes only
// \'; unbalanced quotes are a protocol error. Every expected answer below is redis-server
// 7's, byte for byte (checked by hand against it).
TEST_CASE("mini_redis: inline commands with quotes, as redis-server splits them") {
  nt::Watchdog wd("mini_redis inline quotes", std::chrono::seconds(60));
  Redis r;
  auto ask = [&](const std::string& bytes) {
    RedisConn c(r.server.port);
    c.send(bytes);
    ::shutdown(c.fd, SHUT_WR);
    return c.until_end();
  };
  CHECK(ask("SET k \"hello world\"\r\nGET k\r\n") == "+OK\r\n$11\r\nhello world\r\n");
  CHECK(ask("SET k \"a\\x41\\n\\t\\q\"\r\nGET k\r\n") == "+OK\r\n$5\r\naA\n\tq\r\n");
  CHECK(ask("SET k 'it\\'s x'\r\nGET k\r\n") == "+OK\r\n$6\r\nit's x\r\n");
  CHECK(ask("SET k 'a\\nb'\r\nGET k\r\n") == "+OK\r\n$4\r\na\\nb\r\n");
  CHECK(ask("SET k x\"y z\"\r\nGET k\r\n") == "+OK\r\n$4\r\nxy z\r\n");
  CHECK(ask("SET k \"\"\r\nGET k\r\n") == "+OK\r\n$0\r\n\r\n");
  CHECK(ask("SET k \"a\"b\r\nGET k\r\n") ==
        "-ERR Protocol error: unbalanced quotes in request\r\n");
  CHECK(ask("SET k \"abc\r\nGET k\r\n") == "-ERR Protocol error: unbalanced quotes in request\r\n");
  // \v and \f separate arguments only where isspace() is asked (before an argument, after a
  // closing quote); inside an unquoted argument they are bytes of it.
  CHECK(ask("SET k a\vb\r\nGET k\r\n") == "+OK\r\n$3\r\na\vb\r\n");
  CHECK(ask("SET k a\fb\r\nGET k\r\n") == "+OK\r\n$3\r\na\fb\r\n");
  CHECK(ask("\fSET k \"x y\"\f\r\nGET k\r\n") == "+OK\r\n$3\r\nx y\r\n");
  CHECK(r.cli("ping") == "PONG\n");
}

TEST_CASE("mini_redis: integers as redis-server reads them; UNSUBSCRIBE outside subscribed mode") {
  nt::Watchdog wd("mini_redis integers", std::chrono::seconds(60));
  Redis r;
  const std::string not_int = "-ERR value is not an integer or out of range\r\n";
  std::string out = r.raw(
      "SET n 01\\r\\nINCR n\\r\\nSET n -0\\r\\nINCR n\\r\\nSET n +1\\r\\nINCR n\\r\\n"
      "SET n 9223372036854775807\\r\\nINCR n\\r\\nSET n -9223372036854775808\\r\\nINCR n\\r\\n"
      "SET n 0\\r\\nINCR n\\r\\nSET k v EX 05\\r\\nEXPIRE k 01\\r\\n"
      "UNSUBSCRIBE x yy\\r\\nUNSUBSCRIBE\\r\\n");
  CHECK(out == "+OK\r\n" + not_int + "+OK\r\n" + not_int + "+OK\r\n" + not_int +
                   "+OK\r\n-ERR increment or decrement would overflow\r\n" +
                   "+OK\r\n:-9223372036854775807\r\n" + "+OK\r\n:1\r\n" + not_int + not_int +
                   "*3\r\n$11\r\nunsubscribe\r\n$1\r\nx\r\n:0\r\n"
                   "*3\r\n$11\r\nunsubscribe\r\n$2\r\nyy\r\n:0\r\n"
                   "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
}

TEST_CASE("mini_redis: a channel is dropped with its last subscriber (unsubscribe or disconnect)") {
  nt::Watchdog wd("mini_redis channel release", std::chrono::seconds(60));
  Redis r;
  const pid_t pid = r.server.child.pid();
  const long before = rss_kib(pid);
  // 3000 distinct channels, 50 at a time: half left by UNSUBSCRIBE, half by disconnecting.
  // (Each channel kept used to hold its ring, about 54 KB: 160 MB in all.)
  for (int round = 0; round < 60; ++round) {
    std::string sub = "SUBSCRIBE";
    for (int i = 0; i < 50; ++i) sub += " r" + std::to_string(round) + "c" + std::to_string(i);
    RedisConn c(r.server.port);
    if (round % 2) {
      c.send(sub + "\r\nUNSUBSCRIBE\r\nPING\r\n");
      CHECK(c.until("+PONG\r\n").size() > 0);
    } else {
      c.send(sub + "\r\nPING\r\n");
      CHECK(c.until("$4\r\npong\r\n$0\r\n\r\n").size() > 0);
    }
  }
  CHECK(r.cli("publish r0c0 x") == "0\n");
  CHECK(r.cli("publish r1c0 x") == "0\n");
  const long after = rss_kib(pid);
  INFO("rss before " << before << " KiB, after " << after << " KiB");
  // (Under a sanitizer the server's RSS keeps freed memory in quarantine: not a measure.)
  if (!test::kSanitized) {
    CHECK(after - before < 40 * 1024);
  }
}

// One connection on 300 channels: its task polls a StreamMap of 300 idle broadcast streams
// on every turn. Each used to spend a unit of the task's 128-unit coop budget, so from the
// 128th subscription on the task ran dry in every poll: no acknowledgement, no reply, 100%
// CPU, and the task (with its subscriptions) outliving the client.
TEST_CASE("mini_redis: a connection subscribed to 300 channels is served and released") {
  nt::Watchdog wd("mini_redis 300 subscriptions", std::chrono::seconds(60));
  Redis r;
  {
    RedisConn c(r.server.port);
    std::string sub = "SUBSCRIBE";
    for (int i = 0; i < 300; ++i) sub += " many" + std::to_string(i);
    c.send(sub + "\r\nPING\r\n");
    std::string acks = c.until("$4\r\npong\r\n$0\r\n\r\n");
    CHECK(acks.find("$7\r\nmany299\r\n:300\r\n") != std::string::npos);
    CHECK(r.cli("publish many299 late") == "1\n");
    CHECK(c.until("$4\r\nlate\r\n").find("message") != std::string::npos);
  }
  // The client is gone: its subscriptions go with its task.
  std::string left;
  for (int i = 0; i < 200 && (left = r.cli("publish many0 x")) != "0\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(left == "0\n");
}

TEST_CASE(
    "mini_redis: a subscriber that does not read is disconnected past 32 MiB of unsent output "
    "(redis-server's pubsub output limit); one that reads is not") {
  nt::Watchdog wd("mini_redis pubsub output limit", std::chrono::seconds(60));
  Redis r;
  const pid_t pid = r.server.child.pid();
  RedisConn idle(r.server.port, 4096);
  idle.send(resp_cmd({"SUBSCRIBE", "big"}));
  CHECK(idle.until(":1\r\n") == "*3\r\n$9\r\nsubscribe\r\n$3\r\nbig\r\n:1\r\n");
  nt::Child reader("exec redis-cli -p " + r.server.port + " subscribe big > /dev/null");
  // 80 messages of 1 MiB (the server used to keep up to 1024 of them for the idle one).
  RedisConn pub(r.server.port);
  for (int i = 0; i < 200; ++i) {
    pub.send(resp_cmd({"PUBLISH", "big", "x"}));
    if (pub.until("\r\n") == ":2\r\n") break;  // redis-cli has subscribed
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string payload(1 << 20, 'm');
  int last = -1;
  for (int i = 0; i < 80; ++i) {
    pub.send(resp_cmd({"PUBLISH", "big", payload}));
    std::string reply = pub.until("\r\n");
    REQUIRE(reply.size() == 4);
    last = reply[1] - '0';
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // (redis-cli keeps up)
  }
  // The idle subscriber is gone by the end (the reader stays): a publish reaches one. Once,
  // in a full suite run, it was still there at the 80th publish (last == 2; why is not
  // known): so publish again for up to 5 s. A subscriber never cut off still fails.
  INFO("receivers at the 80th publish: " << last);
  std::string reached;
  for (int i = 0; i < 100 && reached != ":1\r\n"; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pub.send(resp_cmd({"PUBLISH", "big", "x"}));
    reached = pub.until("\r\n");
  }
  CHECK(reached == ":1\r\n");
  INFO("rss " << rss_kib(pid) << " KiB");
  if (!test::kSanitized) {  // (see the case above)
    CHECK(rss_kib(pid) < 200 * 1024);
  }
  reader.stop();
}

TEST_CASE(
    "mini_redis: a burst of pipelined PUBLISHes reaches a subscriber whole (no message lost to "
    "the ring)") {
  nt::Watchdog wd("mini_redis publish burst", std::chrono::seconds(60));
  Redis r;
  RedisConn sub(r.server.port);
  sub.send("SUBSCRIBE burst\r\n");
  CHECK(sub.until(":1\r\n").size() > 0);
  std::string file = "/tmp/tokio-redis-burst-" + std::to_string(::getpid()) + ".txt";
  {
    std::string body;
    for (int i = 0; i < 20000; ++i) body += "PUBLISH burst m" + std::to_string(i) + "\r\n";
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fwrite(body.data(), 1, body.size(), f);
    std::fclose(f);
  }
  std::string replies = nt::sh(
      "nc -N 127.0.0.1 " + r.server.port + " < " + file + " | grep -c '^:1'; rm -f " + file, 60);
  CHECK(replies == "20000\n");
  std::string got = sub.until("$6\r\nm19999\r\n");
  std::size_t messages = 0;
  for (std::size_t at = 0; (at = got.find("$7\r\nmessage\r\n", at)) != std::string::npos; ++at) {
    ++messages;
  }
  CHECK(messages == 20000);
  CHECK(r.cli("publish burst x") == "1\n");  // still subscribed
}

// Fan-in: hundreds of publisher connections at once to one channel. Each used to be a
// broadcast ring of 256 messages per channel: the publishers' tasks ran before the
// subscribers' and overflowed it, and a subscriber that lagged was disconnected with its
// messages lost (most runs of this case). Now each subscriber's messages are its own
// output, as redis-server's are.
TEST_CASE("mini_redis: 300 publishers at once reach every subscriber with every message") {
  nt::Watchdog wd("mini_redis fan-in", std::chrono::seconds(60));
  Redis r;
  constexpr int kSubscribers = 3, kPublishers = 300, kEach = 4;
  std::vector<std::unique_ptr<RedisConn>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(std::make_unique<RedisConn>(r.server.port));
    subs.back()->send(resp_cmd({"SUBSCRIBE", "fan"}));
    CHECK(subs.back()->until(":1\r\n").size() > 0);
  }
  std::vector<std::unique_ptr<RedisConn>> pubs;
  for (int p = 0; p < kPublishers; ++p) pubs.push_back(std::make_unique<RedisConn>(r.server.port));
  // Every publisher's commands are sent before any reply is read: the server finds them
  // all readable at once.
  for (int p = 0; p < kPublishers; ++p) {
    std::string cmds;
    for (int k = 0; k < kEach; ++k) {
      cmds += resp_cmd({"PUBLISH", "fan", "p" + std::to_string(p) + "m" + std::to_string(k)});
    }
    pubs[static_cast<std::size_t>(p)]->send(cmds);
  }
  int all_three = 0;
  for (auto& pub : pubs) {
    std::string replies;
    (void)srv::recv_until(pub->fd, replies, [](const std::string& s) {
      return std::count(s.begin(), s.end(), '\n') == kEach;
    });
    all_three += replies == ":3\r\n:3\r\n:3\r\n:3\r\n";
  }
  CHECK(all_three == kPublishers);
  for (auto& sub : subs) {
    // Each subscriber, still connected, got every message once, each publisher's in order.
    std::string got;
    const std::size_t want = static_cast<std::size_t>(kPublishers) * kEach;
    (void)srv::recv_until(sub->fd, got, [&](const std::string& s) {
      std::size_t n = 0;
      for (std::size_t at = 0; (at = s.find("$7\r\nmessage\r\n", at)) != std::string::npos; ++at)
        ++n;
      return n == want;
    });
    std::vector<int> next(kPublishers, 0);
    std::size_t messages = 0;
    bool in_order = true;
    for (std::size_t at = 0; (at = got.find("\r\np", at)) != std::string::npos; ++at) {
      const std::size_t m = got.find('m', at);
      const int p = std::atoi(got.substr(at + 3, m - at - 3).c_str());
      const int k = std::atoi(got.substr(m + 1).c_str());
      if (p < 0 || p >= kPublishers) continue;
      in_order = in_order && k == next[static_cast<std::size_t>(p)];
      next[static_cast<std::size_t>(p)] = k + 1;
      ++messages;
    }
    CHECK(messages == want);
    CHECK(in_order);
    sub->send("PING\r\n");
    CHECK(sub->until("$0\r\n\r\n").ends_with("$4\r\npong\r\n$0\r\n\r\n"));
  }
  // The empty channel name is a channel like any other (redis-server's too).
  RedisConn empty(r.server.port);
  empty.send(resp_cmd({"SUBSCRIBE", ""}));
  CHECK(empty.until(":1\r\n") == "*3\r\n$9\r\nsubscribe\r\n$0\r\n\r\n:1\r\n");
  pubs[0]->send(resp_cmd({"PUBLISH", "", "x"}));
  CHECK(pubs[0]->until("\r\n") == ":1\r\n");
  CHECK(empty.until("$1\r\nx\r\n") == "*3\r\n$7\r\nmessage\r\n$0\r\n\r\n$1\r\nx\r\n");
}

TEST_CASE(
    "mini_redis: a subscribed connection that ends (QUIT, end of input, bad RESP) still gets "
    "what was queued for it, and a protocol error as in normal mode") {
  nt::Watchdog wd("mini_redis subscribed last words", std::chrono::seconds(60));
  Redis r;
  const std::string ack = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n";
  const std::string pong = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    {  // (one write: the server reads the bad frame along with the SUBSCRIBE)
      RedisConn c(r.server.port);
      c.send(resp_cmd({"SUBSCRIBE", "a"}) + "PING\r\n*1\r\n$-3\r\n");
      CHECK(c.until_end() == ack + pong + "-ERR Protocol error: invalid bulk length\r\n");
    }
    {
      RedisConn c(r.server.port);
      c.send(resp_cmd({"SUBSCRIBE", "a"}) + "*2\r\n$4\r\nPING\r\n*1\r\n");
      CHECK(c.until_end() == ack + "-ERR Protocol error: expected '$', got '*'\r\n");
    }
    {  // the end of the input right after the commands
      RedisConn c(r.server.port);
      c.send(resp_cmd({"SUBSCRIBE", "a"}) + "PING\r\n");
      ::shutdown(c.fd, SHUT_WR);
      CHECK(c.until_end() == ack + pong);
    }
    {
      RedisConn c(r.server.port);
      c.send(resp_cmd({"SUBSCRIBE", "a"}) + "PING\r\nQUIT\r\nPING\r\n");
      CHECK(c.until_end() == ack + pong + "+OK\r\n");
    }
  }
  CHECK(r.cli("publish a x") == "0\n");  // nobody is left on the channel
}

TEST_CASE(
    "mini_redis: refusals and argument counts in subscribed mode as redis-server 7 words them") {
  nt::Watchdog wd("mini_redis subscribed answers", std::chrono::seconds(60));
  Redis r;
  const std::string only =
      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
      "context\r\n";
  auto wrong = [](const std::string& name) {
    return "-ERR wrong number of arguments for '" + name + "' command\r\n";
  };
  RedisConn c(r.server.port);
  c.send(resp_cmd({"SUBSCRIBE", "c"}) + resp_cmd({"GeT", "x"}) + resp_cmd({"GET"}) +
         resp_cmd({"PING", "a", "b"}) + resp_cmd({"PING", "x"}) + resp_cmd({"DBSIZE"}) +
         resp_cmd({"DBSIZE", "x"}) + resp_cmd({"publish", "c", "m"}) + resp_cmd({"SUBSCRIBE"}) +
         resp_cmd({"CONFIG", "GET"}) + resp_cmd({"config", "get", "save"}) +
         resp_cmd({"FOO", "a"}) + resp_cmd({"UNSUBSCRIBE"}) + resp_cmd({"DBSIZE", "x"}) +
         resp_cmd({"PING", "a", "b"}) + resp_cmd({"CONFIG", "GET"}) + resp_cmd({"CONFIG"}) +
         resp_cmd({"ECHO", "end"}));
  std::string want =
      "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
      "-ERR Can't execute 'get" +
      only + wrong("get") + wrong("ping") +
      "*2\r\n$4\r\npong\r\n$1\r\nx\r\n"
      "-ERR Can't execute 'dbsize" +
      only + wrong("dbsize") + "-ERR Can't execute 'publish" + only + wrong("subscribe") +
      wrong("config|get") + "-ERR Can't execute 'config|get" + only +
      "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n"
      "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n" +
      wrong("dbsize") + wrong("ping") + wrong("config|get") + wrong("config") + "$3\r\nend\r\n";
  CHECK(c.until("$3\r\nend\r\n") == want);
}

// EXPIRE's options (redis 7) and CONFIG's subcommands: every answer below is redis-server
// 7.0's to the same bytes (checked against it). A CONFIG subcommand mini_redis does not
// apply is an error, never a silent success (it answered "*0" to CONFIG SET).
TEST_CASE("mini_redis: EXPIRE NX / XX / GT / LT; CONFIG subcommands it does not apply are errors") {
  nt::Watchdog wd("mini_redis expire options", std::chrono::seconds(60));
  Redis r;
  RedisConn c(r.server.port);
  c.send(
      "SET k v\r\nEXPIRE k 100 XX\r\nEXPIRE k 100 GT\r\nEXPIRE k 100 NX\r\nTTL k\r\n"
      "EXPIRE k 50 GT\r\nEXPIRE k 200 gt\r\nTTL k\r\nEXPIRE k 300 LT\r\nEXPIRE k 10 xx lt\r\n"
      "TTL k\r\nEXPIRE k 100 NX\r\nEXPIRE k 10 FOO\r\nEXPIRE k 10 NX XX\r\n"
      "EXPIRE k 10 GT LT\r\nEXPIRE k abc FOO\r\nEXPIRE k abc NX\r\nSET n v\r\n"
      "EXPIRE n 10 LT\r\nTTL n\r\nCONFIG FOO\r\nCONFIG get nosuch\r\nCONFIG SET maxmemory 0\r\n"
      "ECHO end\r\n");
  CHECK(c.until("$3\r\nend\r\n") ==
        "+OK\r\n:0\r\n:0\r\n:1\r\n:100\r\n:0\r\n:1\r\n:200\r\n:0\r\n:1\r\n:10\r\n:0\r\n"
        "-ERR Unsupported option FOO\r\n"
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
        "-ERR GT and LT options at the same time are not compatible\r\n"
        "-ERR Unsupported option FOO\r\n"
        "-ERR value is not an integer or out of range\r\n"
        "+OK\r\n:1\r\n:10\r\n"
        "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n*0\r\n"
        "-ERR mini_redis does not support CONFIG SET\r\n$3\r\nend\r\n");
}

TEST_CASE(
    "mini_redis: a subscriber that sent QUIT and does not read holds up no publisher; PUBLISH "
    "waits for a slow subscriber a second at most") {
  nt::Watchdog wd("mini_redis quit stall", std::chrono::seconds(60));
  Redis r;
  RedisConn sub(r.server.port, 4096);
  sub.send(resp_cmd({"SUBSCRIBE", "ch"}));
  CHECK(sub.until(":1\r\n").size() > 0);
  RedisConn pub(r.server.port);
  // 6 MB the subscriber never reads (under the 8 MiB soft limit): its output backs up.
  const std::string big(100000, 'x');
  for (int i = 0; i < 60; ++i) {
    pub.send(resp_cmd({"PUBLISH", "ch", big}));
    CHECK(pub.until("\r\n") == ":1\r\n");
  }
  sub.send(resp_cmd({"QUIT"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // More than half a ring of messages: each used to wait for the quitting subscriber.
  const auto t0 = std::chrono::steady_clock::now();
  int done = 0;
  for (; done < 300 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5); ++done) {
    pub.send(resp_cmd({"PUBLISH", "ch", "m"}));
    std::string reply = pub.until("\r\n");
    REQUIRE(reply.size() == 4);
  }
  CHECK(done == 300);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
}

TEST_CASE(
    "mini_redis: a subscriber that keeps sending commands still takes its messages (its "
    "publisher is not held up)") {
  nt::Watchdog wd("mini_redis busy subscriber", std::chrono::seconds(60));
  Redis r;
  RedisConn sub(r.server.port);
  sub.send(resp_cmd({"SUBSCRIBE", "busy"}));
  CHECK(sub.until(":1\r\n").size() > 0);
  // The subscriber sends PINGs without a pause, 10000 a write (so there is always more to
  // read), and reads the answers: at least 1M, and on until 200k more have gone out after
  // the last PUBLISH was acknowledged (at most 3M: 42 MB of answers, read as they come, so
  // under the 32 MiB output limit). A server that took messages only when no command was
  // waiting took none until the PINGs were done, and held up the publisher (once the ring
  // was half full) as long: the flood then ends at its cap with no PING answered after the
  // last message. (Stopping at a fixed 1M let a loaded host finish the PINGs before the
  // 300 publishes, which proved nothing either way.)
  // (Both counts shrink by test::scale() under ThreadSanitizer, whose server answers ten
  // times slower: the flood still runs from before the first PUBLISH to after the last.)
  const long kPings = static_cast<long>(test::scaled(1000000));
  const long kAfter = static_cast<long>(test::scaled(200000));
  constexpr long kMaxPings = 3000000;
  std::atomic<long> pings{0};
  std::atomic<bool> published{false};
  std::thread flood([&] {
    std::string chunk;
    for (int i = 0; i < 10000; ++i) chunk += "PING\r\n";
    long after = 0;
    while (pings < kMaxPings && (pings < kPings || after < kAfter)) {
      if (::send(sub.fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) != ssize_t(chunk.size())) break;
      pings += 10000;
      if (published) after += 10000;
    }
    const std::string end = resp_cmd({"PING", "end"});
    (void)!::send(sub.fd, end.data(), end.size(), MSG_NOSIGNAL);
  });
  std::string got;
  std::thread reader([&] {
    const std::string tail = "$3\r\nend\r\n";
    char buf[65536];
    while (got.size() < tail.size() || got.compare(got.size() - tail.size(), tail.size(), tail)) {
      ssize_t n = ::recv(sub.fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  for (int i = 0; i < 5000 && pings < 20000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RedisConn pub(r.server.port);
  const auto t0 = std::chrono::steady_clock::now();
  int reached = 0;
  for (int i = 0; i < 300; ++i) {
    pub.send(resp_cmd({"PUBLISH", "busy", "m" + std::to_string(i)}));
    reached += pub.until("\r\n") == ":1\r\n";
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  published = true;
  flood.join();
  reader.join();
  CHECK(reached == 300);
  const std::string pong = "$4\r\npong\r\n$0\r\n";
  std::size_t messages = 0, pongs = 0, pongs_after = 0;
  for (std::size_t at = 0; (at = got.find("$7\r\nmessage\r\n", at)) != std::string::npos; ++at) {
    ++messages;
  }
  for (std::size_t at = 0; (at = got.find(pong, at)) != std::string::npos; ++at) ++pongs;
  for (std::size_t at = got.rfind("$7\r\nmessage\r\n");
       at != std::string::npos && (at = got.find(pong, at)) != std::string::npos; ++at) {
    ++pongs_after;
  }
  INFO("publishing took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                          << " ms; PINGs sent: " << pings.load()
                          << "; answered after the last message: " << pongs_after);
  CHECK(messages == 300);
  CHECK(long(pongs) == pings.load());
  // The messages came while the PINGs were being answered, long before the last of them.
  CHECK(pongs_after >= std::size_t(kAfter / 2));
}

// A command arriving in pieces is parsed on from where the previous piece ended, each byte
// once: parsed again from its first byte on every read, a command of many arguments sent
// in small writes cost time quadratic in its length (300,000 arguments in writes of 16:
// 5.4 s of the server's CPU against redis-server's 0.4 s). To see that the parsed bytes
// are not read again, the case spoils one of them between the pieces: a decoder that starts
// over reports "expected '$'".
TEST_CASE("mini_redis: a command arriving in pieces is parsed on from where the last piece ended") {
  RespCodec codec;
  tokio::codec::BytesMut buf;
  buf.put("*3\r\n$3\r\nSET\r\n$1\r\nk");
  auto r = codec.decode(buf);
  REQUIRE(r.has_value());
  CHECK(!r->has_value());   // incomplete: the second argument's end has not arrived
  buf[4] = std::byte{'!'};  // the first argument's '$', parsed already
  buf.put("\r\n$");
  r = codec.decode(buf);
  REQUIRE(r.has_value());
  CHECK(!r->has_value());
  buf.put("1\r\nv\r\n*1\r\n$4\r\nPING\r\n");
  r = codec.decode(buf);
  REQUIRE(r.has_value());
  REQUIRE(r->has_value());
  CHECK((*r)->argc == 3);
  CHECK((*r)->arg(0) == "SET");
  CHECK((*r)->arg(1) == "k");
  CHECK((*r)->arg(2) == "v");
  // The next command starts afresh.
  r = codec.decode(buf);
  REQUIRE(r.has_value());
  REQUIRE(r->has_value());
  CHECK((*r)->argc == 1);
  CHECK((*r)->arg(0) == "PING");
  CHECK(buf.is_empty());
}
