// http_server: an HTTP/1.1 server with keep-alive, pipelining, a small router and static
// files, hardened against bad and slow clients.
//
//   http_server [ADDR] [--workers N] [--root DIR] [--timeout MS] [--max-body BYTES]
//   curl http://127.0.0.1:8080/
//
// ADDR defaults to 127.0.0.1:8080. Prints "listening on ADDR" once bound. Routes:
//   GET/HEAD /              "Hello, World!" (the benchmark route: the same bytes as a
//                            hyper hello-world server: content-length and date headers)
//   GET/HEAD /health        "ok"
//   POST     /echo          the request body back
//   GET/HEAD /static/PATH   the file PATH under --root (404 when missing; ".." refused, and
//                           a symlink that leads out of the root)
//   OPTIONS  * or a route     200 with an Allow header and no body
// Anything else is 404; a known path with another method is 405 (with an Allow header), a
// method HTTP does not define 501.
//
// Protocol: requests are parsed by HttpCodec (http_codec.hpp) inside a codec::Framed; keep-alive is
// the default for HTTP/1.1 (and opt-in for 1.0 with "Connection: keep-alive"); pipelined
// requests are answered in order, all the responses to the requests already received
// going out in one write. Request bodies come with Content-Length or chunked
// Transfer-Encoding; "Expect: 100-continue" is honoured.
//
// Limits (each answered, then the connection is closed, in stages: linger()):
//   400  a malformed request line or header, a missing Host (1.1), conflicting lengths;
//        Transfer-Encoding with Content-Length, empty, or with chunked twice or not last
//        (RFC 9112 6.1 and 6.3: the end of the body cannot be known)
//   413  a body over --max-body (1 MiB by default), checked before it is read, or a
//        Content-Length of more digits than a size_t holds
//   414  a request line over 8 KiB (the target is too long)
//   431  a request head over 8 KiB, or more than 100 header lines; a chunked body's
//        trailer section over the same limits
//   501  a transfer coding other than chunked (Transfer-Encoding lines form one list:
//        "gzip, chunked" is 501), or any in HTTP/1.0; 505 an HTTP version not 1.0/1.1
//   408  a request still incomplete --timeout ms (10 s) after the previous one ended
// Slow clients: every connection must deliver each complete request within --timeout of
// the previous one (or of its start), so one that trickles bytes (slowloris) or says
// nothing is closed. Writing has the same limit: every wait to write responses out (at
// the back-pressure boundary, when no request is buffered, before closing) must end
// within --timeout, so a client that pipelines requests and never reads is cut off too;
// a large file's body only has to make progress within each --timeout (bytes written,
// or bytes the client acknowledged).
//
// Files are read on the blocking pool (task::spawn_blocking); a large body is written
// together with its header in one writev (io::write_all_vectored).
#define TOKIO_IMPLEMENTATION
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tokio.hpp"
#include "cli_args.hpp"
#include "http_codec.hpp"
#include "linger.hpp"

using tokio::Task;
namespace codec = tokio::codec;
namespace io = tokio::io;
namespace net = tokio::net;
using namespace std::chrono_literals;

// --- the router --------------------------------------------------------------------------

struct Ctx {
  std::string root;  // static files (empty: none)
};

// Percent-decodes a path; false on a bad escape or a NUL.
bool url_decode(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return false;
      }
      c = static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

struct FileResult {
  int status = 200;
  std::string data;
};

// Opens `rel` under `root` without leaving it: openat2's RESOLVE_BENEATH (Linux 5.6)
// follows a symlink under the root only while it stays there, so a link to /etc/passwd
// placed under the root is refused (EXDEV), not served. Where openat2 is missing, no
// symlink is followed at all (every component is checked with O_NOFOLLOW, one openat at a
// time). O_NONBLOCK: a FIFO (or a device) under the root opens at once instead of waiting
// for a writer, and is refused by the caller like anything that is not a regular file.
int open_beneath(const std::string& root, const std::string& rel) {
  const int dir = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    int at = dir;
    std::size_t i = 0;
    for (;;) {
      const std::size_t e = rel.find('/', i);
      const bool last = e == std::string::npos;
      const std::string seg = rel.substr(i, last ? std::string::npos : e - i);
      const int flags =
          O_CLOEXEC | O_NOFOLLOW | (last ? O_RDONLY | O_NONBLOCK : O_PATH | O_DIRECTORY);
      fd = ::openat(at, seg.c_str(), flags);
      if (at != dir) ::close(at);
      if (fd < 0 || last) break;
      at = fd;
      i = e + 1;
    }
  }
  ::close(dir);
  return fd;
}

// Runs on the blocking pool.
FileResult read_file(std::string root, std::string rel) {
  FileResult r;
  int fd = open_beneath(root, rel);
  if (fd < 0) {
    r.status = 404;
    return r;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    r.status = 404;
    return r;
  }
  if (st.st_size > 64 * 1024 * 1024) {
    ::close(fd);
    r.status = 500;
    return r;
  }
  r.data.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < r.data.size()) {
    ssize_t n = ::read(fd, r.data.data() + got, r.data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  r.data.resize(got);
  ::close(fd);
  return r;
}

std::string_view content_type_of(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  if (ends(".css")) return "text/css";
  if (ends(".js")) return "text/javascript";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

Response not_allowed(std::string_view allow) {
  Response r = Response::text(405, "method not allowed\n");
  r.extra = allow;
  return r;
}

// OPTIONS (RFC 9110 9.3.7): the methods a route allows, "*" asking about the server as a
// whole; 200 with no body (a 204 could not carry the content-length every response has).
Response options(std::string_view allow) {
  Response r = Response::text(200, "");
  r.content_type = {};
  r.extra = allow;
  return r;
}

bool is_static(const Ctx& ctx, std::string_view path) {
  return !ctx.root.empty() && path.rfind("/static/", 0) == 0;
}

// GET/HEAD /static/PATH: the file, read on the blocking pool.
Task<Response> static_file(const Ctx& ctx, const Request& req, std::string_view path) {
  const bool head = req.method == "HEAD";
  if (req.method == "OPTIONS") co_return options("allow: GET, HEAD, OPTIONS\r\n");
  if (req.method != "GET" && !head) co_return not_allowed("allow: GET, HEAD, OPTIONS\r\n");
  std::string rel;
  if (!url_decode(path.substr(8), rel)) co_return Response::text(400, "bad path\n");
  // No way out of the root: no "..", no absolute path.
  bool bad = rel.empty() || rel.front() == '/';
  for (std::size_t i = 0; i < rel.size() && !bad;) {
    std::size_t e = rel.find('/', i);
    std::string_view seg =
        std::string_view(rel).substr(i, e == std::string::npos ? std::string::npos : e - i);
    bad = seg == ".." || seg == ".";
    if (e == std::string::npos) break;
    i = e + 1;
  }
  if (bad) co_return Response::text(404, "not found\n");
  FileResult f = co_await tokio::task::spawn_blocking(read_file, ctx.root, rel);
  if (f.status != 200)
    co_return Response::text(f.status, f.status == 404 ? "not found\n" : "error\n");
  Response r;
  r.content_type = content_type_of(rel);
  r.body = codec::Bytes(f.data);
  co_return r;
}

// The methods of RFC 9110 and PATCH: any other is 501, these 405 where a route does not
// take them.
bool known_method(std::string_view m) {
  for (std::string_view k :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}) {
    if (m == k) return true;
  }
  return false;
}

// Every other route answers at once (no coroutine frame per request).
Response route(Request& req, std::string_view path) {
  const bool get = req.method == "GET", head = req.method == "HEAD";
  if (path == "*") {  // the asterisk form is for OPTIONS alone (RFC 9112 3.2.4)
    if (req.method != "OPTIONS") return Response::text(400, "bad request\n");
    return options("allow: GET, HEAD, POST, OPTIONS\r\n");
  }
  if (req.method == "OPTIONS") {
    if (path == "/" || path == "/health") return options("allow: GET, HEAD, OPTIONS\r\n");
    if (path == "/echo") return options("allow: POST, OPTIONS\r\n");
    return Response::text(404, "not found\n");
  }
  if (path == "/") {
    if (!get && !head) return not_allowed("allow: GET, HEAD, OPTIONS\r\n");
    Response r;
    r.body = codec::Bytes::from_static("Hello, World!");
    return r;
  }
  if (path == "/health") {
    if (!get && !head) return not_allowed("allow: GET, HEAD, OPTIONS\r\n");
    return Response::text(200, "ok\n");
  }
  if (path == "/echo") {
    if (req.method != "POST") return not_allowed("allow: POST, OPTIONS\r\n");
    Response r;
    r.content_type = "application/octet-stream";
    r.body = std::move(req.body).freeze();
    return r;
  }
  return Response::text(404, "not found\n");
}

// --- connections -------------------------------------------------------------------------

using Conn = codec::Framed<net::TcpStream, HttpCodec>;
constexpr std::size_t kDirectWrite = 64 * 1024;  // bodies this big go out with writev

// Bytes the kernel still holds for the socket, sent or not, that the peer has not
// acknowledged (SIOCOUTQ), or SIZE_MAX when it cannot say. A client that reads drains
// this even while the server's write waits: Linux reports a full socket writable again
// only once half its send buffer (4 MiB at most by default) is free, which a client
// reading 100 KB/s takes 20 s to free, so bytes written per period alone cannot tell a
// slow reader from a stalled one.
std::size_t unacked(const net::TcpStream& s) {
  int n = 0;
  if (::ioctl(s.as_raw_fd(), SIOCOUTQ, &n) != 0 || n < 0) return SIZE_MAX;
  return static_cast<std::size_t>(n);
}

// The end of a connection whose client may still be sending (an error response, or
// "connection: close"): a staged close (linger.hpp), for 2 s and 4 MiB at most.
Task<> linger(net::TcpStream& s) { return examples::linger(s, std::chrono::seconds(2), 4u << 20); }

Task<> serve(net::TcpStream stream, Ctx* ctx, Limits limits) {
  (void)stream.set_nodelay(true);
  Conn c(std::move(stream), HttpCodec(limits));
  // One timer per connection, moved forward before each wait: a request must be complete
  // within `timeout` of when the server starts waiting for it, and a response written out
  // within `timeout` (slow or silent clients are cut off).
  tokio::time::Sleep deadline = tokio::time::sleep(limits.timeout);
  auto arm = [&] { deadline.reset(tokio::time::Instant::now() + limits.timeout); };
  // The waits, at the poll level: the connection's poll form or the deadline, whichever
  // is ready first (no allocation, no extra task).
  std::optional<io::Result<Request>> item;
  auto next_request = [&](tokio::task::Context& cx) -> std::optional<bool> {
    if (c.poll_next(cx, item)) return true;  // a request, an error, or (empty) the end
    if (deadline.poll(cx)) return false;
    return std::nullopt;
  };
  io::Result<void> flushed;
  auto flush_out = [&](tokio::task::Context& cx) -> std::optional<bool> {
    if (c.poll_flush(cx, flushed)) return flushed.has_value();
    if (deadline.poll(cx)) return false;
    return std::nullopt;
  };
  // (feed flushes at the back-pressure boundary, with no deadline: that is done first here)
  auto full = [&] { return c.write_buffer().len() >= c.backpressure_boundary(); };
  auto reply_and_close = [&](Response r) -> Task<> {
    r.close = true;
    r.head_only = c.codec().head_request();
    arm();
    if (full() && !co_await tokio::task::poll_fn(flush_out)) co_return;
    if (!co_await c.feed(std::move(r))) co_return;
    arm();
    if (co_await tokio::task::poll_fn(flush_out)) co_await linger(c.get_mut());
  };

  for (;;) {
    item = c.next_buffered();  // pipelined requests already read: no waiting
    if (!item) {
      if (!c.write_buffer().is_empty()) {
        arm();
        if (!co_await tokio::task::poll_fn(flush_out)) co_return;
      }
      arm();
      if (!co_await tokio::task::poll_fn(next_request)) {  // nothing complete in time
        if (c.codec().in_request() || !c.read_buffer().is_empty()) {
          co_await reply_and_close(Response::text(408, error_text(408)));
        }
        co_return;
      }
      if (!item) co_return;  // the client closed the connection
    }
    if (!*item) {
      const std::error_code& e = item->error();
      if (e.category() != http_category()) co_return;  // I/O error, or cut short at the end
      co_await reply_and_close(Response::text(e.value(), error_text(e.value())));
      co_return;
    }
    Request& req = **item;
    if (req.continue_only) {  // the client waits for this before sending the body
      c.write_buffer_mut().put("HTTP/1.1 100 Continue\r\n\r\n");
      continue;
    }
    std::string_view path = req.target.substr(0, req.target.find('?'));
    Response resp;
    if (!known_method(req.method)) {
      resp = Response::text(501, "not implemented\n");  // RFC 9110 9.1: unknown method
    } else if (is_static(*ctx, path)) {  // (not `?:` around a co_await: g++ 12 mishandles it)
      resp = co_await static_file(*ctx, req, path);
    } else {
      resp = route(req, path);
    }
    resp.close = !req.keep_alive;
    resp.head_only = req.method == "HEAD";  // every status (RFC 9110 9.3.2)
    resp.keep_alive_header = req.keep_alive && req.minor == 0;
    if (resp.body.size() >= kDirectWrite && !resp.head_only) {
      // Header and body in one gathering write, without copying the body.
      arm();
      if (!co_await tokio::task::poll_fn(flush_out)) co_return;
      codec::BytesMut head;
      encode_head(resp, head);
      io::IoSlice parts[] = {io::IoSlice(head.as_span()), io::IoSlice(resp.body.as_span())};
      std::span<io::IoSlice> slices(parts);
      // A deadline per --timeout of no progress (a slow, steady download goes on):
      // progress is bytes written (the slices say what is left: a timeout cancels only
      // a write in flight, unwritten) or the socket's unacknowledged bytes going down
      // (the client read some, see unacked).
      std::size_t left = head.len() + resp.body.len();
      std::size_t queued = unacked(c.get_ref());
      for (;;) {
        auto w = co_await tokio::time::timeout(limits.timeout,
                                               io::write_all_vectored(c.get_mut(), slices));
        if (w) {
          if (!*w) co_return;
          break;
        }
        std::size_t now = 0;
        for (const io::IoSlice& sl : slices) now += sl.size();
        std::size_t queued_now = unacked(c.get_ref());
        if (now == left && queued_now >= queued) co_return;  // nothing taken in a period
        left = now;
        queued = queued_now;
      }
    } else {
      if (full()) {
        arm();
        if (!co_await tokio::task::poll_fn(flush_out)) co_return;
      }
      if (!co_await c.feed(std::move(resp))) co_return;
    }
    if (!req.keep_alive) {
      arm();
      if (co_await tokio::task::poll_fn(flush_out)) co_await linger(c.get_mut());
      co_return;
    }
  }
}

Task<int> amain(std::string addr, Ctx* ctx, Limits limits) {
  auto listener = co_await net::TcpListener::bind(addr);
  if (!listener) {
    std::fprintf(stderr, "http_server: bind %s: %s\n", addr.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  tokio::stream::wrappers::TcpListenerStream incoming(std::move(*listener));
  for (;;) {
    auto conn = co_await incoming.next();
    if (!*conn) {  // EMFILE and friends: back off instead of spinning
      co_await tokio::time::sleep(100ms);
      continue;
    }
    tokio::spawn(serve, std::move(**conn), ctx, limits);
  }
}

// TOKIO_EXAMPLE_NO_MAIN: this file without its main, for a program that includes it to
// reuse its parts (fuzz/http.cpp drives HttpCodec).
#ifndef TOKIO_EXAMPLE_NO_MAIN
int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:8080";
  std::size_t workers = std::thread::hardware_concurrency();
  Ctx ctx;
  Limits limits;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "http_server: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--workers") workers = parse_number("http_server", "--workers", value(), 0, 1024);
    else if (a == "--root") ctx.root = value();
    else if (a == "--timeout")
      limits.timeout = std::chrono::milliseconds(
          parse_number("http_server", "--timeout", value(), 1, 24ull * 3600 * 1000));
    else if (a == "--max-body")
      limits.max_body = parse_number("http_server", "--max-body", value(), 0, 1ull << 40);
    else {
      not_a_flag("http_server",
                 "[ADDR] [--workers N] [--root DIR] [--timeout MS] [--max-body BYTES]", a);
      addr = a;
    }
  }
  auto rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers ? workers : 1)
                .enable_all()
                .build();
  return rt.block_on(amain(addr, &ctx, limits));
}
#endif  // TOKIO_EXAMPLE_NO_MAIN
