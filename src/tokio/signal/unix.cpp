#include "tokio/signal/unix.hpp"

namespace tokio::detail {

io::Result<signal::unix::Signal> make_signal(signal::unix::SignalKind kind, const char* what) {
  signal::unix::Signal s;
  auto r = signal_listener_init(s.l_, kind.as_raw_value(), what);
  if (!r) return tokio::unexpected(r.error());
  return s;
}

}  // namespace tokio::detail

namespace tokio::signal::unix {

io::Result<Signal> signal(SignalKind kind) {
  return tokio::detail::make_signal(kind, "signal::unix::signal");
}

}  // namespace tokio::signal::unix
