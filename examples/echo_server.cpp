// echo_server: a TCP server that sends every byte back, and shuts down gracefully.
//
//   echo_server [ADDR [GRACE_MS]]   ADDR defaults to 127.0.0.1:8080 ("host:port" or
//                                   "[::1]:port"), GRACE_MS to 5000
//   nc 127.0.0.1 8080               type lines, they come back
//
// Prints "listening on ADDR" once bound. One task per connection on the multi-thread
// runtime. When accept() fails (EMFILE: out of file descriptors), the server waits a
// little before accepting again: connections being served close meanwhile, and it
// recovers without spinning a core at 100%.
//
// On SIGINT (Ctrl-C) or SIGTERM it shuts down gracefully: it stops accepting (the
// listening socket closes, new connections are refused), prints "shutting down (SIGTERM):
// N connection(s) open", and lets the open connections finish for up to GRACE_MS. Then it
// cancels the ones still open (a CancellationToken: each closes its socket), prints "bye"
// and exits 0. A second signal during the grace period cancels them at once.
//
// On SIGQUIT (Ctrl-\) it prints a dump of its tasks to stderr and goes on: each connection
// task is named after its peer ("conn 127.0.0.1:53012"), so the dump says which client
// each one serves and what it waits on. A connection that stays inside one poll for more
// than 100 ms is reported by the stall detector.
#define TOKIO_IMPLEMENTATION
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tokio.hpp"

using tokio::Task;
using tokio::net::TcpListener;
using tokio::net::TcpStream;
using tokio::signal::unix::Signal;
using tokio::signal::unix::SignalKind;
using tokio::sync::CancellationToken;

Task<> serve(TcpStream stream) {
  char buf[16 * 1024];
  for (;;) {
    auto n = co_await stream.read(buf);
    if (!n || *n == 0) co_return;  // error or end of stream: close
    if (!co_await stream.write_all({buf, *n})) co_return;
  }
}

// One connection, until it ends or `stop` is cancelled (then the stream is dropped).
Task<> connection(TcpStream stream, CancellationToken stop) {
  (void)co_await stop.run_until_cancelled(serve(std::move(stream)));
}

Task<int> amain(std::string addr, std::chrono::milliseconds grace) {
  auto listener = co_await TcpListener::bind(addr);
  if (!listener) {
    std::fprintf(stderr, "echo_server: bind %s: %s\n", addr.c_str(),
                 listener.error().message().c_str());
    co_return 1;
  }
  // Listen for the signals before announcing the address: from then on a SIGINT or
  // SIGTERM is ours to handle (the default action would end the process at once).
  auto sigint = tokio::signal::unix::signal(SignalKind::interrupt());
  auto sigterm = tokio::signal::unix::signal(SignalKind::terminate());
  if (!sigint || !sigterm) {
    std::fprintf(stderr, "echo_server: signal: %s\n",
                 (!sigint ? sigint : sigterm).error().message().c_str());
    co_return 1;
  }
  // SIGQUIT: print a task dump (handy when the server seems stuck) and carry on.
  auto sigquit = tokio::signal::unix::signal(SignalKind::quit());
  if (sigquit) {
    tokio::task::Builder()
        .name("dump on SIGQUIT")
        .spawn(
            [](Signal quit, tokio::runtime::Handle h) -> Task<> {
              for (;;) {
                if (!co_await quit.recv()) co_return;
                std::fputs(h.dump().to_string().c_str(), stderr);
              }
            },
            std::move(*sigquit), tokio::runtime::Handle::current());
  }
  std::printf("listening on %s\n", listener->local_addr()->to_string().c_str());
  std::fflush(stdout);

  CancellationToken stop;
  tokio::task::JoinSet<void> conns;
  const char* why = nullptr;
  while (!why) {
    // accept() and recv() are cancel-safe: the branch that loses the select loses nothing.
    auto ev = co_await tokio::select(listener->accept(), sigint->recv(), sigterm->recv());
    if (ev.index() == 1) why = "SIGINT";
    if (ev.index() == 2) why = "SIGTERM";
    if (why) break;
    auto& conn = std::get<0>(ev);
    if (conn) {
      conns.add(tokio::task::Builder()
                    .name("conn " + conn->second.to_string())
                    .spawn(connection, std::move(conn->first), stop.child_token()));
    } else {
      std::fprintf(stderr, "echo_server: accept: %s (pausing)\n", conn.error().message().c_str());
      auto p = co_await tokio::select(tokio::time::sleep(std::chrono::milliseconds(100)),
                                      sigint->recv(), sigterm->recv());
      if (p.index() == 1) why = "SIGINT";
      if (p.index() == 2) why = "SIGTERM";
    }
    while (conns.try_join_next()) {
    }  // forget the connections that ended
  }

  // Stop accepting: close the listening socket.
  { TcpListener closed = std::move(*listener); }
  std::printf("shutting down (%s): %zu connection(s) open\n", why, conns.len());
  std::fflush(stdout);

  // Let the open connections finish, up to the grace period (or a second signal).
  auto deadline = tokio::time::Instant::now() + grace;
  bool forced = false;
  while (!conns.is_empty() && !forced) {
    auto ev = co_await tokio::select(conns.join_next(), tokio::time::sleep_until(deadline),
                                     sigint->recv(), sigterm->recv());
    forced = ev.index() != 0;
  }
  if (!conns.is_empty()) {
    std::printf("closing %zu connection(s) still open\n", conns.len());
    std::fflush(stdout);
    stop.cancel();
    for (;;) {
      auto r = co_await conns.join_next();
      if (!r) break;
    }
  }
  std::printf("bye\n");
  std::fflush(stdout);
  co_return 0;
}

int main(int argc, char** argv) {
  std::string addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
  std::chrono::milliseconds grace(argc > 2 ? std::atol(argv[2]) : 5000);
  auto rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .stall_threshold(std::chrono::milliseconds(100))
                .build();
  return rt.block_on(amain(addr, grace));
}
