#pragma once
// signal::ctrl_c(): completes on the next SIGINT (Ctrl-C in a terminal).
//
//   co_await tokio::signal::ctrl_c();    // io::Result<void>
//   std::puts("shutting down");
//
// The listener is created when the task first runs (a Ctrl-C before that is not seen),
// as in Tokio. The first use installs a SIGINT handler for the life of the process: from
// then on Ctrl-C no longer terminates the program by default, so keep listening (or exit)
// when you rely on it. Cancel-safe in select: losing the race drops the listener, so a
// SIGINT after that is not reported to a later ctrl_c() (create a Signal and call recv()
// in a loop to see every delivery). Needs a runtime with the I/O driver.

#include "tokio/core/result.hpp"
#include "tokio/core/task.hpp"

namespace tokio::signal {

Task<io::Result<void>> ctrl_c();

}  // namespace tokio::signal
