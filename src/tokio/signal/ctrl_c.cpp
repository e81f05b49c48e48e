#include "tokio/signal/ctrl_c.hpp"
#include "tokio/signal/unix.hpp"

namespace tokio::signal {

Task<io::Result<void>> ctrl_c() {
  auto s = tokio::detail::make_signal(unix::SignalKind::interrupt(), "signal::ctrl_c");
  if (!s) co_return tokio::unexpected(s.error());
  (void)co_await s->recv();
  co_return io::Result<void>();
}

}  // namespace tokio::signal
