// Fuzzes RespCodec, the RESP request parser of examples/mini_redis.cpp (the example itself
// is compiled in, without its main), over byte streams delivered in arbitrary pieces.
//
// Two modes, chosen by the input:
// - arbitrary bytes: the commands and the error that come out must equal a reference
//   parser's, written from the protocol (RESP2 arrays of bulk strings, and inline
//   commands) with the example's limits, run over the whole input at once. The driver
//   does what the server's Framed does: decode after every piece, stop at the first error
//   (the server answers it and closes), and at the end a partial command is
//   bytes_remaining_on_stream. So whatever the split, no command is made from bytes past
//   an error, and nothing hangs (each command consumes input).
// - well-formed streams: commands generated from the input (binary arguments as bulk
//   strings, or inline when they can be), with blank lines and empty arrays (ignored)
//   between them, and optionally one malformed or over-limit construct followed by a
//   valid command: exactly the generated commands come out, then the construct's error,
//   never the command after it.
// Memory: whenever decode yields nothing, an inline command holds at most kMaxInline
// bytes, and the buffer's capacity stays within reach of what it holds plus one bulk.
#define TOKIO_EXAMPLE_NO_MAIN
#include "../examples/mini_redis.cpp"
// (after the example: it defines TOKIO_IMPLEMENTATION, ignored under TOKIO_COMPILED_LIB)
#include "fuzz_util.hpp"

namespace {

using Args = std::vector<std::string>;
// Commands in order, then how the stream ended: no error, a RespErr, or a codec error.
struct Outcome {
  std::vector<Args> commands;
  std::error_code error;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string out = "[";
  for (auto& c : o.commands) {
    out += "(";
    for (auto& a : c) out += fuzz::show(a) + " ";
    out += ") ";
  }
  out += "]";
  if (o.error) out += " then error: " + o.error.message();
  return out;
}

Outcome drive(std::string_view data, const std::vector<std::size_t>& pieces) {
  Outcome out;
  RespCodec c;
  codec::BytesMut buf;
  auto take = [&](Command& cmd) {
    FUZZ_CHECK(cmd.argc > 0, "a command without arguments");
    Args a;
    for (std::size_t i = 0; i < cmd.argc; ++i) a.emplace_back(cmd.arg(i));
    out.commands.push_back(std::move(a));
    FUZZ_CHECK(out.commands.size() <= data.size(), "more commands than input bytes");
  };
  fuzz::Pieces in(data, pieces);
  while (!in.done()) {
    buf.put(in.next());
    for (;;) {
      auto r = c.decode(buf);
      if (!r) {
        out.error = r.error();
        return out;
      }
      if (!*r) break;
      take(**r);
    }
    if (!buf.is_empty() && buf[0] != std::byte{'*'}) {
      FUZZ_CHECK(buf.len() <= RespCodec::kMaxInline,
                 "an incomplete inline command of " + std::to_string(buf.len()) + " bytes");
    }
    FUZZ_CHECK(buf.capacity() <= 2 * (buf.len() + in.max_piece() + RespCodec::kMaxBulk) + 4096,
               "buffer capacity " + std::to_string(buf.capacity()));
  }
  auto r = codec::decode_eof(c, buf);
  if (!r) out.error = r.error();
  else if (*r) take(**r);
  return out;
}

// --- the reference ---------------------------------------------------------------------------

// How far a reference parse got: a value, "need more bytes", or an error.
enum class Step { ok, more, error };

// "<integer>\r\n" at d[at..]: an optional '-' and decimal digits fitting an int64, with no
// leading zero ("0" alone is zero; redis-server's string2ll), at most 21 characters before
// the "\r\n" (the codec looks no further for the '\r').
Step ref_int(std::string_view d, std::size_t at, int64_t& value, std::size_t& next) {
  const std::size_t cr = d.find('\r', at);
  const std::size_t max_text = 21;
  if (cr == std::string_view::npos || cr - at > max_text) {
    // (The codec waits for a 23rd byte before it calls 22 without a '\r' an error.)
    return d.size() - at > max_text + 1 ? Step::error : Step::more;
  }
  if (cr + 1 == d.size()) return Step::more;
  if (d[cr + 1] != '\n') return Step::error;
  std::string_view t = d.substr(at, cr - at);
  const bool neg = !t.empty() && t[0] == '-';
  if (neg) t.remove_prefix(1);
  if (t.empty()) return Step::error;
  if (t[0] == '0' && (neg || t.size() > 1)) return Step::error;  // redis's string2ll
  uint64_t mag = 0;
  for (char ch : t) {
    if (ch < '0' || ch > '9') return Step::error;
    if (mag > (uint64_t{1} << 63) / 10) return Step::error;
    mag = mag * 10 + static_cast<uint64_t>(ch - '0');
    if (mag > (uint64_t{1} << 63)) return Step::error;
  }
  if (!neg && mag == (uint64_t{1} << 63)) return Step::error;
  value = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  next = cr + 2;
  return Step::ok;
}

// redis-server's inline splitting (sdssplitargs), from its description: white space
// (isspace) separates arguments, but an unquoted argument ends only at a space, tab, CR or
// LF (so \v and \f inside one are its bytes); a double quote opens a quoted part with the escapes \xHH (two hex
// digits), \n \r \t \b \a, and backslash + any other character for that character; a single
// quote opens one where only \' is an escape; a closing quote ends the argument and must
// be followed by white space or the end of the line; the line ending inside quotes is an
// error.
bool ref_split_inline(std::string_view line, Args& out) {
  const std::string_view ws = " \t\r\n\v\f";
  const std::string_view word_end = " \t\r\n";
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && ws.find(line[i]) != std::string_view::npos) ++i;
    if (i >= line.size()) return true;
    std::string arg;
    char quote = 0;
    while (true) {
      if (quote == 0) {
        if (i >= line.size() || word_end.find(line[i]) != std::string_view::npos) break;
        if (line[i] == '"' || line[i] == '\'') quote = line[i];
        else arg.push_back(line[i]);
        ++i;
        continue;
      }
      if (i >= line.size()) return false;
      if (line[i] == quote) {
        ++i;
        if (i < line.size() && ws.find(line[i]) == std::string_view::npos) return false;
        break;
      }
      if (line[i] == '\\' && quote == '\'') {
        if (i + 1 < line.size() && line[i + 1] == '\'') {
          arg.push_back('\'');
          i += 2;
        } else {
          arg.push_back(line[i++]);
        }
        continue;
      }
      if (line[i] == '\\' && i + 1 < line.size()) {
        const std::string_view hexdigits = "0123456789abcdefABCDEF";
        if (line[i + 1] == 'x' && i + 3 < line.size() &&
            hexdigits.find(line[i + 2]) != std::string_view::npos &&
            hexdigits.find(line[i + 3]) != std::string_view::npos) {
          arg.push_back(
              static_cast<char>(std::stoi(std::string(line.substr(i + 2, 2)), nullptr, 16)));
          i += 4;
          continue;
        }
        const char e = line[i + 1];
        const char* from = "nrtba";
        const char* to = "\n\r\t\b\a";
        const char* f = std::strchr(from, e);
        arg.push_back(f && e ? to[f - from] : e);
        i += 2;
        continue;
      }
      arg.push_back(line[i++]);
    }
    out.push_back(std::move(arg));
  }
}

// An argument as an inline command writes it: a plain word when it is one, else in double
// quotes with \\, \" and \xHH escapes (any byte that is not printable ASCII).
std::string inline_arg(const std::string& a) {
  bool word = !a.empty();
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    word = word && u > 0x20 && u < 0x7f && c != '"' && c != '\'' && c != '\\';
  }
  if (word) return a;
  std::string out = "\"";
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Outcome reference(std::string_view d) {
  Outcome out;
  auto fail = [&](RespErr e) {
    out.error = resp_error(e);
    return out;
  };
  std::size_t pos = 0;
  while (pos < d.size()) {
    const std::size_t start = pos;
    if (d[pos] != '*') {
      const std::size_t window = std::min(d.size(), pos + RespCodec::kMaxInline + 1);
      const std::size_t nl = d.substr(0, window).find('\n', pos);
      if (nl == std::string_view::npos) {
        if (d.size() - pos > RespCodec::kMaxInline) return fail(RespErr::inline_too_long);
        break;  // incomplete
      }
      std::string_view line = d.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      Args a;
      if (!ref_split_inline(line, a)) return fail(RespErr::unbalanced_quotes);
      pos = nl + 1;
      if (!a.empty()) out.commands.push_back(std::move(a));
      continue;
    }
    int64_t count = 0;
    std::size_t next = 0;
    Step s = ref_int(d, pos + 1, count, next);
    if (s == Step::error) return fail(RespErr::bad_count);
    if (s == Step::more) break;
    if (count > RespCodec::kMaxArgs) return fail(RespErr::bad_count);
    pos = next;
    Args a;
    bool complete = true;
    for (int64_t k = 0; k < count; ++k) {
      if (pos == d.size()) {
        complete = false;
        break;
      }
      if (d[pos] != '$') return fail(RespErr::expected_dollar);
      int64_t len = 0;
      s = ref_int(d, pos + 1, len, next);
      if (s == Step::error) return fail(RespErr::bad_length);
      if (s == Step::more) {
        complete = false;
        break;
      }
      if (len < 0 || static_cast<uint64_t>(len) > RespCodec::kMaxBulk)
        return fail(RespErr::bad_length);
      const std::size_t end = next + static_cast<std::size_t>(len);
      if (end + 2 - start > RespCodec::kMaxCommand) return fail(RespErr::command_too_long);
      if (end + 2 > d.size()) {
        complete = false;
        break;
      }
      if (d.substr(end, 2) != "\r\n") return fail(RespErr::bad_terminator);
      a.emplace_back(d.substr(next, static_cast<std::size_t>(len)));
      pos = end + 2;
    }
    if (!complete) {
      pos = start;
      break;
    }
    if (!a.empty()) out.commands.push_back(std::move(a));  // "*0", "*-1": ignored
  }
  if (pos < d.size()) out.error = make_error_code(codec::Errc::bytes_remaining_on_stream);
  return out;
}

// --- well-formed streams -----------------------------------------------------------------------

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// Malformed or over-limit constructs, and the error each must give.
struct Bad {
  std::string bytes;
  RespErr error;
};
Bad pick_bad(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 11)) {
    case 0: return {"*x\r\n", RespErr::bad_count};
    case 1: return {"*1\r\n:5\r\n", RespErr::expected_dollar};
    case 2: return {"*1\r\n$-2\r\n", RespErr::bad_length};
    case 3: return {"*2\r\n$3\r\nabcXY\r\n", RespErr::bad_terminator};
    case 4:
      return {"*1\r\n$" + std::to_string(RespCodec::kMaxBulk + 1) + "\r\n", RespErr::bad_length};
    case 5: return {"*" + std::to_string(RespCodec::kMaxArgs + 1) + "\r\n", RespErr::bad_count};
    case 6: return {std::string(RespCodec::kMaxInline + 1, 'A'), RespErr::inline_too_long};
    case 7: return {"*1\r\n$99999999999999999999999\r\n", RespErr::bad_length};
    case 8: return {"*1\r\r\n", RespErr::bad_count};
    case 9: return {"SET \"a b\r\n", RespErr::unbalanced_quotes};
    case 10: return {"GET 'a'b\r\n", RespErr::unbalanced_quotes};
    default: return {"*3\r\n$1\r\na\r\n$1\r\nb\r\n*", RespErr::expected_dollar};
  }
}

void fuzz_well_formed(FuzzedDataProvider& in, const std::vector<std::size_t>& pieces) {
  std::string wire;
  Outcome expected;
  const std::size_t n = in.ConsumeIntegralInRange(0, 12);
  for (std::size_t i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    switch (in.ConsumeIntegralInRange(0, 9)) {
      case 0: wire += in.ConsumeBool() ? "\r\n" : " \t\n"; continue;      // blank inline line
      case 1: wire += in.ConsumeBool() ? "*0\r\n" : "*-1\r\n"; continue;  // empty array
      default: break;
    }
    Args a(in.ConsumeIntegralInRange(1, 7));
    for (auto& s : a) s = in.ConsumeRandomLengthString(40);
    a[0] = a[0].empty() ? "PING" : a[0];
    // Inline (words, or double-quoted with escapes) unless the line would start an array.
    if (in.ConsumeBool() && inline_arg(a[0])[0] != '*') {
      for (std::size_t k = 0; k < a.size(); ++k) wire += (k ? " " : "") + inline_arg(a[k]);
      wire += in.ConsumeBool() ? "\r\n" : "\n";
    } else {
      wire += "*" + std::to_string(a.size()) + "\r\n";
      for (auto& s : a) wire += bulk(s);
    }
    expected.commands.push_back(std::move(a));
  }
  if (in.ConsumeBool()) {
    Bad bad = pick_bad(in);
    wire += bad.bytes + "*1\r\n$4\r\nPING\r\n";  // (must not come out)
    expected.error = resp_error(bad.error);
  }
  const Outcome got = drive(wire, pieces);
  FUZZ_CHECK(got == expected, "well-formed stream " + fuzz::show(wire.substr(0, 2000)) +
                                  "\n  expected " + show(expected) + "\n  got      " + show(got));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const bool generated = in.ConsumeBool();
  std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(0, 32));
  for (auto& p : pieces) p = in.ConsumeIntegralInRange<std::size_t>(0, 40);
  if (generated) {
    fuzz_well_formed(in, pieces);
    return 0;
  }
  const std::string data = in.ConsumeRemainingBytesAsString();
  const Outcome expected = reference(data);
  const Outcome got = drive(data, pieces);
  FUZZ_CHECK(got == expected, "data " + fuzz::show(data) + "\n  expected " + show(expected) +
                                  "\n  got      " + show(got));
  return 0;
}
