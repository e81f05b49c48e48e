// chat: a line-based chat server. Every line a client sends goes to every other client.
//
//   chat [ADDR] [--write-timeout MS]     ADDR defaults to 127.0.0.1:6142
//   nc 127.0.0.1 6142           (several of them) type lines
//
// Prints "listening on ADDR" once bound. Each client gets a name ("guest1", "guest2"...);
// the others see "guestN: <line>", and "* guestN joined" / "* guestN left". "/name NEW"
// renames, "/quit" leaves. A line longer than 4 KiB, or one that is not UTF-8, is refused
// ("! line too long", "! not UTF-8") and the connection closed, as in Tokio's chat example
// (here the close waits for the client to have read that reply: see linger). Control
// characters in a line or a name are relayed as '?' (printable).
//
// How it is built: one task per client; its connection is a codec::Framed with a
// LinesCodec (so a line is one frame, and a peer cannot make the server buffer an endless
// line); all messages go through one sync::broadcast channel. Each task waits on both with
// tokio::select: a Framed's next() and a broadcast receiver's recv() are cancel-safe, so
// the branch that loses the select loses nothing. The loop is Tokio's: an error item is
// reported and the loop goes on, and the nullopt a Framed yields after a decode error (its
// pause) ends it as the end of the input does.
// Messages to a client go out in batches: the one received and every one already waiting
// (try_recv) are encoded, then flushed in one write, so a burst from many clients costs each
// reader one system call per batch instead of one per line, and a client that reads
// promptly keeps up with it. A client's task broadcasts the lines it has already read
// without waiting for anything, so a burst of them (more than the ring holds) would
// overwrite messages the other tasks had no turn to take yet: once the ring is half full
// of messages some receiver still wants, the sending task yields after each line, and the
// receiving tasks run. A client too slow to read only delays itself (and makes senders
// yield): it falls behind in the broadcast ring (capacity 1024) and is told how many
// messages it missed; one whose batch is not written out within --write-timeout (10 s) is
// disconnected.
#define TOKIO_IMPLEMENTATION
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokio.hpp"
#include "cli_args.hpp"
#include "linger.hpp"

using tokio::Task;
namespace codec = tokio::codec;
namespace net = tokio::net;
namespace broadcast = tokio::sync::broadcast;
namespace sw = tokio::stream::wrappers;

struct Message {
  uint64_t from;      // client id (0: the server)
  codec::Bytes text;  // the whole line to show, shared by every receiver
};

constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxBatch = 256;  // messages encoded per write at most
constexpr std::size_t kRing = 1024;     // the broadcast channel's capacity

// The end of a connection whose client may still be sending (the rest of an overlong
// line): a staged close (linger.hpp), for 1 s and 1 MiB at most, so the client reads the
// "! ..." reply before the end instead of a reset.
Task<> linger(net::TcpStream& s) { return examples::linger(s, std::chrono::seconds(1), 1u << 20); }

// Text from a client as others see it: control characters (an escape sequence, a carriage
// return that would overwrite the "guestN: " prefix on a terminal, a NUL) become '?', so
// no client can redraw another's screen or forge a line from someone else.
std::string printable(std::string s) {
  for (char& ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && u != '\t') || u == 0x7f) ch = '?';
  }
  return s;
}

using Conn = codec::Framed<net::TcpStream, codec::LinesCodec>;

// Writes the message just received (or the news that some were missed) and every one
// already waiting, at most kMaxBatch, then flushes them in one write. False when the
// connection failed.
Task<bool> deliver(Conn& conn, broadcast::Receiver<Message>& inbox,
                   tokio::Result<Message, broadcast::RecvError>& first, uint64_t id) {
  std::optional<Message> msg;
  uint64_t missed = 0;
  if (first) msg = std::move(*first);
  else missed = first.error().missed;
  for (std::size_t n = 1;; ++n) {
    if (missed) {
      if (!co_await conn.feed("! you missed " + std::to_string(missed) + " messages"))
        co_return false;
    } else if (msg->from != id) {  // not to its author
      if (!co_await conn.feed(msg->text.as_string_view())) co_return false;
    }
    if (n == kMaxBatch) break;
    auto more = inbox.try_recv();
    if (more) {
      msg = std::move(*more);
      missed = 0;
    } else if (more.error().is_lagged()) {
      missed = more.error().missed;
    } else {
      break;  // nothing more yet (or closed: the next recv() says so)
    }
  }
  co_return (co_await conn.flush()).has_value();
}

Task<> client(net::TcpStream stream, broadcast::Sender<Message> tx, uint64_t id,
              std::chrono::milliseconds write_timeout) {
  std::string name = "guest" + std::to_string(id);
  auto say = [&](const std::string& s) { (void)tx.send(Message{id, codec::Bytes(s)}); };
  // Subscribe before announcing, so this client's own stream starts here.
  broadcast::Receiver<Message> inbox = tx.subscribe();
  Conn conn(std::move(stream), codec::LinesCodec::new_with_max_length(kMaxLine));
  bool refused = false;  // a line was refused: the client may still be sending
  // Every write to the client waits --write-timeout at most, these two notices as well as
  // deliver's batches: a client that does not read is cut off, whatever it was sent.
  auto notice = [&](std::string text) -> Task<bool> {
    auto sent = co_await tokio::time::timeout(write_timeout, conn.send(std::move(text)));
    co_return sent&&* sent;
  };
  if (!co_await notice("welcome, you are " + name)) co_return;
  say("* " + name + " joined");
  for (;;) {
    auto ev = co_await tokio::select(conn.next(), inbox.recv());
    if (ev.index() == 0) {
      auto line = std::get<0>(std::move(ev));
      if (!line) break;  // the client closed the connection, or the pause after an error
      if (!*line) {
        // Tell the client; the next next() yields nullopt (the pause after a decode error,
        // or the end after an I/O error) and ends the loop.
        std::string why;
        if (line->error() == codec::Errc::max_line_length_exceeded) {
          why = "! line too long (max " + std::to_string(kMaxLine) + " bytes)";
        } else if (line->error() == std::errc::illegal_byte_sequence) {
          why = "! not UTF-8";
        }
        if (!why.empty() && !co_await notice(why)) break;
        refused = !why.empty();
        continue;
      }
      std::string text = printable(std::move(**line));
      if (text == "/quit") break;
      if (text.rfind("/name ", 0) == 0 && text.size() > 6) {
        std::string old = std::exchange(name, text.substr(6));
        say("* " + old + " is now " + name);
        continue;
      }
      say(name + ": " + text);
      // Let the receivers take their turn once the ring is half full (see the top).
      if (tx.len() >= kRing / 2) co_await tokio::task::yield_now();
    } else {
      auto got = std::get<1>(std::move(ev));
      if (!got && got.error().is_closed()) break;  // every sender gone: shutting down
      auto sent = co_await tokio::time::timeout(write_timeout, deliver(conn, inbox, got, id));
      if (!sent || !*sent) break;  // gone, or not reading its messages
    }
  }
  say("* " + name + " left");
  if (refused) co_await linger(conn.get_mut());
}

Task<int> amain(std::string addr, std::chrono::milliseconds write_timeout) {
  auto listener = co_await net::TcpListener::bind(addr);
  if (!listener) {
    std::fprintf(stderr, "chat: bind %s: %s\n", addr.c_str(), listener.error().message().c_str());
    co_return 1;
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);
  broadcast::Sender<Message> tx = broadcast::channel<Message>(kRing).first;
  sw::TcpListenerStream incoming(std::move(*listener));
  uint64_t next_id = 1;
  for (;;) {
    auto conn = co_await incoming.next();
    if (!*conn) {  // EMFILE and friends: back off instead of spinning
      co_await tokio::time::sleep(std::chrono::milliseconds(100));
      continue;
    }
    tokio::spawn(client, std::move(**conn), tx, next_id++, write_timeout);
  }
}

int main(int argc, char** argv) {
  std::string addr = "127.0.0.1:6142";
  std::chrono::milliseconds write_timeout{10000};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--write-timeout" && i + 1 < argc) {
      write_timeout = std::chrono::milliseconds(
          parse_number("chat", "--write-timeout", argv[++i], 1, 86400000));
    } else {
      not_a_flag("chat", "[ADDR] [--write-timeout MS]", a);
      addr = a;
    }
  }
  auto rt = tokio::runtime::Builder::new_multi_thread().enable_all().build();
  return rt.block_on(amain(addr, write_timeout));
}
