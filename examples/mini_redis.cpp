// mini_redis: a small Redis server speaking RESP, for redis-cli and redis-benchmark.
//
//   mini_redis [ADDR] [--workers N]      ADDR defaults to 127.0.0.1:6379
//   redis-cli -p 6379 set greeting hello
//
// Commands: PING [msg], GET k, SET k v [EX s | PX ms], DEL k..., INCR k, EXPIRE k s,
// TTL k, PUBLISH ch msg, SUBSCRIBE ch..., UNSUBSCRIBE [ch...], DBSIZE, ECHO, QUIT, CONFIG GET
// (save and appendonly, for redis-benchmark). Inline commands ("PING\r\n", as nc sends them) work too. Keys
// with a time to live are removed by a background task when it runs out (and are never
// returned after that, even before the task gets to them).
//
// How it is built: each connection is a codec::Framed with RespCodec (below). Pipelined
// commands are answered in order: every command already in the read buffer is executed
// and its reply appended to the write buffer (next_buffered / feed), and the replies go
// out in one write when the buffer runs dry. Malformed input gets "-ERR Protocol error"
// and the connection is closed, as Redis does; the server never trusts a length it
// reads (bulk strings up to 64 MiB, arrays up to 1M elements, a whole command up to
// 512 MiB, inline lines up to 64 KiB). Empty arrays ("*0", "*-1") are ignored, as Redis does.
// A subscribed connection waits with tokio::select on its commands and on a
// StreamMap of BroadcastStreams, one per channel (keyed by channel name).
#define TOKIO_IMPLEMENTATION
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tokio.hpp"

using tokio::Task;
using tokio::time::Instant;
namespace codec = tokio::codec;
namespace io = tokio::io;
namespace net = tokio::net;
namespace broadcast = tokio::sync::broadcast;
namespace sw = tokio::stream::wrappers;

// --- RESP ----------------------------------------------------------------------------------

// Protocol errors, reported to the client as "-ERR Protocol error: <message>".
enum class RespErr {
  bad_count = 1,
  bad_length,
  expected_dollar,
  bad_terminator,
  inline_too_long,
  command_too_long
};
struct RespCategory : std::error_category {
  const char* name() const noexcept override { return "resp"; }
  std::string message(int c) const override {
    switch (static_cast<RespErr>(c)) {
      case RespErr::bad_count: return "invalid multibulk length";
      case RespErr::bad_length: return "invalid bulk length";
      case RespErr::expected_dollar: return "expected '$'";
      case RespErr::bad_terminator: return "expected CRLF after bulk data";
      case RespErr::inline_too_long: return "too big inline request";
      case RespErr::command_too_long: return "too big multibulk request";
    }
    return "protocol error";
  }
};
std::error_code resp_error(RespErr e) {
  static const RespCategory cat;
  return {static_cast<int>(e), cat};
}

// One command: its bytes (cut off the read buffer without a copy) and where each
// argument lies in them.
struct Command {
  codec::BytesMut raw;
  struct Span {
    uint32_t off, len;
  };
  std::array<Span, 6> small{};
  std::vector<Span> more;
  std::size_t argc = 0;

  void push(Span s) {
    if (argc < small.size()) small[argc] = s;
    else more.push_back(s);
    ++argc;
  }
  std::string_view arg(std::size_t i) const {
    Span s = i < small.size() ? small[i] : more[i - small.size()];
    return raw.as_string_view().substr(s.off, s.len);
  }
};

// A reply, encoded by RespCodec.
struct Reply {
  enum class Kind { Simple, Error, Int, Bulk, Null, Array3 };
  Kind kind = Kind::Null;
  std::string_view text;  // Simple, Error; Array3: the first (kind) element
  std::string owned;      // Error: a message built at run time (when text is empty)
  int64_t n = 0;          // Int; Array3: the last element when it is an integer
  codec::Bytes bulk;      // Bulk; Array3: the second element
  codec::Bytes bulk2;     // Array3: the third element (a message payload)
  bool third_is_bulk = false;
  bool second_null = false;
  bool only_two = false;  // Array3 with its first two elements only

  static Reply of(Kind k) {
    Reply r;
    r.kind = k;
    return r;
  }
  static Reply simple(std::string_view s) {
    Reply r = of(Kind::Simple);
    r.text = s;
    return r;
  }
  static Reply error(std::string_view s) {
    Reply r = of(Kind::Error);
    r.text = s;
    return r;
  }
  static Reply error_owned(std::string s) {
    Reply r = of(Kind::Error);
    r.owned = std::move(s);
    return r;
  }
  static Reply integer(int64_t v) {
    Reply r = of(Kind::Int);
    r.n = v;
    return r;
  }
  static Reply bulk_of(codec::Bytes b) {
    Reply r = of(Kind::Bulk);
    r.bulk = std::move(b);
    return r;
  }
  static Reply null() { return of(Kind::Null); }
  // ["subscribe"/"unsubscribe"/"pong", channel (or null), count]
  static Reply sub_ack(std::string_view what, codec::Bytes ch, int64_t count,
                       bool null_channel = false) {
    Reply r = of(Kind::Array3);
    r.text = what;
    r.bulk = std::move(ch);
    r.n = count;
    r.second_null = null_channel;
    return r;
  }
  // ["pong", message] (PING while subscribed)
  static Reply pong(codec::Bytes msg) {
    Reply r = sub_ack("pong", std::move(msg), 0);
    r.only_two = true;
    return r;
  }
  // ["message", channel, payload]
  static Reply message(codec::Bytes ch, codec::Bytes payload) {
    Reply r = sub_ack("message", std::move(ch), 0);
    r.bulk2 = std::move(payload);
    r.third_is_bulk = true;
    return r;
  }
};

class RespCodec {
 public:
  static constexpr std::size_t kMaxBulk = 64 << 20;
  static constexpr int64_t kMaxArgs = 1 << 20;
  static constexpr std::size_t kMaxInline = 64 << 10;
  // The arguments' offsets are 32-bit, and 1M arguments of 64 MiB must not be buffered.
  static constexpr std::size_t kMaxCommand = 512 << 20;

  io::Result<std::optional<Command>> decode(codec::BytesMut& buf) {
    for (;;) {
      if (buf.is_empty()) return std::optional<Command>();
      const char* p = reinterpret_cast<const char*>(buf.data());
      auto r = p[0] == '*' ? decode_array(buf) : decode_inline(buf);
      if (!r || *r) return r;
      if (!skipped_) return r;  // incomplete
    }
  }

  io::Result<void> encode(const Reply& r, codec::BytesMut& dst) {
    switch (r.kind) {
      case Reply::Kind::Simple: put_line(dst, '+', r.text); break;
      case Reply::Kind::Error:
        put_line(dst, '-', r.text.empty() ? std::string_view(r.owned) : r.text);
        break;
      case Reply::Kind::Int: put_int(dst, ':', r.n); break;
      case Reply::Kind::Bulk: put_bulk(dst, r.bulk.as_string_view()); break;
      case Reply::Kind::Null: dst.put("$-1\r\n"); break;
      case Reply::Kind::Array3:
        dst.put(r.only_two ? "*2\r\n" : "*3\r\n");
        put_bulk(dst, r.text);
        if (r.second_null) dst.put("$-1\r\n");
        else put_bulk(dst, r.bulk.as_string_view());
        if (r.only_two) break;
        if (r.third_is_bulk) put_bulk(dst, r.bulk2.as_string_view());
        else put_int(dst, ':', r.n);
        break;
    }
    return {};
  }

 private:
  static void put_line(codec::BytesMut& dst, char tag, std::string_view s) {
    dst.reserve(s.size() + 3);
    dst.put_u8(static_cast<uint8_t>(tag));
    dst.put(s);
    dst.put("\r\n");
  }
  static void put_int(codec::BytesMut& dst, char tag, int64_t v) {
    char tmp[24];
    tmp[0] = tag;
    auto [end, ec] = std::to_chars(tmp + 1, tmp + sizeof tmp - 2, v);
    (void)ec;
    *end++ = '\r';
    *end++ = '\n';
    dst.put(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
  }
  static void put_bulk(codec::BytesMut& dst, std::string_view s) {
    dst.reserve(s.size() + 16);
    put_int(dst, '$', static_cast<int64_t>(s.size()));
    dst.put(s);
    dst.put("\r\n");
  }

  // Reads "<integer>\r\n" at p[pos..n): the value and the position after it. nullopt:
  // incomplete; an error: not a number.
  static io::Result<std::optional<std::pair<int64_t, std::size_t>>> read_int(const char* p,
                                                                             std::size_t pos,
                                                                             std::size_t n,
                                                                             RespErr err) {
    const std::size_t limit = std::min(n, pos + 22);
    std::size_t i = pos;
    while (i < limit && p[i] != '\r') ++i;
    if (i == limit) {
      if (limit == n) return std::optional<std::pair<int64_t, std::size_t>>();
      return tokio::unexpected(resp_error(err));
    }
    if (i + 1 >= n) return std::optional<std::pair<int64_t, std::size_t>>();
    // At most 20 characters (checked above), so a plain loop cannot overflow past the
    // limits checked by the callers... except 20 digits: from_chars handles that case.
    int64_t v = 0;
    bool neg = p[pos] == '-';
    std::size_t j = pos + (neg ? 1 : 0);
    if (j == i || i - j > 18 || p[i + 1] != '\n') {
      auto [end, ec] = std::from_chars(p + pos, p + i, v);
      if (ec != std::errc() || end != p + i || i == pos || p[i + 1] != '\n')
        return tokio::unexpected(resp_error(err));
    } else {
      for (; j < i; ++j) {
        if (p[j] < '0' || p[j] > '9') return tokio::unexpected(resp_error(err));
        v = v * 10 + (p[j] - '0');
      }
      if (neg) v = -v;
    }
    return std::optional<std::pair<int64_t, std::size_t>>(
        std::pair<int64_t, std::size_t>(v, i + 2));
  }

  io::Result<std::optional<Command>> decode_array(codec::BytesMut& buf) {
    skipped_ = false;
    const char* p = reinterpret_cast<const char*>(buf.data());
    const std::size_t n = buf.len();
    auto count = read_int(p, 1, n, RespErr::bad_count);
    if (!count) return tokio::unexpected(count.error());
    if (!*count) return std::optional<Command>();
    auto [argc, pos] = **count;
    if (argc > kMaxArgs) return tokio::unexpected(resp_error(RespErr::bad_count));
    if (argc <= 0) {  // an empty command: skipped (a Command always has a name)
      buf.advance(pos);
      skipped_ = true;
      return std::optional<Command>();
    }
    Command cmd;
    for (int64_t i = 0; i < argc; ++i) {
      if (pos >= n) return std::optional<Command>();
      if (p[pos] != '$') return tokio::unexpected(resp_error(RespErr::expected_dollar));
      auto len = read_int(p, pos + 1, n, RespErr::bad_length);
      if (!len) return tokio::unexpected(len.error());
      if (!*len) return std::optional<Command>();
      auto [l, data] = **len;
      if (l < 0 || static_cast<std::size_t>(l) > kMaxBulk)
        return tokio::unexpected(resp_error(RespErr::bad_length));
      std::size_t end = data + static_cast<std::size_t>(l);
      if (end + 2 > kMaxCommand) return tokio::unexpected(resp_error(RespErr::command_too_long));
      if (end + 2 > n) {
        buf.reserve(end + 2 - n);  // a large value: room for all of it at once
        return std::optional<Command>();
      }
      if (p[end] != '\r' || p[end + 1] != '\n')
        return tokio::unexpected(resp_error(RespErr::bad_terminator));
      cmd.push({static_cast<uint32_t>(data), static_cast<uint32_t>(l)});
      pos = end + 2;
    }
    cmd.raw = buf.split_to(pos);
    return std::optional<Command>(std::move(cmd));
  }

  io::Result<std::optional<Command>> decode_inline(codec::BytesMut& buf) {
    skipped_ = false;
    const char* p = reinterpret_cast<const char*>(buf.data());
    const std::size_t n = buf.len();
    const void* nlp = std::memchr(p, '\n', std::min(n, kMaxInline + 1));
    if (!nlp) {
      if (n > kMaxInline) return tokio::unexpected(resp_error(RespErr::inline_too_long));
      return std::optional<Command>();
    }
    std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(nlp) - p);
    std::size_t end = nl > 0 && p[nl - 1] == '\r' ? nl - 1 : nl;
    Command cmd;
    for (std::size_t i = 0; i < end;) {
      while (i < end && (p[i] == ' ' || p[i] == '\t')) ++i;
      std::size_t start = i;
      while (i < end && p[i] != ' ' && p[i] != '\t') ++i;
      if (i > start) cmd.push({static_cast<uint32_t>(start), static_cast<uint32_t>(i - start)});
    }
    cmd.raw = buf.split_to(nl + 1);
    if (cmd.argc == 0) {
      skipped_ = true;  // an empty line: ignored
      return std::optional<Command>();
    }
    return std::optional<Command>(std::move(cmd));
  }

  bool skipped_ = false;  // the last decode_* consumed an empty command (decode goes on)
};

// --- the database ------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

class Db {
 public:
  struct Entry {
    codec::Bytes value;
    std::optional<Instant> expires;
  };

  std::optional<codec::Bytes> get(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return std::nullopt;
    if (it->second.expires && *it->second.expires <= Instant::now())
      return std::nullopt;  // due: gone
    return it->second.value;
  }

  void set(std::string_view key, codec::Bytes value, std::optional<Instant> expires) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) it = s.map.emplace(std::string(key), Entry{}).first;
    if (it->second.expires) forget_expiry(*it->second.expires, key);
    it->second.value = std::move(value);
    it->second.expires = expires;
    if (expires) schedule(*expires, key);
  }

  bool del(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    bool live = !(it->second.expires && *it->second.expires <= Instant::now());
    if (it->second.expires) forget_expiry(*it->second.expires, key);
    s.map.erase(it);
    return live;
  }

  // INCR: the new value, or nullopt when the value is not an integer (or would overflow).
  std::optional<int64_t> incr(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    int64_t v = 0;
    if (it != s.map.end() && !(it->second.expires && *it->second.expires <= Instant::now())) {
      auto cur = parse_int(it->second.value.as_string_view());
      if (!cur || *cur == INT64_MAX) return std::nullopt;
      v = *cur;
    } else if (it != s.map.end()) {
      if (it->second.expires) forget_expiry(*it->second.expires, key);
      it->second.expires.reset();
    }
    if (it == s.map.end()) it = s.map.emplace(std::string(key), Entry{}).first;
    ++v;
    it->second.value = codec::Bytes(std::to_string(v));  // keeps its time to live, as Redis does
    return v;
  }

  // EXPIRE: false when there is no such key. A deadline in the past deletes it.
  bool expire(std::string_view key, Instant when) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end() || (it->second.expires && *it->second.expires <= Instant::now()))
      return false;
    if (it->second.expires) forget_expiry(*it->second.expires, key);
    if (when <= Instant::now()) {
      s.map.erase(it);
      return true;
    }
    it->second.expires = when;
    schedule(when, key);
    return true;
  }

  // Keys held (those whose time is up count until the purge task removes them).
  int64_t size() {
    int64_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> g(s.mu);
      n += static_cast<int64_t>(s.map.size());
    }
    return n;
  }

  // TTL in milliseconds: -2 no key, -1 no expiry.
  int64_t ttl_ms(std::string_view key) {
    Shard& s = shard(key);
    std::lock_guard<std::mutex> g(s.mu);
    auto it = s.map.find(key);
    if (it == s.map.end()) return -2;
    if (!it->second.expires) return -1;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*it->second.expires - Instant::now())
            .count();
    return left <= 0 ? -2 : left;
  }

  // The purge task: removes keys whose time is up, sleeping until the next deadline (or
  // until an earlier one is scheduled).
  static Task<> purge_task(std::shared_ptr<Db> db) {
    for (;;) {
      std::optional<Instant> next;
      std::vector<std::pair<Instant, std::string>> due;
      {
        std::lock_guard<std::mutex> g(db->exp_mu_);
        Instant now = Instant::now();
        while (!db->exps_.empty() && db->exps_.begin()->first <= now) {
          due.emplace_back(db->exps_.begin()->first, std::move(db->exps_.begin()->second));
          db->exps_.erase(db->exps_.begin());
        }
        if (!db->exps_.empty()) next = db->exps_.begin()->first;
      }
      for (auto& [when, key] : due) {
        Shard& s = db->shard(key);
        std::lock_guard<std::mutex> g(s.mu);
        auto it = s.map.find(key);
        if (it != s.map.end() && it->second.expires == when) s.map.erase(it);
      }
      if (next) {
        auto nap = tokio::time::sleep_until(*next);
        (void)co_await tokio::select(nap, db->wake_.notified());
      } else {
        co_await db->wake_.notified();
      }
    }
  }

  // Pub/sub: the sender of a channel, created on first use.
  broadcast::Sender<codec::Bytes> channel(std::string_view name) {
    std::lock_guard<std::mutex> g(ps_mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) {
      it = channels_.emplace(std::string(name), broadcast::channel<codec::Bytes>(1024).first).first;
    }
    return it->second;
  }
  // PUBLISH: how many subscribers got it.
  int64_t publish(std::string_view name, codec::Bytes msg) {
    std::lock_guard<std::mutex> g(ps_mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) return 0;
    auto r = it->second.send(std::move(msg));
    if (!r) {
      channels_.erase(it);  // nobody listens any more
      return 0;
    }
    return static_cast<int64_t>(*r);
  }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;
  };
  // The shard: FNV-1a of the key's last 16 bytes (cheap; the map hashes the whole key).
  Shard& shard(std::string_view key) {
    uint32_t h = 2166136261u;
    for (std::size_t i = key.size() > 16 ? key.size() - 16 : 0; i < key.size(); ++i) {
      h = (h ^ static_cast<unsigned char>(key[i])) * 16777619u;
    }
    return shards_[h % shards_.size()];
  }

  // (Called with the key's shard locked: shard lock, then exp_mu_, never the reverse.)
  void schedule(Instant when, std::string_view key) {
    bool earliest;
    {
      std::lock_guard<std::mutex> g(exp_mu_);
      earliest = exps_.empty() || when < exps_.begin()->first;
      exps_.emplace(when, std::string(key));
    }
    if (earliest) wake_.notify_one();
  }
  void forget_expiry(Instant when, std::string_view key) {
    std::lock_guard<std::mutex> g(exp_mu_);
    auto [lo, hi] = exps_.equal_range(when);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == key) {
        exps_.erase(it);
        return;
      }
    }
  }

  std::array<Shard, 32> shards_;
  std::mutex exp_mu_;
  std::multimap<Instant, std::string> exps_;
  tokio::sync::Notify wake_;
  std::mutex ps_mu_;
  std::unordered_map<std::string, broadcast::Sender<codec::Bytes>, StringHash, std::equal_to<>>
      channels_;
};

// --- connections -------------------------------------------------------------------------

using Conn = codec::Framed<net::TcpStream, RespCodec>;

Reply wrong_args(const Command& c) {
  std::string name(c.arg(0));
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return Reply::error_owned("ERR wrong number of arguments for '" + name + "' command");
}

// Executes one command of the normal mode.
Reply execute(Db& db, const Command& c) {
  std::string_view name = c.arg(0);
  if (iequals(name, "GET")) {
    if (c.argc != 2) return wrong_args(c);
    auto v = db.get(c.arg(1));
    return v ? Reply::bulk_of(std::move(*v)) : Reply::null();
  }
  if (iequals(name, "SET")) {
    if (c.argc < 3) return wrong_args(c);
    if (c.argc != 3 && c.argc != 5) return Reply::error("ERR syntax error");
    std::optional<Instant> expires;
    if (c.argc == 5) {
      auto amount = parse_int(c.arg(4));
      bool ex = iequals(c.arg(3), "EX"), px = iequals(c.arg(3), "PX");
      if (!ex && !px) return Reply::error("ERR syntax error");
      if (!amount) return Reply::error("ERR value is not an integer or out of range");
      if (*amount <= 0) return Reply::error("ERR invalid expire time in 'set' command");
      auto d = ex ? std::chrono::milliseconds(*amount * 1000) : std::chrono::milliseconds(*amount);
      expires = Instant::now() + d;
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
    auto v = db.incr(c.arg(1));
    return v ? Reply::integer(*v) : Reply::error("ERR value is not an integer or out of range");
  }
  if (iequals(name, "EXPIRE")) {
    if (c.argc != 3) return wrong_args(c);
    auto secs = parse_int(c.arg(2));
    if (!secs) return Reply::error("ERR value is not an integer or out of range");
    Instant when = *secs <= 0 ? Instant::now() : Instant::now() + std::chrono::seconds(*secs);
    return Reply::integer(db.expire(c.arg(1), when) ? 1 : 0);
  }
  if (iequals(name, "TTL")) {
    if (c.argc != 2) return wrong_args(c);
    int64_t ms = db.ttl_ms(c.arg(1));
    return Reply::integer(ms < 0 ? ms : (ms + 500) / 1000);
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
  std::string quoted(name.substr(0, 64));
  return Reply::error_owned("ERR unknown command '" + quoted + "'");
}

// SUBSCRIBE mode: until every channel is unsubscribed (true) or the client is gone (false).
Task<bool> subscribed(Conn& conn, Db& db, Command first) {
  tokio::stream::StreamMap<std::string, sw::BroadcastStream<codec::Bytes>> subs;
  std::optional<Command> pending(std::move(first));
  for (;;) {
    if (pending) {
      Command c = std::move(*pending);
      pending.reset();
      std::string_view name = c.arg(0);
      if (iequals(name, "SUBSCRIBE")) {
        for (std::size_t i = 1; i < c.argc; ++i) {
          std::string ch(c.arg(i));
          if (!subs.contains_key(ch))
            subs.insert(ch, sw::BroadcastStream(db.channel(ch).subscribe()));
          if (!co_await conn.feed(Reply::sub_ack("subscribe", codec::Bytes(ch),
                                                 static_cast<int64_t>(subs.len())))) {
            co_return false;
          }
        }
      } else if (iequals(name, "UNSUBSCRIBE")) {
        std::vector<std::string> chans;
        for (std::size_t i = 1; i < c.argc; ++i) chans.emplace_back(c.arg(i));
        if (chans.empty()) chans = subs.keys();
        for (auto& ch : chans) {
          subs.remove(ch);
          if (!co_await conn.feed(Reply::sub_ack("unsubscribe", codec::Bytes(ch),
                                                 static_cast<int64_t>(subs.len())))) {
            co_return false;
          }
        }
      } else if (iequals(name, "PING")) {
        if (!co_await conn.feed(Reply::pong(codec::Bytes(c.argc > 1 ? c.arg(1) : ""))))
          co_return false;
      } else if (iequals(name, "QUIT")) {
        (void)co_await conn.send(Reply::simple("OK"));
        co_return false;
      } else {
        if (!co_await conn.feed(Reply::error("ERR only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                                             "QUIT / RESET are allowed in this context"))) {
          co_return false;
        }
      }
      if (subs.is_empty()) co_return true;
    }
    // More commands already buffered first; then wait for a command or a message.
    if (auto b = conn.next_buffered()) {
      if (!*b) co_return false;
      pending.emplace(std::move(**b));
      continue;
    }
    if (!co_await conn.flush()) co_return false;
    auto ev = co_await tokio::select(conn.next(), subs.next());
    if (ev.index() == 0) {
      auto c = std::get<0>(std::move(ev));
      if (!c || !*c) co_return false;
      pending.emplace(std::move(**c));
    } else {
      auto msg = std::get<1>(std::move(ev));
      if (!msg || !msg->second) continue;  // (lagged: those messages are lost to this client)
      if (!co_await conn.feed(Reply::message(codec::Bytes(msg->first), std::move(*msg->second))))
        co_return false;
    }
  }
}

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
      (void)co_await conn.send(Reply::error_owned("ERR Protocol error: " + cmd->error().message()));
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
    if (iequals(name, "UNSUBSCRIBE")) {  // not subscribed to anything
      if (!co_await conn.feed(Reply::sub_ack("unsubscribe", {}, 0, true))) co_return;
      continue;
    }
    if (iequals(name, "QUIT")) {
      (void)co_await conn.send(Reply::simple("OK"));
      co_return;
    }
    if (iequals(name, "CONFIG")) {  // redis-benchmark asks for "save" and "appendonly"
      if (c.argc == 3 && iequals(c.arg(1), "GET") && iequals(c.arg(2), "appendonly")) {
        conn.write_buffer_mut().put("*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
      } else if (c.argc == 3 && iequals(c.arg(1), "GET") && iequals(c.arg(2), "save")) {
        conn.write_buffer_mut().put("*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
      } else {
        conn.write_buffer_mut().put("*0\r\n");
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
      workers = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else {
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
