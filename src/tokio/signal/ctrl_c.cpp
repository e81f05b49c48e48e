#include "tokio/signal/ctrl_c.hpp"
#include "tokio/signal/unix.hpp"

namespace tokio::signal {

Task<io::Result<void>> ctrl_c() {
  auto s = unix::signal(unix::SignalKind::interrupt());
  if (!s) co_return tokio::unexpected(s.error());
  (void)co_await s->recv();
  co_return io::Result<void>();
}

}  // namespace tokio::signal
