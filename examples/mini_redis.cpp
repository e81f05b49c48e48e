// mini_redis: a small Redis server speaking RESP, for redis-cli and redis-benchmark.
//
//   mini_redis [ADDR] [--workers N]      ADDR defaults to 127.0.0.1:6379
//   redis-cli -p 6379 set greeting hello
//
// Commands: PING [msg], GET k, SET k v [EX s | PX ms], DEL k..., INCR k, EXPIRE k s,
// TTL k, PUBLISH ch msg, SUBSCRIBE ch..., UNSUBSCRIBE [ch...], DBSIZE, ECHO, QUIT, CONFIG GET
// (save and appendonly, for redis-benchmark). Inline commands ("PING\r\n", as nc sends
// them) work too, split as redis-server splits them ("double" and 'single' quotes hold
// spaces, double quotes take \xHH and \n-style escapes; unbalanced quotes are a protocol
// error). Integer arguments are read as redis-server reads them: decimal digits
// with an optional '-', no leading zero, no "-0", within int64.
//
// Times to live are checked as redis-server 7 checks them: SET's EX / PX must be positive,
// and a time (EX, PX, or EXPIRE's seconds, which may be negative: a deadline already past
// deletes the key) whose milliseconds, added to the Unix time in milliseconds, overflow
// int64 is refused with "invalid expire time in 'set' command" ('expire'). Anything smaller
// is kept, even centuries ahead (TTL counts it down). Deadlines are milliseconds on the
// monotonic clock (an Instant's nanoseconds would end about 292 years after the clock's
// start). Keys are removed by a background task when their time runs out (and are never
// returned after that, even before the task gets to them).
//
// How it is built: each connection is a codec::Framed with RespCodec (mini_redis_resp.hpp).
// Pipelined commands are answered in order: every command already in the read buffer is
// executed and its reply appended to the write buffer (next_buffered / feed), and the
// replies go out in one write when the buffer runs dry. Malformed input gets "-ERR Protocol
// error" and the connection is closed, as Redis does; the server never trusts a length it
// reads (bulk strings up to 64 MiB, arrays up to 1M elements, a whole command up to
// 512 MiB, inline lines up to 64 KiB). Empty arrays ("*0", "*-1") are ignored, as Redis does.
//
// Pub/sub, as redis-server does it: PUBLISH appends the message to each subscriber's own
// output, and only a subscriber's output has a bound. Each subscribed connection has an
// Inbox (an unbounded mpsc channel of (channel, message) and a count of its bytes); a
// channel is the set of inboxes subscribed to it, made by its first subscriber and
// dropped with its last (UNSUBSCRIBE, or the end of the connection), so a channel costs a
// map entry and a subscription a set entry, and SUBSCRIBE / UNSUBSCRIBE of N channels
// take N hash lookups. The connection waits on its commands and on its inbox at once,
// moving each message into its write buffer as soon as it comes while writing that
// buffer out. What a slow subscriber costs is its own output (inbox plus unsent bytes),
// bounded as redis-server bounds it with its default "client-output-buffer-limit pubsub
// 32mb 8mb 60": a subscriber whose output passes 32 MiB, or stays above 8 MiB for 60 s, is
// disconnected. No message is lost to a subscriber that stays connected, however many
// publishers send at once. (This replaced a broadcast ring per channel: under fan-in from
// hundreds of publishers the ring overflowed before the subscribers' tasks ran, and a
// lagged subscriber had lost messages; each channel also held its ring, about 14 KB.)
#define TOKIO_IMPLEMENTATION
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokio.hpp"
#include "cli_args.hpp"
#include "mini_redis_db.hpp"
#include "mini_redis_resp.hpp"

using tokio::Task;
using tokio::time::Instant;
namespace codec = tokio::codec;
namespace io = tokio::io;
namespace net = tokio::net;
namespace mpsc = tokio::sync::mpsc;
namespace sw = tokio::stream::wrappers;

// --- connections -------------------------------------------------------------------------

using Conn = codec::Framed<net::TcpStream, RespCodec>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}
Reply wrong_args(const Command& c, std::string name = {}) {
  if (name.empty()) name = lower(c.arg(0));
  return Reply::error_owned("ERR wrong number of arguments for '" + name + "' command");
}

// The commands this server knows and their arity in redis-server 7 (n: n words, -n: at
// least n). A wrong count is refused first, in either mode, with redis's error.
std::optional<int> arity(std::string_view name) {
  static constexpr std::pair<std::string_view, int> kArity[] = {
      {"GET", 2},     {"SET", -3},  {"PING", -1},      {"DEL", -2},        {"INCR", 2},
      {"EXPIRE", -3}, {"TTL", 2},   {"DBSIZE", 1},     {"ECHO", 2},        {"PUBLISH", 3},
      {"CONFIG", -2}, {"QUIT", -1}, {"SUBSCRIBE", -2}, {"UNSUBSCRIBE", -1}};
  for (auto [n, a] : kArity) {
    if (iequals(name, n)) return a;
  }
  return std::nullopt;
}
bool arity_ok(int arity, std::size_t argc) {
  return arity > 0 ? argc == std::size_t(arity) : argc >= std::size_t(-arity);
}
// redis counts a subcommand's words too: CONFIG GET needs its parameter (checked after the
// command's own arity, in either mode).
std::optional<Reply> config_get_arity_error(const Command& c) {
  if (c.argc == 2 && iequals(c.arg(0), "CONFIG") && iequals(c.arg(1), "GET")) {
    return wrong_args(c, "config|get");
  }
  return std::nullopt;
}

// redis-server's text: the name and the first arguments, each cut at 128 bytes in all,
// with CR and LF turned into spaces (they would break the reply line).
Reply unknown_command(const Command& c) {
  std::string_view name = c.arg(0);
  std::string msg =
      "ERR unknown command '" + std::string(name.substr(0, 128)) + "', with args beginning with: ";
  std::size_t args = 0;
  for (std::size_t i = 1; i < c.argc && args < 128; ++i) {
    std::string_view a = c.arg(i).substr(0, 128 - args);
    msg += "'" + std::string(a) + "' ";
    args += a.size() + 3;
  }
  for (char& ch : msg) {
    if (ch == '\r' || ch == '\n') ch = ' ';
  }
  return Reply::error_owned(std::move(msg));
}

// "-ERR Protocol error: ..."; after "expected '$'", redis-server says what came instead.
Reply protocol_error(Conn& conn, const std::error_code& e) {
  std::string msg = "ERR Protocol error: " + e.message();
  if (e == resp_error(RespErr::expected_dollar)) {
    char got = conn.codec().unexpected();
    msg += ", got '";
    msg += got == '\r' || got == '\n' ? ' ' : got;
    msg += "'";
  }
  return Reply::error_owned(std::move(msg));
}

// Executes one command of the normal mode.
Reply execute(Db& db, const Command& c) {
  std::string_view name = c.arg(0);
  if (auto a = arity(name); a && !arity_ok(*a, c.argc)) return wrong_args(c);
  if (iequals(name, "GET")) {
    if (c.argc != 2) return wrong_args(c);
    auto v = db.get(c.arg(1));
    return v ? Reply::bulk_of(std::move(*v)) : Reply::null();
  }
  if (iequals(name, "SET")) {
    if (c.argc < 3) return wrong_args(c);
    // redis-server's other SET options: named, so `SET lock 1 NX EX 10` (the lock idiom)
    // does not read as a typing mistake.
    for (std::size_t i = 3; i < c.argc; ++i) {
      for (const char* opt : {"NX", "XX", "GET", "KEEPTTL", "EXAT", "PXAT"}) {
        if (iequals(c.arg(i), opt)) {
          return Reply::error_owned("ERR mini_redis does not support SET " + std::string(opt) +
                                    " (only EX and PX)");
        }
      }
    }
    // EX n or PX n, repeated as redis-server allows (the last one counts; EX with PX is a
    // syntax error), all read before the value is.
    bool ex = false, px = false;
    std::string_view amount_arg;
    for (std::size_t i = 3; i < c.argc; i += 2) {
      bool e = iequals(c.arg(i), "EX"), p = iequals(c.arg(i), "PX");
      if ((!e && !p) || i + 1 >= c.argc || (e && px) || (p && ex))
        return Reply::error("ERR syntax error");
      ex = ex || e;
      px = px || p;
      amount_arg = c.arg(i + 1);
    }
    std::optional<int64_t> expires;
    if (ex || px) {
      auto amount = parse_int(amount_arg);
      if (!amount) return Reply::error("ERR value is not an integer or out of range");
      if (*amount > 0) expires = deadline_ms(*amount, ex);
      if (!expires) return Reply::error("ERR invalid expire time in 'set' command");
    }
    db.set(c.arg(1), codec::Bytes(c.arg(2)), expires);
    return Reply::simple("OK");
  }
  if (iequals(name, "PING")) {
    if (c.argc == 1) return Reply::simple("PONG");
    if (c.argc == 2) return Reply::bulk_of(codec::Bytes(c.arg(1)));
    return wrong_args(c);
  }
  if (iequals(name, "DEL")) {
    if (c.argc < 2) return wrong_args(c);
    int64_t n = 0;
    for (std::size_t i = 1; i < c.argc; ++i) n += db.del(c.arg(i)) ? 1 : 0;
    return Reply::integer(n);
  }
  if (iequals(name, "INCR")) {
    if (c.argc != 2) return wrong_args(c);
    std::string_view error;
    auto v = db.incr(c.arg(1), error);
    return v ? Reply::integer(*v) : Reply::error(error);
  }
  if (iequals(name, "EXPIRE")) {
    // The options first, as redis-server reads them (its messages, word for word).
    Db::ExpireIf cond;
    for (std::size_t i = 3; i < c.argc; ++i) {
      std::string_view o = c.arg(i);
      if (iequals(o, "NX")) cond.nx = true;
      else if (iequals(o, "XX")) cond.xx = true;
      else if (iequals(o, "GT")) cond.gt = true;
      else if (iequals(o, "LT")) cond.lt = true;
      else return Reply::error_owned("ERR Unsupported option " + std::string(o));
    }
    if (cond.nx && (cond.xx || cond.gt || cond.lt)) {
      return Reply::error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if (cond.gt && cond.lt) {
      return Reply::error("ERR GT and LT options at the same time are not compatible");
    }
    auto secs = parse_int(c.arg(2));
    if (!secs) return Reply::error("ERR value is not an integer or out of range");
    auto when = deadline_ms(*secs, true);
    if (!when) return Reply::error("ERR invalid expire time in 'expire' command");
    return Reply::integer(db.expire(c.arg(1), *when, cond) ? 1 : 0);
  }
  if (iequals(name, "TTL")) {
    if (c.argc != 2) return wrong_args(c);
    int64_t ms = db.ttl_ms(c.arg(1));
    return Reply::integer(ms < 0 ? ms : ms / 1000 + (ms % 1000 >= 500 ? 1 : 0));
  }
  if (iequals(name, "DBSIZE")) return Reply::integer(db.size());
  if (iequals(name, "ECHO")) {  // (redis-cli --pipe ends its input with one)
    if (c.argc != 2) return wrong_args(c);
    return Reply::bulk_of(codec::Bytes(c.arg(1)));
  }
  if (iequals(name, "PUBLISH")) {
    if (c.argc != 3) return wrong_args(c);
    return Reply::integer(db.publish(c.arg(1), codec::Bytes(c.arg(2))));
  }
  return unknown_command(c);
}

// --- subscribed mode ---------------------------------------------------------------------

// Pipelined commands a subscriber's connection answers from its read buffer before its
// messages are taken again (see subscribed()).
constexpr int kCommandsPerTake = 256;

// A subscribed connection's channels, in the order subscribed (UNSUBSCRIBE without a
// channel answers in that order), and its inbox. Dropping a channel (UNSUBSCRIBE, or the
// end of the connection) takes the inbox out of the channel's subscribers.
class Subscriptions {
 public:
  explicit Subscriptions(Db& db) : Subscriptions(db, mpsc::unbounded_channel<Inbox::Message>()) {}
  Subscriptions(const Subscriptions&) = delete;
  Subscriptions& operator=(const Subscriptions&) = delete;
  ~Subscriptions() { clear(); }
  void clear() {
    for (const auto& ch : order_) db_.unsubscribe(ch, inbox_);
    index_.clear();
    order_.clear();
  }
  void add(const std::string& ch) {
    if (index_.find(ch) != index_.end()) return;
    order_.push_back(ch);
    index_.emplace(ch, std::prev(order_.end()));
    db_.subscribe(ch, inbox_);
  }
  void remove(std::string_view ch) {
    auto it = index_.find(ch);
    if (it == index_.end()) return;
    db_.unsubscribe(ch, inbox_);
    order_.erase(it->second);
    index_.erase(it);
  }
  std::vector<std::string> names() const { return {order_.begin(), order_.end()}; }
  int64_t count() const { return static_cast<int64_t>(order_.size()); }
  bool empty() const { return order_.empty(); }
  Inbox& inbox() { return *inbox_; }

  sw::UnboundedReceiverStream<Inbox::Message> messages;

 private:
  Subscriptions(Db& db, std::pair<mpsc::UnboundedSender<Inbox::Message>,
                                  mpsc::UnboundedReceiver<Inbox::Message>>&& ch)
      : messages(std::move(ch.second)),
        db_(db),
        inbox_(std::make_shared<Inbox>(std::move(ch.first))) {}

  Db& db_;
  std::shared_ptr<Inbox> inbox_;
  std::list<std::string> order_;
  std::unordered_map<std::string, std::list<std::string>::iterator, StringHash, std::equal_to<>>
      index_;
};

// Replies and messages of a subscribed connection go straight into the write buffer (no
// back-pressure wait: the limits bound it), which is written out while the connection waits.
void put(Conn& conn, const Reply& r) { (void)conn.codec().encode(r, conn.write_buffer_mut()); }

// A command refused in subscribed mode, as redis-server 7 refuses it: unknown, or with a
// wrong count of arguments, as in normal mode; else "Can't execute".
Reply refused(const Command& c) {
  if (!arity(c.arg(0))) return unknown_command(c);
  if (auto e = config_get_arity_error(c)) return *e;
  std::string name = lower(c.arg(0));
  if (name == "config") name += "|" + lower(c.arg(1));  // (arity: there is a second word)
  return Reply::error_owned("ERR Can't execute '" + name +
                            "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                            "are allowed in this context");
}

// Until every channel is unsubscribed (true) or the connection ends (false): the client
// left (QUIT, or the end of its input: what is queued for it still goes out), sent bad
// RESP (answered as in normal mode), or broke a limit.
Task<bool> subscribed(Conn& conn, Db& db, Command first) {
  Subscriptions subs(db);
  std::optional<Command> pending(std::move(first));
  // The wait: for a command, while messages go into the write buffer and it is written out.
  enum class Ev { command, more, end };
  std::optional<io::Result<Command>> item;
  std::optional<Inbox::Message> msg;
  io::Result<void> flushed;
  // A message from the inbox into the write buffer (a wake_only one carries none).
  auto take = [&](Inbox::Message&& m) {
    if (m.wake_only) return;
    subs.inbox().bytes.fetch_sub(Inbox::size_of(m.channel.len(), m.payload.len()),
                                 std::memory_order_relaxed);
    put(conn, Reply::message(std::move(m.channel), std::move(m.payload)));
  };
  // Everything queued so far (before an UNSUBSCRIBE's acknowledgement: redis-server has
  // written what was published before it into the output already).
  auto drain = [&] {
    auto& rx = subs.messages.get_mut();
    while (auto m = rx.try_recv()) take(std::move(*m));
  };
  tokio::time::Sleep soft_deadline = tokio::time::sleep(kPubsubSoftTime);
  bool over_soft = false;  // soft_deadline runs
  // Messages are taken and the output written before commands are looked at: a client
  // that keeps sending commands still gets its messages.
  auto wait = [&](tokio::task::Context& cx) -> std::optional<Ev> {
    int taken = 0;
    for (; taken < 64 && subs.messages.poll_next(cx, msg) && msg; ++taken) {
      take(std::move(*msg));
      msg.reset();
    }
    if (subs.inbox().over_limit.load(std::memory_order_relaxed)) return Ev::end;
    if (!conn.write_buffer().is_empty() && conn.poll_flush(cx, flushed) && !flushed) {
      return Ev::end;
    }
    const std::size_t unsent =
        conn.write_buffer().len() + subs.inbox().bytes.load(std::memory_order_relaxed);
    if (unsent > kPubsubHardLimit) return Ev::end;
    if (unsent <= kPubsubSoftLimit) {
      over_soft = false;
    } else {
      if (!over_soft) soft_deadline.reset(Instant::now() + kPubsubSoftTime);
      over_soft = true;
      if (soft_deadline.poll(cx)) return Ev::end;
    }
    if (conn.poll_next(cx, item)) return Ev::command;  // (or the end, or an error)
    if (taken == 64) return Ev::more;  // (more may be ready: let other tasks run first)
    return std::nullopt;
  };
  bool last_words = false;  // the connection ends once its output is written
  int buffered_run = 0;     // commands taken from the read buffer since the last wait
  for (;;) {
    if (pending) {
      Command c = std::move(*pending);
      pending.reset();
      std::string_view name = c.arg(0);
      if (auto a = arity(name); a && !arity_ok(*a, c.argc)) {
        put(conn, wrong_args(c));
      } else if (iequals(name, "SUBSCRIBE")) {
        for (std::size_t i = 1; i < c.argc; ++i) {
          std::string ch(c.arg(i));
          subs.add(ch);
          put(conn, Reply::sub_ack("subscribe", codec::Bytes(ch), subs.count()));
        }
      } else if (iequals(name, "UNSUBSCRIBE")) {
        std::vector<std::string> chans;
        for (std::size_t i = 1; i < c.argc; ++i) chans.emplace_back(c.arg(i));
        if (chans.empty()) chans = subs.names();
        for (auto& ch : chans) {
          subs.remove(ch);
          drain();  // what was published to it before now goes out before the answer
          put(conn, Reply::sub_ack("unsubscribe", codec::Bytes(ch), subs.count()));
        }
      } else if (iequals(name, "PING")) {
        if (c.argc > 2) put(conn, wrong_args(c));
        else put(conn, Reply::pong(codec::Bytes(c.argc > 1 ? c.arg(1) : "")));
      } else if (iequals(name, "QUIT")) {
        put(conn, Reply::simple("OK"));
        last_words = true;
        break;
      } else {
        put(conn, refused(c));
      }
      if (subs.empty()) co_return true;  // (UNSUBSCRIBE drained the inbox)
    }
    // More commands already buffered first; then wait for a command or a message. Every
    // kCommandsPerTake commands the wait runs anyway (it takes the next buffered command
    // at once, after the messages): one read can bring hundreds of thousands of pipelined
    // commands, and answering them all first starved the subscription (its publishers
    // then wait on a half-full ring).
    std::optional<io::Result<Command>> next;
    if (++buffered_run < kCommandsPerTake) next = conn.next_buffered();
    if (!next) {
      buffered_run = 0;
      Ev ev = co_await tokio::task::poll_fn(wait);
      if (ev == Ev::end) co_return false;
      if (ev == Ev::more) {
        co_await tokio::task::yield_now();
        continue;
      }
      next = std::move(item);
      item.reset();
    }
    if (!next || !*next) {  // the end of the input, bad RESP, or an I/O error
      std::error_code e = next ? next->error() : std::error_code();
      if (e.category() == resp_category()) put(conn, protocol_error(conn, e));
      last_words =
          !e || e.category() == resp_category() || e == codec::Errc::bytes_remaining_on_stream;
      break;
    }
    pending.emplace(std::move(**next));
  }
  // The channels go first: a client that does not read holds up no publisher meanwhile.
  subs.clear();
  if (last_words && !conn.write_buffer().is_empty()) {
    (void)co_await tokio::time::timeout(kPubsubSoftTime, conn.flush());
  }
  co_return false;
}

// --- normal mode -------------------------------------------------------------------------

Task<> serve(net::TcpStream stream, std::shared_ptr<Db> db) {
  (void)stream.set_nodelay(true);
  Conn conn(std::move(stream), RespCodec{});
  for (;;) {
    // Pipelining: answer everything already read before writing the replies out.
    auto cmd = conn.next_buffered();
    if (!cmd) {
      if (!conn.write_buffer().is_empty() && !co_await conn.flush()) co_return;
      cmd = co_await conn.next();
      if (!cmd) co_return;  // the client closed the connection
    }
    if (!*cmd) {
      // A command cut short by the end of the input: the client is gone, nothing to say.
      if (cmd->error() == codec::Errc::bytes_remaining_on_stream) co_return;
      (void)co_await conn.send(protocol_error(conn, cmd->error()));
      co_return;  // as Redis: a protocol error closes the connection
    }
    Command& c = **cmd;
    std::string_view name = c.arg(0);
    if (iequals(name, "SUBSCRIBE")) {
      if (c.argc < 2) {
        if (!co_await conn.feed(wrong_args(c))) co_return;
        continue;
      }
      if (!co_await subscribed(conn, *db, std::move(c))) co_return;
      continue;
    }
    if (iequals(name, "UNSUBSCRIBE")) {  // not subscribed: a reply per channel, count 0
      if (c.argc == 1 && !co_await conn.feed(Reply::sub_ack("unsubscribe", {}, 0, true))) co_return;
      for (std::size_t i = 1; i < c.argc; ++i) {
        if (!co_await conn.feed(Reply::sub_ack("unsubscribe", codec::Bytes(c.arg(i)), 0)))
          co_return;
      }
      continue;
    }
    if (iequals(name, "QUIT")) {
      (void)co_await conn.send(Reply::simple("OK"));
      co_return;
    }
    if (iequals(name, "CONFIG")) {  // redis-benchmark asks for "save" and "appendonly"
      // Too few words: redis's arity errors, as in subscribed mode.
      std::optional<Reply> e;
      if (!arity_ok(*arity(name), c.argc)) e = wrong_args(c);
      else e = config_get_arity_error(c);
      if (e) {
        if (!co_await conn.feed(std::move(*e))) co_return;
        continue;
      }
      const std::string_view sub = c.arg(1);
      if (c.argc == 3 && iequals(sub, "GET") && iequals(c.arg(2), "appendonly")) {
        conn.write_buffer_mut().put("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
      } else if (c.argc == 3 && iequals(sub, "GET") && iequals(c.arg(2), "save")) {
        conn.write_buffer_mut().put("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
      } else if (iequals(sub, "GET")) {
        conn.write_buffer_mut().put("*0\r\n");  // no such parameter (redis's answer too)
      } else {
        // A subcommand redis-server has but mini_redis does not apply says so, never a
        // silent success; an unknown one gets redis-server's words.
        const bool known = iequals(sub, "SET") || iequals(sub, "RESETSTAT") ||
                           iequals(sub, "REWRITE") || iequals(sub, "HELP");
        Reply e =
            known ? Reply::error_owned("ERR mini_redis does not support CONFIG " + std::string(sub))
                  : Reply::error_owned("ERR unknown subcommand '" + std::string(sub) +
                                       "'. Try CONFIG HELP.");
        if (!co_await conn.feed(std::move(e))) co_return;
      }
      continue;
    }
    if (!co_await conn.feed(execute(*db, c))) co_return;
  }
}

Task<int> amain(std::string addr) {
  auto listener = co_await net::TcpListener::bind(addr);
  if (!listener) {
    std::fprintf(stderr, "mini_redis: bind %s: %s\n", addr.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  auto db = std::make_shared<Db>();
  tokio::spawn(Db::purge_task, db);
  for (;;) {
    auto conn = co_await listener->accept();
    if (!conn) {
      co_await tokio::time::sleep(std::chrono::milliseconds(100));  // EMFILE: back off
      continue;
    }
    tokio::spawn(serve, std::move(conn->first), db);
  }
}

// TOKIO_EXAMPLE_NO_MAIN: this file without its main, for a program that includes it to
// reuse its parts (fuzz/resp.cpp drives RespCodec).
#ifndef TOKIO_EXAMPLE_NO_MAIN
int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:6379";
  std::size_t workers = std::thread::hardware_concurrency();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--workers" && i + 1 < argc) {
      workers = parse_number("mini_redis", "--workers", argv[++i], 0, 1024);
    } else {
      not_a_flag("mini_redis", "[ADDR] [--workers N]", a);
      addr = a;
    }
  }
  auto rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers ? workers : 1)
                .enable_all()
                .build();
  return rt.block_on(amain(addr));
}
#endif  // TOKIO_EXAMPLE_NO_MAIN
