#pragma once
// signal::ctrl_c(): completes on the next SIGINT (Ctrl-C in a terminal).
//
//   co_await tokio::signal::ctrl_c();    // io::Result<void>
//   std::puts("shutting down");
//
// The listener is created when the task first runs (a Ctrl-C before that is not seen),
// as Tokio documents (Tokio 1.24.2 still reports one its driver had not dispatched yet,
// a raise(SIGINT) just before the first poll; README's table). The first use installs a SIGINT handler for the life of the process: from
// then on Ctrl-C no longer terminates the program by default, so keep listening (or exit)
// when you rely on it. NOT cancel-safe, as in Tokio: each ctrl_c() is a listener of its
// own, so when it loses a select, a SIGINT it had already received is dropped with it,
// and a later ctrl_c() waits for the next one. In a select loop, create the listener once
// and call its cancel-safe recv() instead:
//
//   auto sigint = signal::unix::signal(signal::unix::SignalKind::interrupt());
//   for (;;) { auto which = co_await tokio::select(sigint->recv(), other()); ... }
//
// Needs a runtime with the I/O driver.

#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"

namespace tokio::signal {

Task<io::Result<void>> ctrl_c();

}  // namespace tokio::signal
