// http_codec.hpp: the HTTP/1.1 side of examples/http_server.cpp: the limits, HTTP
// statuses as std::error_codes, Request and Response, and HttpCodec, the request decoder
// and response encoder a codec::Framed runs (protocol notes and limits: http_server.cpp).
// Included by http_server.cpp and by fuzz/http.cpp (through it).
#pragma once

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokio.hpp"

namespace codec = tokio::codec;
namespace io = tokio::io;
using namespace std::chrono_literals;

struct Limits {
  std::size_t max_head = 8 * 1024;
  std::size_t max_headers = 100;
  std::size_t max_body = 1024 * 1024;
  std::chrono::milliseconds timeout{10000};
};

// --- errors: an HTTP status as a std::error_code ---------------------------------------------

struct HttpCategory : std::error_category {
  const char* name() const noexcept override { return "http"; }
  std::string message(int status) const override { return "HTTP " + std::to_string(status); }
};
const std::error_category& http_category() {
  static const HttpCategory c;
  return c;
}
tokio::unexpected<std::error_code> http_error(int status) {
  return tokio::unexpected(std::error_code(status, http_category()));
}

// The body of an error response.
std::string_view error_text(int status) {
  switch (status) {
    case 408: return "request timeout\n";
    case 413: return "payload too large\n";
    case 414: return "uri too long\n";
    case 431: return "request header too large\n";
    case 501: return "not implemented\n";
    case 505: return "http version not supported\n";
  }
  return "bad request\n";
}

std::string_view reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
// Case-insensitive equality; `lower` is already lower-case.
bool iequals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != lower[i]) return false;
  }
  return true;
}
// RFC 9110 token characters.
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<std::size_t>(c)] =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool is_tchar(char c) { return kTchar[static_cast<unsigned char>(c)]; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
// Does the comma-separated list `v` hold `token` (case-insensitive)?
bool has_token(std::string_view v, std::string_view token) {
  while (!v.empty()) {
    std::size_t c = v.find(',');
    if (iequals(trim(v.substr(0, c)), token)) return true;
    if (c == std::string_view::npos) break;
    v.remove_prefix(c + 1);
  }
  return false;
}

// --- requests ----------------------------------------------------------------------------

struct Request {
  codec::BytesMut head;  // request line and headers; the views below point into it
  std::string_view method, target;
  int minor = 1;  // HTTP/1.minor
  codec::BytesMut body;
  bool keep_alive = true;
  // Not a request: the head asked for "100 Continue" and its body has not come yet (the
  // request itself follows once it has).
  bool continue_only = false;

  // The value of the first header called `name` (lower-case), found in the raw head (the
  // codec validated every line); empty when there is none.
  std::string_view header(std::string_view name) const {
    std::string_view h = head.as_string_view();
    h.remove_prefix(std::min(h.size(), h.find('\n') + 1));  // the request line
    while (!h.empty()) {
      std::size_t nl = h.find('\n');
      std::string_view line = h.substr(0, nl);
      h.remove_prefix(nl == std::string_view::npos ? h.size() : nl + 1);
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
        return trim_value(line.substr(colon + 1));
      }
    }
    return {};
  }
  static std::string_view trim_value(std::string_view v) {
    if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }
};

// --- responses ---------------------------------------------------------------------------

struct Response {
  int status = 200;
  std::string_view content_type;  // none when empty
  std::string_view extra;         // more header lines, each ending in "\r\n"
  codec::Bytes body;
  bool head_only = false;          // HEAD: the headers of the body, without it
  bool close = false;              // "connection: close", then the connection ends
  bool keep_alive_header = false;  // HTTP/1.0 keep-alive: say so

  static Response text(int status, std::string_view body) {
    Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = codec::Bytes::from_static(body);
    return r;
  }
};

// The date header's value, formatted once a second per thread.
std::string_view http_date() {
  thread_local std::time_t last = 0;
  thread_local char buf[40];
  std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    std::tm tm;
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  }
  return buf;
}

void put_uint(codec::BytesMut& dst, std::size_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
  (void)ec;
  dst.put(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
}

// Writes the status line and headers (through the blank line).
void encode_head(const Response& r, codec::BytesMut& dst) {
  dst.reserve(160 + r.extra.size());
  dst.put("HTTP/1.1 ");
  put_uint(dst, static_cast<std::size_t>(r.status));
  dst.put_u8(' ');
  dst.put(reason(r.status));
  dst.put("\r\n");
  if (!r.content_type.empty()) {
    dst.put("content-type: ");
    dst.put(r.content_type);
    dst.put("\r\n");
  }
  dst.put("content-length: ");
  put_uint(dst, r.body.size());
  dst.put("\r\ndate: ");
  dst.put(http_date());
  dst.put("\r\n");
  if (r.close) dst.put("connection: close\r\n");
  else if (r.keep_alive_header) dst.put("connection: keep-alive\r\n");
  dst.put(r.extra);
  dst.put("\r\n");
}

// --- the codec ---------------------------------------------------------------------------

class HttpCodec {
 public:
  explicit HttpCodec(Limits l) : limits_(l) {}

  io::Result<std::optional<Request>> decode(codec::BytesMut& buf) {
    if (!pending_) {
      auto r = decode_head(buf);
      if (!r || !*r) return r;
      pending_ = std::move(**r);
    }
    return decode_body(buf);
  }

  io::Result<void> encode(const Response& r, codec::BytesMut& dst) {
    encode_head(r, dst);
    if (!r.head_only) dst.put(r.body.as_span());
    return {};
  }

  // A request is partly read (its head, or part of its body, is in).
  bool in_request() const noexcept { return pending_.has_value(); }
  // The request being read (or whose head failed) is a HEAD: its error gets no body.
  bool head_request() const noexcept { return head_; }

 private:
  io::Result<std::optional<Request>> decode_head(codec::BytesMut& buf) {
    // Blank lines before a request line are ignored (RFC 9112 2.2).
    while (!buf.is_empty() && (buf[0] == std::byte{'\r'} || buf[0] == std::byte{'\n'}))
      buf.advance(1);
    const char* p = reinterpret_cast<const char*>(buf.data());
    const std::size_t n = buf.len();
    // The head ends at an empty line ("\r\n\r\n", or a bare "\n\n").
    std::size_t end = 0;
    for (std::size_t i = scan_; i < n && i <= limits_.max_head;) {
      const void* nl = std::memchr(p + i, '\n', n - i);
      if (!nl) break;
      std::size_t j = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
      if (j + 1 < n && p[j + 1] == '\n') end = j + 2;
      else if (j + 2 < n && p[j + 1] == '\r' && p[j + 2] == '\n') end = j + 3;
      if (end) break;
      i = j + 1;
    }
    if (!end) {
      if (n > limits_.max_head) return http_error(head_too_large(p, n));
      scan_ = n > 3 ? n - 3 : 0;  // the next search resumes here
      return std::optional<Request>();
    }
    scan_ = 0;
    if (end > limits_.max_head) return http_error(head_too_large(p, n));
    Request req;
    req.head = buf.split_to(end);
    if (int status = parse_head(req); status != 0) return http_error(status);
    return std::optional<Request>(std::move(req));
  }

  // A head over the limit: 414 when its request line alone does not fit (the target is
  // what is too long: RFC 9110 15.5.15), 431 when the header lines make it too large.
  int head_too_large(const char* p, std::size_t n) const {
    return std::memchr(p, '\n', std::min(n, limits_.max_head)) ? 431 : 414;
  }

  // 0, or the status of the error. Validates every line; keeps what the server needs.
  int parse_head(Request& req) {
    std::string_view h = req.head.as_string_view();
    auto next_line = [&h]() {
      const void* nlp = std::memchr(h.data(), '\n', h.size());
      std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(nlp) - h.data());
      std::string_view line = h.substr(0, nl > 0 && h[nl - 1] == '\r' ? nl - 1 : nl);
      h.remove_prefix(nl + 1);
      return line;
    };
    // Request line: METHOD SP TARGET SP HTTP/1.x
    std::string_view line = next_line();
    std::size_t sp1 = line.find(' ');
    if (sp1 == 0 || sp1 == std::string_view::npos || sp1 > 32) return 400;
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return 400;
    req.method = line.substr(0, sp1);
    head_ = req.method == "HEAD";
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    for (char c : req.method) {
      if (!is_tchar(c)) return 400;
    }
    for (char c : req.target) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return 400;
    }
    // Absolute-form (`GET http://host/path`, what a client sends to a proxy), which a
    // server MUST accept (RFC 9112 3.2.2): the path after the authority ("/" without one).
    if (std::size_t sep = req.target.find("://");
        sep != std::string_view::npos && req.target[0] != '/') {
      std::string_view scheme = req.target.substr(0, sep);
      if (iequals(scheme, "http") || iequals(scheme, "https")) {
        std::size_t slash = req.target.find('/', sep + 3);
        req.target =
            slash == std::string_view::npos ? std::string_view("/") : req.target.substr(slash);
      }
    }
    // The origin form or the asterisk form (RFC 9112 3.2): a path from the root, and no
    // fragment (a client never sends '#': a target holding one is malformed).
    if ((req.target != "*" && req.target[0] != '/') ||
        req.target.find('#') != std::string_view::npos) {
      return 400;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9') {
      return 400;
    }
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return 505;
    req.minor = version[7] - '0';
    // Headers: each line validated; the framing ones understood.
    std::optional<std::size_t> length;
    bool te = false, host = false, conn_close = false, conn_keep = false;
    // Transfer-Encoding (all its lines as one list): chunked codings, is the last one, others
    std::size_t chunked = 0;
    bool chunked_last = false, other_coding = false;
    std::size_t count = 0;
    for (;;) {
      line = next_line();
      if (line.empty()) break;
      if (line.front() == ' ' || line.front() == '\t') return 400;  // obsolete line folding
      if (++count > limits_.max_headers) return 431;
      std::size_t colon = 0;
      while (colon < line.size() && is_tchar(line[colon])) ++colon;
      if (colon == 0 || colon == line.size() || line[colon] != ':') return 400;
      std::string_view name = line.substr(0, colon);
      std::string_view value = trim(line.substr(colon + 1));
      // RFC 9110 5.5: a field value is visible characters, obs-text, spaces and tabs; any
      // other control character (NUL, CR, ESC, DEL...) makes the request invalid, as
      // hyper (httparse) answers too.
      for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7f) return 400;
      }
      switch (name.size()) {  // (only names of these lengths matter)
        case 4:
          if (iequals(name, "host")) {
            if (host) return 400;  // two Host headers
            host = true;
          }
          break;
        case 6:
          // (an HTTP/1.0 client gets no 1xx response: RFC 9110 10.1.1, 15.2)
          if (iequals(name, "expect") && iequals(value, "100-continue") && req.minor == 1)
            want_continue_ = true;
          break;
        case 10:
          if (iequals(name, "connection")) {
            conn_close = conn_close || has_token(value, "close");
            conn_keep = conn_keep || has_token(value, "keep-alive");
          }
          break;
        case 14:
          if (iequals(name, "content-length")) {
            std::size_t v = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (value.empty() || end != value.data() + value.size()) return 400;
            // All digits, but more than a size_t holds: too large, not malformed.
            if (ec == std::errc::result_out_of_range) return 413;
            if (ec != std::errc()) return 400;
            if (length && *length != v) return 400;  // conflicting lengths
            length = v;
          }
          break;
        case 17:
          if (iequals(name, "transfer-encoding")) {
            te = true;
            for (std::string_view v = value; !v.empty();) {
              std::size_t comma = v.find(',');
              std::string_view coding = trim(v.substr(0, comma));
              v.remove_prefix(comma == std::string_view::npos ? v.size() : comma + 1);
              if (coding.empty()) continue;  // empty list elements do not count
              chunked_last = iequals(coding, "chunked");
              if (chunked_last) ++chunked;
              else other_coding = true;
            }
          }
          break;
        default: break;
      }
    }
    req.keep_alive = req.minor == 1 ? !conn_close : conn_keep && !conn_close;
    if (req.minor == 1 && !host) return 400;
    if (te) {
      if (length) return 400;  // both: refused (request smuggling)
      if (req.minor == 0) return 501;
      // chunked twice or not last (RFC 9112 6.3), or no coding: 400; another coding: 501
      if (chunked > 1 || (chunked == 1 && !chunked_last)) return 400;
      if (other_coding || chunked == 0) return other_coding ? 501 : 400;
      state_ = State::ChunkSize;
    } else {
      state_ = State::Body;
      remaining_ = length.value_or(0);
      if (remaining_ > limits_.max_body) return 413;
    }
    return 0;
  }

  io::Result<std::optional<Request>> decode_body(codec::BytesMut& buf) {
    for (;;) {
      switch (state_) {
        case State::Body:
          if (buf.len() < remaining_) {
            if (want_continue(buf)) return continue_marker();
            buf.reserve(remaining_ - buf.len());
            return std::optional<Request>();
          }
          pending_->body = buf.split_to(remaining_);
          return finish();
        case State::ChunkSize: {
          auto line = take_line(buf, 1024);
          if (!line) return tokio::unexpected(line.error());
          if (!*line) {
            if (want_continue(buf)) return continue_marker();
            return std::optional<Request>();
          }
          std::string_view l = (*line)->as_string_view();
          l = l.substr(0, l.find(';'));  // chunk extensions are ignored
          l = trim(l);
          std::size_t size = 0;
          auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), size, 16);
          if (l.empty() || ec != std::errc() || end != l.data() + l.size()) return http_error(400);
          if (size > limits_.max_body - pending_->body.len()) return http_error(413);
          remaining_ = size;
          state_ = size == 0 ? State::Trailers : State::ChunkData;
          trailer_bytes_ = trailer_lines_ = 0;
          break;
        }
        case State::ChunkData: {
          std::size_t k = std::min(remaining_, buf.len());
          pending_->body.extend_from_slice(buf.as_span().first(k));
          buf.advance(k);
          remaining_ -= k;
          if (remaining_ > 0) return std::optional<Request>();
          state_ = State::ChunkEnd;
          break;
        }
        case State::ChunkEnd: {
          auto line = take_line(buf, 2);
          if (!line) return tokio::unexpected(line.error());
          if (!*line) return std::optional<Request>();
          if (!(*line)->is_empty()) return http_error(400);
          state_ = State::ChunkSize;
          break;
        }
        case State::Trailers: {
          // Trailer fields are dropped, but count against the head's limits (bytes and
          // lines), so an endless trailer section gets 431 rather than the connection's time.
          const std::size_t room = limits_.max_head - std::min(trailer_bytes_, limits_.max_head);
          auto line = take_line(buf, room);
          if (!line) return http_error(431);
          if (!*line) return std::optional<Request>();
          if ((*line)->is_empty()) return finish();
          trailer_bytes_ += (*line)->len() + 2;
          if (++trailer_lines_ > limits_.max_headers) return http_error(431);
          break;
        }
      }
    }
  }

  // One line (without its "\r\n" or "\n") cut off `buf`; nullopt if incomplete; 400 when
  // longer than `max`.
  io::Result<std::optional<codec::BytesMut>> take_line(codec::BytesMut& buf, std::size_t max) {
    const char* p = reinterpret_cast<const char*>(buf.data());
    const void* nl = std::memchr(p, '\n', std::min(buf.len(), max + 2));
    if (!nl) {
      if (buf.len() > max + 1) return http_error(400);
      return std::optional<codec::BytesMut>();
    }
    std::size_t j = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
    codec::BytesMut line = buf.split_to(j + 1);
    line.truncate(j > 0 && p[j - 1] == '\r' ? j - 1 : j);
    return std::optional<codec::BytesMut>(std::move(line));
  }

  // The client waits for "100 Continue" before sending the body (once per request).
  bool want_continue(const codec::BytesMut& buf) {
    bool now = want_continue_ && buf.is_empty();
    want_continue_ = false;
    return now;
  }
  static io::Result<std::optional<Request>> continue_marker() {
    Request r;
    r.continue_only = true;
    return std::optional<Request>(std::move(r));
  }

  io::Result<std::optional<Request>> finish() {
    want_continue_ = head_ = false;
    Request r = std::move(*pending_);
    pending_.reset();
    return std::optional<Request>(std::move(r));
  }

  enum class State { Body, ChunkSize, ChunkData, ChunkEnd, Trailers };
  Limits limits_;
  std::size_t scan_ = 0;
  std::optional<Request> pending_;  // head parsed, body not complete yet
  State state_ = State::Body;
  std::size_t remaining_ = 0;
  std::size_t trailer_bytes_ = 0;  // the trailer section so far (State::Trailers)
  std::size_t trailer_lines_ = 0;
  bool want_continue_ = false;  // the pending request asked for 100-continue
  bool head_ = false;           // the request line read last (not finished) says HEAD
};
