#include "tokio/signal/unix.hpp"

namespace tokio::signal::unix {

io::Result<Signal> signal(SignalKind kind) {
  Signal s;
  auto r = detail::signal_listener_init(s.l_, kind.as_raw_value(), "signal::unix::signal");
  if (!r) return tokio::unexpected(r.error());
  return s;
}

}  // namespace tokio::signal::unix
