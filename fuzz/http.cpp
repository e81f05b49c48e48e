// Fuzzes HttpCodec, the HTTP/1.1 request parser of examples/http_server.cpp (the example
// itself is compiled in, without its main), with limits chosen by the input (small, so
// that going over them is cheap), over byte streams delivered in arbitrary pieces.
//
// Two modes, chosen by the input:
// - arbitrary bytes: no crash, no hang, and the split points do not matter: the requests
//   and the error that come out piece by piece equal those of the whole input decoded at
//   once (the "100 Continue" markers aside: they depend on when the body is missing, and
//   come only for a request that asked for one). Every error is one of the documented
//   statuses (400, 413, 414, 431, 501, 505), or a request cut short by the end of the input.
// - well-formed pipelined requests generated from the input (method, target, version,
//   Host, other headers, Connection, a Content-Length or chunked body with extensions and
//   trailers, blank lines between requests): exactly those requests come out (method,
//   target, version, keep-alive, body, each header's value), whatever the split. A
//   request over a limit (head over max_head: 414 when its request line alone is, else
//   431; more than max_headers lines: 431; body
//   over max_body, announced or chunked: 413), or one of a list of malformed ones (400,
//   501, 505), gives that status, and the valid request after it never comes out.
// Memory: whenever decode yields nothing, the buffer holds at most max(max_head, max_body)
// plus one chunk-size line, and a request body never grows past max_body.
#define TOKIO_EXAMPLE_NO_MAIN
#include "../examples/http_server.cpp"
// (after the example: it defines TOKIO_IMPLEMENTATION, ignored under TOKIO_COMPILED_LIB)
#include "fuzz_util.hpp"

namespace {

// What a request is, for comparison: method, target, version, keep-alive, body, and the
// values of the headers asked about.
struct Seen {
  std::string method, target;
  int minor = 1;
  bool keep_alive = true;
  std::string body;
  std::vector<std::string> headers;
  bool operator==(const Seen&) const = default;
};
struct Outcome {
  std::vector<Seen> requests;
  std::error_code error;
  bool partial = false;  // the input ended inside a request (the server just closes)
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string out = "[";
  for (auto& r : o.requests) {
    out += "(" + fuzz::show(r.method) + " " + fuzz::show(r.target) + " 1." +
           std::to_string(r.minor) + (r.keep_alive ? " keep" : " close") + " body " +
           fuzz::show(r.body);
    for (auto& h : r.headers) out += " h=" + fuzz::show(h);
    out += ") ";
  }
  out += "]";
  if (o.error) out += " then " + o.error.message();
  if (o.partial) out += " then a partial request";
  return out;
}

// Feeds `data` piece by piece as the server's Framed does, stopping at the first error.
// `names[i]`: the (lower-case) headers whose values are recorded for the i-th request.
Outcome drive(const Limits& limits, std::string_view data, const std::vector<std::size_t>& pieces,
              const std::vector<std::vector<std::string>>& names) {
  Outcome out;
  HttpCodec c(limits);
  codec::BytesMut buf;
  int continues = 0;  // markers since the last request
  auto take = [&](Request& r) {
    if (r.continue_only) {
      FUZZ_CHECK(++continues == 1, "two 100-continue markers for one request");
      FUZZ_CHECK(c.in_request(), "a 100-continue marker outside a request");
      return;
    }
    const bool asked = iequals(r.header("expect"), "100-continue");
    FUZZ_CHECK(continues == 0 || asked, "a 100-continue marker for a request without Expect");
    continues = 0;
    FUZZ_CHECK(r.body.len() <= limits.max_body, "a body over max_body");
    Seen s{std::string(r.method), std::string(r.target), r.minor,
           r.keep_alive,          r.body.to_string(),    {}};
    const std::size_t i = out.requests.size();
    if (i < names.size()) {
      for (auto& n : names[i]) s.headers.emplace_back(r.header(n));
    }
    out.requests.push_back(std::move(s));
    FUZZ_CHECK(out.requests.size() <= data.size(), "more requests than input bytes");
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
    const std::size_t bound = std::max(limits.max_head, limits.max_body) + 1026;
    FUZZ_CHECK(buf.len() <= bound, "buffered " + std::to_string(buf.len()) + " bytes");
    FUZZ_CHECK(buf.capacity() <= 4 * (bound + in.max_piece()) + 128,
               "buffer capacity " + std::to_string(buf.capacity()));
  }
  auto r = codec::decode_eof(c, buf);
  if (!r) out.error = r.error();
  else if (*r) take(**r);
  // (A body or chunk still expected leaves the buffer empty: the default decode_eof sees
  // nothing left over.)
  if (!out.error && c.in_request()) out.partial = true;
  return out;
}

bool documented(const std::error_code& e) {
  if (e.category() == http_category()) {
    const int s = e.value();
    return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
  }
  return e == codec::Errc::bytes_remaining_on_stream;
}

Limits pick_limits(FuzzedDataProvider& in) {
  Limits l;
  l.max_head = in.ConsumeIntegralInRange<std::size_t>(16, 2048);
  l.max_headers = in.ConsumeIntegralInRange<std::size_t>(0, 16);
  l.max_body = in.ConsumeIntegralInRange<std::size_t>(0, 1024);
  return l;
}

std::string limits_text(const Limits& l) {
  return "max_head " + std::to_string(l.max_head) + " max_headers " +
         std::to_string(l.max_headers) + " max_body " + std::to_string(l.max_body);
}

// --- generated requests -----------------------------------------------------------------

std::string token(FuzzedDataProvider& in, std::size_t max) {
  static constexpr std::string_view kTokenChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
  std::string t(in.ConsumeIntegralInRange<std::size_t>(1, max), 'x');
  for (auto& ch : t)
    ch = kTokenChars[in.ConsumeIntegralInRange<std::size_t>(0, kTokenChars.size() - 1)];
  return t;
}

// A header value: no control character but a tab (RFC 9110 5.5: the server answers 400
// to the others); no blank at either end (so the parsed value is it).
std::string value(FuzzedDataProvider& in) {
  std::string v = in.ConsumeRandomLengthString(24);
  for (auto& ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t') || u == 0x7f) ch = '_';
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
  return v;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = ascii_lower(ch);
  return s;
}

// Malformed requests: the bytes and the status. Each is a whole request on its own.
std::pair<std::string, int> pick_bad(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 12)) {
    case 0: return {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400};
    case 1: return {"GET / HTTP/1.1\r\n\r\n", 400};  // no Host
    case 2: return {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505};
    case 3: return {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501};
    case 4:
      return {
          "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
          400};
    case 5:
      return {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400};
    case 6: return {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400};
    case 7: return {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400};
    case 8:
      return {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400};
    case 9: return {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400};
    case 10: return {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400};
    case 11: return {"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400};
    default: return {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400};
  }
}

void fuzz_generated(FuzzedDataProvider& in, const Limits& limits,
                    const std::vector<std::size_t>& pieces) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD",   "POST",
                                                  "PUT", "DELETE", "OPTIONS"};
  static constexpr std::string_view kConnection[] = {"close", "keep-alive", "Keep-Alive, Upgrade",
                                                     "upgrade , CLOSE"};
  std::string wire;
  Outcome expected;
  std::vector<std::vector<std::string>> names;
  const std::size_t n = in.ConsumeIntegralInRange(0, 6);
  for (std::size_t i = 0; i < n && !expected.error && in.remaining_bytes() > 0; ++i) {
    if (in.ConsumeBool()) wire += in.ConsumeBool() ? "\r\n" : "\n";  // ignored before a request
    Seen s;
    s.method = in.ConsumeBool() ? std::string(in.PickValueInArray(kMethods)) : token(in, 8);
    s.target = "/" + in.ConsumeRandomLengthString(30);
    for (auto& ch : s.target) {
      // (no control byte, space or '#': each makes the request malformed)
      if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '#') ch = '-';
    }
    s.minor = in.ConsumeBool() ? 1 : 0;
    const char* eol = in.ConsumeBool() ? "\r\n" : "\n";
    std::string head = s.method + " " + s.target + " HTTP/1." + std::to_string(s.minor) + eol;
    std::size_t lines = 0;
    std::vector<std::string> hnames;
    auto header = [&](const std::string& name, const std::string& v) {
      head += name + ":" + (in.ConsumeBool() ? " " : "") + v + eol;
      ++lines;
      // Request::header gives the first header of that name.
      const std::string l = lower(name);
      auto seen = std::find(hnames.begin(), hnames.end(), l);
      s.headers.push_back(seen == hnames.end() ? v : s.headers[seen - hnames.begin()]);
      hnames.push_back(l);
    };
    const std::size_t extra = in.ConsumeIntegralInRange(0, 5);
    const std::size_t host_at = in.ConsumeIntegralInRange<std::size_t>(0, extra);
    bool close = false, keep = false;
    for (std::size_t h = 0; h <= extra; ++h) {
      if (h == host_at && (s.minor == 1 || in.ConsumeBool())) header("Host", value(in));
      if (h == extra) break;
      std::string name = token(in, 12);
      const std::string l = lower(name);
      if (l == "host" || l == "content-length" || l == "transfer-encoding" || l == "expect") {
        name = "X-" + name;
      }
      if (l == "connection") {
        const std::string v(in.PickValueInArray(kConnection));
        close = close || has_token(v, "close");
        keep = keep || has_token(v, "keep-alive");
        header(name, v);
      } else {
        header(name, value(in));
      }
    }
    s.keep_alive = s.minor == 1 ? !close : keep && !close;
    if (in.ConsumeBool()) header("Expect", "100-continue");
    const int body_kind = in.ConsumeIntegralInRange(0, s.minor == 1 ? 2 : 1);
    std::string body_wire;
    int status = 0;
    if (body_kind == 1) {
      s.body = in.ConsumeRandomLengthString(300);
      header("Content-Length", (in.ConsumeBool() ? "00" : "") + std::to_string(s.body.size()));
      body_wire = s.body;
      if (s.body.size() > limits.max_body) status = 413;
    } else if (body_kind == 2) {
      header("Transfer-Encoding", in.ConsumeBool() ? "chunked" : ", Chunked");
      std::size_t chunks = in.ConsumeIntegralInRange(0, 4);
      for (std::size_t k = 0; k < chunks; ++k) {
        std::string data = in.ConsumeRandomLengthString(200);
        if (data.empty()) data = "x";
        char hex[24];
        std::snprintf(hex, sizeof hex, in.ConsumeBool() ? "%zx" : "%zX", data.size());
        body_wire += std::string(hex) + (in.ConsumeBool() ? ";ext=\"1\"" : "") + eol;
        if (s.body.size() + data.size() > limits.max_body) {
          status = 413;  // at this chunk's size line
          break;
        }
        body_wire += data + eol;
        s.body += data;
      }
      if (!status)
        body_wire += std::string("0") + eol + (in.ConsumeBool() ? "Trailer: t\r\n" : "") + eol;
    }
    head += eol;
    // The limits, in the order the codec checks them: the head's size, then (reading its
    // lines) the number of headers, then the body.
    if (head.size() > limits.max_head) status = head.find('\n') < limits.max_head ? 431 : 414;
    else if (lines > limits.max_headers) status = 431;
    wire += head + body_wire;
    if (status) {
      expected.error = std::error_code(status, http_category());
      break;
    }
    expected.requests.push_back(std::move(s));
    names.push_back(std::move(hnames));
  }
  // (With room for them: each is under 256 bytes, 3 header lines and 2 body bytes.)
  if (!expected.error && limits.max_head >= 256 && limits.max_headers >= 3 &&
      limits.max_body >= 2 && in.ConsumeBool()) {
    auto [bytes, status] = pick_bad(in);
    wire += bytes;
    expected.error = std::error_code(status, http_category());
  }
  if (expected.error) wire += "GET /never HTTP/1.1\r\nHost: a\r\n\r\n";  // must not come out
  const Outcome got = drive(limits, wire, pieces, names);
  FUZZ_CHECK(got == expected, limits_text(limits) + "\n  wire " + fuzz::show(wire) +
                                  "\n  expected " + show(expected) + "\n  got      " + show(got));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, std::size_t size) {
  FuzzedDataProvider in(bytes, size);
  const bool generated = in.ConsumeBool();
  const Limits limits = pick_limits(in);
  std::vector<std::size_t> pieces(in.ConsumeIntegralInRange<std::size_t>(0, 32));
  for (auto& p : pieces) p = in.ConsumeIntegralInRange<std::size_t>(0, 64);
  if (generated) {
    fuzz_generated(in, limits, pieces);
    return 0;
  }
  const std::string data = in.ConsumeRemainingBytesAsString();
  const Outcome whole = drive(limits, data, {}, {});
  const Outcome split = drive(limits, data, pieces, {});
  FUZZ_CHECK(!whole.error || documented(whole.error),
             "undocumented error " + whole.error.message());
  FUZZ_CHECK(split == whole, limits_text(limits) + "\n  data " + fuzz::show(data) + "\n  whole " +
                                 show(whole) + "\n  split " + show(split));
  return 0;
}
