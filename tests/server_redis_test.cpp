// examples/mini_redis driven by the real redis-cli (and nc for raw RESP): the commands,
// keys removed by the timer, pipelined commands answered in order (raw and through
// redis-cli --pipe), malformed RESP answered with an error and never a crash, publish /
// subscribe with a subscribed redis-cli, and a short redis-benchmark run.
#include <string>

#include "server_test_util.hpp"

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
  CHECK(r.cli("incr big") == "ERR value is not an integer or out of range\n\n");
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
  CHECK(r.cli("set s v xx 5") == "ERR syntax error\n\n");
  CHECK(r.cli("set s v ex zz") == "ERR value is not an integer or out of range\n\n");
  CHECK(r.cli("get") == "ERR wrong number of arguments for 'get' command\n\n");
  CHECK(r.cli("frobnicate 1") == "ERR unknown command 'frobnicate'\n\n");
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
  // 50 keys with 600 ms to live, one without.
  std::string cmds;
  for (int i = 0; i < 50; ++i) cmds += "SET t" + std::to_string(i) + " v PX 600\\r\\n";
  cmds += "SET keep v\\r\\n";
  std::string out = r.raw(cmds);
  CHECK(out.size() == 51 * 5);  // 51 x "+OK\r\n"
  CHECK(r.cli("dbsize") == "51\n");
  CHECK(r.cli("get t7") == "v\n");
  // EXPIRE reschedules; SET without EX clears the time to live.
  CHECK(r.cli("set a 1 px 100000") == "OK\n");
  CHECK(r.cli("expire a 1") == "1\n");
  CHECK(r.cli("set b 1 px 200") == "OK\n");
  CHECK(r.cli("set b 2") == "OK\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
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
  CHECK(r.raw("*1\\r\\n:5\\r\\n") == "-ERR Protocol error: expected '$'\r\n");
  CHECK(r.raw("*1\\r\\n\\$3\\r\\nGETxx\\r\\n") ==
        "-ERR Protocol error: expected CRLF after bulk data\r\n");
  CHECK(r.raw("*1\\r\\n\\$99999999999\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*1\\r\\n\\$-7\\r\\n") == "-ERR Protocol error: invalid bulk length\r\n");
  CHECK(r.raw("*99999999999999999999\\r\\n") ==
        "-ERR Protocol error: invalid multibulk length\r\n");
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
        "-ERR only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
        "context\r\n"
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
