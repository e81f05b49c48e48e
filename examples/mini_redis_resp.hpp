#pragma once
// The RESP side of examples/mini_redis.cpp: Command (one request, its arguments cut off
// the read buffer without a copy), Reply, and RespCodec (the decoder of RESP2 arrays of
// bulk strings and inline commands, with the limits listed in mini_redis.cpp; the encoder
// of replies). fuzz/resp.cpp drives RespCodec through mini_redis.cpp.
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tokio.hpp"

namespace codec = tokio::codec;
namespace io = tokio::io;

// --- RESP ----------------------------------------------------------------------------------

// Protocol errors, reported to the client as "-ERR Protocol error: <message>" (after
// "expected '$'", redis-server says what came instead: RespCodec::unexpected()).
enum class RespErr {
  bad_count = 1,
  bad_length,
  expected_dollar,
  bad_terminator,
  inline_too_long,
  command_too_long,
  unbalanced_quotes
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
      case RespErr::unbalanced_quotes: return "unbalanced quotes in request";
    }
    return "protocol error";
  }
};
const std::error_category& resp_category() {
  static const RespCategory cat;
  return cat;
}
std::error_code resp_error(RespErr e) { return {static_cast<int>(e), resp_category()}; }

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
      auto r = partial_ || p[0] == '*' ? decode_array(buf) : decode_inline(buf);
      if (!r || *r) return r;
      if (!skipped_) return r;  // incomplete
    }
  }

  // The byte found where a bulk string's '$' was expected (the last expected_dollar).
  char unexpected() const noexcept { return unexpected_; }

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
    // As redis-server's string2ll: no leading zero ("01", "-0"); "0" alone is zero.
    if (j < i && p[j] == '0' && (neg || i - j > 1)) return tokio::unexpected(resp_error(err));
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
    Command cmd;
    int64_t argc = 0;
    int64_t i = 0;
    std::size_t pos = 0;
    if (partial_) {
      // Resume after the arguments found by the previous calls: the buffer has only grown
      // at its end since (nothing is taken from it until the command is whole).
      cmd = std::move(partial_->cmd);
      argc = partial_->argc;
      i = partial_->next;
      pos = partial_->pos;
      partial_.reset();
    } else {
      auto count = read_int(p, 1, n, RespErr::bad_count);
      if (!count) return tokio::unexpected(count.error());
      if (!*count) return std::optional<Command>();
      argc = (*count)->first;
      pos = (*count)->second;
      if (argc > kMaxArgs) return tokio::unexpected(resp_error(RespErr::bad_count));
      if (argc <= 0) {  // an empty command: skipped (a Command always has a name)
        buf.advance(pos);
        skipped_ = true;
        return std::optional<Command>();
      }
    }
    // Incomplete: keep what was found, to go on from argument i at pos next time.
    auto incomplete = [&] {
      partial_.emplace(Partial{std::move(cmd), argc, i, pos});
      return std::optional<Command>();
    };
    for (; i < argc; ++i) {
      if (pos >= n) return incomplete();
      if (p[pos] != '$') {
        unexpected_ = p[pos];
        return tokio::unexpected(resp_error(RespErr::expected_dollar));
      }
      auto len = read_int(p, pos + 1, n, RespErr::bad_length);
      if (!len) return tokio::unexpected(len.error());
      if (!*len) return incomplete();
      auto [l, data] = **len;
      if (l < 0 || static_cast<std::size_t>(l) > kMaxBulk)
        return tokio::unexpected(resp_error(RespErr::bad_length));
      std::size_t end = data + static_cast<std::size_t>(l);
      if (end + 2 > kMaxCommand) return tokio::unexpected(resp_error(RespErr::command_too_long));
      if (end + 2 > n) {
        buf.reserve(end + 2 - n);  // a large value: room for all of it at once
        return incomplete();
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
    if (!split_inline(reinterpret_cast<char*>(buf.data()), end, cmd))
      return tokio::unexpected(resp_error(RespErr::unbalanced_quotes));
    cmd.raw = buf.split_to(nl + 1);
    if (cmd.argc == 0) {
      skipped_ = true;  // an empty line: ignored
      return std::optional<Command>();
    }
    return std::optional<Command>(std::move(cmd));
  }

  // Splits an inline command line as redis-server does (sdssplitargs): arguments separated
  // by white space; "double quotes" with the escapes \n \r \t \b \a \xHH and \<any>, and
  // 'single quotes' with \' only, may start anywhere in an argument and hold spaces; a
  // closing quote must be followed by white space or the end. The decoded bytes are never
  // longer than their source, so each argument is written over its own bytes, in place
  // (the write position never passes the read one). False: unbalanced quotes.
  static bool split_inline(char* p, std::size_t end, Command& cmd) {
    // White space between arguments and after a closing quote is isspace()'s; an unquoted
    // argument ends only at a space, tab, CR or LF (sdssplitargs: "a\vb" is one argument).
    auto space = [](char c) {
      return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
    };
    auto word_end = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    for (std::size_t i = 0;;) {
      while (i < end && space(p[i])) ++i;
      if (i == end) return true;
      const std::size_t start = i;
      std::size_t w = i;
      enum { Plain, Double, Single } mode = Plain;
      for (bool done = false; !done;) {
        if (mode == Plain) {
          if (i == end || word_end(p[i])) break;
          if (p[i] == '"') mode = Double;
          else if (p[i] == '\'') mode = Single;
          else p[w++] = p[i];
          ++i;
          continue;
        }
        if (i == end) return false;  // the line ended inside quotes
        const char c = p[i];
        const char q = mode == Double ? '"' : '\'';
        if (c == q) {
          if (i + 1 < end && !space(p[i + 1])) return false;  // "a"b
          ++i;
          done = true;
        } else if (mode == Double && c == '\\' && i + 3 < end && p[i + 1] == 'x' &&
                   hex(p[i + 2]) >= 0 && hex(p[i + 3]) >= 0) {
          p[w++] = static_cast<char>(hex(p[i + 2]) * 16 + hex(p[i + 3]));
          i += 4;
        } else if (c == '\\' && i + 1 < end && (mode == Double || p[i + 1] == '\'')) {
          const char e = p[i + 1];
          p[w++] = e == 'n'   ? '\n'
                   : e == 'r' ? '\r'
                   : e == 't' ? '\t'
                   : e == 'b' ? '\b'
                   : e == 'a' ? '\a'
                              : e;
          i += 2;
        } else {
          p[w++] = c;
          ++i;
        }
      }
      cmd.push({static_cast<uint32_t>(start), static_cast<uint32_t>(w - start)});
    }
  }

  // A command arriving in pieces: the arguments found so far, and where argument `next`
  // starts. Each decode goes on from there instead of parsing the command again from its
  // first byte: sent in small writes, a command of many arguments cost time quadratic in
  // its length, and one client could keep a worker busy for as long as it sent (300,000
  // arguments: 5.4 s of CPU against redis-server's 0.4 s; found by the servers hunt).
  struct Partial {
    Command cmd;
    int64_t argc;
    int64_t next;
    std::size_t pos;
  };
  std::optional<Partial> partial_;
  bool skipped_ = false;  // the last decode_* consumed an empty command (decode goes on)
  char unexpected_ = 0;
};
